// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_core.c: the simulated hypervisor's thread: it accepts the
 * daemon's connections, answers the simulated libxen* calls (xenstore's in
 * tests/sim/hv_xenstore.c), and moves events between the daemon's
 * event-channel handles and the guest's vCPUs.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xen/memory.h>

#include "tests/sim/protocol.h"

void hv_deadline(struct timespec *deadline, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, deadline);
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

/* ---- event channels */

static void deliver(struct sim_hv *hv, struct sim_port *port)
{
	struct sim_evtchn_msg msg = { SIM_EVTCHN_EVENT, port->local };

	if (port->masked) {
		port->pending = true;
		return;
	}
	port->masked = true;
	/* At most one message per port is in flight, so the socket never fills. */
	send(hv->handles[port->handle].fd, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void hv_signal_guest_port(struct sim_hv *hv, uint32_t guest_port)
{
	for (unsigned int i = 0; i < SIM_MAX_PORTS; i++) {
		if (hv->ports[i].used && hv->ports[i].guest_port == guest_port) {
			deliver(hv, &hv->ports[i]);
			return;
		}
	}
	/* Nobody bound the daemon's end: the event is lost, as on Xen. */
}

static struct sim_port *find_local_port(struct sim_hv *hv, int handle, uint32_t local)
{
	for (unsigned int i = 0; i < SIM_MAX_PORTS; i++)
		if (hv->ports[i].used && hv->ports[i].handle == handle && hv->ports[i].local == local)
			return &hv->ports[i];
	return NULL;
}

/* The daemon notified @port: wake the vCPU whose channel it is (@record: note it first). */
static void notify_guest(struct sim_hv *hv, const struct sim_port *port, bool record)
{
	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		struct sim_domain *d = &hv->domains[i];

		for (unsigned int s = 0; d->used && s < SIM_MAX_SERVERS; s++) {
			if (!d->servers[s].used)
				continue;
			for (unsigned int v = 0; v < d->config.nr_vcpus; v++) {
				if (d->servers[s].guest_ports[v] != port->guest_port)
					continue;
				if (record)
					hv_record_answer(hv, d, v, &d->servers[s].page[v]);
				d->vcpus[v].notified = true;
				pthread_cond_broadcast(&d->vcpus[v].answered);
				return;
			}
		}
	}
}

/* ---- interrupts */

/* Xen's vGIC on GICv3 ignores level 0, so every level-1 call is a new interrupt (an edge). */
static void set_irq(struct sim_hv *hv, struct sim_domain *d, uint32_t irq, uint32_t level)
{
	d->irq_level[irq] = level != 0;
	if (d->irq_level[irq])
		d->irq_raises[irq]++;
	else
		d->irq_lowers[irq]++;
	pthread_cond_broadcast(&hv->changed);
}

static bool is_guest_spi(const struct sim_domain *d, uint64_t irq)
{
	return irq >= 32 && irq < 32 + (uint64_t)d->config.nr_spis;
}

/* Apply every irq message already sent; a socket at EOF (its daemon exited) is closed. */
void hv_drain_irq_messages(struct sim_hv *hv)
{
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		struct sim_irq_msg msg;
		ssize_t n;

		while (hv->irq_fds[i] >= 0) {
			n = recv(hv->irq_fds[i], &msg, sizeof(msg), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n != (ssize_t)sizeof(msg)) {
				close(hv->irq_fds[i]);
				hv->irq_fds[i] = -1;
				break;
			}
			/* The sender checked the SPI; a stray one is dropped, as Xen would refuse it. */
			if (!hv->irq_domains[i]->destroyed && is_guest_spi(hv->irq_domains[i], msg.irq))
				set_irq(hv, hv->irq_domains[i], msg.irq, msg.level);
		}
	}
}

static void close_handle(struct sim_hv *hv, int handle)
{
	for (unsigned int i = 0; i < SIM_MAX_PORTS; i++) {
		if (hv->ports[i].used && hv->ports[i].handle == handle) {
			hv->ports[i].used = false;
			hv->stats.ports_dropped_by_close++;
		}
	}
	/*
	 * shutdown first: the hypervisor thread may be in poll() on this fd,
	 * which holds the socket open past close(), and the daemon's end would
	 * see no EOF until that poll returned.
	 */
	shutdown(hv->handles[handle].fd, SHUT_RDWR);
	close(hv->handles[handle].fd);
	hv->handles[handle].used = false;
	pthread_cond_broadcast(&hv->changed);
}

