/* SPDX-License-Identifier: MIT */
/*
 * backends/queue_loop.h: the libevent side of virtio/queue_service.h: a
 * queue whose pass used its budget is served again from the event loop,
 * after the events already pending there (trapped accesses of other vCPUs,
 * other devices' completions).
 */
#ifndef XVP_BACKENDS_QUEUE_LOOP_H
#define XVP_BACKENDS_QUEUE_LOOP_H

#include "virtio/queue_service.h"

struct event_base;

/* Bound @qs's passes, scheduling the next one on @base: 0 or -ENOMEM. */
int queue_loop_attach(struct queue_service *qs, struct event_base *base);
/* Cancel a scheduled pass and free what attach made (safe if attach failed or never ran). */
void queue_loop_detach(struct queue_service *qs);

#endif
