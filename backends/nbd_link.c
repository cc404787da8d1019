// SPDX-License-Identifier: MIT
/*
 * backends/nbd_link.c: an NBD disk's connection, and getting it back.
 *
 * libnbd has no reconnect of its own (a handle that died stays dead,
 * libnbd(3)): the handle is closed, which frees the commands it held (their
 * operations are then kept, backends/disk_nbd.c), and the host is asked for
 * a new socket (the supervisor connects it, backend_host), tries spaced by
 * a backoff; on it a new handle shakes hands on the loop, must offer what
 * the guest was told (nbd_export_same), and the kept operations are sent.
 *
 * An outage lasts from the loss until a command completes on a new
 * connection (a server that shakes hands and then drops every request is
 * no way out of it). When it outlasts timeout=, one line says so, what is
 * kept fails, a connection that came back without proving itself is
 * dropped (its commands fail too), and until the outage ends new requests
 * fail at once while there is no connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libnbd.h>

#include "backends/disk_nbd_internal.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arm(struct event *timer, unsigned int ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(timer, &tv);
}

/* Close the handle: the commands it held are freed (their operations finish, lost). */
static void drop_handle(struct disk_nbd *nbd)
{
	disk_nbd_unwatch(nbd);
	if (nbd->export->handle)
		nbd_close(nbd->export->handle);
	nbd->export->handle = NULL;
}

/* The next try after the backoff (none once stopping); the backoff grows. */
static void wait_retry(struct disk_nbd *nbd)
{
	unsigned int next = nbd->backoff_ms * 2;

	nbd->state = LINK_WAITING;
	if (nbd->stopping)
		return;
	arm(nbd->retry, nbd->backoff_ms);
	if (next < NBD_LINK_FIRST_BACKOFF_MS)
		next = NBD_LINK_FIRST_BACKOFF_MS;
	nbd->backoff_ms = next < NBD_LINK_MAX_BACKOFF_MS ? next : NBD_LINK_MAX_BACKOFF_MS;
}

static void begin_outage(struct disk_nbd *nbd, const char *why)
{
	if (nbd->in_outage) {
		log_debug("%s: nbd=%s: connection lost again (%s)", nbd->name, nbd->export->uri, why);
		return;
	}
	nbd->in_outage = true;
	nbd->outage_start_ms = now_ms();
	nbd->reconnects = 0;
	log_warn("%s: nbd=%s: connection lost (%s): reconnecting, requests wait up to %u s",
		 nbd->name, nbd->export->uri, why, nbd->timeout_s);
	arm(nbd->outage, nbd->timeout_s * 1000);
}

bool nbd_link_check(struct disk_nbd *nbd)
{
	struct nbd_handle *h = nbd->export->handle;
	char why[256];

	if (nbd->state != LINK_UP || (nbd_aio_is_dead(h) != 1 && nbd_aio_is_closed(h) != 1))
		return false;
	snprintf(why, sizeof(why), "%s", nbd_get_error() ? nbd_get_error() : "closed");
	drop_handle(nbd);
	begin_outage(nbd, why);
	wait_retry(nbd);
	return true;
}

void nbd_link_proved(struct disk_nbd *nbd)
{
	nbd->backoff_ms = 0;
	if (!nbd->in_outage)
		return;
	nbd->in_outage = false;
	nbd->failing = false;
	event_del(nbd->outage);
	log_info("%s: nbd=%s: serving again after %lld ms (%u reconnect%s)", nbd->name,
		 nbd->export->uri, now_ms() - nbd->outage_start_ms, nbd->reconnects,
		 nbd->reconnects == 1 ? "" : "s");
}

/* The new connection offers what the guest was told: send what was kept. */
static void come_up(struct disk_nbd *nbd)
{
	struct nbd_op *list;

	/* Operations the old connection took down and nobody looked at yet: kept first. */
	disk_nbd_deliver(nbd);
	list = nbd->kept.head;
	event_del(nbd->retry);
	nbd->state = LINK_UP;
	nbd->generation++;
	nbd->reconnects++;
	log_debug("%s: nbd=%s: connected again, sending %u kept requests", nbd->name,
		  nbd->export->uri, nbd->kept.count);
	/* Nothing waits: the handshake is all the proof there is (not while failing: a command must). */
	if (!list && !nbd->in_flight && !nbd->failing)
		nbd_link_proved(nbd);
	nbd_op_list_init(&nbd->kept);
	while (list) {
		struct nbd_op *op = list;

		list = op->next;
		disk_nbd_issue(nbd, op);	/* kept again if this one goes too */
	}
	if (nbd->state == LINK_UP && !nbd_link_check(nbd))
		disk_nbd_watch(nbd);
}

static void handshake_failed(struct disk_nbd *nbd, const char *why)
{
	log_debug("%s: nbd=%s: no new connection: %s", nbd->name, nbd->export->uri, why);
	drop_handle(nbd);
	event_del(nbd->retry);
	wait_retry(nbd);
}

