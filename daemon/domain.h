/* SPDX-License-Identifier: MIT */
/*
 * daemon/domain.h: serving one domain: its IOREQ server (xen/) wired to its
 * host bridge (ecam/).
 */
#ifndef XVP_DAEMON_DOMAIN_H
#define XVP_DAEMON_DOMAIN_H

#include <stdint.h>

#include "xen/guest_layout.h"

struct event_base;
struct served_domain;

/*
 * Create the IOREQ server, the host bridge and its ECAM range, then enable:
 * from the return on, the guest's accesses to the ECAM window are answered.
 * 0 or -errno (everything set up so far is undone).
 */
int served_domain_start(struct served_domain **out, uint32_t domid,
			const struct guest_layout *layout, struct event_base *base);

/* Answer what is pending, then tear everything down. */
void served_domain_stop(struct served_domain *domain);

#endif
