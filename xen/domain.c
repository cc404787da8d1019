// SPDX-License-Identifier: MIT
/* xen/domain.c: domain lookup through libxenctrl. */
#include "xen/domain.h"

#include <errno.h>
#include <string.h>
#include <xenctrl.h>

#include "lib/log.h"

int xen_domain_exists(uint32_t domid)
{
	xc_domaininfo_t info;
	xc_interface *xch;
	int n, ret;

	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		ret = -errno;
		log_error("cannot open the Xen control interface: %s (is this dom0 with Xen running?)",
			  strerror(errno));
		return ret;
	}
	/*
	 * xc_domain_getinfolist() returns the domains with IDs from @domid up;
	 * it exists in every Xen from 4.17 on (xc_domain_getinfo() does not).
	 */
	n = xc_domain_getinfolist(xch, domid, 1, &info);
	if (n < 0) {
		ret = -errno;
		log_error("cannot list Xen domains: %s", strerror(errno));
	} else {
		ret = n == 1 && info.domain == domid && !(info.flags & XEN_DOMINF_dying);
	}
	xc_interface_close(xch);
	return ret;
}
