// SPDX-License-Identifier: MIT
/*
 * xen/guest_memory.c: a persistent cache of foreign mappings of guest RAM,
 * within a budget.
 *
 * Foreign mappings are expensive (a hypercall and page-table updates per
 * call, and on Arm a ballooned dom0 frame per page from a pool every backend
 * shares), and a virtqueue touches the same few megabytes over and over, so
 * a mapping is made once per 2 MiB bucket and reused. Pages of a bucket that
 * are not guest RAM are recorded as such at map time, so a guest pointing
 * descriptors at holes costs one map call per bucket, plus a retry now and
 * then (a page may have been populated since: Xen says nothing then).
 *
 * Every translation references its mapping for the caller's set
 * (guest_memory_refs.c); only unreferenced mappings are evicted, so the
 * budget bounds what is mapped at once, and a translation that finds it
 * full of referenced memory waits for a release.
 */
#include "xen/guest_memory_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/log.h"

static void wake_waiters(evutil_socket_t fd, short what, void *arg);

int guest_memory_create(struct guest_memory **out, uint32_t domid, uint64_t budget,
			struct event_base *base)
{
	struct guest_memory *gm = calloc(1, sizeof(*gm));
	int ret = -ENOMEM;

	if (!gm)
		return -ENOMEM;
	gm->domid = domid;
	gm->budget = budget < GUEST_MEMORY_MIN_BUDGET ? GUEST_MEMORY_MIN_BUDGET : budget;
	gm->wake = event_new(base, -1, 0, wake_waiters, gm);
	if (!gm->wake)
		goto free_gm;
	gm->fmem = xenforeignmemory_open(NULL, 0);
	if (!gm->fmem) {
		ret = -errno;
		log_error("guest memory: cannot open the foreign-memory interface: %s", strerror(errno));
		goto free_event;
	}
	*out = gm;
	return 0;

free_event:
	event_free(gm->wake);
free_gm:
	free(gm);
	return ret;
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

/* ---- mappings */

static unsigned int hash_of(uint64_t first_gfn, uint64_t nr_pages)
{
	uint64_t key = (first_gfn / BUCKET_PAGES) * 31 + nr_pages / BUCKET_PAGES;

	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >> 54) % HASH_SIZE;
}

void guest_memory_unmap(struct guest_memory *gm, struct mapping *m)
{
	xenforeignmemory_unmap(gm->fmem, m->addr, m->nr_pages);
	gm->stats.unmap_calls++;
	gm->stats.mapped_bytes -= m->nr_pages << PAGE_SHIFT;
	free(m->valid);
	free(m);
}

/*
 * Map guest frames [first_gfn, first_gfn + nr_pages) with one call; NULL if
 * it failed as a whole, errno saying why (ENOMEM: dom0 is short of pages).
 */
