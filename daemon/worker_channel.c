// SPDX-License-Identifier: MIT
/* daemon/worker_channel.c: requests to the supervisor, each answered or timed out. */
#include "daemon/worker_channel.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "lib/log.h"

static int send_message(int fd, enum worker_message_type type, uint64_t value)
{
	struct worker_message m = worker_message_make(type, 0, value);
	ssize_t n;

	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -(n < 0 ? errno : EPROTO);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The next message, within @deadline: 0, -ETIMEDOUT, or -errno. An answer
 * to an earlier request that timed out may come first: the caller skips it.
 */
static int receive(int fd, long long deadline, struct worker_message *m)
{
	char buf[sizeof(*m) + 1];
	const char *why;
	ssize_t n;
	int left;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		left = (int)(deadline - now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
		if (!p.revents)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		if (worker_message_parse(buf, (size_t)n, false, m, &why) == 0)
			return 0;
		log_warn("supervisor channel: message refused: %s", why);
	}
}

int worker_channel_request(int fd, enum worker_message_type type, uint64_t value, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct worker_message answer;
	int ret;

	if (fd < 0)
		return 0;
	ret = send_message(fd, type, value);
	while (!ret) {
		ret = receive(fd, deadline, &answer);
		if (!ret && answer.request == type)
			return (int)answer.value;
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

struct channel_watch {
	void (*gone)(void *opaque);
	void *opaque;
};

static void on_channel(evutil_socket_t fd, short what, void *arg)
{
	struct channel_watch *watch = arg;
	char buf[sizeof(struct worker_message) + 1];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	(void)what;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		watch->gone(watch->opaque);
}

struct event *worker_channel_watch(struct event_base *base, int fd, void (*gone)(void *opaque),
				   void *opaque)
{
	static struct channel_watch watch;	/* one channel per worker */
	struct event *event;

	if (fd < 0)
		return NULL;
	watch = (struct channel_watch){ gone, opaque };
	event = event_new(base, fd, EV_READ | EV_PERSIST, on_channel, &watch);
	if (event && event_add(event, NULL)) {
		event_free(event);
		event = NULL;
	}
	if (!event)
		log_warn("cannot watch the supervisor channel: this worker will not notice its "
			 "supervisor's end");
	return event;
}
