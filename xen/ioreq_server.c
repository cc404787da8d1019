// SPDX-License-Identifier: MIT
/*
 * xen/ioreq_server.c: the IOREQ server lifecycle and the per-vCPU request
 * loop.
 *
 * Xen's side of the contract (xen/common/ioreq.c): the server owns one page
 * of ioreq_t slots, one per vCPU, each with the event channel (vp_eport)
 * Xen signals when it puts a request in that slot. We answer by writing the
 * result, setting STATE_IORESP_READY and notifying the same channel; the vCPU
 * is paused until then.
 */
/* HVM_IOREQSRV_BUFIOREQ_OFF and the dm_op types are for tools only. */
#define __XEN_TOOLS__ 1

#include "xen/ioreq_server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/event.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/memory.h>

#include "lib/log.h"

/* One 4 KiB ioreq page holds this many 32-byte slots (Arm guests: at most 128 vCPUs). */
#define MAX_VCPUS (4096 / sizeof(ioreq_t))

enum ioreq_server_stage {
	STAGE_NONE,
	STAGE_HANDLES_OPEN,	/* devicemodel, foreignmemory, evtchn */
	STAGE_SERVER_CREATED,	/* xendevicemodel_create_ioreq_server */
	STAGE_PAGE_MAPPED,	/* the ioreq page, via map_resource */
	STAGE_ENABLED,		/* xendevicemodel_set_ioreq_server_state(1) */
	STAGE_PORTS_BOUND,	/* every vCPU's vp_eport bound */
	STAGE_LISTENING,	/* the evtchn fd in the event loop */
};

struct xen_ioreq_server {
	domid_t domid;
	enum ioreq_server_stage stage;
	xendevicemodel_handle *dmod;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	unsigned int nr_vcpus;
	ioservid_t id;
	xenforeignmemory_resource_handle *page_resource;
	volatile ioreq_t *slots;
	evtchn_port_t *local_ports;	/* per vCPU, valid below nr_bound */
	unsigned int nr_bound;
	struct event *evtchn_event;
	struct mmio_regions regions;
	struct ioreq_dispatcher dispatcher;
	struct log_ratelimit port_log;
	/* BAR ranges come and go as the guest programs BARs and Memory Space. */
	struct log_ratelimit range_log;
	/*
	 * The guest was destroyed before we stopped: Xen already destroyed the
	 * server and its ranges with it, so there is nothing to disable,
	 * unregister or destroy (and every such call would fail).
	 */
	bool domain_gone;
};

static int open_handles(struct xen_ioreq_server *s)
{
	s->dmod = xendevicemodel_open(NULL, 0);
	if (!s->dmod)
		goto fail;
	s->fmem = xenforeignmemory_open(NULL, 0);
	if (!s->fmem)
		goto close_dmod;
	s->xce = xenevtchn_open(NULL, 0);
	if (!s->xce)
		goto close_fmem;
	s->stage = STAGE_HANDLES_OPEN;
	return 0;

close_fmem:
	xenforeignmemory_close(s->fmem);
close_dmod:
	xendevicemodel_close(s->dmod);
fail:
	log_error("ioreq server: cannot open the Xen device-model interfaces: %s",
		  strerror(errno));
	return -errno;
}

static int read_vcpu_count(struct xen_ioreq_server *s)
{
	if (xendevicemodel_nr_vcpus(s->dmod, s->domid, &s->nr_vcpus)) {
		log_error("ioreq server: cannot read the number of vCPUs: %s", strerror(errno));
		return -errno;
	}
	if (s->nr_vcpus == 0 || s->nr_vcpus > MAX_VCPUS) {
		log_error("ioreq server: %u vCPUs; one ioreq page serves 1..%zu",
			  s->nr_vcpus, (size_t)MAX_VCPUS);
		return -ERANGE;
	}
	s->local_ports = calloc(s->nr_vcpus, sizeof(*s->local_ports));
	return s->local_ports ? 0 : -ENOMEM;
}

