// SPDX-License-Identifier: MIT
/* virtio/queue_poll.c: the adaptive window of watching an idle queue's avail ring. */
#include "virtio/queue_poll.h"

void queue_poll_init(struct queue_poll *p, uint64_t max_ns)
{
	*p = (struct queue_poll){ .max_ns = max_ns, .window_ns = max_ns };
}

bool queue_poll_watching(const struct queue_poll *p)
{
	return p->started_ns != 0;
}

static void close_window(struct queue_poll *p, uint64_t now_ns)
{
	p->watched_ns += now_ns - p->started_ns;
	p->started_ns = 0;
}

static void grow(struct queue_poll *p)
{
	uint64_t window = p->window_ns ? 2 * p->window_ns : QUEUE_POLL_MIN_NS;

	p->window_ns = window < p->max_ns ? window : p->max_ns;
}

/* Halved, and below the smallest window not at all: an idle guest costs nothing after a few. */
static void shrink(struct queue_poll *p)
{
	p->window_ns /= 2;
	if (p->window_ns < QUEUE_POLL_MIN_NS)
		p->window_ns = 0;
}

/* 0 means "none": a clock at 0 would look like one; take 1 ns later. */
static uint64_t stamp(uint64_t now_ns)
{
	return now_ns ? now_ns : 1;
}

bool queue_poll_idle(struct queue_poll *p, uint64_t now_ns)
{
	if (!queue_poll_watching(p)) {
		if (!p->window_ns) {
			/* Notifications go back on now: a kick within the maximum says a window would pay. */
			p->missed_since_ns = stamp(now_ns);
			return false;
		}
		p->started_ns = stamp(now_ns);
		p->watches++;
		return true;
	}
	if (now_ns - p->started_ns < p->window_ns)
		return true;
	p->missed_since_ns = p->started_ns;
	close_window(p, now_ns);
	shrink(p);
	return false;
}

void queue_poll_found(struct queue_poll *p, uint64_t now_ns)
{
	if (!queue_poll_watching(p))
		return;
	close_window(p, now_ns);
	p->hits++;
	grow(p);
	p->missed_since_ns = 0;
}

void queue_poll_notified(struct queue_poll *p, uint64_t now_ns)
{
	/*
	 * A window of the maximum, opened when the last one was, would have
	 * caught this chain: open that much next time. A chain that comes
	 * later than that would not be caught by any window we may spend.
	 */
	if (p->missed_since_ns && now_ns - p->missed_since_ns <= p->max_ns)
		p->window_ns = p->max_ns;
	p->missed_since_ns = 0;
}

void queue_poll_stop(struct queue_poll *p, uint64_t now_ns)
{
	if (queue_poll_watching(p))
		close_window(p, now_ns);
}
