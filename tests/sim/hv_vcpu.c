// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_vcpu.c: the guest's vCPUs trapping into the simulated
 * hypervisor: the request goes in the vCPU's slot of the IOREQ server that
 * claims the address, its event channel is signalled, and the vCPU stays
 * blocked until the daemon notifies it back with STATE_IORESP_READY.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <string.h>

static uint64_t all_ones(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Xen's ioreq_server_select(): an enabled server with a range holding the whole access. */
static int select_server(const struct sim_domain *d, uint64_t addr, unsigned int size)
{
	uint64_t end = addr + size - 1;

	for (int s = 0; s < SIM_MAX_SERVERS; s++) {
		const struct sim_server *srv = &d->servers[s];

		if (!srv->used || !srv->enabled)
			continue;
		for (unsigned int i = 0; i < srv->nr_ranges; i++)
			if (addr >= srv->ranges[i].start && end <= srv->ranges[i].end && end >= addr)
				return s;
	}
	return -1;
}

static int first_enabled_server(const struct sim_domain *d)
{
	for (int s = 0; s < SIM_MAX_SERVERS; s++)
		if (d->servers[s].used && d->servers[s].enabled)
			return s;
	return -1;
}

void hv_post_request(struct sim_hv *hv, struct sim_domain *d, int server, unsigned int vcpu,
		     const ioreq_t *req)
{
	volatile ioreq_t *slot = &d->servers[server].page[vcpu];

	slot->addr = req->addr;
	slot->data = req->data;
	slot->count = req->count;
	slot->size = req->size;
	slot->data_is_ptr = req->data_is_ptr;
	slot->dir = req->dir;
	slot->df = req->df;
	slot->type = req->type;
	d->vcpus[vcpu].notified = false;
	/* Xen: wmb() between filling the request and publishing it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->state = STATE_IOREQ_READY;
	hv_signal_guest_port(hv, d->servers[server].guest_ports[vcpu]);
}

void hv_post_queued_requests(struct sim_hv *hv, struct sim_domain *d, int server)
{
	for (unsigned int v = 0; v < d->config.nr_vcpus; v++) {
		struct sim_vcpu *vcpu = &d->vcpus[v];

		if (!vcpu->queued || vcpu->queued_server >= 0)
			continue;
		vcpu->queued_server = server;
		hv_post_request(hv, d, server, v, &vcpu->queued_req);
	}
}

/*
 * With hv->lock held: wait for the daemon to notify @vcpu and leave the
 * answer in the slot, as a vCPU blocked in Xen's ioreq wait does.
 */
static int wait_answer(struct sim_hv *hv, struct sim_domain *d, int server, unsigned int vcpu,
		       ioreq_t *req, int timeout_ms)
{
	struct sim_server *srv = &d->servers[server];
	struct timespec deadline;

	hv_deadline(&deadline, timeout_ms);
	for (;;) {
		/* The domain was destroyed while the vCPU waited: its server went with it. */
		if (!srv->used)
			return -ESRCH;
		if (d->vcpus[vcpu].notified) {
			d->vcpus[vcpu].notified = false;
			if (srv->page[vcpu].state == STATE_IORESP_READY)
				break;
		}
		if (pthread_cond_timedwait(&d->vcpus[vcpu].answered, &hv->lock, &deadline) == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	req->data = srv->page[vcpu].data;
	srv->page[vcpu].state = STATE_IOREQ_NONE;
	return 0;
}

static int issue(struct sim_hv *hv, struct sim_domain *d, int server, unsigned int vcpu,
		 ioreq_t *req)
{
	int ret;

	if (d->servers[server].page[vcpu].state != STATE_IOREQ_NONE)
		return -EBUSY;
	hv_post_request(hv, d, server, vcpu, req);
	d->vcpus[vcpu].waiting = true;
	pthread_cond_broadcast(&hv->changed);
	ret = wait_answer(hv, d, server, vcpu, req, SIM_ACCESS_TIMEOUT_MS);
	d->vcpus[vcpu].waiting = false;
	return ret;
}

/* With hv->lock held. */
static int mmio_access(struct sim_hv *hv, struct sim_domain *d, unsigned int vcpu, ioreq_t *req)
{
	int server;

	if (!d || d->destroyed)
		return -ESRCH;
	if (vcpu >= d->config.nr_vcpus)
		return -EINVAL;
	server = select_server(d, req->addr, req->size);
	if (server >= 0)
		return issue(hv, d, server, vcpu, req);
	if (d->config.background == SIM_BACKGROUND_ABORT)
		return -EFAULT;
	/* The background: Xen answers it without any server. */
	if (req->dir == IOREQ_READ)
		req->data = all_ones(req->size);
	return SIM_ACCESS_UNCLAIMED;
}

int sim_dom_mmio_read(struct sim_hv *hv, uint32_t domid, unsigned int vcpu, uint64_t addr,
		      unsigned int size, uint64_t *value)
{
	ioreq_t req = { .addr = addr, .size = size, .count = 1, .dir = IOREQ_READ,
			.type = IOREQ_TYPE_COPY };
	int ret;

	pthread_mutex_lock(&hv->lock);
	ret = mmio_access(hv, hv_find_domain(hv, domid), vcpu, &req);
	pthread_mutex_unlock(&hv->lock);
	if (ret >= 0)
		*value = req.data;
	return ret;
}

int sim_vcpu_mmio_read(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
		       uint64_t *value)
{
	return sim_dom_mmio_read(hv, hv->guest->config.domid, vcpu, addr, size, value);
}

int sim_vcpu_mmio_write(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
			uint64_t value)
{
	ioreq_t req = { .addr = addr, .data = value, .size = size, .count = 1,
			.dir = IOREQ_WRITE, .type = IOREQ_TYPE_COPY };
	int ret;

	pthread_mutex_lock(&hv->lock);
	ret = mmio_access(hv, hv->guest, vcpu, &req);
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_vcpu_send_raw(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req)
{
	struct sim_domain *d = hv->guest;
	int server, ret;

	if (vcpu >= d->config.nr_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&hv->lock);
	server = first_enabled_server(d);
	ret = server < 0 ? -ENODEV : issue(hv, d, server, vcpu, req);
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

void sim_vcpu_queue_on_enable(struct sim_hv *hv, unsigned int vcpu, const ioreq_t *req)
{
	struct sim_vcpu *v = &hv->guest->vcpus[vcpu];

	pthread_mutex_lock(&hv->lock);
	v->queued = true;
	v->queued_req = *req;
	v->queued_server = -1;
	pthread_mutex_unlock(&hv->lock);
}

int sim_vcpu_collect_queued(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req, int timeout_ms)
{
	struct sim_domain *d = hv->guest;
	struct timespec deadline;
	int ret = 0;

	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (d->vcpus[vcpu].queued_server < 0 && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	if (ret == 0) {
		*req = d->vcpus[vcpu].queued_req;
		ret = wait_answer(hv, d, d->vcpus[vcpu].queued_server, vcpu, req, timeout_ms);
		d->vcpus[vcpu].queued = false;
	} else {
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_hv_wait_vcpu_blocked(struct sim_hv *hv, unsigned int vcpu, int timeout_ms)
{
	struct sim_domain *d = hv->guest;
	struct timespec deadline;
	int ret = 0;

	if (vcpu >= d->config.nr_vcpus)
		return -EINVAL;
	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (!d->vcpus[vcpu].waiting && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	ret = d->vcpus[vcpu].waiting ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&hv->lock);
	return ret;
}