static struct mapping *map_pages(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages,
				 bool writable)
{
	struct mapping *m = calloc(1, sizeof(*m));
	xen_pfn_t *gfns = calloc(nr_pages, sizeof(*gfns));
	int *err = calloc(nr_pages, sizeof(*err));
	int saved = ENOMEM;

	if (!m || !gfns || !err)
		goto fail;
	m->valid = calloc((nr_pages + 63) / 64, sizeof(uint64_t));
	if (!m->valid)
		goto fail;
	for (uint64_t i = 0; i < nr_pages; i++)
		gfns[i] = first_gfn + i;
	/* With @err, pages that are not RAM fail alone instead of failing the call. */
	m->addr = xenforeignmemory_map(gm->fmem, gm->domid, writable ? PROT_READ | PROT_WRITE : PROT_READ,
				       nr_pages, gfns, err);
	gm->stats.map_calls++;
	if (!m->addr) {
		saved = errno;
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
	m->writable = writable;
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
	errno = saved;
	return NULL;
}

/* Pages [first, last] of @m are all guest RAM: a word of the bitmap at a time. */
static inline bool pages_valid(const struct mapping *m, uint64_t first, uint64_t last)
{
	uint64_t word = first / 64, last_word = last / 64, mask = ~0ULL << (first % 64);

	for (; word < last_word; word++, mask = ~0ULL)
		if ((m->valid[word] & mask) != mask)
			return false;
	mask &= ~0ULL >> (63 - last % 64);
	return (m->valid[word] & mask) == mask;
}

static void cache_insert(struct guest_memory *gm, struct mapping *m)
{
	unsigned int h = hash_of(m->first_gfn, m->nr_pages);

	m->cached = true;
	m->next = gm->hash[h];
	gm->hash[h] = m;
}

/* Translations no longer find @m: unmapped now if unreferenced, else with its last reference. */
static void cache_remove(struct guest_memory *gm, struct mapping *m)
{
	struct mapping **link = &gm->hash[hash_of(m->first_gfn, m->nr_pages)];

	while (*link != m)
		link = &(*link)->next;
	*link = m->next;
	m->cached = false;
	if (gm->recent == m)
		gm->recent = NULL;
	if (m->refs == 0) {
		guest_memory_unmap(gm, m);
		return;
	}
	m->next = gm->uncached;
	gm->uncached = m;
}

/* The last one found first: a queue's buffers mostly lie in the same bucket as the one before. */
static struct mapping *find_cached(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages)
{
	struct mapping *m = gm->recent;

	if (m && m->first_gfn == first_gfn && m->nr_pages == nr_pages)
		return m;
	for (m = gm->hash[hash_of(first_gfn, nr_pages)]; m; m = m->next)
		if (m->first_gfn == first_gfn && m->nr_pages == nr_pages) {
			gm->recent = m;
			return m;
		}
	return NULL;
}

static struct mapping *least_recently_used_free(struct guest_memory *gm)
{
	struct mapping *oldest = NULL;

	for (unsigned int i = 0; i < HASH_SIZE; i++)
		for (struct mapping *m = gm->hash[i]; m; m = m->next)
			if (m->refs == 0 && (!oldest || m->last_used < oldest->last_used))
				oldest = m;
	return oldest;
}

/* Unmap the least recently used mapping nobody references; false if there is none. */
static bool evict_one(struct guest_memory *gm)
{
	struct mapping *victim = least_recently_used_free(gm);

	if (!victim)
		return false;
	cache_remove(gm, victim);
	gm->stats.evictions++;
	return true;
}

/* References of other sets than @refs: requests in flight, whose completion releases them. */
static uint64_t held_by_others(const struct guest_memory *gm, const struct virtio_mem_refs *refs)
{
	return gm->transient_refs - (refs->lasting ? 0 : refs->count);
}

/*
 * Room for @bytes more within the budget, evicting what nobody references.
 * -EAGAIN: references other than @refs' hold the rest, and will go (requests
 * in flight complete); -E2BIG: nothing would ever make room.
 */
static int make_room(struct guest_memory *gm, uint64_t bytes, const struct virtio_mem_refs *refs)
{
	while (gm->stats.mapped_bytes + bytes > gm->budget && evict_one(gm))
		;
	if (gm->stats.mapped_bytes + bytes <= gm->budget)
		return 0;
	if (bytes > gm->budget || held_by_others(gm, refs) == 0)
		return -E2BIG;
	gm->stats.waits++;
	return -EAGAIN;
}

/*
 * map_pages() within the budget may still fail for want of host memory:
 * privcmd needs empty pages to put the frames in (Linux
 * drivers/xen/privcmd.c, privcmd_ioctl_mmap_batch(): alloc_empty_pages(),
 * -ENOMEM for the whole call). That is dom0's shortage, not the guest's
 * fault: give back what nobody references and try again; if that is not
 * enough, the requests in flight hold the rest and their release makes
 * room ("not now", -EAGAIN). Only with nothing else mapped is it an error.
 */
static int map_or_wait(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages, bool writable,
		       const struct virtio_mem_refs *refs, struct mapping **out)
{
	for (;;) {
		*out = map_pages(gm, first_gfn, nr_pages, writable);
		if (*out)
			return 0;
		if (errno != ENOMEM)
			return -EFAULT;
		if (!evict_one(gm))
			break;
	}
	if (held_by_others(gm, refs) == 0)
		return -ENOMEM;
	gm->stats.waits++;
	return -EAGAIN;
}

/*
 * The bucket run [first_gfn, +nr_pages) mapped (again) and cached, in place
 * of @old if there is one (it stays mapped while referenced). *@out is the
 * new mapping.
 */
static int map_cached(struct guest_memory *gm, uint64_t first_gfn, uint64_t nr_pages, bool writable,
		      struct mapping *old, const struct virtio_mem_refs *refs, struct mapping **out)
{
	unsigned int misses = old ? old->misses : 0;
	struct mapping *m;
	int ret;

	/* Unreferenced: unmapped first, so the new one takes the room it gave back. */
	if (old && old->refs == 0) {
		cache_remove(gm, old);
		old = NULL;
	}
	ret = make_room(gm, nr_pages << PAGE_SHIFT, refs);
	if (!ret)
		ret = map_or_wait(gm, first_gfn, nr_pages, writable, refs, &m);
	if (ret)
		return ret;
	if (old)
		cache_remove(gm, old);
	m->misses = misses;
	cache_insert(gm, m);
	*out = m;
	return 0;
}

/*
 * A page the bucket was mapped without may be RAM now: Xen sends no
 * INVALIDATE when it populates (xen/common/memory.c, populate_physmap()
 * ends in guest_physmap_add_page()), and QEMU's mapcache likewise maps a
 * bucket again when the pages it needs are not valid (hw/xen/xen-mapcache.c,
 * xen_map_cache_unlocked()). A guest aiming at the same hole again and again
 * gets a retry on its 1st, 2nd, 4th, 8th... miss only.
 */
static bool retry_due(struct mapping *m)
{
	m->misses++;
	return (m->misses & (m->misses - 1)) == 0;
}

static int translate_cached(struct guest_memory *gm, uint64_t gpa, uint64_t last, bool writable,
			    struct virtio_mem_refs *refs, void **ptr)
{
	uint64_t first_bucket = gpa / GUEST_MEMORY_BUCKET_SIZE;
	uint64_t first_gfn = first_bucket * BUCKET_PAGES;
	uint64_t nr_pages = (last / GUEST_MEMORY_BUCKET_SIZE - first_bucket + 1) * BUCKET_PAGES;
	uint64_t first = (gpa >> PAGE_SHIFT) - first_gfn, final = (last >> PAGE_SHIFT) - first_gfn;
	struct mapping *m = find_cached(gm, first_gfn, nr_pages);
	bool retried = false, valid = false;
	int ret = 0;

	/* Read-only until a writable translation comes; then read-write for good. */
	if (!m || (writable && !m->writable)) {
		gm->stats.upgrades += m != NULL;
		ret = map_cached(gm, first_gfn, nr_pages, writable, m, refs, &m);
	} else if (!(valid = pages_valid(m, first, final)) && retry_due(m)) {
		gm->stats.retries++;
		retried = true;
		ret = map_cached(gm, first_gfn, nr_pages, m->writable, m, refs, &m);
	}
	if (ret)
		return ret;
	m->last_used = ++gm->tick;
	/* A new mapping is looked at here, the one found above only if it failed there. */
	if (!valid && !pages_valid(m, first, final))
		return -EFAULT;
	if (retried)
		m->misses = 0;	/* the page came: the next miss is retried at once again */
	ret = guest_memory_add_ref(gm, refs, m);
	if (!ret)
		*ptr = m->addr + (gpa - (m->first_gfn << PAGE_SHIFT));
	return ret;
}

/* A lasting set's own mapping of exactly the pages of [gpa, last]. */
static int translate_own(struct guest_memory *gm, uint64_t gpa, uint64_t last, bool writable,
			 struct virtio_mem_refs *refs, void **ptr)
{
	uint64_t first_gfn = gpa >> PAGE_SHIFT, nr_pages = (last >> PAGE_SHIFT) - first_gfn + 1;
	struct mapping *m;
	int ret = make_room(gm, nr_pages << PAGE_SHIFT, refs);

	if (!ret)
		ret = map_or_wait(gm, first_gfn, nr_pages, writable, refs, &m);
	if (ret)
		return ret;
	if (!pages_valid(m, 0, nr_pages - 1)) {
		guest_memory_unmap(gm, m);
		return -EFAULT;
	}
	m->next = gm->uncached;
	gm->uncached = m;
	ret = guest_memory_add_ref(gm, refs, m);
	if (ret) {
		gm->uncached = m->next;
		guest_memory_unmap(gm, m);
		return ret;
	}
	*ptr = m->addr + (gpa & (PAGE_SIZE - 1));
	return 0;
}

int guest_memory_translate(struct guest_memory *gm, uint64_t gpa, uint64_t len, bool writable,
			   struct virtio_mem_refs *refs, void **ptr)
{
	if (len == 0 || gpa + len - 1 < gpa)
		return -EFAULT;
	if (len > GUEST_MEMORY_MAX_TRANSLATE)
		return -E2BIG;
	if (refs->lasting)
		return translate_own(gm, gpa, gpa + len - 1, writable, refs, ptr);
	return translate_cached(gm, gpa, gpa + len - 1, writable, refs, ptr);
}

uint64_t guest_memory_generation(const struct guest_memory *gm)
{
	return gm->generation;
}

void guest_memory_invalidate(struct guest_memory *gm)
{
	/*
	 * Like QEMU's mapcache, memory under I/O stays mapped until the I/O
	 * ends (its references go); new requests map afresh.
	 */
	for (unsigned int i = 0; i < HASH_SIZE; i++)
		while (gm->hash[i])
			cache_remove(gm, gm->hash[i]);
	gm->stats.invalidations++;
	gm->generation++;
}

/* Called from the event loop: never from inside a release, where the releaser is mid-way. */
static void wake_waiters(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	guest_memory_wake_waiters(arg);
}

void guest_memory_destroy(struct guest_memory *gm)
{
	if (!gm)
		return;
	guest_memory_invalidate(gm);
	while (gm->uncached) {
		struct mapping *m = gm->uncached;

		gm->uncached = m->next;
		guest_memory_unmap(gm, m);
	}
	guest_memory_free_refs(gm);
	event_free(gm->wake);
	xenforeignmemory_close(gm->fmem);
	free(gm);
}

const struct guest_memory_stats *guest_memory_stats(const struct guest_memory *gm)
{
	return &gm->stats;
}
