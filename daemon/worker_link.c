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
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/stale_server.h"
#include "daemon/worker_protocol.h"
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
	struct event *event;
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
	struct worker_message m = worker_message_make(WORKER_MSG_ACK, request, value);

	/* The worker may be gone: nothing to do about it. */
	if (send(fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(m))
		log_debug("cannot answer a worker: %s", strerror(errno));
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

/* Once a message was refused: read no more, the caller kills the worker. */
static void refuse(struct worker_link *link, const char *why)
{
	log_error("domain %u: worker %d broke the supervisor protocol (%s): killing it",
		  link->domid, (int)link->pid, why);
	event_del(link->event);
	link->hostile(link->opaque);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worker_link *link = arg;
	char buf[sizeof(struct worker_message) + 1];
	char control[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof(control) };
	struct worker_message m;
	const char *why;
	ssize_t n;

	(void)what;
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {		/* the worker closed it: exiting */
		event_del(link->event);
		return;
	}
	if (msg.msg_controllen) {
		/* No message carries a descriptor this way: close what came. */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			for (size_t i = 0; c->cmsg_type == SCM_RIGHTS &&
			     i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(c))[i]);
		refuse(link, "a descriptor passed");
		return;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		refuse(link, "message too long");
		return;
	}
	if (worker_message_parse(buf, (size_t)n, true, &m, &why)) {
		refuse(link, why);
		return;
	}
	carry_out(link, &m);
	if (m.type == WORKER_MSG_FUNCTIONS_CHANGED && link->ready) {
		worker_link_ready_fn *ready = link->ready;

		link->ready = NULL;
		ready(link->opaque);
	}
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
	link->event = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, link);
	if (!link->event || event_add(link->event, NULL))
		goto free_link;
	link->xs = start_store(link);
	return link;

free_link:
	if (link->event)
		event_free(link->event);
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
	event_free(link->event);
	close(link->fd);
	xen_xenstore_release(link->xs);
	free(link);
}