/* Where the handshake stands: on its way (watch on), done and fit (up), or failed. */
static void handshake_progress(struct disk_nbd *nbd)
{
	struct nbd_handle *h = nbd->export->handle;
	char why[256];

	if (nbd_aio_is_connecting(h) == 1) {
		disk_nbd_watch(nbd);
		return;
	}
	if (nbd_aio_is_ready(h) != 1) {
		handshake_failed(nbd, nbd_get_error() ? nbd_get_error() : "the handshake failed");
		return;
	}
	if (nbd_export_same(nbd->export, h, why, sizeof(why))) {
		log_ratelimited(&nbd->log, LOG_LEVEL_WARN, "%s: nbd=%s: not serving from the new "
				"connection: %s", nbd->name, nbd->export->uri, why);
		handshake_failed(nbd, why);
		return;
	}
	come_up(nbd);
}

void nbd_link_handshake_ready(struct disk_nbd *nbd, short what)
{
	struct nbd_handle *h = nbd->export->handle;

	if (what & EV_READ)
		nbd_aio_notify_read(h);
	else if (what & EV_WRITE)
		nbd_aio_notify_write(h);
	handshake_progress(nbd);
}

/* The host's answer: a socket to shake hands on, or a reason to wait and try again. */
static void on_connected(void *opaque, int fd)
{
	struct disk_nbd *nbd = opaque;
	struct nbd_handle *h;
	char why[64];

	nbd->asking = false;
	if (nbd->destroyed || nbd->stopping) {
		if (fd >= 0)
			close(fd);
		nbd->state = LINK_WAITING;
		if (nbd->destroyed)
			disk_nbd_free(nbd);
		return;
	}
	if (fd < 0) {
		snprintf(why, sizeof(why), "the supervisor: %s", strerror(-fd));
		handshake_failed(nbd, why);
		return;
	}
	h = nbd_export_handshake(nbd->export, fd);
	if (!h) {
		handshake_failed(nbd, nbd_get_error() ? nbd_get_error() : "no libnbd handle");
		return;
	}
	nbd->export->handle = h;
	nbd->state = LINK_HANDSHAKE;
	arm(nbd->retry, NBD_EXPORT_HANDSHAKE_MS);	/* its deadline */
	/* libnbd runs the state machine as far as it goes: with a quick server, to the end. */
	handshake_progress(nbd);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct disk_nbd *nbd = arg;
	const struct backend_host *host = nbd->export->host;
	int ret;

	(void)fd;
	(void)what;
	if (nbd->state == LINK_HANDSHAKE) {
		handshake_failed(nbd, "the server did not finish the handshake in time");
		return;
	}
	if (nbd->state != LINK_WAITING || nbd->stopping)
		return;
	ret = host ? host->connect(host, nbd->export->device, on_connected, nbd) : -ENOTCONN;
	if (ret) {
		log_debug("%s: nbd=%s: cannot ask for a connection: %s", nbd->name, nbd->export->uri,
			  strerror(-ret));
		wait_retry(nbd);
		return;
	}
	nbd->state = LINK_ASKING;
	nbd->asking = true;
}

/* timeout= is over: one line, what is kept fails, and an unproved connection goes. */
static void on_outage(evutil_socket_t fd, short what, void *arg)
{
	struct disk_nbd *nbd = arg;
	struct nbd_op *op;

	(void)fd;
	(void)what;
	nbd->failing = true;
	log_error("%s: nbd=%s: no working connection for %u s (timeout=): failing %u requests, "
		  "and new ones while there is none", nbd->name, nbd->export->uri, nbd->timeout_s,
		  nbd->kept.count);
	while ((op = nbd_op_list_pop(&nbd->kept)))
		disk_nbd_fail(nbd, op, ENOTCONN);
	if (nbd->state == LINK_UP) {
		drop_handle(nbd);
		wait_retry(nbd);
	}
	disk_nbd_deliver(nbd);
}

int nbd_link_start(struct disk_nbd *nbd)
{
	nbd->state = LINK_UP;
	nbd->retry = evtimer_new(nbd->base, on_retry, nbd);
	nbd->outage = evtimer_new(nbd->base, on_outage, nbd);
	return nbd->retry && nbd->outage ? 0 : -ENOMEM;
}

void nbd_link_stop(struct disk_nbd *nbd)
{
	nbd->stopping = true;
	if (nbd->retry)
		event_del(nbd->retry);
	if (nbd->outage)
		event_del(nbd->outage);
	if (nbd->state == LINK_HANDSHAKE) {
		drop_handle(nbd);
		nbd->state = LINK_WAITING;
	}
}

void nbd_link_free(struct disk_nbd *nbd)
{
	if (nbd->retry)
		event_free(nbd->retry);
	if (nbd->outage)
		event_free(nbd->outage);
	nbd->retry = nbd->outage = NULL;
}
