// SPDX-License-Identifier: MIT
/* daemon/worker_channel.c: the worker's end: requests to the supervisor, each answered or timed out. */
#include "daemon/worker_channel.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "daemon/worker_wire.h"
#include "lib/log.h"

static int send_message(int fd, enum worker_message_type type, uint64_t value)
{
	return worker_wire_send(fd, worker_message_make(type, 0, value), NULL, 0, NULL, 0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The next ACK or ANSWER, within @deadline: 0 (its descriptors in @r, the
 * caller's), -ETIMEDOUT, or -errno. An answer to an earlier request that
 * timed out may come first: the caller skips it. Anything else that comes
 * now is dropped (these requests are made before the loop serves the
 * channel and after it stopped).
 */
static int receive(int fd, long long deadline, struct worker_received *r)
{
	const char *why;
	int left, ret;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		left = (int)(deadline - now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
		if (!p.revents)
			continue;
		ret = worker_wire_receive(fd, false, r, &why);
		if (ret == -EAGAIN)
			continue;
		if (ret == 0)
			return -EPIPE;
		if (ret == -EPROTO) {
			log_warn("supervisor channel: message refused: %s", why);
			continue;
		}
		if (ret < 0)
			return ret;
		if (r->header.type == WORKER_MSG_ACK || r->header.type == WORKER_MSG_ANSWER)
			return 0;
		worker_received_close_fds(r);
		log_debug("supervisor channel: message type %u dropped while waiting for an answer",
			  (unsigned int)r->header.type);
	}
}

int worker_channel_request(int fd, enum worker_message_type type, uint64_t value, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct worker_received r;
	int ret;

	if (fd < 0)
		return 0;
	ret = send_message(fd, type, value);
	while (!ret) {
		ret = receive(fd, deadline, &r);
		if (ret)
			break;
		worker_received_close_fds(&r);
		if (r.header.type == WORKER_MSG_ACK && r.header.request == type)
			return (int)r.header.value;
	}
	return ret;
}

int worker_channel_ask_fd(int fd, enum worker_message_type type, uint64_t value, int timeout_ms)
{
	/* Numbers the loop's peer (counting up from 1) does not reach: its asks never meet ours. */
	static uint32_t seq = WORKER_CHANNEL_FIRST_SEQ;
	long long deadline = now_ms() + timeout_ms;
	struct worker_message m = worker_message_make(type, 0, value);
	struct worker_received r;
	int ret, got;

	if (fd < 0)
		return -ENOTCONN;
	m.seq = seq--;
	ret = worker_wire_send(fd, m, NULL, 0, NULL, 0);
	while (!ret) {
		ret = receive(fd, deadline, &r);
		if (ret)
			break;
		if (r.header.type != WORKER_MSG_ANSWER || r.header.seq != m.seq ||
		    r.header.request != type) {
			worker_received_close_fds(&r);
			continue;
		}
		got = r.header.value ? -(int)r.header.value : r.nfds == 1 ? r.fds[0] : -EPROTO;
		if (got >= 0)
			r.fds[0] = -1;
		worker_received_close_fds(&r);
		return got;
	}
	return ret;
}

void worker_channel_notify(int fd, enum worker_message_type type, uint64_t value)
{
	int ret;

	if (fd < 0)
		return;
	ret = send_message(fd, type, value);
	if (ret)
		log_debug("supervisor channel: cannot send: %s", strerror(-ret));
}

struct channel_end {
	void (*gone)(void *opaque);
	void *opaque;
};

/* First-version messages from the supervisor are ACKs; one that comes now answers a request that timed out. */
static void on_message(void *opaque, const struct worker_message *m)
{
	(void)opaque;
	log_debug("supervisor channel: a late answer (to type %u) dropped", (unsigned int)m->request);
}

static void on_end(void *opaque, const char *why)
{
	struct channel_end *end = opaque;

	if (why) {
		/* The supervisor is trusted more than a worker, but not blindly: stop reading. */
		log_error("supervisor channel: message refused (%s): no longer reading it", why);
		return;
	}
	end->gone(end->opaque);
}

struct worker_peer *worker_channel_open(struct event_base *base, int fd,
					void (*gone)(void *opaque), void *opaque)
{
	static struct channel_end end;	/* one channel per worker */
	struct worker_peer *peer;

	if (fd < 0)
		return NULL;
	end = (struct channel_end){ gone, opaque };
	peer = worker_peer_create(base, fd, true, on_message, on_end, &end);
	if (!peer)
		log_warn("cannot watch the supervisor channel: this worker will not notice its "
			 "supervisor's end");
	return peer;
}
