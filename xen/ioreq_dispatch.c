// SPDX-License-Identifier: MIT
/*
 * xen/ioreq_dispatch.c: serve one ioreq_t.
 *
 * On Arm every request Xen sends is IOREQ_TYPE_COPY (MMIO) with count 1,
 * data_is_ptr 0 and df 0 (xen/arch/arm/ioreq.c builds them that way), plus
 * IOREQ_TYPE_INVALIDATE. x86 may also send port I/O, repeated and pointer
 * requests, PCI config cycles and time offsets: we do not serve those and
 * answer them with all-ones reads and ignored writes, so a guest on x86 gets
 * "no device" rather than a daemon that stops.
 */
#include "xen/ioreq_dispatch.h"

#include <stdbool.h>

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static bool valid_access_size(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static const char *type_name(uint8_t type)
{
	switch (type) {
	case IOREQ_TYPE_COPY: return "MMIO";
	case IOREQ_TYPE_PIO: return "port I/O";
	case IOREQ_TYPE_PCI_CONFIG: return "PCI config";
	default: return "unknown";
	}
}

/* Answer a request we do not serve: all-ones for reads, writes dropped. */
static void refuse(struct ioreq_dispatcher *d, ioreq_t *req, const char *why)
{
	d->refused++;
	log_ratelimited(&d->refused_log, LOG_LEVEL_WARN,
			"ioreq: refused %s %s request (addr 0x%llx size %u count %u%s%s): %s",
			req->dir == IOREQ_READ ? "read" : "write", type_name(req->type),
			(unsigned long long)req->addr, req->size, req->count,
			req->data_is_ptr ? " data_is_ptr" : "", req->df ? " df" : "", why);
	/*
	 * A pointer request's data is a guest address, not a value: leave it
	 * alone, nothing was written to guest memory.
	 */
	if (req->dir == IOREQ_READ && !req->data_is_ptr)
		req->data = valid_access_size(req->size) ? size_mask(req->size) : ~0ULL;
}

/* Why an MMIO request has a shape we do not serve, or NULL if we serve it. */
static const char *unserved_mmio_shape(const ioreq_t *req)
{
	if (req->count != 1)
		return "repeated (rep) accesses are not served";
	if (req->data_is_ptr)
		return "data in guest memory is not served";
	if (req->df)
		return "direction flag set";
	if (!valid_access_size(req->size))
		return "access size is not 1, 2, 4 or 8";
	return NULL;
}

static void dispatch_mmio(struct ioreq_dispatcher *d, ioreq_t *req)
{
	const char *unserved = unserved_mmio_shape(req);
	const struct mmio_region *region;
	uint64_t mask;

	if (unserved) {
		refuse(d, req, unserved);
		return;
	}
	mask = size_mask(req->size);
	region = mmio_regions_find(d->regions, req->addr, req->size);
	if (!region) {
		/* Misses every region or straddles two: no device answers. */
		d->unclaimed++;
		if (req->dir == IOREQ_READ)
			req->data = mask;
		return;
	}
	if (req->dir == IOREQ_READ)
		req->data = region->ops->read(region->opaque, req->addr - region->base, req->size) & mask;
	else
		region->ops->write(region->opaque, req->addr - region->base, req->size, req->data & mask);
}

void ioreq_dispatch(struct ioreq_dispatcher *d, ioreq_t *req)
{
	d->handled++;
	switch (req->type) {
	case IOREQ_TYPE_COPY:
		dispatch_mmio(d, req);
		break;
	case IOREQ_TYPE_INVALIDATE:
		/* A guest that balloons causes these: the domain's limit, as for refusals. */
		log_ratelimited(&d->refused_log, LOG_LEVEL_DEBUG,
				"ioreq: invalidate: dropping cached guest mappings");
		if (d->hooks && d->hooks->invalidate)
			d->hooks->invalidate(d->opaque);
		break;
	case IOREQ_TYPE_TIMEOFFSET:
		/* x86 RTC offset updates: nothing to emulate, nothing to answer. */
		log_ratelimited(&d->refused_log, LOG_LEVEL_DEBUG, "ioreq: time offset update ignored");
		break;
	default:
		refuse(d, req, "request type is not served");
		break;
	}
	if (d->hooks && d->hooks->completed)
		d->hooks->completed(d->opaque);
}
