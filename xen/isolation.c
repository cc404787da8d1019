// SPDX-License-Identifier: MIT
/* xen/isolation.c: every Xen handle of the process restricted to one domain. */
#include "xen/isolation.h"

#include <errno.h>
#include <string.h>
#include <xentoolcore.h>

#include "lib/log.h"

int xen_isolation_restrict_all(domid_t domid)
{
	int ret;

	if (xentoolcore_restrict_all(domid) == 0) {
		log_debug("every Xen handle restricted to domain %u", domid);
		return 0;
	}
	ret = errno ? -errno : -EPERM;
	log_error("cannot restrict the Xen handles to domain %u: %s: not serving", domid,
		  strerror(-ret));
	return ret;
}
