// SPDX-License-Identifier: MIT
/*
 * daemon/net_connect.c: a non-blocking connect(2), its end on the loop.
 * Every end goes through one timer: the deadline, or a zero timeout once
 * the result is known, so that the caller is never called back from
 * within its own call (evdns may answer a numeric host or /etc/hosts at
 * once, a unix socket connects at once).
 */
#include "daemon/net_connect.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

struct net_connect {
	struct event_base *base;
	struct evdns_getaddrinfo_request *lookup;	/* while the name is looked up */
	struct evutil_addrinfo *addrs, *next;		/* TCP: what is left to try */
	int fd;						/* the socket being connected */
	struct event *writable;				/* ... its connect's end */
	struct event *timer;				/* the deadline, or the end */
	bool ended;
	int result;					/* once ended: fd or -errno */
	char why[160];
	net_connect_fn *done;
	void *opaque;
};

static void release(struct net_connect *c)
{
	if (c->lookup)
		evdns_getaddrinfo_cancel(c->lookup);	/* its callback ignores the cancel */
	if (c->addrs)
		evutil_freeaddrinfo(c->addrs);
	if (c->fd >= 0)
		close(c->fd);
	if (c->writable)
		event_free(c->writable);
	event_free(c->timer);
	free(c);
}

/* The result is known: delivered from the timer, on the loop. */
static void end(struct net_connect *c, int result, const char *why)
{
	static const struct timeval now = { 0, 0 };

	c->ended = true;
	c->result = result;
	if (result >= 0)
		c->fd = -1;	/* the caller's now */
	snprintf(c->why, sizeof(c->why), "%s", why);
	evtimer_add(c->timer, &now);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct net_connect *c = arg;

	(void)fd;
	(void)what;
	if (!c->ended) {
		c->result = -ETIMEDOUT;
		snprintf(c->why, sizeof(c->why), "no connection within the deadline");
	}
	c->done(c->opaque, c->result, c->why);
	release(c);
}

static void try_next(struct net_connect *c, int error);

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct net_connect *c = arg;
	int error = 0;
	socklen_t len = sizeof(error);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len))
		error = errno;
	if (!error) {
		end(c, c->fd, "");
		return;
	}
	try_next(c, error);
}

/* Start connecting @c->fd to @addr: 0 (connected, or on its way), or a positive errno. */
static int connect_to(struct net_connect *c, const struct sockaddr *addr, socklen_t len)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->writable)
		event_free(c->writable);
	c->writable = NULL;
	c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return errno;
	/* NBD's requests are small and latency-bound, as libnbd's own TCP sockets are. */
	if (addr->sa_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (!connect(c->fd, addr, len)) {
		end(c, c->fd, "");
		return 0;
	}
	if (errno != EINPROGRESS)
		return errno;
	c->writable = event_new(c->base, c->fd, EV_WRITE, on_writable, c);
	if (!c->writable || event_add(c->writable, NULL))
		return ENOMEM;
	return 0;
}

/* The next address after one that failed with @error (0: none yet). */
static void try_next(struct net_connect *c, int error)
{
	char what[96];

	while (c->next) {
		const struct evutil_addrinfo *ai = c->next;

		c->next = ai->ai_next;
		error = connect_to(c, ai->ai_addr, (socklen_t)ai->ai_addrlen);
		if (!error)
			return;
	}
	snprintf(what, sizeof(what), "connect: %s", strerror(error ? error : EHOSTUNREACH));
	end(c, -(error ? error : EHOSTUNREACH), what);
}

static void on_lookup(int result, struct evutil_addrinfo *addrs, void *arg)
{
	struct net_connect *c = arg;
	char what[128];

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* release() asked: @c is going */
	c->lookup = NULL;
	if (result) {
		snprintf(what, sizeof(what), "cannot look the name up: %s", evutil_gai_strerror(result));
		end(c, -EHOSTUNREACH, what);
		return;
	}
	c->addrs = c->next = addrs;
	try_next(c, 0);
}

static void start_unix(struct net_connect *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char what[96];
	int error = EINVAL;

	if (strlen(path) < sizeof(addr.sun_path)) {
		strcpy(addr.sun_path, path);
		error = connect_to(c, (const struct sockaddr *)&addr, sizeof(addr));
	}
	if (!error)
		return;
	snprintf(what, sizeof(what), "connect: %s", strerror(error));
	end(c, -error, what);
}

struct net_connect *net_connect_start(struct event_base *base, struct evdns_base *dns,
				      const char *path, const char *host, const char *port,
				      int timeout_ms, net_connect_fn *done, void *opaque)
{
	struct timeval deadline = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct evutil_addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
					 .ai_protocol = IPPROTO_TCP };
	struct net_connect *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	*c = (struct net_connect){ .base = base, .fd = -1, .done = done, .opaque = opaque };
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->timer || evtimer_add(c->timer, &deadline)) {
		if (c->timer)
			event_free(c->timer);
		free(c);
		return NULL;
	}
	if (!host) {
		start_unix(c, path);
		return c;
	}
	if (!dns) {
		end(c, -ENOMEM, "no name lookup");
		return c;
	}
	/* NULL: answered (or failed) at once, through on_lookup(). */
	c->lookup = evdns_getaddrinfo(dns, host, port, &hints, on_lookup, c);
	return c;
}

void net_connect_cancel(struct net_connect *c)
{
	release(c);
}
