// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_conns.c: the connections of the simulated hypervisor, one
 * per library handle, and what Linux refuses on a restricted one.
 *
 * drivers/xen/privcmd.c keeps a restriction per open file: after
 * IOCTL_PRIVCMD_RESTRICT an fd refuses IOCTL_PRIVCMD_HYPERCALL outright
 * (EPERM, "Disallow arbitrary hypercalls if restricted") and refuses
 * IOCTL_PRIVCMD_DM_OP, IOCTL_PRIVCMD_MMAPBATCH_V2 and
 * IOCTL_PRIVCMD_MMAP_RESOURCE naming another domain (EPERM); a second
 * restrict to another domain fails with EINVAL. drivers/xen/evtchn.c:
 * after IOCTL_EVTCHN_RESTRICT_DOMID, binds to another domain fail (EACCES).
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <sys/stat.h>

int hv_fail(struct call *c, int error)
{
	c->reply->ret = -1;
	c->reply->error = error;
	return -1;
}

int hv_op_hello(struct call *c)
{
	if (c->req->arg[0] < SIM_CONN_PRIVCMD || c->req->arg[0] > SIM_CONN_XENSTORE)
		return hv_fail(c, EINVAL);
	c->hv->conn_kind[c->conn] = (enum sim_conn_kind)c->req->arg[0];
	c->hv->conn_inode[c->conn] = c->req->arg[1];
	return 0;
}

/* What an unrestricted privcmd fd lets a process do: anything, here two samples. */
int hv_op_hypercall(struct call *c)
{
	struct sim_domain *d;

	switch (c->req->arg[0]) {
	case SIM_HYPERCALL_XEN_VERSION:
		return 4 << 16 | 21;
	case SIM_HYPERCALL_DM_OP:	/* XEN_DMOP_nr_vcpus of any domain */
		d = hv_find_domain(c->hv, c->req->arg[1]);
		if (!d)
			return hv_fail(c, ESRCH);
		c->reply->val[0] = d->config.nr_vcpus;
		return 0;
	default:
		return hv_fail(c, ENOSYS);
	}
}

int hv_op_restrict(struct call *c)
{
	int64_t *restricted = &c->hv->conn_restricted[c->conn];

	/* privcmd_ioctl_restrict(): "Set restriction to the specified domain, or check it matches". */
	if (*restricted >= 0 && *restricted != (int64_t)c->req->arg[0])
		return hv_fail(c, EINVAL);
	*restricted = (int64_t)c->req->arg[0];
	return 0;
}

bool hv_refused_by_restriction(const struct call *c)
{
	int64_t restricted = c->hv->conn_restricted[c->conn];

	if (restricted < 0)
		return false;
	switch (c->req->op) {
	/* Hypercalls through IOCTL_PRIVCMD_HYPERCALL: domain lookups are sysctls. */
	case SIM_OP_HYPERCALL: case SIM_OP_DOMAIN_INFO:
		return true;
	/* dm_ops, mappings and resources: arg0 is the domain. */
	case SIM_OP_NR_VCPUS: case SIM_OP_CREATE_SERVER: case SIM_OP_DESTROY_SERVER:
	case SIM_OP_SET_SERVER_STATE: case SIM_OP_MAP_RANGE: case SIM_OP_UNMAP_RANGE:
	case SIM_OP_MAP_RESOURCE: case SIM_OP_SET_IRQ_LEVEL: case SIM_OP_GUEST_RAM:
	case SIM_OP_GUEST_P2M: case SIM_OP_IRQ_INFO:
		return restricted != (int64_t)c->req->arg[0];
	default:
		return false;
	}
}

void hv_note_passed_socket(struct call *c, enum sim_hv_socket_kind kind, int64_t index)
{
	struct sim_passed_socket *p = &c->hv->passed[c->hv->next_passed++ % SIM_MAX_PASSED];
	struct stat st;

	if (fstat(c->fd_to_pass, &st))
		return;
	*p = (struct sim_passed_socket){ (uint64_t)st.st_ino, kind, index };
}

