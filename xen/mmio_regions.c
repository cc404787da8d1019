// SPDX-License-Identifier: MIT
/* xen/mmio_regions.c: sorted, non-overlapping guest-physical ranges. */
#include "xen/mmio_regions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mmio_regions_init(struct mmio_regions *regions)
{
	memset(regions, 0, sizeof(*regions));
}

void mmio_regions_free(struct mmio_regions *regions)
{
	free(regions->entries);
	mmio_regions_init(regions);
}

/* Index of the first region whose base is greater than @addr. */
static size_t upper_bound(const struct mmio_regions *regions, uint64_t addr)
{
	size_t lo = 0, hi = regions->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (regions->entries[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool region_contains(const struct mmio_region *r, uint64_t addr, uint64_t size)
{
	/* No wrap in either range, so comparing offsets is exact. */
	return addr >= r->base && size <= r->size && addr - r->base <= r->size - size;
}

int mmio_regions_add(struct mmio_regions *regions, uint64_t base, uint64_t size,
		     const struct xen_mmio_ops *ops, void *opaque)
{
	size_t at;

	if (size == 0 || base + size - 1 < base)
		return -EINVAL;
	at = upper_bound(regions, base);
	if (at > 0) {
		const struct mmio_region *prev = &regions->entries[at - 1];

		if (base - prev->base < prev->size)
			return -EEXIST;
	}
	if (at < regions->count && regions->entries[at].base - base < size)
		return -EEXIST;
	if (regions->count == regions->capacity) {
		size_t capacity = regions->capacity ? regions->capacity * 2 : 8;
		struct mmio_region *grown = realloc(regions->entries, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		regions->entries = grown;
		regions->capacity = capacity;
	}
	memmove(&regions->entries[at + 1], &regions->entries[at],
		(regions->count - at) * sizeof(regions->entries[0]));
	regions->entries[at] = (struct mmio_region){ base, size, ops, opaque };
	regions->count++;
	return 0;
}

int mmio_regions_remove(struct mmio_regions *regions, uint64_t base, uint64_t size)
{
	size_t at = upper_bound(regions, base);

	if (at == 0 || regions->entries[at - 1].base != base || regions->entries[at - 1].size != size)
		return -ENOENT;
	at--;
	memmove(&regions->entries[at], &regions->entries[at + 1],
		(regions->count - at - 1) * sizeof(regions->entries[0]));
	regions->count--;
	return 0;
}

const struct mmio_region *mmio_regions_find(const struct mmio_regions *regions,
					    uint64_t addr, unsigned int size)
{
	size_t at = upper_bound(regions, addr);
	const struct mmio_region *r;

	if (at == 0 || size == 0)
		return NULL;
	r = &regions->entries[at - 1];
	return region_contains(r, addr, size) ? r : NULL;
}
