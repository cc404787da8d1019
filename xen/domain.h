/* SPDX-License-Identifier: MIT */
/* xen/domain.h: questions about a domain that come before serving it. */
#ifndef XVP_XEN_DOMAIN_H
#define XVP_XEN_DOMAIN_H

#include <stdint.h>

/* 1 if domain @domid exists and is not dying, 0 if not, -errno if Xen cannot be asked. */
int xen_domain_exists(uint32_t domid);

/*
 * The IDs of the guest domains that exist and are not dying (not dom0),
 * in increasing order, at most @max of them in @domids: how many, or
 * -errno (logged) if Xen cannot be asked.
 */
int xen_domain_list(uint32_t *domids, unsigned int max);

#endif
