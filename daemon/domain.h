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
 * Serving a domain comes in two steps, with the worker's confinement
 * (privileges, sandbox) between them:
 *
 * served_domain_open() has the supervisor (on @channel: daemon/worker_protocol.h;
 * -1 for none) destroy the server an earlier worker left, opens every Xen
 * handle serving needs (device model, foreign memory, event channels) and
 * restricts all of them to the domain (xentoolcore_restrict_all): 0,
 * -EBUSY when another process serves the domain, or -errno (everything undone).
 *
 * served_domain_serve() creates the IOREQ server, maps its page, builds the
 * host bridge with its ECAM range and every configured device, then
 * enables: from the return on, the guest's accesses are answered, and the
 * supervisor tells the guest so through its xenstore area when it has one
 * (never a reason to fail). It opens no Xen device. On failure (-errno) @domain is
 * torn down and freed.
 */
int served_domain_open(struct served_domain **out, const struct daemon_options *opts, int channel,
		       struct event_base *base);
int served_domain_serve(struct served_domain *domain, const struct daemon_options *opts,
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