static int64_t conn_restriction(struct sim_hv *hv, int i)
{
	switch (hv->conn_kind[i]) {
	case SIM_CONN_PRIVCMD:
		return hv->conn_restricted[i];
	case SIM_CONN_EVTCHN:
		for (int h = 0; h < SIM_MAX_HANDLES; h++)
			if (hv->handles[h].used && hv->handles[h].conn == i)
				return hv->handles[h].restricted;
		return -1;
	default:
		return -1;	/* libxencall and xenstore fds have no restriction */
	}
}

static const enum sim_hv_socket_kind kind_of_conn[] = {
	[SIM_CONN_PRIVCMD] = SIM_SOCKET_PRIVCMD,
	[SIM_CONN_XENCALL] = SIM_SOCKET_XENCALL,
	[SIM_CONN_EVTCHN] = SIM_SOCKET_EVTCHN,
	[SIM_CONN_XENSTORE] = SIM_SOCKET_XENSTORE,
};

/* A passed socket whose hypervisor end is still open, as an info. */
static bool passed_info(struct sim_hv *hv, const struct sim_passed_socket *p,
			struct sim_hv_socket_info *info)
{
	*info = (struct sim_hv_socket_info){ p->kind, -1, 0 };
	switch (p->kind) {
	case SIM_SOCKET_EVTCHN_EVENTS:
		if (!hv->handles[p->index].used)
			return false;
		info->restricted = hv->handles[p->index].restricted;
		return true;
	case SIM_SOCKET_IRQ:
		info->restricted = p->index;	/* it sets that domain's SPIs only */
		return true;
	default:
		return hv->xenstore.handles[p->index].used;
	}
}

int sim_hv_socket_info(struct sim_hv *hv, uint64_t inode, struct sim_hv_socket_info *info)
{
	int ret = -ENOENT;

	*info = (struct sim_hv_socket_info){ SIM_SOCKET_UNKNOWN, -1, 0 };
	pthread_mutex_lock(&hv->lock);
	for (int i = 0; i < SIM_MAX_CONNS && ret; i++) {
		if (hv->conns[i] < 0 || hv->conn_inode[i] != inode || !hv->conn_kind[i])
			continue;
		*info = (struct sim_hv_socket_info){ kind_of_conn[hv->conn_kind[i]],
						     conn_restriction(hv, i), 0 };
		for (int h = 0; h < SIM_MAX_HANDLES; h++)
			if (hv->handles[h].used && hv->handles[h].conn == i)
				info->handle = (uint64_t)h;
		ret = 0;
	}
	/* Newest first: inodes are reused once a socket is closed. */
	for (unsigned int n = 0; n < SIM_MAX_PASSED && ret; n++) {
		const struct sim_passed_socket *p =
			&hv->passed[(hv->next_passed - 1 - n) % SIM_MAX_PASSED];

		if (p->inode == inode && p->kind)
			ret = passed_info(hv, p, info) ? 0 : -ENOENT;
		if (p->inode == inode)
			break;
	}
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int64_t hv_process_restriction(struct sim_hv *hv, pid_t pid)
{
	int64_t domid = -2;

	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		int64_t r;

		if (hv->conns[i] < 0 || hv->conn_pids[i] != pid || !hv->conn_kind[i] ||
		    hv->conn_kind[i] == SIM_CONN_XENSTORE)
			continue;
		r = conn_restriction(hv, i);
		if (domid == -2)
			domid = r;
		else if (r != domid)
			domid = -1;
	}
	return domid < -1 ? -2 : domid;
}

int64_t sim_hv_restriction(struct sim_hv *hv, pid_t pid)
{
	int64_t domid;

	pthread_mutex_lock(&hv->lock);
	domid = hv_process_restriction(hv, pid);
	pthread_mutex_unlock(&hv->lock);
	return domid;
}
