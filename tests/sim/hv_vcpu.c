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
static int select_server(struct sim_hv *hv, uint64_t addr, unsigned int size)
{
	uint64_t end = addr + size - 1;

	for (int s = 0; s < SIM_MAX_SERVERS; s++) {
		const struct sim_server *srv = &hv->servers[s];

		if (!srv->used || !srv->enabled)
			continue;
		for (unsigned int i = 0; i < srv->nr_ranges; i++)
			if (addr >= srv->ranges[i].start && end <= srv->ranges[i].end && end >= addr)
				return s;
	}
	return -1;
}

static int first_enabled_server(struct sim_hv *hv)
{
	for (int s = 0; s < SIM_MAX_SERVERS; s++)
		if (hv->servers[s].used && hv->servers[s].enabled)
			return s;
	return -1;
}

void hv_post_request(struct sim_hv *hv, int server, unsigned int vcpu, const ioreq_t *req)
{
	volatile ioreq_t *slot = &hv->servers[server].page[vcpu];

	slot->addr = req->addr;
	slot->data = req->data;
	slot->count = req->count;
	slot->size = req->size;
	slot->data_is_ptr = req->data_is_ptr;
	slot->dir = req->dir;
	slot->df = req->df;
	slot->type = req->type;
	hv->vcpus[vcpu].notified = false;
	/* Xen: wmb() between filling the request and publishing it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->state = STATE_IOREQ_READY;
	hv_signal_guest_port(hv, hv->servers[server].guest_ports[vcpu]);
}

void hv_post_queued_requests(struct sim_hv *hv, int server)
{
	for (unsigned int v = 0; v < hv->config.nr_vcpus; v++) {
		struct sim_vcpu *vcpu = &hv->vcpus[v];

		if (!vcpu->queued || vcpu->queued_server >= 0)
			continue;
		vcpu->queued_server = server;
		hv_post_request(hv, server, v, &vcpu->queued_req);
	}
}

/*
 * With hv->lock held: wait for the daemon to notify @vcpu and leave the
 * answer in the slot, as a vCPU blocked in Xen's ioreq wait does.
 */
static int wait_answer(struct sim_hv *hv, int server, unsigned int vcpu, ioreq_t *req,
		       int timeout_ms)
{
	volatile ioreq_t *slot = &hv->servers[server].page[vcpu];
	struct timespec deadline;

	hv_deadline(&deadline, timeout_ms);
	for (;;) {
		if (hv->vcpus[vcpu].notified) {
			hv->vcpus[vcpu].notified = false;
			if (slot->state == STATE_IORESP_READY)
				break;
		}
		if (pthread_cond_timedwait(&hv->vcpus[vcpu].answered, &hv->lock, &deadline) == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	req->data = slot->data;
	slot->state = STATE_IOREQ_NONE;
	return 0;
}

static int issue(struct sim_hv *hv, int server, unsigned int vcpu, ioreq_t *req)
{
	if (hv->servers[server].page[vcpu].state != STATE_IOREQ_NONE)
		return -EBUSY;
	hv_post_request(hv, server, vcpu, req);
	return wait_answer(hv, server, vcpu, req, SIM_ACCESS_TIMEOUT_MS);
}

static int mmio_access(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req)
{
	int server, ret;

	if (vcpu >= hv->config.nr_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&hv->lock);
	server = select_server(hv, req->addr, req->size);
	if (server < 0 && hv->config.background == SIM_BACKGROUND_ABORT) {
		ret = -EFAULT;
	} else if (server < 0) {
		/* The background: Xen answers it without any server. */
		if (req->dir == IOREQ_READ)
			req->data = all_ones(req->size);
		ret = SIM_ACCESS_UNCLAIMED;
	} else {
		ret = issue(hv, server, vcpu, req);
	}
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_vcpu_mmio_read(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
		       uint64_t *value)
{
	ioreq_t req = { .addr = addr, .size = size, .count = 1, .dir = IOREQ_READ,
			.type = IOREQ_TYPE_COPY };
	int ret = mmio_access(hv, vcpu, &req);

	if (ret >= 0)
		*value = req.data;
	return ret;
}

int sim_vcpu_mmio_write(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
			uint64_t value)
{
	ioreq_t req = { .addr = addr, .data = value, .size = size, .count = 1,
			.dir = IOREQ_WRITE, .type = IOREQ_TYPE_COPY };

	return mmio_access(hv, vcpu, &req);
}

int sim_vcpu_send_raw(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req)
{
	int server, ret;

	if (vcpu >= hv->config.nr_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&hv->lock);
	server = first_enabled_server(hv);
	ret = server < 0 ? -ENODEV : issue(hv, server, vcpu, req);
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

void sim_vcpu_queue_on_enable(struct sim_hv *hv, unsigned int vcpu, const ioreq_t *req)
{
	pthread_mutex_lock(&hv->lock);
	hv->vcpus[vcpu].queued = true;
	hv->vcpus[vcpu].queued_req = *req;
	hv->vcpus[vcpu].queued_server = -1;
	pthread_mutex_unlock(&hv->lock);
}

int sim_vcpu_collect_queued(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (hv->vcpus[vcpu].queued_server < 0 && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	if (ret == 0) {
		*req = hv->vcpus[vcpu].queued_req;
		ret = wait_answer(hv, hv->vcpus[vcpu].queued_server, vcpu, req, timeout_ms);
		hv->vcpus[vcpu].queued = false;
	} else {
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&hv->lock);
	return ret;
}
