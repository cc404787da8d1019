// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_record.c: the order of events, for tests that count rather
 * than time. Each answer the daemon gives a vCPU is recorded with the
 * values of the guest counters the test watches (a used ring's idx: how
 * many requests of that queue were completed by then). The daemon's
 * notifies are synchronous while recording (tests/sim/libxen_evtchn.c), so
 * the daemon waits while its answer is recorded and cannot move a counter
 * in between.
 */
#include "tests/sim/hv_internal.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Enough for a test's set-up and floods; later events are not kept. */
#define MAX_RECORDED_EVENTS (1u << 20)

void sim_hv_record_events(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
	hv->record.on = true;
	pthread_mutex_unlock(&hv->lock);
}

int sim_hv_watch_u16(struct sim_hv *hv, uint64_t gpa)
{
	int index;

	if (!sim_hv_guest_ram(hv, gpa, 2) || gpa % 2)
		return -EINVAL;
	pthread_mutex_lock(&hv->lock);
	index = hv->record.nr_watches < SIM_HV_MAX_WATCHES ? (int)hv->record.nr_watches++ : -ENOSPC;
	if (index >= 0)
		hv->record.watches[index] = gpa;
	pthread_mutex_unlock(&hv->lock);
	return index;
}

static bool make_room(struct sim_record *r)
{
	struct sim_hv_event *bigger;
	size_t capacity;

	if (r->nr_events < r->capacity)
		return true;
	if (r->capacity >= MAX_RECORDED_EVENTS)
		return false;
	capacity = r->capacity ? 2 * r->capacity : 1024;
	bigger = realloc(r->events, capacity * sizeof(*bigger));
	if (!bigger)
		return false;
	r->events = bigger;
	r->capacity = capacity;
	return true;
}

void hv_record_answer(struct sim_hv *hv, const struct sim_domain *d, unsigned int vcpu,
		      const volatile ioreq_t *slot)
{
	struct sim_record *r = &hv->record;
	struct sim_hv_event *e;

	if (!r->on || !make_room(r))
		return;
	e = &r->events[r->nr_events++];
	*e = (struct sim_hv_event){
		.kind = SIM_EVENT_ANSWERED,
		.domid = d->config.domid,
		.vcpu = vcpu,
		.addr = slot->addr,
		.write = slot->dir == IOREQ_WRITE,
	};
	for (unsigned int i = 0; i < r->nr_watches; i++) {
		const uint16_t *counter = sim_hv_guest_ram(hv, r->watches[i], 2);

		e->watched[i] = le16toh(__atomic_load_n(counter, __ATOMIC_ACQUIRE));
	}
}

size_t sim_hv_events(struct sim_hv *hv, struct sim_hv_event *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&hv->lock);
	n = hv->record.nr_events;
	if (out && n)
		memcpy(out, hv->record.events, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&hv->lock);
	return n;
}

void hv_record_free(struct sim_hv *hv)
{
	free(hv->record.events);
	hv->record.events = NULL;
}
