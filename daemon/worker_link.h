/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_link.h: the supervisor's end of one worker's channel
 * (daemon/worker_protocol.h). Every message is checked as hostile input;
 * valid requests become xenstore jobs for that worker's domain
 * (xen/xenstore.h), answered from the store's thread, so the supervisor's
 * loop never waits for xenstore. The stale-server check and destroy run
 * here too: the supervisor holds unrestricted handles, the worker does not.
 */
#ifndef XVP_DAEMON_WORKER_LINK_H
#define XVP_DAEMON_WORKER_LINK_H

#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct worker_link;

/* The worker broke the protocol (logged): the caller kills it. */
typedef void worker_link_hostile_fn(void *opaque);
/* The worker's functions answer for the first time (its first FUNCTIONS_CHANGED). */
typedef void worker_link_ready_fn(void *opaque);

/*
 * Serve the channel @fd (the link owns it) of worker @pid for @domid on
 * @base; @ready may be NULL. NULL if out of memory (logged; @fd is closed).
 */
struct worker_link *worker_link_create(struct event_base *base, int fd, uint32_t domid, pid_t pid,
				       worker_link_hostile_fn *hostile, worker_link_ready_fn *ready,
				       void *opaque);

/*
 * The link's daemon/worker_peer.h end, to ask the worker and to serve the
 * worker's asks (each served type checks the worker's ask as hostile).
 */
struct worker_peer *worker_link_peer(struct worker_link *link);

/* The worker exited: stop reading, let the store's thread finish on its own. NULL is ignored. */
void worker_link_destroy(struct worker_link *link);

#endif
