/* SPDX-License-Identifier: MIT */
/*
 * xen/ioreq_dispatch.h: what one ioreq_t means and how it is answered,
 * independent of how it arrived (event channels, the shared page). Kept apart
 * from the server's lifecycle so that every request shape a guest or a
 * hypervisor can send is unit-tested without Xen.
 */
#ifndef XVP_XEN_IOREQ_DISPATCH_H
#define XVP_XEN_IOREQ_DISPATCH_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "lib/log.h"
#include "xen/mmio_regions.h"

struct ioreq_dispatch_hooks {
	/*
	 * IOREQ_TYPE_INVALIDATE: Xen unmapped or replaced a guest RAM page
	 * (shared-info or grant-table placement, ballooning); every cached
	 * mapping of guest memory must go before the request completes.
	 */
	void (*invalidate)(void *opaque);
	/* After every request, once its answer is known (a safe point to release resources). */
	void (*completed)(void *opaque);
};

struct ioreq_dispatcher {
	const struct mmio_regions *regions;
	const struct ioreq_dispatch_hooks *hooks;
	void *opaque;
	struct log_ratelimit refused_log;
	uint64_t handled;	/* requests answered */
	uint64_t refused;	/* requests of a shape we do not serve */
	uint64_t unclaimed;	/* accesses that hit no region */
};

/*
 * Answer @req in place: for a read, req->data holds the result when this
 * returns. Never fails: a request of a shape we do not serve reads all-ones
 * and is otherwise ignored, with a rate-limited log line.
 */
void ioreq_dispatch(struct ioreq_dispatcher *dispatcher, ioreq_t *req);

#endif