int sim_hv_make_forbidden_syscall(struct sim_hv *hv, pid_t pid)
{
	struct sim_evtchn_msg msg = { SIM_EVTCHN_FORBIDDEN_SYSCALL, 0 };
	int ret = -ESRCH;

	pthread_mutex_lock(&hv->lock);
	for (int h = 0; h < SIM_MAX_HANDLES; h++)
		if (hv->handles[h].used && hv->handles[h].owner == pid &&
		    send(hv->handles[h].fd, &msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT) ==
		    (ssize_t)sizeof(msg))
			ret = 0;
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

void sim_hv_close_event_channels(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
	for (int h = 0; h < SIM_MAX_HANDLES; h++)
		if (hv->handles[h].used)
			close_handle(hv, h);
	pthread_mutex_unlock(&hv->lock);
}

static void handle_evtchn_message(struct sim_hv *hv, int handle)
{
	struct sim_evtchn_msg msg;
	struct sim_port *port;
	ssize_t n = recv(hv->handles[handle].fd, &msg, sizeof(msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(msg)) {
		close_handle(hv, handle);
		return;
	}
	port = find_local_port(hv, handle, msg.port);
	if (!port)
		return;		/* Xen ignores notifies on ports that are not bound */
	if (msg.op == SIM_EVTCHN_NOTIFY) {
		/*
		 * The daemon sends an interrupt before it answers the vCPU whose
		 * access caused it (an ISR read lowers the line): apply it first.
		 */
		hv_drain_irq_messages(hv);
		if (hv_process_restriction(hv, hv->handles[handle].owner) < 0)
			hv->stats.answered_unrestricted++;
		notify_guest(hv, port, false);
	} else if (msg.op == SIM_EVTCHN_UNMASK) {
		port->masked = false;
		if (port->pending) {
			port->pending = false;
			deliver(hv, port);
		}
	}
}

/* ---- control calls */

static int fail(struct call *c, int error)
{
	return hv_fail(c, error);
}

/*
 * What Xen says about a server it cannot find: no such server (ENOENT) in a
 * live domain, and also in a destroyed one that is still dying because a
 * process maps its memory (its servers went at destruction); no such
 * domain (ESRCH) for one that never was.
 */
static int server_missing(struct call *c)
{
	return fail(c, hv_domain_dying_or_live(c->hv, c->req->arg[0]) ? ENOENT : ESRCH);
}

static struct sim_server *find_server(struct call *c, uint64_t domid, uint64_t id)
{
	struct sim_domain *d = hv_find_domain(c->hv, domid);

	if (!d || id >= SIM_MAX_SERVERS || !d->servers[id].used)
		return NULL;
	return &d->servers[id];
}

static int op_domain_info(struct call *c)
{
	struct sim_domain *d = hv_next_domain(c->hv, c->req->arg[0]);

	if (!d)
		return 0;
	c->reply->val[0] = d->config.domid;
	c->reply->val[1] = 0;	/* not dying */
	return 1;
}

static int op_nr_vcpus(struct call *c)
{
	/* A dying domain still answers this (Xen: the domain struct is there). */
	struct sim_domain *d = hv_domain_dying_or_live(c->hv, c->req->arg[0]);

	if (!d)
		return fail(c, ESRCH);
	c->reply->val[0] = d->config.nr_vcpus;
	return 0;
}

static int setup_server_page(struct sim_hv *hv, struct sim_domain *d, struct sim_server *srv)
{
	srv->page_fd = memfd_create("sim-ioreq-page", MFD_CLOEXEC);
	if (srv->page_fd < 0 || ftruncate(srv->page_fd, PAGE_SIZE_4K))
		return -1;
	srv->page = mmap(NULL, PAGE_SIZE_4K, PROT_READ | PROT_WRITE, MAP_SHARED, srv->page_fd, 0);
	if (srv->page == MAP_FAILED)
		return -1;
	for (unsigned int v = 0; v < d->config.nr_vcpus; v++) {
		srv->guest_ports[v] = hv->next_guest_port++;
		srv->page[v].vp_eport = srv->guest_ports[v];
	}
	return 0;
}

static int op_create_server(struct call *c)
{
	struct sim_hv *hv = c->hv;
	struct sim_domain *d = hv_find_domain(hv, c->req->arg[0]);

	if (!d)
		return fail(c, ESRCH);
	/* Arm Xen has no buffered ioreqs: only HVM_IOREQSRV_BUFIOREQ_OFF (0). */
	if (c->req->arg[1] != 0)
		return fail(c, EINVAL);
	for (unsigned int id = 0; id < SIM_MAX_SERVERS; id++) {
		struct sim_server *srv = &d->servers[id];

		if (srv->used)
			continue;
		memset(srv, 0, sizeof(*srv));
		if (setup_server_page(hv, d, srv))
			return fail(c, ENOMEM);
		srv->used = true;
		srv->creator = c->caller;
		hv->stats.servers_created++;
		c->reply->val[0] = id;
		return 0;
	}
	return fail(c, ENOSPC);
}

static int op_destroy_server(struct call *c)
{
	struct sim_server *srv = find_server(c, c->req->arg[0], c->req->arg[1]);

	if (!srv)
		return server_missing(c);
	c->hv->stats.ranges_dropped_by_destroy += srv->nr_ranges;
	hv_server_release(srv);
	return 0;
}

static int op_set_server_state(struct call *c)
{
	struct sim_server *srv = find_server(c, c->req->arg[0], c->req->arg[1]);

	if (!srv)
		return server_missing(c);
	srv->enabled = c->req->arg[2] != 0;
	if (srv->enabled) {
		struct sim_domain *d = hv_find_domain(c->hv, c->req->arg[0]);

		hv_post_queued_requests(c->hv, d, (int)(srv - d->servers));
	}
	return 0;
}

static int find_range(const struct sim_server *srv, uint64_t start, uint64_t end, bool overlap)
{
	for (unsigned int i = 0; i < srv->nr_ranges; i++) {
		const struct sim_range *r = &srv->ranges[i];

		if (overlap ? (start <= r->end && r->start <= end) : (start == r->start && end == r->end))
			return (int)i;
	}
	return -1;
}

static int op_map_range(struct call *c)
{
	struct sim_server *srv = find_server(c, c->req->arg[0], c->req->arg[1]);
	uint64_t start = c->req->arg[3], end = c->req->arg[4];

	if (!srv)
		return server_missing(c);
	/* Arm has MMIO ranges only; Xen refuses overlapping ranges in one server (EEXIST). */
	if (c->req->arg[2] != 1 || start > end)
		return fail(c, EINVAL);
	if (find_range(srv, start, end, true) >= 0)
		return fail(c, EEXIST);
	if (srv->nr_ranges == SIM_MAX_RANGES)
		return fail(c, ENOSPC);
	srv->ranges[srv->nr_ranges++] = (struct sim_range){ start, end };
	return 0;
}

static int op_unmap_range(struct call *c)
{
	struct sim_server *srv = find_server(c, c->req->arg[0], c->req->arg[1]);
	int at;

	if (!srv)
		return server_missing(c);
	at = find_range(srv, c->req->arg[3], c->req->arg[4], false);
	if (c->req->arg[2] != 1 || at < 0)
		return fail(c, ENOENT);
	srv->ranges[at] = srv->ranges[--srv->nr_ranges];
	return 0;
}

static int op_map_resource(struct call *c)
{
	struct sim_server *srv = find_server(c, c->req->arg[0], c->req->arg[2]);

	/* Only the synchronous ioreq page: XENMEM_resource_ioreq_server_frame_ioreq(0), one frame. */
	if (c->req->arg[1] != XENMEM_resource_ioreq_server || !srv)
		return fail(c, ENOENT);
	if (c->req->arg[3] != XENMEM_resource_ioreq_server_frame_ioreq(0) || c->req->arg[4] != 1)
		return fail(c, EINVAL);
	c->fd_to_pass = srv->page_fd;
	return 0;
}

static int op_set_irq_level(struct call *c)
{
	struct sim_domain *d = hv_find_domain(c->hv, c->req->arg[0]);

	if (!d)
		return fail(c, ESRCH);
	/* Only the SPIs the guest's vGIC has (Xen: EINVAL otherwise). */
	if (!is_guest_spi(d, c->req->arg[1]))
		return fail(c, EINVAL);
	set_irq(c->hv, d, (uint32_t)c->req->arg[1], c->req->arg[2] != 0);
	return 0;
}

static int op_irq_info(struct call *c)
{
	struct sim_domain *d = hv_find_domain(c->hv, c->req->arg[0]);
	int pair[2];

	if (!d)
		return fail(c, ESRCH);
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		if (c->hv->irq_fds[i] >= 0)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair))
			return fail(c, errno);
		c->hv->irq_fds[i] = pair[0];
		c->hv->irq_domains[i] = d;
		c->fd_to_pass = pair[1];
		c->close_passed_fd = true;
		hv_note_passed_socket(c, SIM_SOCKET_IRQ, d->config.domid);
		c->reply->val[0] = d->config.nr_spis;
		return 0;
	}
	return fail(c, EMFILE);
}

