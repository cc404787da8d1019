/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_peer.h: one end of a worker's channel on an event loop,
 * asking the other end and serving what it asks (daemon/worker_protocol.h,
 * "Asks"). Both the worker (daemon/worker_channel.h) and the supervisor
 * (daemon/worker_link.h) run one. Every message is checked before use;
 * what a peer may make us hold is bounded: WORKER_PEER_MAX_ASKS of our asks
 * wait at once, WORKER_PEER_MAX_SERVED of its asks are served at once
 * (more are answered EBUSY), and an ask unanswered in its time is over.
 */
#ifndef XVP_DAEMON_WORKER_PEER_H
#define XVP_DAEMON_WORKER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/worker_protocol.h"

struct event_base;
struct worker_peer;
struct worker_request;

#define WORKER_PEER_MAX_ASKS	64
#define WORKER_PEER_MAX_SERVED	16

/*
 * What an ask or an answer carried. The descriptors are the callee's: it
 * keeps one by setting its slot to -1; the rest are closed when it returns.
 */
struct worker_payload {
	uint64_t value;
	const void *data;	/* NULL when length is 0 */
	size_t length;
	int *fds;
	unsigned int nfds;
};

/*
 * An ask ended: @error 0 with the other end's @answer, a negative errno
 * from the other end (-EBUSY, -EOPNOTSUPP, what its server said), or
 * -ETIMEDOUT, -EPIPE (the channel closed), -ECANCELED (the peer is being
 * destroyed); @answer is NULL unless @error is 0.
 */
typedef void worker_answer_fn(void *opaque, int error, struct worker_payload *answer);

/* An ask to serve: answer @req with worker_request_answer(), now or later (exactly once). */
typedef void worker_request_fn(void *opaque, struct worker_request *req,
			       struct worker_payload *ask);

/* A message of the protocol's first version (no seq): the owner's to carry out. */
typedef void worker_message_fn(void *opaque, const struct worker_message *m);

/* The other end sent what it may not (@why: a static string), or closed the channel (@why NULL). */
typedef void worker_peer_end_fn(void *opaque, const char *why);

/*
 * Serve channel @fd (still the caller's to close, after destroying the
 * peer) on @base as the worker's end (@we_are_worker) or the supervisor's.
 * @message and @end are called from the loop. NULL when out of memory.
 */
struct worker_peer *worker_peer_create(struct event_base *base, int fd, bool we_are_worker,
				       worker_message_fn *message, worker_peer_end_fn *end,
				       void *opaque);

/* Pending asks end with -ECANCELED; requests being served answer nothing. NULL is ignored. */
void worker_peer_destroy(struct worker_peer *peer);

/*
 * Ask the other end @type (an asked type this end may send) with @value,
 * @len bytes at @data and @nfds descriptors (still the caller's), for at
 * most @timeout_ms. @done is called exactly once, from the loop, never
 * from within this call. 0, or -EINVAL (not an ask of ours), -EBUSY
 * (WORKER_PEER_MAX_ASKS wait already), -EPIPE, -ENOMEM.
 */
int worker_peer_ask(struct worker_peer *peer, enum worker_message_type type, uint64_t value,
		    const void *data, size_t len, const int *fds, unsigned int nfds,
		    int timeout_ms, worker_answer_fn *done, void *opaque);

/* Serve the other end's asks of @type with @fn (replacing any earlier one). */
void worker_peer_serve(struct worker_peer *peer, enum worker_message_type type,
		       worker_request_fn *fn, void *opaque);

/*
 * Answer @req (then freed) with @error (0 or a negative errno), @len bytes
 * at @data and @nfds descriptors (still the caller's). When the peer is
 * gone, or the answer breaks the type's rule, nothing is sent (logged).
 */
void worker_request_answer(struct worker_request *req, int error, const void *data, size_t len,
			   const int *fds, unsigned int nfds);

#endif