static int create_server(struct xen_ioreq_server *s)
{
	/* Arm has no buffered ioreqs (docs/architecture.md), and we want none on x86 either. */
	if (xendevicemodel_create_ioreq_server(s->dmod, s->domid, HVM_IOREQSRV_BUFIOREQ_OFF, &s->id)) {
		log_error("ioreq server: cannot create: %s%s", strerror(errno),
			  errno == ENOSYS ? " (is Xen built with CONFIG_IOREQ_SERVER=y?)" : "");
		return -errno;
	}
	s->stage = STAGE_SERVER_CREATED;
	log_info("ioreq server %u created, %u vCPUs", s->id, s->nr_vcpus);
	return 0;
}

static int map_ioreq_page(struct xen_ioreq_server *s)
{
	void *addr = NULL;

	s->page_resource = xenforeignmemory_map_resource(
		s->fmem, s->domid, XENMEM_resource_ioreq_server, s->id,
		XENMEM_resource_ioreq_server_frame_ioreq(0), 1, &addr,
		PROT_READ | PROT_WRITE, 0);
	if (!s->page_resource) {
		log_error("ioreq server %u: cannot map the ioreq page: %s", s->id, strerror(errno));
		return -errno;
	}
	s->slots = addr;
	s->stage = STAGE_PAGE_MAPPED;
	return 0;
}

int xen_ioreq_server_open(struct xen_ioreq_server **out, domid_t domid,
			  const struct ioreq_dispatch_hooks *hooks, void *opaque)
{
	struct xen_ioreq_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->domid = domid;
	log_ratelimit_init(&s->range_log, "MMIO ranges");
	mmio_regions_init(&s->regions);
	s->dispatcher.regions = &s->regions;
	s->dispatcher.hooks = hooks;
	s->dispatcher.opaque = opaque;
	ret = open_handles(s);
	if (ret) {
		xen_ioreq_server_destroy(s);
		return ret;
	}
	*out = s;
	return 0;
}

/*
 * Every call here works on handles restricted to the domain: nr_vcpus and
 * create_ioreq_server are dm_ops (privcmd_ioctl_dm_op() checks only that
 * the domain matches), the page is IOCTL_PRIVCMD_MMAP_RESOURCE (the same
 * check in privcmd_ioctl_mmap_resource()).
 */
int xen_ioreq_server_create(struct xen_ioreq_server *s)
{
	int ret = read_vcpu_count(s);

	if (!ret)
		ret = create_server(s);
	if (!ret)
		ret = map_ioreq_page(s);
	return ret;
}

/* ---- the request loop */

static uint8_t slot_state(volatile ioreq_t *slot)
{
	return slot->state;
}

/*
 * Serve vCPU @vcpu's slot if Xen left a request in it. The request is copied
 * once: the guest (through Xen) never gets a second look at our decision.
 */
static void serve_slot(struct xen_ioreq_server *s, unsigned int vcpu)
{
	volatile ioreq_t *slot = &s->slots[vcpu];
	ioreq_t req;

	if (slot_state(slot) != STATE_IOREQ_READY)
		return;
	/* Read the request only after seeing READY (Xen: wmb before setting it). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memcpy(&req, (const void *)slot, sizeof(req));
	slot->state = STATE_IOREQ_INPROCESS;

	ioreq_dispatch(&s->dispatcher, &req);

	slot->data = req.data;
	/* The data must be visible before the state says it is (Xen: rmb after reading it). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->state = STATE_IORESP_READY;
	if (vcpu < s->nr_bound && xenevtchn_notify(s->xce, s->local_ports[vcpu]))
		log_ratelimited(&s->port_log, LOG_LEVEL_ERROR, "ioreq server %u: vCPU %u: notify: %s",
				s->id, vcpu, strerror(errno));
}

static void serve_all_slots(struct xen_ioreq_server *s)
{
	for (unsigned int vcpu = 0; vcpu < s->nr_vcpus; vcpu++)
		serve_slot(s, vcpu);
}

static int vcpu_of_port(const struct xen_ioreq_server *s, evtchn_port_t port)
{
	for (unsigned int vcpu = 0; vcpu < s->nr_bound; vcpu++)
		if (s->local_ports[vcpu] == port)
			return (int)vcpu;
	return -1;
}

static void on_event_channel(evutil_socket_t fd, short what, void *arg)
{
	struct xen_ioreq_server *s = arg;
	xenevtchn_port_or_error_t port;
	int vcpu;

	(void)fd;
	(void)what;
	port = xenevtchn_pending(s->xce);
	if (port < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/*
		 * The handle is broken and stays readable: serving cannot go on,
		 * and retrying would spin. Stop the loop; the caller tears down.
		 */
		log_error("ioreq server %u: the event channel failed: %s: stopping",
			  s->id, strerror(errno));
		event_del(s->evtchn_event);
		event_base_loopbreak(event_get_base(s->evtchn_event));
		return;
	}
	/* Unmask first: an event that arrives while we serve is then not lost. */
	xenevtchn_unmask(s->xce, port);
	vcpu = vcpu_of_port(s, port);
	if (vcpu < 0) {
		log_ratelimited(&s->port_log, LOG_LEVEL_WARN,
				"ioreq server %u: event on unknown port %d", s->id, port);
		return;
	}
	/*
	 * Every vCPU waiting now is answered now, not one per turn of the
	 * loop: the evtchn device hands out one port per read, and a pass of
	 * a busy queue (scheduled on the same loop) would otherwise run between
	 * one vCPU's answer and the next. A slot already answered this way is
	 * not READY when its own event comes, so serve_slot() skips it.
	 */
	serve_slot(s, (unsigned int)vcpu);
	serve_all_slots(s);
}

