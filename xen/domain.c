// SPDX-License-Identifier: MIT
/* xen/domain.c: domain lookup through libxenctrl. */
#include "xen/domain.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <xenctrl.h>

#include "lib/log.h"

/*
 * libxenctrl's default logger prints libxencall's own line ("xencall: error:
 * Could not obtain handle ...") before ours; say what failed once, ourselves.
 */
static void quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)logger, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_progress(struct xentoollog_logger *logger, const char *context,
			   const char *doing_what, int percent, unsigned long done,
			   unsigned long total)
{
	(void)logger, (void)context, (void)doing_what, (void)percent, (void)done, (void)total;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
	(void)logger;
}

static xentoollog_logger quiet = { quiet_vmessage, quiet_progress, quiet_destroy };

static xc_interface *open_control(void)
{
	xc_interface *xch = xc_interface_open(&quiet, &quiet, 0);

	if (!xch) {
		int error = errno;

		log_error("cannot open the Xen control interface: %s (is this dom0 with Xen running?)",
			  strerror(error));
		errno = error;	/* for the caller, whatever logging did */
	}
	return xch;
}

int xen_domain_exists(uint32_t domid)
{
	xc_domaininfo_t info;
	xc_interface *xch;
	int n, ret;

	xch = open_control();
	if (!xch)
		return -errno;
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

/* Domains are listed this many at a time. */
#define LIST_BATCH 64

/*
 * The supervisor lists domains every poll: one handle, kept (it is the
 * supervisor's, unrestricted; a worker never lists domains).
 */
static xc_interface *list_handle;

int xen_domain_list(uint32_t *domids, unsigned int max)
{
	xc_domaininfo_t info[LIST_BATCH];
	unsigned int count = 0;
	uint32_t next = 1;	/* dom0 is never a guest we serve */
	xc_interface *xch;
	int n = 0;

	if (!list_handle)
		list_handle = open_control();
	xch = list_handle;
	if (!xch)
		return -errno;
	/* A call may return fewer than asked while more exist: ask again from the last + 1. */
	while (count < max && (n = xc_domain_getinfolist(xch, next, LIST_BATCH, info)) > 0) {
		for (int i = 0; i < n && count < max; i++)
			if (!(info[i].flags & XEN_DOMINF_dying))
				domids[count++] = info[i].domain;
		next = (uint32_t)info[n - 1].domain + 1;
	}
	if (n < 0 && count < max) {
		n = -errno;
		log_error("cannot list Xen domains: %s", strerror(errno));
		/* Opened again next time. */
		xc_interface_close(xch);
		list_handle = NULL;
		return n;
	}
	return (int)count;
}
