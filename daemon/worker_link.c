// SPDX-License-Identifier: MIT
/*
 * daemon/worker_link.c: one worker's requests, checked, then carried out by
 * that domain's xenstore thread, which also sends the answers.
 */
#include "daemon/worker_link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/stale_server.h"
#include "daemon/worker_peer.h"
#include "daemon/worker_wire.h"
#include "lib/log.h"
#include "xen/xenstore.h"

/*
 * What the store's thread answers with: its own copy of the channel (the
 * loop's may be closed while an answer is on its way), freed when the
 * thread ends.
 */
struct answerer {
	int fd;
	uint32_t domid;
	pid_t pid;
};

struct worker_link {
	struct worker_peer *peer;
	int fd;
	uint32_t domid;
	pid_t pid;
	struct xen_xenstore *xs;	/* NULL: no store thread; answered here */
	worker_link_hostile_fn *hostile;
	worker_link_ready_fn *ready;	/* NULL once called, or none */
	void *opaque;
};

static void answer(int fd, enum worker_message_type request, unsigned int value)
{
	int ret = worker_wire_send(fd, worker_message_make(WORKER_MSG_ACK, request, value),
				   NULL, 0, NULL, 0);

	/* The worker may be gone: nothing to do about it. */
	if (ret)
		log_debug("cannot answer a worker: %s", strerror(-ret));
}

/* From the store's thread. */
static void on_job_done(void *opaque, enum xen_xenstore_job job,
			const struct xen_xenstore_record *record)
{
	struct answerer *a = opaque;

	switch (job) {
	case XEN_XENSTORE_RECORD_READ:
		answer(a->fd, WORKER_MSG_CLEAR_STALE,
		       (unsigned int)-stale_server_clear(a->domid, record));
		break;
	case XEN_XENSTORE_RECORDED:
		answer(a->fd, WORKER_MSG_SERVER_CREATED, 0);
		break;
	case XEN_XENSTORE_REMOVED:
		answer(a->fd, WORKER_MSG_STOPPING, 0);
		break;
	case XEN_XENSTORE_RELEASED:
		close(a->fd);
		free(a);
		break;
	}
}

static void carry_out(struct worker_link *link, const struct worker_message *m)
{
	struct xen_xenstore_record none = { 0 };

	if (!link->xs) {	/* no store thread: what it would answer without a store */
		if (m->type == WORKER_MSG_CLEAR_STALE)
			answer(link->fd, WORKER_MSG_CLEAR_STALE,
			       (unsigned int)-stale_server_clear(link->domid, &none));
		else if (m->type != WORKER_MSG_FUNCTIONS_CHANGED)
			answer(link->fd, (enum worker_message_type)m->type, 0);
		return;
	}
	switch (m->type) {
	case WORKER_MSG_CLEAR_STALE:
		xen_xenstore_check_record(link->xs);
		break;
	case WORKER_MSG_SERVER_CREATED:
		/* The pid is the one we started, never one the worker names. */
		xen_xenstore_record_server(link->xs, (unsigned int)m->value, (long)link->pid);
		break;
	case WORKER_MSG_FUNCTIONS_CHANGED:
		xen_xenstore_bump_generation(link->xs);
		break;
	case WORKER_MSG_STOPPING:
		xen_xenstore_remove(link->xs);
		break;
	}
}

static void on_message(void *opaque, const struct worker_message *m)
{
	struct worker_link *link = opaque;

	carry_out(link, m);
	if (m->type == WORKER_MSG_FUNCTIONS_CHANGED && link->ready) {
		worker_link_ready_fn *ready = link->ready;

		link->ready = NULL;
		ready(link->opaque);
	}
}

/* Refused (@why): the peer reads no more, the caller kills the worker. Closed: it is exiting. */
static void on_end(void *opaque, const char *why)
{
	struct worker_link *link = opaque;

	if (!why)
		return;
	log_error("domain %u: worker %d broke the supervisor protocol (%s): killing it",
		  link->domid, (int)link->pid, why);
	link->hostile(link->opaque);
}

static struct xen_xenstore *start_store(struct worker_link *link)
{
	struct answerer *a = calloc(1, sizeof(*a));
	struct xen_xenstore *xs;

	if (!a)
		return NULL;
	/* Close-on-exec like the original: no later worker may inherit this one's channel. */
	*a = (struct answerer){ fcntl(link->fd, F_DUPFD_CLOEXEC, 0), link->domid, link->pid };
	if (a->fd < 0) {
		free(a);
		return NULL;
	}
	xs = xen_xenstore_start((domid_t)link->domid, on_job_done, a);
	if (!xs) {
		close(a->fd);
		free(a);
	}
	return xs;
}

struct worker_link *worker_link_create(struct event_base *base, int fd, uint32_t domid, pid_t pid,
				       worker_link_hostile_fn *hostile, worker_link_ready_fn *ready,
				       void *opaque)
{
	struct worker_link *link = calloc(1, sizeof(*link));

	if (!link)
		goto fail;
	*link = (struct worker_link){ .fd = fd, .domid = domid, .pid = pid,
				      .hostile = hostile, .ready = ready, .opaque = opaque };
	link->peer = worker_peer_create(base, fd, false, on_message, on_end, link);
	if (!link->peer)
		goto free_link;
	link->xs = start_store(link);
	return link;

free_link:
	free(link);
fail:
	log_error("domain %u: out of memory for its worker's channel", domid);
	close(fd);
	return NULL;
}

void worker_link_destroy(struct worker_link *link)
{
	if (!link)
		return;
	worker_peer_destroy(link->peer);
	close(link->fd);
	xen_xenstore_release(link->xs);
	free(link);
}

struct worker_peer *worker_link_peer(struct worker_link *link)
{
	return link->peer;
}