static int op_guest_ram(struct call *c)
{
	struct sim_domain *d = hv_find_domain(c->hv, c->req->arg[0]);

	if (!d)
		return fail(c, ESRCH);
	c->fd_to_pass = d->ram_fd;
	c->reply->val[0] = d->config.ram_base / PAGE_SIZE_4K;
	c->reply->val[1] = d->config.ram_size / PAGE_SIZE_4K;
	return 0;
}

static int op_guest_p2m(struct call *c)
{
	struct sim_domain *d = hv_find_domain(c->hv, c->req->arg[0]);

	if (!d)
		return fail(c, ESRCH);
	c->fd_to_pass = d->p2m_fd;
	return 0;
}

static int op_evtchn_open(struct call *c)
{
	int pair[2];

	for (int h = 0; h < SIM_MAX_HANDLES; h++) {
		if (c->hv->handles[h].used)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair))
			return fail(c, errno);
		c->hv->handles[h] = (struct sim_handle){ true, pair[0], -1, c->caller, c->conn };
		c->fd_to_pass = pair[1];
		c->close_passed_fd = true;
		c->reply->val[0] = (uint64_t)h;
		c->reply->val[1] = c->hv->record.on;
		hv_note_passed_socket(c, SIM_SOCKET_EVTCHN_EVENTS, h);
		return 0;
	}
	return fail(c, EMFILE);
}

