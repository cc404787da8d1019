// SPDX-License-Identifier: MIT
/*
 * xen/domain_watch.c: xenstore's domain watches and a poll timer, both
 * turned into one "domains may have changed" callback.
 */
#include "xen/domain_watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <xenstore.h>

#include "lib/log.h"

#define TOKEN "xen-virtio-pcid"

struct xen_domain_watch {
	struct xs_handle *xsh;		/* NULL: no xenstore */
	struct event *xs_event;		/* xs_fileno() readable: watches fired */
	struct event *poll_event;
	xen_domains_changed_fn *changed;
	void *opaque;
};

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct xen_domain_watch *w = arg;

	(void)fd;
	(void)what;
	w->changed(w->opaque);
}

static void on_xenstore(evutil_socket_t fd, short what, void *arg)
{
	struct xen_domain_watch *w = arg;
	char **event;
	bool fired = false;

	(void)fd;
	(void)what;
	/* libxenstore: once the fd is readable, take events until there are none. */
	while ((event = xs_check_watch(w->xsh))) {
		fired = true;
		free(event);
	}
	if (fired)
		w->changed(w->opaque);
}

/* Watches and their event; on failure the watch works by polling only. */
static void open_xenstore(struct xen_domain_watch *w, struct event_base *base)
{
	w->xsh = xs_open(0);
	if (!w->xsh) {
		log_info("no xenstore (%s): domains are found by polling, and only "
			 "[domain N] blocks can match (names are unknown)", strerror(errno));
		return;
	}
	if (!xs_watch(w->xsh, "@introduceDomain", TOKEN) ||
	    !xs_watch(w->xsh, "@releaseDomain", TOKEN)) {
		log_warn("xenstore: cannot watch for domains: %s: polling", strerror(errno));
		return;
	}
	w->xs_event = event_new(base, xs_fileno(w->xsh), EV_READ | EV_PERSIST, on_xenstore, w);
	if (!w->xs_event || event_add(w->xs_event, NULL))
		log_warn("xenstore: cannot listen for domain watches: polling");
}

int xen_domain_watch_start(struct xen_domain_watch **out, struct event_base *base, int poll_ms,
			   xen_domains_changed_fn *changed, void *opaque)
{
	struct xen_domain_watch *w = calloc(1, sizeof(*w));
	struct timeval period = { poll_ms / 1000, (poll_ms % 1000) * 1000 };
	struct timeval soon = { 0, 0 };

	if (!w)
		return -ENOMEM;
	w->changed = changed;
	w->opaque = opaque;
	open_xenstore(w, base);
	w->poll_event = event_new(base, -1, EV_PERSIST, on_poll, w);
	if (!w->poll_event || event_add(w->poll_event, &period)) {
		xen_domain_watch_stop(w);
		return -ENOMEM;
	}
	/* The first look, from the loop. */
	event_base_once(base, -1, EV_TIMEOUT, on_poll, w, &soon);
	*out = w;
	return 0;
}

bool xen_domain_watch_has_xenstore(const struct xen_domain_watch *w)
{
	return w->xsh != NULL;
}

char *xen_domain_watch_name(struct xen_domain_watch *w, uint32_t domid)
{
	char path[64];

	if (!w->xsh)
		return NULL;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	return xs_read(w->xsh, XBT_NULL, path, NULL);
}

void xen_domain_watch_stop(struct xen_domain_watch *w)
{
	if (!w)
		return;
	if (w->poll_event)
		event_free(w->poll_event);
	if (w->xs_event)
		event_free(w->xs_event);
	if (w->xsh)
		xs_close(w->xsh);
	free(w);
}
