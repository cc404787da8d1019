/* SPDX-License-Identifier: MIT */
/*
 * virtio/queue_poll.h: when to watch an idle queue's avail ring instead of
 * asking the driver for a notification, and for how long.
 *
 * A notification is a trapped write the driver's vCPU waits on (on Xen an
 * ioreq round trip); a driver that refills its ring as soon as its requests
 * complete (blk-mq at queue depth) makes one per batch. Watching the ring
 * for a short while after a batch, with notifications left off, catches the
 * refill without it, as vhost's busy polling (drivers/vhost/net.c,
 * busyloop_timeout) and QEMU's adaptive polling (util/aio-posix.c,
 * poll-max-ns, poll-grow, poll-shrink) do.
 *
 * The window adapts much as QEMU's does: a watch that found a chain doubles
 * it (up to the maximum); one that found nothing halves it, down to nothing,
 * so a queue the guest leaves idle stops costing CPU after a few batches; a
 * notification that arrives within the maximum of when the missed watch
 * began (or, with no window, of when notifications went back on) means a
 * window of the maximum would have caught it, and the next one is that long.
 * A guest slower than the maximum thus costs a few halving windows, then
 * nothing.
 * Time spent watching is counted. Pure bookkeeping: the caller reads the
 * clock and does the watching (virtio/queue_service.c).
 */
#ifndef XVP_VIRTIO_QUEUE_POLL_H
#define XVP_VIRTIO_QUEUE_POLL_H

#include <stdbool.h>
#include <stdint.h>

/* The longest watch after a batch, by default: a few of the guest's round trips. */
#define QUEUE_POLL_MAX_NS_DEFAULT	64000
/* The first window after polling stopped, and the smallest one kept. */
#define QUEUE_POLL_MIN_NS		4000

struct queue_poll {
	uint64_t max_ns;		/* 0: never watch */
	uint64_t window_ns;		/* the next watch's length; 0: do not watch */
	uint64_t started_ns;		/* when the current watch began; 0: none */
	uint64_t missed_since_ns;	/* when the watch that found nothing began (or notifications
					   went back on with no window); 0: none since */
	/* Counters, for tests and benchmarks. */
	uint64_t watches;		/* windows opened */
	uint64_t hits;			/* windows that found a chain */
	uint64_t watched_ns;		/* time spent in windows, found or not */
};

/* Windows of at most @max_ns (0: never), starting at the maximum. */
void queue_poll_init(struct queue_poll *p, uint64_t max_ns);
/* Is a window open (the ring is being watched, notifications off)? */
bool queue_poll_watching(const struct queue_poll *p);
/*
 * The ring is empty and nothing in flight will look at it again: keep
 * watching it (true: leave notifications off, look again soon) or give up
 * (false: ask the driver to notify). Opens a window, or closes one whose
 * time is up, which then counts as found nothing.
 */
bool queue_poll_idle(struct queue_poll *p, uint64_t now_ns);
/* A chain was found: a window that was open caught it. */
void queue_poll_found(struct queue_poll *p, uint64_t now_ns);
/* The driver notified the queue (not watching: notifications were on). */
void queue_poll_notified(struct queue_poll *p, uint64_t now_ns);
/* Forget the open window, if any, counting its time (device reset, queue stopped). */
void queue_poll_stop(struct queue_poll *p, uint64_t now_ns);

#endif