/* SIM_OP_EVTCHN_NOTIFY_SYNC: the daemon waits in the call, so the record sees its state. */
static int op_evtchn_notify_sync(struct call *c)
{
	uint64_t h = c->req->arg[0];
	struct sim_port *port;

	if (h >= SIM_MAX_HANDLES || !c->hv->handles[h].used || c->hv->handles[h].conn != c->conn)
		return fail(c, EBADF);
	port = find_local_port(c->hv, (int)h, (uint32_t)c->req->arg[1]);
	if (!port)
		return fail(c, ENOTCONN);	/* Linux's evtchn driver: a port this handle did not bind */
	/* As for a one-way notify: interrupts sent before it are seen before it. */
	hv_drain_irq_messages(c->hv);
	if (hv_process_restriction(c->hv, c->caller) < 0)
		c->hv->stats.answered_unrestricted++;
	notify_guest(c->hv, port, true);
	return 0;
}

static bool is_server_port(const struct sim_domain *d, uint32_t guest_port)
{
	for (unsigned int s = 0; s < SIM_MAX_SERVERS; s++)
		for (unsigned int v = 0; d->servers[s].used && v < d->config.nr_vcpus; v++)
			if (d->servers[s].guest_ports[v] == guest_port)
				return true;
	return false;
}

