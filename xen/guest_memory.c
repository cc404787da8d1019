// SPDX-License-Identifier: MIT
/*
 * xen/guest_memory.c: a persistent cache of foreign mappings of guest RAM.
 *
 * Foreign mappings are expensive (a hypercall and page-table updates per
 * call) and a virtqueue touches the same few megabytes over and over, so a
 * mapping is made once per 2 MiB bucket and reused. Pages of a bucket that
 * are not guest RAM are recorded as such at map time, so a guest pointing
 * descriptors at holes costs one map call per bucket, not one per request.
 */
#include "xen/guest_memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xenforeignmemory.h>

#include "lib/log.h"

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define BUCKET_PAGES	(GUEST_MEMORY_BUCKET_SIZE >> PAGE_SHIFT)
#define HASH_SIZE	1024

struct mapping {
	uint64_t first_gfn;		/* bucket-aligned */
	uint64_t nr_pages;		/* a multiple of BUCKET_PAGES */
	uint8_t *addr;
	uint64_t *valid;		/* one bit per page: guest RAM, mapped */
	uint64_t last_used;
	struct mapping *next;		/* hash chain, or the release list */
};

struct guest_memory {
	uint32_t domid;
	uint64_t budget;
	xenforeignmemory_handle *fmem;
	struct mapping *hash[HASH_SIZE];
	struct mapping *released;	/* evicted, to unmap at guest_memory_release() */
	uint64_t tick;
	uint64_t generation;
	unsigned long holds;		/* asynchronous I/O in flight */
	struct guest_memory_stats stats;
	struct log_ratelimit map_log;
};

int guest_memory_create(struct guest_memory **out, uint32_t domid, uint64_t budget)
{
	struct guest_memory *gm = calloc(1, sizeof(*gm));

	if (!gm)
		return -ENOMEM;
	gm->domid = domid;
	gm->budget = budget < GUEST_MEMORY_MIN_BUDGET ? GUEST_MEMORY_MIN_BUDGET : budget;
	gm->fmem = xenforeignmemory_open(NULL, 0);
	if (!gm->fmem) {
		int ret = -errno;

		log_error("guest memory: cannot open the foreign-memory interface: %s", strerror(errno));
		free(gm);
		return ret;
	}
	*out = gm;
	return 0;
}

int guest_memory_restrict(struct guest_memory *gm)
{
	if (xenforeignmemory_restrict(gm->fmem, (domid_t)gm->domid)) {
		log_error("guest memory: cannot restrict the foreign-memory handle to domain %u: %s",
			  gm->domid, strerror(errno));
		return -errno;
	}
	return 0;
}

static unsigned int hash_of(uint64_t first_gfn, uint64_t nr_pages)
{
	uint64_t key = (first_gfn / BUCKET_PAGES) * 31 + nr_pages / BUCKET_PAGES;

	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >> 54) % HASH_SIZE;
}

static void unmap(struct guest_memory *gm, struct mapping *m)
{
	xenforeignmemory_unmap(gm->fmem, m->addr, m->nr_pages);
	gm->stats.unmap_calls++;
	gm->stats.mapped_bytes -= m->nr_pages << PAGE_SHIFT;
	free(m->valid);
	free(m);
}

/* Take @m out of the hash (it must be there). */
static void unlink_mapping(struct guest_memory *gm, struct mapping *m)
{
	struct mapping **link = &gm->hash[hash_of(m->first_gfn, m->nr_pages)];

	while (*link != m)
		link = &(*link)->next;
	*link = m->next;
}

static struct mapping *least_recently_used(struct guest_memory *gm)
{
	struct mapping *oldest = NULL;

	for (unsigned int i = 0; i < HASH_SIZE; i++)
		for (struct mapping *m = gm->hash[i]; m; m = m->next)
			if (!oldest || m->last_used < oldest->last_used)
				oldest = m;
	return oldest;
}

/* Make room for @bytes more within the budget; the evicted stay mapped until release. */
static void evict_for(struct guest_memory *gm, uint64_t bytes)
{
	uint64_t live = gm->stats.mapped_bytes;

	for (struct mapping *m = gm->released; m; m = m->next)
		live -= m->nr_pages << PAGE_SHIFT;
	while (live + bytes > gm->budget) {
		struct mapping *victim = least_recently_used(gm);

		if (!victim)
			break;
		unlink_mapping(gm, victim);
		victim->next = gm->released;
		gm->released = victim;
		live -= victim->nr_pages << PAGE_SHIFT;
		gm->stats.evictions++;
		gm->generation++;
	}
}

static struct mapping *map_region(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages)
{
	struct mapping *m = calloc(1, sizeof(*m));
	xen_pfn_t *gfns = calloc(nr_pages, sizeof(*gfns));
	int *err = calloc(nr_pages, sizeof(*err));

