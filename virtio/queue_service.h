/* SPDX-License-Identifier: MIT */
/*
 * virtio/queue_service.h: serving a virtqueue in bounded passes, the part
 * of queue serving every device shares.
 *
 * A pass pops chains and hands each to the device, at most
 * QUEUE_SERVICE_BUDGET of them. A guest may legally keep avail->idx a whole
 * queue ahead of what the device consumed, with requests that complete at
 * once; without a bound one queue would keep the event loop, and every
 * other vCPU's trapped access and every other device, waiting for as long
 * as the guest likes. So when a pass has used its budget, the next one is
 * scheduled through the event loop, behind what is already pending, as
 * vhost does (Linux drivers/vhost/vhost.c, vhost_exceeds_weight(): the
 * CVE-2019-3900 fix). Between passes the driver is not asked to notify.
 *
 * A notification is answered first: the driver's write to the notify
 * register is a trapped access its vCPU waits on (on Xen an ioreq round
 * trip), and nothing the device does with the ring is the vCPU's business.
 * So the transport hands the queue's notifications to
 * queue_service_notified() (queue_service_init() registers the queue with
 * it), which only schedules a pass and returns; the access is completed,
 * then the loop runs the pass. Other reasons to look at the ring (DRIVER_OK,
 * a completion, memory released) still go through the device and
 * queue_service_run(), at once. Popping, mapping and
 * submitting a batch never delay the vCPU that kicked.
 *
 * A queue found empty with nothing in flight is watched for a while before
 * the driver is asked to notify again (virtio/queue_poll.h): notifications
 * stay off and the pass is scheduled again, behind the loop's other events,
 * until a chain shows up or the adaptive window closes.
 *
 * virtio/ knows no event loop: whoever owns one provides the scheduling
 * (struct queue_service_loop; backends/queue_loop.c does it with libevent).
 * Without one, passes are not bounded.
 */
#ifndef XVP_VIRTIO_QUEUE_SERVICE_H
#define XVP_VIRTIO_QUEUE_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/queue_poll.h"

/* Chains per pass: a few tens of microseconds of instantly completed requests. */
#define QUEUE_SERVICE_BUDGET	64

struct queue_service;

/* What the device does with its queue. */
struct queue_service_ops {
	/*
	 * Optional: may the device take one more chain now? false ends the
	 * pass and the driver is not asked to notify: the device runs the
	 * queue again when it can (a completion, a timer).
	 */
	bool (*has_room)(struct queue_service *qs);
	/*
	 * Serve @chain, just popped (queue_service_push() when it is done, now
	 * or later). false ends the pass: the device needs a reset, or gave the
	 * chain back (virtq_unpop()) and will run the queue again.
	 */
	bool (*serve)(struct queue_service *qs, struct virtq_chain *chain);
	/*
	 * Optional: are requests of this queue still in flight? Their
	 * completion looks at the ring again, so an empty ring then does not
	 * ask the driver to notify.
	 */
	bool (*busy)(struct queue_service *qs);
	/* Optional: after each pass (submit what it batched, interrupt for what completed). */
	void (*pass_done)(struct queue_service *qs);
};

/* The event loop's side: call queue_service_resume() soon, after the events already pending. */
struct queue_service_loop {
	void (*schedule)(struct queue_service *qs);
	void (*cancel)(struct queue_service *qs);
	/* A monotonic clock in nanoseconds, for the polling window. */
	uint64_t (*now_ns)(void);
};

struct queue_service {
	struct virtio_device *vdev;
	unsigned int index;
	const struct queue_service_ops *ops;
	void *opaque;				/* the device's */
	struct virtq_chain *chain;		/* where chains are popped to (the device's scratch) */
	unsigned int budget;
	const struct queue_service_loop *loop;	/* NULL: passes are not bounded */
	void *loop_data;
	bool scheduled;				/* a pass waits in the event loop */
	bool pushed;				/* used entries since the last interrupt decision */
	struct queue_poll poll;			/* watching the idle ring (with a loop only) */
	/* Counters, for tests and benchmarks. */
	uint64_t passes;
	uint64_t yields;			/* passes that ended on the budget */
	uint64_t notifications;			/* queue_service_notified() calls */
};

void queue_service_init(struct queue_service *qs, struct virtio_device *vdev, unsigned int index,
			const struct queue_service_ops *ops, void *opaque, struct virtq_chain *chain);
/*
 * The driver notified the queue (4.1.5.2): schedule a pass and return, so
 * that the notification is answered before any chain is served. Without a
 * loop, a pass now.
 */
void queue_service_notified(struct queue_service *qs);
/*
 * Serve the queue now (a request completed, memory came back): a pass now,
 * unless one is already scheduled, which then comes first.
 */
void queue_service_run(struct queue_service *qs);
/* Watch the idle ring for at most @max_ns before asking for notifications (0: never). */
void queue_service_set_poll_max(struct queue_service *qs, uint64_t max_ns);
/* The scheduled pass: for the event loop's side only. */
void queue_service_resume(struct queue_service *qs);
/* Forget a scheduled pass (before the queue's owner goes away). */
void queue_service_cancel(struct queue_service *qs);
/* Return chain @head with @written bytes; the interrupt is decided at the end of the pass. */
void queue_service_push(struct queue_service *qs, uint16_t head, uint32_t written);

#endif