static int op_evtchn_bind(struct call *c)
{
	struct sim_hv *hv = c->hv;
	uint64_t handle = c->req->arg[0];
	uint32_t guest_port = (uint32_t)c->req->arg[2];
	struct sim_domain *d = hv_find_domain(hv, c->req->arg[1]);

	/* An evtchn fd is its own handle: only its connection may use it. */
	if (handle >= SIM_MAX_HANDLES || !hv->handles[handle].used ||
	    hv->handles[handle].conn != c->conn)
		return fail(c, EBADF);
	if (!d)
		return fail(c, ESRCH);
	/* drivers/xen/evtchn.c: EACCES (not privcmd's EPERM) for another domain once restricted. */
	if (hv->handles[handle].restricted >= 0 && hv->handles[handle].restricted != (int64_t)c->req->arg[1])
		return fail(c, EACCES);
	if (!is_server_port(d, guest_port))
		return fail(c, EINVAL);
	for (unsigned int i = 0; i < SIM_MAX_PORTS; i++)
		if (hv->ports[i].used && hv->ports[i].guest_port == guest_port)
			return fail(c, EBUSY);
	for (unsigned int i = 0; i < SIM_MAX_PORTS; i++) {
		if (hv->ports[i].used)
			continue;
		hv->ports[i] = (struct sim_port){ .used = true, .local = hv->next_local_port++,
						  .guest_port = guest_port, .handle = (int)handle };
		c->reply->val[0] = hv->ports[i].local;
		return 0;
	}
	return fail(c, ENOSPC);
}

static int op_evtchn_unbind(struct call *c)
{
	struct sim_port *port;

	if (c->req->arg[0] >= SIM_MAX_HANDLES || c->hv->handles[c->req->arg[0]].conn != c->conn)
		return fail(c, EBADF);
	port = find_local_port(c->hv, (int)c->req->arg[0], (uint32_t)c->req->arg[1]);
	if (!port)
		return fail(c, EINVAL);
	port->used = false;
	return 0;
}

static int op_evtchn_restrict(struct call *c)
{
	uint64_t handle = c->req->arg[0];

	if (handle >= SIM_MAX_HANDLES || !c->hv->handles[handle].used ||
	    c->hv->handles[handle].conn != c->conn)
		return fail(c, EBADF);
	c->hv->handles[handle].restricted = (int64_t)c->req->arg[1];
	return 0;
}

static int (*const ops[])(struct call *) = {
	[SIM_OP_DOMAIN_INFO] = op_domain_info,
	[SIM_OP_NR_VCPUS] = op_nr_vcpus,
	[SIM_OP_CREATE_SERVER] = op_create_server,
	[SIM_OP_DESTROY_SERVER] = op_destroy_server,
	[SIM_OP_SET_SERVER_STATE] = op_set_server_state,
	[SIM_OP_MAP_RANGE] = op_map_range,
	[SIM_OP_UNMAP_RANGE] = op_unmap_range,
	[SIM_OP_MAP_RESOURCE] = op_map_resource,
	[SIM_OP_SET_IRQ_LEVEL] = op_set_irq_level,
	[SIM_OP_GUEST_RAM] = op_guest_ram,
	[SIM_OP_GUEST_P2M] = op_guest_p2m,
	[SIM_OP_FOREIGN_MAP_COUNT] = hv_op_foreign_map_count,
	[SIM_OP_FOREIGN_MAPPED] = hv_op_foreign_mapped,
	[SIM_OP_EVTCHN_OPEN] = op_evtchn_open,
	[SIM_OP_EVTCHN_BIND] = op_evtchn_bind,
	[SIM_OP_EVTCHN_UNBIND] = op_evtchn_unbind,
	[SIM_OP_IRQ_INFO] = op_irq_info,
	[SIM_OP_XS_OPEN] = hv_op_xs_open,
	[SIM_OP_XS_READ] = hv_op_xs_read,
	[SIM_OP_XS_WRITE] = hv_op_xs_write,
	[SIM_OP_XS_RM] = hv_op_xs_rm,
	[SIM_OP_XS_SET_PERMS] = hv_op_xs_set_perms,
	[SIM_OP_XS_WATCH] = hv_op_xs_watch,
	[SIM_OP_XS_UNWATCH] = hv_op_xs_unwatch,
	[SIM_OP_RESTRICT] = hv_op_restrict,
	[SIM_OP_HELLO] = hv_op_hello,
	[SIM_OP_HYPERCALL] = hv_op_hypercall,
	[SIM_OP_EVTCHN_RESTRICT] = op_evtchn_restrict,
	[SIM_OP_EVTCHN_NOTIFY_SYNC] = op_evtchn_notify_sync,
};