/* ---- enabling */

static int bind_ports(struct xen_ioreq_server *s)
{
	for (unsigned int vcpu = 0; vcpu < s->nr_vcpus; vcpu++) {
		uint32_t remote = s->slots[vcpu].vp_eport;
		xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(s->xce, s->domid, remote);

		if (port < 0) {
			log_error("ioreq server %u: vCPU %u: cannot bind event channel %u: %s",
				  s->id, vcpu, remote, strerror(errno));
			return -errno;
		}
		s->local_ports[vcpu] = (evtchn_port_t)port;
		s->nr_bound = vcpu + 1;
	}
	s->stage = STAGE_PORTS_BOUND;
	return 0;
}

static int listen_on_loop(struct xen_ioreq_server *s, struct event_base *base)
{
	s->evtchn_event = event_new(base, xenevtchn_fd(s->xce), EV_READ | EV_PERSIST,
				    on_event_channel, s);
	if (!s->evtchn_event || event_add(s->evtchn_event, NULL)) {
		log_error("ioreq server %u: cannot add the event channel to the event loop", s->id);
		return -ENOMEM;
	}
	s->stage = STAGE_LISTENING;
	return 0;
}

int xen_ioreq_server_enable(struct xen_ioreq_server *s, struct event_base *base)
{
	int ret;

	if (xendevicemodel_set_ioreq_server_state(s->dmod, s->domid, s->id, 1)) {
		log_error("ioreq server %u: cannot enable: %s", s->id, strerror(errno));
		return -errno;
	}
	s->stage = STAGE_ENABLED;
	ret = bind_ports(s);
	if (ret)
		return ret;
	ret = listen_on_loop(s, base);
	if (ret)
		return ret;
	/*
	 * A vCPU that trapped between "enabled" and "bound" signalled a port
	 * nobody listened on: its request is already in the slot.
	 */
	serve_all_slots(s);
	log_info("ioreq server %u enabled", s->id);
	return 0;
}

/* ---- ranges */

int xen_ioreq_server_add_mmio(struct xen_ioreq_server *s, uint64_t base, uint64_t size,
			      const struct xen_mmio_ops *ops, void *opaque)
{
	int ret = mmio_regions_add(&s->regions, base, size, ops, opaque);

	if (ret) {
		log_ratelimited(&s->range_log, LOG_LEVEL_ERROR, "ioreq server %u: range 0x%llx+0x%llx: %s",
				s->id, (unsigned long long)base, (unsigned long long)size, strerror(-ret));
		return ret;
	}
	if (xendevicemodel_map_io_range_to_ioreq_server(s->dmod, s->domid, s->id, 1,
							base, base + size - 1)) {
		ret = -errno;
		log_ratelimited(&s->range_log, LOG_LEVEL_ERROR,
				"ioreq server %u: cannot register range 0x%llx+0x%llx: %s", s->id,
				(unsigned long long)base, (unsigned long long)size, strerror(-ret));
		mmio_regions_remove(&s->regions, base, size);
		return ret;
	}
	log_ratelimited(&s->range_log, LOG_LEVEL_DEBUG, "ioreq server %u: serving 0x%llx-0x%llx",
			s->id, (unsigned long long)base, (unsigned long long)(base + size - 1));
	return 0;
}

