// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_devicemodel.c: the libxendevicemodel and libxenctrl
 * functions the daemon calls, with the real headers' signatures, answered
 * by the simulated hypervisor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <xenctrl.h>
#include <xendevicemodel.h>

#include "tests/sim/libxen_conn.h"

struct xendevicemodel_handle {
	int unused;
};

struct xc_interface_core {
	int unused;
};

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return calloc(1, sizeof(xendevicemodel_handle));
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	free(dmod);
	return 0;
}

/* The process's one connection carries devicemodel and foreignmemory calls alike. */
int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	(void)dmod;
	return sim_call_args(SIM_OP_RESTRICT, domid, 0, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
	struct sim_reply reply;

	(void)dmod;
	if (sim_call_args(SIM_OP_NR_VCPUS, domid, 0, 0, 0, 0, &reply) < 0)
		return -1;
	*vcpus = (unsigned int)reply.val[0];
	return 0;
}

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id)
{
	struct sim_reply reply;

	(void)dmod;
	if (sim_call_args(SIM_OP_CREATE_SERVER, domid, (uint64_t)handle_bufioreq, 0, 0, 0, &reply) < 0)
		return -1;
	*id = (ioservid_t)reply.val[0];
	return 0;
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id)
{
	(void)dmod;
	return sim_call_args(SIM_OP_DESTROY_SERVER, domid, id, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid,
					  ioservid_t id, int enabled)
{
	(void)dmod;
	return sim_call_args(SIM_OP_SET_SERVER_STATE, domid, id, (uint64_t)enabled, 0, 0, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end)
{
	(void)dmod;
	return sim_call_args(SIM_OP_MAP_RANGE, domid, id, (uint64_t)is_mmio, start, end, NULL) < 0 ? -1 : 0;
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end)
{
	(void)dmod;
	return sim_call_args(SIM_OP_UNMAP_RANGE, domid, id, (uint64_t)is_mmio, start, end, NULL) < 0 ? -1 : 0;
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
static int irq_socket(domid_t domid)
{
	struct sim_request req = { .op = SIM_OP_IRQ_INFO, .arg = { domid } };
	struct sim_reply reply;
	int fd;

	pthread_mutex_lock(&irq_channel.lock);
	if (irq_channel.fd < 0 && sim_call(&req, &reply, &fd) == 0) {
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
	int fd = irq_socket(domid);
	ssize_t sent;

	(void)dmod;
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

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	return calloc(1, sizeof(xc_interface));
}

int xc_interface_close(xc_interface *xch)
{
	free(xch);
	return 0;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
			  xc_domaininfo_t *info)
{
	struct sim_reply reply;
	int n;

	(void)xch;
	if (max_domains == 0)
		return 0;
	n = sim_call_args(SIM_OP_DOMAIN_INFO, first_domain, 0, 0, 0, 0, &reply);
	if (n <= 0)
		return n;
	*info = (xc_domaininfo_t){ .domain = (domid_t)reply.val[0], .flags = (uint32_t)reply.val[1] };
	return n;
}