static void send_reply(int conn, const struct sim_reply *reply, const struct call *c)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov[2] = { { (void *)reply, sizeof(*reply) }, { c->out, c->out_len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = c->out_len ? 2 : 1 };

	if (c->fd_to_pass >= 0) {
		struct cmsghdr *cmsg;

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &c->fd_to_pass, sizeof(c->fd_to_pass));
	}
	sendmsg(conn, &msg, MSG_NOSIGNAL);
}

/* A request and the payload that may follow it (xenstore paths and values). */
struct request_message {
	struct sim_request req;
	char payload[SIM_PAYLOAD_MAX];
};

/* Returns false when the connection is gone. */
static bool handle_call(struct sim_hv *hv, int i)
{
	struct request_message msg;
	char out[SIM_PAYLOAD_MAX];
	struct sim_reply reply = { 0 };
	struct call c = { hv, hv->conn_pids[i], i, &msg.req, &reply, -1, false, msg.payload, 0,
			  out, 0 };
	int conn = hv->conns[i];
	ssize_t n = recv(conn, &msg, sizeof(msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n < (ssize_t)sizeof(msg.req))
		return false;
	c.in_len = (size_t)n - sizeof(msg.req);
	if (hv_refused_by_restriction(&c))
		fail(&c, EPERM);
	else if (msg.req.op < sizeof(ops) / sizeof(ops[0]) && ops[msg.req.op])
		reply.ret = ops[msg.req.op](&c);
	else
		fail(&c, ENOSYS);
	if (c.held) {
		hv_hold_reply(&c);
		pthread_cond_broadcast(&hv->changed);
		return true;
	}
	/* A socket pair's other end stays with us; the passed one is closed here. */
	send_reply(conn, &reply, &c);
	if (c.close_passed_fd)
		close(c.fd_to_pass);
	pthread_cond_broadcast(&hv->changed);
	return true;
}

/* ---- the thread */

static void accept_connection(struct sim_hv *hv)
{
	int fd = accept4(hv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);

	if (fd < 0)
		return;
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		if (hv->conns[i] < 0) {
			hv->conns[i] = fd;
			hv->conn_pids[i] = cred.pid;
			hv->conn_restricted[i] = -1;
			hv->conn_kind[i] = 0;
			hv->conn_inode[i] = 0;
			return;
		}
	}
	close(fd);
}

enum { POLL_STOP, POLL_LISTEN, POLL_FIRST };

#define POLL_MAX (POLL_FIRST + 2 * SIM_MAX_CONNS + SIM_MAX_HANDLES + SIM_XS_MAX_HANDLES)

/* Irq sockets are drained on every wake-up, so they need no owner of their own. */
#define OWNER_IRQ INT32_MIN
/* Xenstore handle h is OWNER_XS - h, below every event-channel handle's -1 - h. */
#define OWNER_XS (-1 - SIM_MAX_HANDLES)

struct poll_set {
	struct pollfd fds[POLL_MAX];
	int owner[POLL_MAX];	/* conn i, -1 - handle, OWNER_XS - xenstore handle, or OWNER_IRQ */
	nfds_t count;
};

static void build_poll_set(struct sim_hv *hv, struct poll_set *set)
{
	set->fds[POLL_STOP] = (struct pollfd){ hv->stop_pipe[0], POLLIN, 0 };
	set->fds[POLL_LISTEN] = (struct pollfd){ hv->listen_fd, POLLIN, 0 };
	set->count = POLL_FIRST;
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		if (hv->conns[i] < 0)
			continue;
		set->owner[set->count] = i;
		set->fds[set->count++] = (struct pollfd){ hv->conns[i], POLLIN, 0 };
	}
	for (int h = 0; h < SIM_MAX_HANDLES; h++) {
		if (!hv->handles[h].used)
			continue;
		set->owner[set->count] = -1 - h;
		set->fds[set->count++] = (struct pollfd){ hv->handles[h].fd, POLLIN, 0 };
	}
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		if (hv->irq_fds[i] < 0)
			continue;
		set->owner[set->count] = OWNER_IRQ;
		set->fds[set->count++] = (struct pollfd){ hv->irq_fds[i], POLLIN, 0 };
	}
	for (int h = 0; h < SIM_XS_MAX_HANDLES; h++) {
		if (!hv->xenstore.handles[h].used)
			continue;
		set->owner[set->count] = OWNER_XS - h;
		set->fds[set->count++] = (struct pollfd){ hv->xenstore.handles[h].fd, POLLIN, 0 };
	}
}