/*
 * ENOENT or ESRCH from a dm_op at teardown: the domain went first and Xen
 * destroyed its servers with it (xen/common/ioreq.c, ioreq_server_destroy_all
 * at domain destruction; get_ioreq_server() then finds none: -ENOENT). libxl
 * destroys a powered-off domain before it signals its device model.
 */
static bool gone_with_domain(int error)
{
	return error == ENOENT || error == ESRCH;
}

static void log_destroy_failure(const struct xen_ioreq_server *s, int error)
{
	if (gone_with_domain(error))
		log_info("ioreq server %u destroyed with its domain", s->id);
	else
		log_error("ioreq server %u: cannot destroy: %s", s->id, strerror(error));
}

static int unregister_range(struct xen_ioreq_server *s, uint64_t base, uint64_t size)
{
	if (xendevicemodel_unmap_io_range_from_ioreq_server(s->dmod, s->domid, s->id, 1,
							    base, base + size - 1)) {
		int ret = -errno;

		if (gone_with_domain(-ret)) {
			s->domain_gone = true;
			return ret;
		}
		log_ratelimited(&s->range_log, LOG_LEVEL_ERROR,
				"ioreq server %u: cannot unregister range 0x%llx+0x%llx: %s", s->id,
				(unsigned long long)base, (unsigned long long)size, strerror(-ret));
		return ret;
	}
	return 0;
}

int xen_ioreq_server_remove_mmio(struct xen_ioreq_server *s, uint64_t base, uint64_t size)
{
	int ret = mmio_regions_remove(&s->regions, base, size);

	if (ret)
		return ret;
	/* Xen removed every range with the domain: nothing to unregister. */
	if (s->domain_gone)
		return 0;
	return unregister_range(s, base, size);
}

/* ---- teardown */

static void stop_listening(struct xen_ioreq_server *s)
{
	event_free(s->evtchn_event);
	s->evtchn_event = NULL;
}

static void disable_server(struct xen_ioreq_server *s)
{
	if (s->domain_gone)
		return;
	/* No vCPU may stay paused on a request we will never see. */
	serve_all_slots(s);
	if (xendevicemodel_set_ioreq_server_state(s->dmod, s->domid, s->id, 0)) {
		/*
		 * A domain being destroyed stays "dying" while we still map its
		 * memory: it answers, but its servers (and their ranges) are
		 * already gone: ENOENT. Gone altogether: ESRCH.
		 */
		if (errno == ENOENT || errno == ESRCH) {
			s->domain_gone = true;
			log_info("domain %u is gone: Xen destroyed ioreq server %u with it",
				 s->domid, s->id);
			return;
		}
		log_error("ioreq server %u: cannot disable: %s", s->id, strerror(errno));
	}
	/* Requests that raced with the disable. */
	serve_all_slots(s);
}

static void unbind_ports(struct xen_ioreq_server *s)
{
	while (s->nr_bound > 0) {
		evtchn_port_t port = s->local_ports[--s->nr_bound];

		if (xenevtchn_unbind(s->xce, port))
			log_error("ioreq server %u: cannot unbind port %u: %s", s->id, port,
				  strerror(errno));
	}
}

static void unregister_ranges(struct xen_ioreq_server *s)
{
	for (size_t i = 0; i < s->regions.count && !s->domain_gone; i++)
		unregister_range(s, s->regions.entries[i].base, s->regions.entries[i].size);
	mmio_regions_free(&s->regions);
}

static void close_handles(struct xen_ioreq_server *s)
{
	xenevtchn_close(s->xce);
	xenforeignmemory_close(s->fmem);
	xendevicemodel_close(s->dmod);
}