	if (!m || !gfns || !err)
		goto fail;
	m->valid = calloc((nr_pages + 63) / 64, sizeof(uint64_t));
	if (!m->valid)
		goto fail;
	for (uint64_t i = 0; i < nr_pages; i++)
		gfns[i] = first_gfn + i;
	evict_for(gm, nr_pages << PAGE_SHIFT);
	/* With @err, pages that are not RAM fail alone instead of failing the call. */
	m->addr = xenforeignmemory_map(gm->fmem, gm->domid, PROT_READ | PROT_WRITE, nr_pages, gfns, err);
	gm->stats.map_calls++;
	if (!m->addr) {
		log_ratelimited(&gm->map_log, LOG_LEVEL_ERROR,
				"guest memory: cannot map gfn 0x%llx+%llu: %s",
				(unsigned long long)first_gfn, (unsigned long long)nr_pages, strerror(errno));
		goto fail;
	}
	for (uint64_t i = 0; i < nr_pages; i++) {
		if (err[i] == 0)
			m->valid[i / 64] |= 1ULL << (i % 64);
	}
	m->first_gfn = first_gfn;
	m->nr_pages = nr_pages;
	gm->stats.mapped_bytes += nr_pages << PAGE_SHIFT;
	free(gfns);
	free(err);
	return m;

fail:
	if (m)
		free(m->valid);
	free(m);
	free(gfns);
	free(err);
	return NULL;
}

static struct mapping *find_or_map(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages)
{
	unsigned int h = hash_of(first_gfn, nr_pages);
	struct mapping *m;

	for (m = gm->hash[h]; m; m = m->next)
		if (m->first_gfn == first_gfn && m->nr_pages == nr_pages)
			return m;
	m = map_region(gm, first_gfn, nr_pages);
	if (!m)
		return NULL;
	m->next = gm->hash[h];
	gm->hash[h] = m;
	return m;
}

static bool pages_valid(const struct mapping *m, uint64_t first, uint64_t last)
{
	for (uint64_t i = first; i <= last; i++)
		if (!(m->valid[i / 64] & (1ULL << (i % 64))))
			return false;
	return true;
}

void *guest_memory_translate(struct guest_memory *gm, uint64_t gpa, uint64_t len, bool writable)
{
	uint64_t last, first_bucket, last_bucket;
	struct mapping *m;

	(void)writable;	/* every mapping is read-write: guest RAM is */
	if (len == 0 || len > GUEST_MEMORY_MAX_TRANSLATE || gpa + len - 1 < gpa)
		return NULL;
	last = gpa + len - 1;
	first_bucket = gpa / GUEST_MEMORY_BUCKET_SIZE;
	last_bucket = last / GUEST_MEMORY_BUCKET_SIZE;
	m = find_or_map(gm, first_bucket * BUCKET_PAGES, (last_bucket - first_bucket + 1) * BUCKET_PAGES);
	if (!m)
		return NULL;
	m->last_used = ++gm->tick;
	if (!pages_valid(m, (gpa >> PAGE_SHIFT) - m->first_gfn, (last >> PAGE_SHIFT) - m->first_gfn))
		return NULL;
	return m->addr + (gpa - (m->first_gfn << PAGE_SHIFT));
}

uint64_t guest_memory_generation(const struct guest_memory *gm)
{
	return gm->generation;
}

void guest_memory_release(struct guest_memory *gm)
{
	if (gm->holds)
		return;
	while (gm->released) {
		struct mapping *m = gm->released;

		gm->released = m->next;
		unmap(gm, m);
	}
}

void guest_memory_invalidate(struct guest_memory *gm)
{
	for (unsigned int i = 0; i < HASH_SIZE; i++) {
		while (gm->hash[i]) {
			struct mapping *m = gm->hash[i];

			gm->hash[i] = m->next;
			m->next = gm->released;
			gm->released = m;
		}
	}
	/*
	 * Unmapped now unless I/O is in flight into them: like QEMU's mapcache,
	 * memory under DMA stays until the DMA ends; new requests map afresh.
	 */
	guest_memory_release(gm);
	gm->stats.invalidations++;
	gm->generation++;
}

void guest_memory_hold(struct guest_memory *gm)
{
	gm->holds++;
}

void guest_memory_unhold(struct guest_memory *gm)
{
	if (gm->holds > 0)
		gm->holds--;
}

void guest_memory_destroy(struct guest_memory *gm)
{
	if (!gm)
		return;
	gm->holds = 0;
	guest_memory_invalidate(gm);
	xenforeignmemory_close(gm->fmem);
	free(gm);
}

const struct guest_memory_stats *guest_memory_stats(const struct guest_memory *gm)
{
	return &gm->stats;
}

static void *virtio_translate(void *opaque, uint64_t gpa, uint64_t len, bool writable)
{
	return guest_memory_translate(opaque, gpa, len, writable);
}

static uint64_t virtio_generation(void *opaque)
{
	return guest_memory_generation(opaque);
}

static void virtio_hold(void *opaque)
{
	guest_memory_hold(opaque);
}

static void virtio_unhold(void *opaque)
{
	guest_memory_unhold(opaque);
}

static const struct virtio_mem_ops virtio_ops = {
	.translate = virtio_translate,
	.generation = virtio_generation,
	.hold = virtio_hold,
	.unhold = virtio_unhold,
};

struct virtio_mem guest_memory_virtio(struct guest_memory *gm)
{
	return (struct virtio_mem){ &virtio_ops, gm };
}
