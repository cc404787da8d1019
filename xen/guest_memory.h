/* SPDX-License-Identifier: MIT */
/*
 * xen/guest_memory.h: the guest's RAM through foreign mappings, cached.
 *
 * A region is mapped the first time it is touched (2 MiB buckets, or a run of
 * buckets for a range that crosses a boundary) and kept, so steady-state I/O
 * makes no map or unmap calls. Each translation takes a reference on its
 * mapping for the caller's set (virtio/virtio_mem.h); a mapping nobody
 * references may be evicted (least recently used first) to make room. The
 * budget is a hard bound on what is mapped at once, rings included: when it
 * is full of referenced memory a translation says "not now" (-EAGAIN) and
 * the waiter is woken, from the event loop, once references are released.
 * So it is when dom0 cannot back one more mapping (ENOMEM from the map
 * call) while other requests hold mappings.
 * A bucket first translated read-only is mapped read-only, and upgraded when
 * a writable translation comes. A miss (a page that was not RAM when the
 * bucket was mapped) maps the bucket again, with a backoff, since Xen sends
 * no INVALIDATE when it populates RAM. INVALIDATE takes every mapping out of
 * the cache: unreferenced ones are unmapped at once, referenced ones when
 * their last reference goes, and the generation changes.
 */
#ifndef XVP_XEN_GUEST_MEMORY_H
#define XVP_XEN_GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "virtio/virtio_mem.h"

#define GUEST_MEMORY_BUCKET_SIZE	(2ULL << 20)
#define GUEST_MEMORY_DEFAULT_BUDGET	(1ULL << 30)
/* At least this much (32 buckets): a request whose buffers need more is refused. */
#define GUEST_MEMORY_MIN_BUDGET		(64ULL << 20)
/* Largest single range translate() maps (a descriptor longer than this is refused). */
#define GUEST_MEMORY_MAX_TRANSLATE	(16ULL << 20)

struct guest_memory;

struct guest_memory_stats {
	uint64_t map_calls;		/* xenforeignmemory_map */
	uint64_t unmap_calls;
	uint64_t evictions;
	uint64_t invalidations;
	uint64_t retries;		/* misses mapped again */
	uint64_t upgrades;		/* read-only mappings mapped again writable */
	uint64_t waits;			/* translations told to wait for room */
	uint64_t mapped_bytes;		/* currently mapped */
};

/* Waiters are woken from an event of @base. */
int guest_memory_create(struct guest_memory **out, uint32_t domid, uint64_t budget,
			struct event_base *base);
void guest_memory_destroy(struct guest_memory *gm);
/* Restrict the foreign-memory handle to the domain: 0 or -errno (logged). */
int guest_memory_restrict(struct guest_memory *gm);

/* See virtio_mem_ops.translate and .release. */
int guest_memory_translate(struct guest_memory *gm, uint64_t gpa, uint64_t len, bool writable,
			   struct virtio_mem_refs *refs, void **ptr);
void guest_memory_release(struct guest_memory *gm, struct virtio_mem_refs *refs);
uint64_t guest_memory_generation(const struct guest_memory *gm);

/*
 * IOREQ_TYPE_INVALIDATE: from now on every translation maps afresh; the old
 * mappings are unmapped at once, or when the last reference on them goes.
 */
void guest_memory_invalidate(struct guest_memory *gm);

const struct guest_memory_stats *guest_memory_stats(const struct guest_memory *gm);

/* The virtio/ view of this cache. */
struct virtio_mem guest_memory_virtio(struct guest_memory *gm);

#endif