/*
 * Called once before tearing down a created server. Asked through our own
 * device-model handle, which works after it was restricted to the domain
 * and privileges were dropped (a new libxenctrl handle would not): Xen
 * answers ESRCH for a domain that is gone.
 */
static void check_domain_gone(struct xen_ioreq_server *s)
{
	unsigned int vcpus;

	if (s->domain_gone || s->stage < STAGE_SERVER_CREATED ||
	    !xendevicemodel_nr_vcpus(s->dmod, s->domid, &vcpus) || errno != ESRCH)
		return;
	s->domain_gone = true;
	log_info("domain %u is gone: Xen destroyed ioreq server %u with it", s->domid, s->id);
}

/* Undo every stage above @target, newest first. */
static void teardown_to(struct xen_ioreq_server *s, enum ioreq_server_stage target)
{
	check_domain_gone(s);
	/* Each case undoes its stage and falls through to the ones below it. */
	switch (s->stage) {
	case STAGE_LISTENING:
		stop_listening(s);
		/* fallthrough */
	case STAGE_PORTS_BOUND:
	case STAGE_ENABLED:
		if (target >= STAGE_ENABLED)
			break;
		disable_server(s);
		unbind_ports(s);	/* also the ones a failed bind_ports() left */
		s->stage = STAGE_PAGE_MAPPED;
		/* fallthrough */
	case STAGE_PAGE_MAPPED:
		if (target >= STAGE_PAGE_MAPPED)
			break;
		unregister_ranges(s);
		xenforeignmemory_unmap_resource(s->fmem, s->page_resource);
		/* fallthrough */
	case STAGE_SERVER_CREATED:
		if (s->domain_gone)
			;	/* destroyed with the domain */
		else if (xendevicemodel_destroy_ioreq_server(s->dmod, s->domid, s->id))
			log_destroy_failure(s, errno);
		else
			log_info("ioreq server %u destroyed", s->id);
		/* fallthrough */
	case STAGE_HANDLES_OPEN:
		close_handles(s);
		/* fallthrough */
	case STAGE_NONE:
		s->stage = STAGE_NONE;
		break;
	}
}

void xen_ioreq_server_disable(struct xen_ioreq_server *s)
{
	if (s->stage > STAGE_PAGE_MAPPED)
		teardown_to(s, STAGE_PAGE_MAPPED);
}

void xen_ioreq_server_destroy(struct xen_ioreq_server *s)
{
	if (!s)
		return;
	teardown_to(s, STAGE_NONE);
	log_ratelimit_flush(&s->range_log);
	mmio_regions_free(&s->regions);
	free(s->local_ports);
	free(s);
}

int xen_ioreq_server_set_irq_level(struct xen_ioreq_server *s, uint32_t irq, unsigned int level)
{
	if (xendevicemodel_set_irq_level(s->dmod, s->domid, irq, level))
		return -errno;
	return 0;
}

int xen_ioreq_server_destroy_stale(domid_t domid, unsigned int id)
{
	xendevicemodel_handle *dmod = xendevicemodel_open(NULL, 0);
	int ret = 0;

	if (!dmod) {
		log_error("ioreq server: cannot open the device-model interface: %s", strerror(errno));
		return -errno;
	}
	if (xendevicemodel_destroy_ioreq_server(dmod, domid, (ioservid_t)id)) {
		ret = -errno;
		/* The domain it served is gone (a reboot gave the ID again): nothing to remove. */
		if (errno == ENOENT || errno == ESRCH)
			log_info("ioreq server %u of an earlier process: already gone", id);
		else
			log_error("ioreq server %u of an earlier process: cannot destroy it: %s",
				  id, strerror(errno));
	} else {
		log_info("ioreq server %u of an earlier process destroyed", id);
	}
	xendevicemodel_close(dmod);
	return ret == -ENOENT || ret == -ESRCH ? 0 : ret;
}

unsigned int xen_ioreq_server_id(const struct xen_ioreq_server *s)
{
	return s->id;
}

unsigned int xen_ioreq_server_nr_vcpus(const struct xen_ioreq_server *s)
{
	return s->nr_vcpus;
}

const struct ioreq_dispatcher *xen_ioreq_server_stats(const struct xen_ioreq_server *s)
{
	return &s->dispatcher;
}
