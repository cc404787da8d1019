// SPDX-License-Identifier: MIT
/* daemon/worker_peer.c: asks and answers on a worker's channel, on an event loop. */
#include "daemon/worker_peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "daemon/worker_wire.h"
#include "lib/log.h"

struct pending_ask {
	TAILQ_ENTRY(pending_ask) link;
	struct worker_peer *peer;
	uint32_t seq;
	uint16_t type;
	struct event *timer;
	worker_answer_fn *done;
	void *opaque;
};

struct worker_request {
	LIST_ENTRY(worker_request) link;
	struct worker_peer *peer;	/* NULL once the peer is destroyed */
	uint32_t seq;
	uint16_t type;
};

struct server {
	worker_request_fn *fn;
	void *opaque;
};

struct worker_peer {
	struct event_base *base;
	struct event *readable;
	int fd;
	bool we_are_worker;
	uint32_t next_seq;
	TAILQ_HEAD(, pending_ask) asks;
	unsigned int nr_asks;
	LIST_HEAD(, worker_request) served;
	unsigned int nr_served;
	struct server servers[WORKER_MSG_TYPES];
	worker_message_fn *message;
	worker_peer_end_fn *end;
	void *opaque;
};

static const char *side(const struct worker_peer *peer)
{
	return peer->we_are_worker ? "supervisor" : "worker";
}

/* Send what the other end will accept: checked here as it will check it. */
static int send_checked(struct worker_peer *peer, struct worker_message m, const void *data,
			size_t len, const int *fds, unsigned int nfds)
{
	char buf[sizeof(m) + WORKER_PAYLOAD_MAX];
	struct worker_message parsed;
	const char *why;

	if (len > WORKER_PAYLOAD_MAX)
		return -EINVAL;
	m.length = (uint32_t)len;
	memcpy(buf, &m, sizeof(m));
	if (len)
		memcpy(buf + sizeof(m), data, len);
	if (worker_message_parse(buf, sizeof(m) + len, nfds, peer->we_are_worker, &parsed, NULL,
				 &why))
		return -EINVAL;
	return worker_wire_send(peer->fd, m, data, len, fds, nfds);
}

static void end_ask(struct pending_ask *ask, int error, struct worker_payload *answer)
{
	struct worker_peer *peer = ask->peer;

	TAILQ_REMOVE(&peer->asks, ask, link);
	peer->nr_asks--;
	event_free(ask->timer);
	ask->done(ask->opaque, error, answer);
	free(ask);
}

static void on_ask_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	end_ask(arg, -ETIMEDOUT, NULL);
}

int worker_peer_ask(struct worker_peer *peer, enum worker_message_type type, uint64_t value,
		    const void *data, size_t len, const int *fds, unsigned int nfds,
		    int timeout_ms, worker_answer_fn *done, void *opaque)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct worker_message m = worker_message_make(type, 0, value);
	struct pending_ask *ask;
	int ret;

	if (!worker_message_is_ask(type) || timeout_ms < 0)
		return -EINVAL;
	if (peer->nr_asks >= WORKER_PEER_MAX_ASKS)
		return -EBUSY;
	ask = calloc(1, sizeof(*ask));
	if (!ask)
		return -ENOMEM;
	if (!++peer->next_seq)	/* 0 is no ask's number */
		peer->next_seq = 1;
	*ask = (struct pending_ask){ .peer = peer, .seq = peer->next_seq, .type = (uint16_t)type,
				     .done = done, .opaque = opaque };
	ask->timer = evtimer_new(peer->base, on_ask_timeout, ask);
	if (!ask->timer || evtimer_add(ask->timer, &tv)) {
		ret = -ENOMEM;
		goto free_ask;
	}
	m.seq = ask->seq;
	ret = send_checked(peer, m, data, len, fds, nfds);
	if (ret)
		goto free_ask;
	TAILQ_INSERT_TAIL(&peer->asks, ask, link);
	peer->nr_asks++;
	return 0;

free_ask:
	if (ask->timer)
		event_free(ask->timer);
	free(ask);
	return ret;
}

void worker_peer_serve(struct worker_peer *peer, enum worker_message_type type,
		       worker_request_fn *fn, void *opaque)
{
	if ((unsigned int)type < WORKER_MSG_TYPES)
		peer->servers[type] = (struct server){ fn, opaque };
}

static void send_answer(struct worker_peer *peer, uint16_t type, uint32_t seq, int error,
			const void *data, size_t len, const int *fds, unsigned int nfds)
{
	struct worker_message m = worker_message_make(WORKER_MSG_ANSWER, type, (uint64_t)-error);
	int ret;

	m.seq = seq;
	ret = send_checked(peer, m, data, len, fds, nfds);
	if (ret)
		log_warn("channel to the %s: cannot answer its ask (type %u): %s", side(peer),
			 (unsigned int)type, strerror(-ret));
}

