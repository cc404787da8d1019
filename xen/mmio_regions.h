/* SPDX-License-Identifier: MIT */
/*
 * xen/mmio_regions.h: the guest-physical ranges one IOREQ server claims and
 * the handler behind each. A sorted array: lookups are a binary search, and
 * the set changes only when the guest programs BARs.
 */
#ifndef XVP_XEN_MMIO_REGIONS_H
#define XVP_XEN_MMIO_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xen_mmio_ops {
	/* @offset is relative to the region's base; the access lies wholly inside it. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, unsigned int size, uint64_t value);
};

struct mmio_region {
	uint64_t base;
	uint64_t size;
	const struct xen_mmio_ops *ops;
	void *opaque;
};

struct mmio_regions {
	struct mmio_region *entries;
	size_t count;
	size_t capacity;
};

void mmio_regions_init(struct mmio_regions *regions);
void mmio_regions_free(struct mmio_regions *regions);

/* -EINVAL for an empty or wrapping range, -EEXIST if it overlaps a region, -ENOMEM. */
int mmio_regions_add(struct mmio_regions *regions, uint64_t base, uint64_t size,
		     const struct xen_mmio_ops *ops, void *opaque);
/* Remove the region starting at @base with @size; -ENOENT if there is none. */
int mmio_regions_remove(struct mmio_regions *regions, uint64_t base, uint64_t size);

/*
 * The region that holds all of [addr, addr + size), or NULL: an access that
 * misses every region, or straddles two, belongs to none.
 */
const struct mmio_region *mmio_regions_find(const struct mmio_regions *regions,
					    uint64_t addr, unsigned int size);

#endif
