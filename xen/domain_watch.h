/* SPDX-License-Identifier: MIT */
/*
 * xen/domain_watch.h: learn when guest domains come and go, for the
 * supervisor. With xenstore: its @introduceDomain and @releaseDomain
 * watches (xenstore.txt), and the domains' names under
 * /local/domain/<domid>/name. Always also a periodic look (libxenctrl),
 * which is all there is without xenstore, and which catches a domain that
 * was never introduced to xenstore (dom0less, xen,enhanced = "no-xenstore").
 *
 * Every xenstore request is made by a thread of its own: without
 * xenstored, libxenstore's first request waits for ever
 * (xen/xenstore_probe.h), and the loop must go on polling.
 */
#ifndef XVP_XEN_DOMAIN_WATCH_H
#define XVP_XEN_DOMAIN_WATCH_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct xen_domain_watch;

/* Domains may have come or gone: list them again (xen_domain_list). */
typedef void xen_domains_changed_fn(void *opaque);

/*
 * Call @changed from @base's loop whenever a watch fires and every
 * @poll_ms, and once soon after the start. 0 or -errno.
 */
int xen_domain_watch_start(struct xen_domain_watch **out, struct event_base *base, int poll_ms,
			   xen_domains_changed_fn *changed, void *opaque);

enum xen_domain_watch_store {
	XEN_DOMAIN_WATCH_UNKNOWN,	/* not known yet: names may come */
	XEN_DOMAIN_WATCH_STORE,		/* a xenstore answers: names known, watches set */
	XEN_DOMAIN_WATCH_NO_STORE,	/* none, or it does not answer: polling only */
};

/* Is there a xenstore? (@changed is called when this changes.) */
enum xen_domain_watch_store xen_domain_watch_store(struct xen_domain_watch *watch);

/*
 * Domain @domid's name as xl or init-dom0less wrote it: 1 with *name
 * (malloc'd) or NULL if it has none or there is no xenstore; 0 if it is
 * not known yet: the thread looks it up and @changed is called. Never
 * blocks.
 */
int xen_domain_watch_name(struct xen_domain_watch *watch, uint32_t domid, char **name);

void xen_domain_watch_stop(struct xen_domain_watch *watch);

#endif
