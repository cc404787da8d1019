// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_devicemodel.c: the libxendevicemodel and libxenctrl
 * functions the daemon calls, with the real headers' signatures, answered
 * by the simulated hypervisor.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <xenctrl.h>
#include <xendevicemodel.h>

#include "tests/sim/libxen_conn.h"

/*
 * As tools/libs/devicemodel/core.c: the handle's own privcmd fd carries the
 * dm_ops (IOCTL_PRIVCMD_DM_OP), and xendevicemodel_open() also opens a
 * private libxencall handle (dmod->xcall: another privcmd fd, for kernels
 * without DM_OP) that xendevicemodel_restrict() leaves alone. Only
 * xentoolcore_restrict_all() neutralises it (tools/libs/call/core.c
 * registers a dup2-/dev/null callback for every xencall handle); until
 * then it takes any hypercall about any domain.
 */
struct xendevicemodel_handle {
	struct sim_conn conn;
	struct sim_conn xcall;
	struct sim_toolcore_handle tc;
	struct sim_toolcore_handle xcall_tc;
};

struct xc_interface_core {
	struct sim_conn xcall;	/* libxenctrl's own libxencall handle */
	struct sim_toolcore_handle tc;
};

static int restrict_dmod(struct sim_toolcore_handle *tc, domid_t domid)
{
	xendevicemodel_handle *dmod = (xendevicemodel_handle *)((char *)tc -
								 offsetof(xendevicemodel_handle, tc));

	return xendevicemodel_restrict(dmod, domid);
}

static int restrict_dmod_xcall(struct sim_toolcore_handle *tc, domid_t domid)
{
	xendevicemodel_handle *dmod = (xendevicemodel_handle *)((char *)tc -
								 offsetof(xendevicemodel_handle, xcall_tc));

	(void)domid;
	return sim_toolcore_dup2_null(dmod->xcall.fd);
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	xendevicemodel_handle *dmod = calloc(1, sizeof(*dmod));
	int saved;

	(void)logger;
	(void)open_flags;
	if (!dmod)
		return NULL;
	if (sim_conn_open(&dmod->xcall, SIM_CONN_XENCALL))
		goto free_handle;
	if (sim_conn_open(&dmod->conn, SIM_CONN_PRIVCMD))
		goto close_xcall;
	dmod->tc.restrict_callback = restrict_dmod;
	dmod->xcall_tc.restrict_callback = restrict_dmod_xcall;
	sim_toolcore_register(&dmod->tc);
	sim_toolcore_register(&dmod->xcall_tc);
	return dmod;

close_xcall:
	saved = errno;
	sim_conn_close(&dmod->xcall);
	errno = saved;
free_handle:
	free(dmod);
	return NULL;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	if (!dmod)
		return 0;
	sim_toolcore_deregister(&dmod->tc);
	sim_toolcore_deregister(&dmod->xcall_tc);
	sim_conn_close(&dmod->conn);
	sim_conn_close(&dmod->xcall);
	free(dmod);
	return 0;
}

/* IOCTL_PRIVCMD_RESTRICT on the handle's own fd only (devicemodel/linux.c). */
int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	return sim_call_args(&dmod->conn, SIM_OP_RESTRICT, domid, 0, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
	struct sim_reply reply;

	if (sim_call_args(&dmod->conn, SIM_OP_NR_VCPUS, domid, 0, 0, 0, 0, &reply) < 0)
		return -1;
	*vcpus = (unsigned int)reply.val[0];
	return 0;
}

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id)
{
	struct sim_reply reply;

	if (sim_call_args(&dmod->conn, SIM_OP_CREATE_SERVER, domid, (uint64_t)handle_bufioreq, 0, 0, 0, &reply) < 0)
		return -1;
	*id = (ioservid_t)reply.val[0];
	return 0;
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id)
{
	return sim_call_args(&dmod->conn, SIM_OP_DESTROY_SERVER, domid, id, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid,
					  ioservid_t id, int enabled)
{
	return sim_call_args(&dmod->conn, SIM_OP_SET_SERVER_STATE, domid, id, (uint64_t)enabled, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end)
{
	return sim_call_args(&dmod->conn, SIM_OP_MAP_RANGE, domid, id, (uint64_t)is_mmio, start, end, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end)
{
	return sim_call_args(&dmod->conn, SIM_OP_UNMAP_RANGE, domid, id, (uint64_t)is_mmio, start, end, NULL) < 0 ? -1 : 0;
}

/*
 * The one-way irq socket, fetched once per process for one domain: after
 * that an interrupt costs one send(), as a set_irq_level hypercall costs a
 * few microseconds on Xen, not a round trip to the hypervisor thread.
 */
static struct {
	pthread_mutex_t lock;
	int fd;			/* -1 until fetched */
	domid_t domid;
	uint64_t nr_spis;
} irq_channel = { PTHREAD_MUTEX_INITIALIZER, -1, 0, 0 };

/* The irq socket for @domid (fetching it on first use), or -1 with errno set. */
static int irq_socket(xendevicemodel_handle *dmod, domid_t domid)
{
	struct sim_request req = { .op = SIM_OP_IRQ_INFO, .arg = { domid } };
	struct sim_reply reply;
	int fd;

	pthread_mutex_lock(&irq_channel.lock);
	if (irq_channel.fd < 0 && sim_call(&dmod->conn, &req, &reply, &fd) == 0) {
		irq_channel.fd = fd;
		irq_channel.domid = domid;
		irq_channel.nr_spis = reply.val[0];
	}
	fd = irq_channel.fd;
	pthread_mutex_unlock(&irq_channel.lock);
	if (fd >= 0 && domid != irq_channel.domid) {
		errno = ESRCH;	/* the simulated hypervisor has one guest */
		return -1;
	}
	return fd;
}

int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
				 unsigned int level)
{
	struct sim_irq_msg msg = { irq, level != 0 };
	int fd = irq_socket(dmod, domid);
	ssize_t sent;

	if (fd < 0)
		return -1;
	/* Only the SPIs the guest's vGIC has (Xen: EINVAL otherwise). */
	if (irq < 32 || irq - 32 >= irq_channel.nr_spis) {
		errno = EINVAL;
		return -1;
	}
	do
		sent = send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	return sent == (ssize_t)sizeof(msg) ? 0 : -1;
}

static int restrict_xc(struct sim_toolcore_handle *tc, domid_t domid)
{
	xc_interface *xch = (xc_interface *)((char *)tc - offsetof(xc_interface, tc));

	(void)domid;
	return sim_toolcore_dup2_null(xch->xcall.fd);
}

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	xc_interface *xch = calloc(1, sizeof(*xch));

	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	if (!xch)
		return NULL;
	if (sim_conn_open(&xch->xcall, SIM_CONN_XENCALL)) {
		free(xch);
		return NULL;
	}
	xch->tc.restrict_callback = restrict_xc;
	sim_toolcore_register(&xch->tc);
	return xch;
}

int xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return 0;
	sim_toolcore_deregister(&xch->tc);
	sim_conn_close(&xch->xcall);
	free(xch);
	return 0;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
			  xc_domaininfo_t *info)
{
	struct sim_reply reply;
	int n;

	if (max_domains == 0)
		return 0;
	/* A sysctl through libxencall: IOCTL_PRIVCMD_HYPERCALL. */
	n = sim_call_args(&xch->xcall, SIM_OP_DOMAIN_INFO, first_domain, 0, 0, 0, 0, &reply);
	if (n <= 0)
		return n;
	*info = (xc_domaininfo_t){ .domain = (domid_t)reply.val[0], .flags = (uint32_t)reply.val[1] };
	return n;
}
