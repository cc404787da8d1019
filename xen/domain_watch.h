/* SPDX-License-Identifier: MIT */
/*
 * xen/domain_watch.h: learn when guest domains come and go, for the
 * supervisor. With xenstore: its @introduceDomain and @releaseDomain
 * watches (xenstore.txt), and the domains' names under
 * /local/domain/<domid>/name. Always also a periodic look (libxenctrl),
 * which is all there is without xenstore, and which catches a domain that
 * was never introduced to xenstore (dom0less, xen,enhanced = "no-xenstore").
 *
 * The xenstore connection is used from the event loop: start the
 * supervisor after xenstored (its systemd unit says so).
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

/* Is there a xenstore (names known, watches set)? */
bool xen_domain_watch_has_xenstore(const struct xen_domain_watch *watch);

/*
 * Domain @domid's name as xl or init-dom0less wrote it (malloc'd), or NULL
 * if it has none or there is no xenstore.
 */
char *xen_domain_watch_name(struct xen_domain_watch *watch, uint32_t domid);

void xen_domain_watch_stop(struct xen_domain_watch *watch);

#endif
