/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_wire.h: one message of daemon/worker_protocol.h on the
 * channel's socket, with its payload and descriptors, sent or received and
 * checked. Both ends use it; what came is trusted only once parsed.
 */
#ifndef XVP_DAEMON_WORKER_WIRE_H
#define XVP_DAEMON_WORKER_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/worker_protocol.h"

/* A message as received: the descriptors are the receiver's to keep or close. */
struct worker_received {
	struct worker_message header;
	const void *payload;			/* into @buf; NULL when header.length is 0 */
	int fds[WORKER_MAX_FDS];
	unsigned int nfds;
	char buf[sizeof(struct worker_message) + WORKER_PAYLOAD_MAX];
};

/*
 * Send @m (its length set from @len), @len bytes at @payload and @nfds
 * descriptors (still the caller's afterwards) on @fd, without blocking
 * and without SIGPIPE. 0, -EAGAIN (the peer reads too slowly: the
 * socket's buffer is full), or -errno.
 */
int worker_wire_send(int fd, struct worker_message m, const void *payload, size_t len,
		     const int *fds, unsigned int nfds);

/*
 * Receive one message from @fd without blocking and check it as sent by a
 * worker (@from_worker) or by the supervisor. 1 with the message in @r;
 * 0 when the other end closed; -EAGAIN when nothing is there; -EPROTO
 * with *why when the message is refused (every descriptor that came with
 * it is closed); else -errno.
 */
int worker_wire_receive(int fd, bool from_worker, struct worker_received *r, const char **why);

/* Close the descriptors of @r that are still >= 0. */
void worker_received_close_fds(struct worker_received *r);

#endif
