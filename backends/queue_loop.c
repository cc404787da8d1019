// SPDX-License-Identifier: MIT
/*
 * backends/queue_loop.c: scheduling a queue's next pass on the libevent loop.
 *
 * The next pass is a timer of zero delay, not event_active(): libevent runs
 * callbacks activated during its active-queue pass in that same pass
 * (event_process_active_single_queue() loops until the queue is empty),
 * so a pass that re-activated itself would run again before the loop ever
 * polled the event channels. An expired timer is activated by
 * timeout_process() only after the next poll, behind the file descriptors
 * that poll found readable: each pending ioreq and completion is served
 * before the flooded queue's next pass. The same holds for the looks at an
 * idle ring the queue service makes while it watches it (virtio/queue_poll.h):
 * a kick or an ISR read that arrives meanwhile is answered at the next poll.
 * The clock for those windows is CLOCK_MONOTONIC (a vDSO call, no syscall).
 */
#include "backends/queue_loop.h"

#include <errno.h>
#include <time.h>

#include <event2/event.h>

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	queue_service_resume(arg);
}

static void schedule(struct queue_service *qs)
{
	static const struct timeval now = { 0, 0 };

	evtimer_add(qs->loop_data, &now);
}

static void cancel(struct queue_service *qs)
{
	evtimer_del(qs->loop_data);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const struct queue_service_loop libevent_loop = {
	.schedule = schedule,
	.cancel = cancel,
	.now_ns = now_ns,
};

int queue_loop_attach(struct queue_service *qs, struct event_base *base)
{
	struct event *resume = evtimer_new(base, on_resume, qs);

	if (!resume)
		return -ENOMEM;
	qs->loop = &libevent_loop;
	qs->loop_data = resume;
	return 0;
}

void queue_loop_detach(struct queue_service *qs)
{
	if (!qs->loop)
		return;
	queue_service_cancel(qs);
	event_free(qs->loop_data);
	qs->loop = NULL;
	qs->loop_data = NULL;
}