static void serve_ready_fds(struct sim_hv *hv, const struct poll_set *set)
{
	/* Interrupts first: one sent before a notify must be seen before the notify. */
	hv_drain_irq_messages(hv);
	if (set->fds[POLL_LISTEN].revents)
		accept_connection(hv);
	for (nfds_t i = POLL_FIRST; i < set->count; i++) {
		int owner = set->owner[i];

		if (!set->fds[i].revents || owner == OWNER_IRQ)
			continue;
		if (owner >= 0) {
			if (!handle_call(hv, owner)) {
				hv_drop_held_reply(hv, owner);
				close(hv->conns[owner]);
				hv->conns[owner] = -1;
			}
		} else if (owner <= OWNER_XS) {
			hv_xenstore_handle_readable(hv, OWNER_XS - owner);
		} else if (hv->handles[-1 - owner].used) {
			handle_evtchn_message(hv, -1 - owner);
		}
	}
}

static void *hypervisor_thread(void *arg)
{
	struct sim_hv *hv = arg;
	struct poll_set set;

	for (;;) {
		pthread_mutex_lock(&hv->lock);
		build_poll_set(hv, &set);
		pthread_mutex_unlock(&hv->lock);
		if (poll(set.fds, set.count, -1) < 0 && errno != EINTR)
			break;
		if (set.fds[POLL_STOP].revents)
			break;
		pthread_mutex_lock(&hv->lock);
		serve_ready_fds(hv, &set);
		pthread_mutex_unlock(&hv->lock);
	}
	return NULL;
}

/* ---- creation */

static int setup_socket(struct sim_hv *hv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	strcpy(hv->dir, "/tmp/xensim-XXXXXX");
	if (!mkdtemp(hv->dir))
		return -1;
	snprintf(hv->socket_path, sizeof(hv->socket_path), "%s/xen.sock", hv->dir);
	snprintf(hv->log_path, sizeof(hv->log_path), "%s/daemon.log", hv->dir);
	strcpy(addr.sun_path, hv->socket_path);
	hv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (hv->listen_fd < 0 || bind(hv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(hv->listen_fd, 8))
		return -1;
	return 0;
}

struct sim_hv *sim_hv_create(const struct sim_hv_config *config)
{
	struct sim_hv *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return NULL;
	if (config)
		hv->config = *config;
	pthread_mutex_init(&hv->lock, NULL);
	pthread_cond_init(&hv->changed, NULL);
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		hv->conns[i] = hv->irq_fds[i] = -1;
		hv->held[i].conn = -1;
	}
	hv->next_guest_port = 1;
	hv->next_local_port = 1;
	hv->listen_fd = -1;
	hv_xenstore_init(hv);
	if (hv_domain_create(hv, &hv->config) || setup_socket(hv) || pipe2(hv->stop_pipe, O_CLOEXEC) ||
	    pthread_create(&hv->thread, NULL, hypervisor_thread, hv)) {
		perror("simulated hypervisor");
		exit(1);
	}
	return hv;
}

void sim_hv_destroy(struct sim_hv *hv)
{
	if (!hv)
		return;
	if (hv->daemon_pid && !hv->daemon_exited)
		sim_hv_stop_daemon(hv, SIGKILL, 5000);
	if (write(hv->stop_pipe[1], "x", 1) != 1)
		perror("simulated hypervisor: stop");
	pthread_join(hv->thread, NULL);
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		if (hv->conns[i] >= 0)
			close(hv->conns[i]);
		if (hv->irq_fds[i] >= 0)
			close(hv->irq_fds[i]);
	}
	for (int h = 0; h < SIM_MAX_HANDLES; h++)
		if (hv->handles[h].used)
			close(hv->handles[h].fd);
	hv_domains_free(hv);
	close(hv->listen_fd);
	close(hv->stop_pipe[0]);
	close(hv->stop_pipe[1]);
	hv_xenstore_destroy(hv);
	hv_record_free(hv);
	unlink(hv->socket_path);
	unlink(hv->log_path);
	rmdir(hv->dir);
	free(hv->log_text);
	free(hv);
}