void worker_request_answer(struct worker_request *req, int error, const void *data, size_t len,
			   const int *fds, unsigned int nfds)
{
	struct worker_peer *peer = req->peer;

	if (error > 0 || error < -WORKER_MAX_ERRNO)
		error = -EIO;
	if (peer) {
		LIST_REMOVE(req, link);
		peer->nr_served--;
		send_answer(peer, req->type, req->seq, error, data, len, fds, nfds);
	}
	free(req);
}

static struct worker_payload payload_of(struct worker_received *r)
{
	return (struct worker_payload){ r->header.value, r->payload, r->header.length,
					r->fds, r->nfds };
}

static void take_answer(struct worker_peer *peer, struct worker_received *r)
{
	struct worker_payload answer = payload_of(r);
	struct pending_ask *ask;

	TAILQ_FOREACH(ask, &peer->asks, link)
		if (ask->seq == r->header.seq && ask->type == r->header.request)
			break;
	if (!ask) {	/* it timed out: the answer came too late */
		log_debug("channel to the %s: a late answer (type %u) dropped", side(peer),
			  (unsigned int)r->header.request);
		return;
	}
	answer.value = 0;
	end_ask(ask, r->header.value ? -(int)r->header.value : 0,
		r->header.value ? NULL : &answer);
}

static void serve_ask(struct worker_peer *peer, struct worker_received *r)
{
	struct server *server = &peer->servers[r->header.type];
	struct worker_payload ask = payload_of(r);
	struct worker_request *req;

	if (!server->fn) {
		send_answer(peer, r->header.type, r->header.seq, -EOPNOTSUPP, NULL, 0, NULL, 0);
		return;
	}
	if (peer->nr_served >= WORKER_PEER_MAX_SERVED ||
	    !(req = calloc(1, sizeof(*req)))) {
		send_answer(peer, r->header.type, r->header.seq, -EBUSY, NULL, 0, NULL, 0);
		return;
	}
	*req = (struct worker_request){ .peer = peer, .seq = r->header.seq,
					.type = r->header.type };
	LIST_INSERT_HEAD(&peer->served, req, link);
	peer->nr_served++;
	server->fn(server->opaque, req, &ask);
}

static void dispatch(struct worker_peer *peer, struct worker_received *r)
{
	if (r->header.type == WORKER_MSG_ANSWER)
		take_answer(peer, r);
	else if (worker_message_is_ask(r->header.type))
		serve_ask(peer, r);
	else
		peer->message(peer->opaque, &r->header);
	worker_received_close_fds(r);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worker_peer *peer = arg;
	struct worker_received r;
	const char *why;
	int ret;

	(void)what;
	ret = worker_wire_receive(fd, !peer->we_are_worker, &r, &why);
	if (ret == -EAGAIN)
		return;
	if (ret == 1) {
		dispatch(peer, &r);
		return;
	}
	/* Closed, broken or refused: read no more, no answer will come; the owner decides. */
	event_del(peer->readable);
	while (!TAILQ_EMPTY(&peer->asks))
		end_ask(TAILQ_FIRST(&peer->asks), -EPIPE, NULL);
	peer->end(peer->opaque, ret == -EPROTO ? why : NULL);
}

struct worker_peer *worker_peer_create(struct event_base *base, int fd, bool we_are_worker,
				       worker_message_fn *message, worker_peer_end_fn *end,
				       void *opaque)
{
	struct worker_peer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	*peer = (struct worker_peer){ .base = base, .fd = fd, .we_are_worker = we_are_worker,
				      .message = message, .end = end, .opaque = opaque };
	TAILQ_INIT(&peer->asks);
	LIST_INIT(&peer->served);
	peer->readable = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, peer);
	if (!peer->readable || event_add(peer->readable, NULL)) {
		if (peer->readable)
			event_free(peer->readable);
		free(peer);
		return NULL;
	}
	return peer;
}

void worker_peer_destroy(struct worker_peer *peer)
{
	struct worker_request *req;

	if (!peer)
		return;
	event_free(peer->readable);
	while (!TAILQ_EMPTY(&peer->asks))
		end_ask(TAILQ_FIRST(&peer->asks), -ECANCELED, NULL);
	while ((req = LIST_FIRST(&peer->served))) {
		LIST_REMOVE(req, link);
		req->peer = NULL;	/* its server answers into nothing */
	}
	free(peer);
}
