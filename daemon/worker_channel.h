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

struct event_base;

#include "daemon/worker_peer.h"
#include "daemon/worker_protocol.h"

/*
 * Send request @type with @value on @fd and wait @timeout_ms at most for its
 * ACK: the ACK's value (0 or a positive errno), -ETIMEDOUT, or -errno when
 * the channel is broken. @fd < 0 (no supervisor): 0 at once.
 */
int worker_channel_request(int fd, enum worker_message_type type, uint64_t value, int timeout_ms);

/*
 * Ask @type (an asked type, daemon/worker_protocol.h) with @value on @fd
 * before the loop serves the channel, and wait @timeout_ms at most for an
 * answer carrying one descriptor: it (the caller's), the answer's -errno,
 * -ETIMEDOUT, -EPROTO (no descriptor came), -ENOTCONN (@fd < 0), or -errno
 * when the channel is broken. These asks are numbered down from
 * WORKER_CHANNEL_FIRST_SEQ, so that a late answer to one is never taken
 * for the answer to an ask of the peer's (numbered up from 1).
 */
#define WORKER_CHANNEL_FIRST_SEQ	0xffffffffu
int worker_channel_ask_fd(int fd, enum worker_message_type type, uint64_t value, int timeout_ms);

/* Send @type with @value, wanting no answer. Failures are ignored (logged at debug). */
void worker_channel_notify(int fd, enum worker_message_type type, uint64_t value);

/*
 * While serving: the channel @fd on @base as a daemon/worker_peer.h peer
 * (asks to the supervisor, asks from it served), calling @gone once the
 * supervisor's end is closed (it died: nobody would write the guest's keys
 * any more, nor stop this worker). A message the supervisor may not send
 * stops the reading (logged). The peer (worker_peer_destroy() it, then
 * the fd stays open for worker_channel_request()), or NULL when @fd < 0
 * or out of memory.
 */
struct worker_peer *worker_channel_open(struct event_base *base, int fd,
					void (*gone)(void *opaque), void *opaque);

#endif
