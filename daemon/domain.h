/* SPDX-License-Identifier: MIT */
/*
 * daemon/domain.h: serving one domain: its IOREQ server and guest memory
 * (xen/) wired to its host bridge (ecam/) and devices (virtio/, backends/).
 */
#ifndef XVP_DAEMON_DOMAIN_H
#define XVP_DAEMON_DOMAIN_H

#include <stdint.h>

#include "daemon/options.h"

struct event_base;
struct served_domain;

/*
 * Create the IOREQ server, the guest-memory cache, the host bridge with its
 * ECAM range and every configured device, then enable: from the return on,
 * the guest's accesses are answered, and the guest is told so through its
 * xenstore area when it has one (xen/xenstore.h; never a reason to fail).
 * 0 or -errno (everything set up so far is undone).
 */
int served_domain_start(struct served_domain **out, const struct daemon_options *opts,
			struct event_base *base);

/*
 * The set of functions on the bus changed (hotplug): raise the readiness
 * key's generation so that the guest's rescan helper rescans. The first set
 * is announced by served_domain_start() itself.
 */
void served_domain_functions_changed(struct served_domain *domain);

/* Remove the readiness key, answer what is pending, then tear everything down. */
void served_domain_stop(struct served_domain *domain);

#endif
