/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_channel.h: the worker's end of its channel to the
 * supervisor (daemon/worker_protocol.h). Requests wait a bounded time for
 * their answer; a supervisor that does not answer (its xenstore hangs) is
 * never a reason to stop serving.
 */
#ifndef XVP_DAEMON_WORKER_CHANNEL_H
#define XVP_DAEMON_WORKER_CHANNEL_H

#include <stdint.h>

struct event;
struct event_base;

#include "daemon/worker_protocol.h"

/*
 * Send request @type with @value on @fd and wait @timeout_ms at most for its
 * ACK: the ACK's value (0 or a positive errno), -ETIMEDOUT, or -errno when
 * the channel is broken. @fd < 0 (no supervisor): 0 at once.
 */
int worker_channel_request(int fd, enum worker_message_type type, uint64_t value, int timeout_ms);

/* Send @type with @value, wanting no answer. Failures are ignored (logged at debug). */
void worker_channel_notify(int fd, enum worker_message_type type, uint64_t value);

/*
 * While serving: watch @fd on @base and call @gone once the supervisor's
 * end is closed (it died: nobody would write the guest's keys any more,
 * nor stop this worker). An answer that comes after its request timed out
 * is dropped. The event (event_free() it), or NULL when @fd < 0 or out of
 * memory.
 */
struct event *worker_channel_watch(struct event_base *base, int fd, void (*gone)(void *opaque),
				   void *opaque);

#endif
