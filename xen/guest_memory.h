/* SPDX-License-Identifier: MIT */
/*
 * xen/guest_memory.h: the guest's RAM through foreign mappings, cached.
 *
 * A region is mapped the first time it is touched (2 MiB buckets, or a run of
 * buckets for a range that crosses a boundary) and kept, so steady-state I/O
 * makes no map or unmap calls. The cache holds at most a budget of mapped
 * bytes and evicts the least recently used region beyond it. Evicted and
 * invalidated mappings are set aside and unmapped only at
 * guest_memory_release() while nothing holds memory (guest_memory_hold):
 * the daemon calls it between requests, so a pointer translated while
 * serving one request stays valid until that request is answered, and
 * memory under asynchronous I/O stays mapped until the I/O completes. Every
 * eviction and invalidation changes the generation, so holders of long-lived
 * pointers translate again.
 */
#ifndef XVP_XEN_GUEST_MEMORY_H
#define XVP_XEN_GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"

#define GUEST_MEMORY_BUCKET_SIZE	(2ULL << 20)
#define GUEST_MEMORY_DEFAULT_BUDGET	(1ULL << 30)
/* At least this much, so that one request's buffers always fit. */
#define GUEST_MEMORY_MIN_BUDGET		(64ULL << 20)
/* Largest single range translate() maps (a descriptor longer than this is refused). */
#define GUEST_MEMORY_MAX_TRANSLATE	(16ULL << 20)

struct guest_memory;

struct guest_memory_stats {
	uint64_t map_calls;		/* xenforeignmemory_map */
	uint64_t unmap_calls;
	uint64_t evictions;
	uint64_t invalidations;
	uint64_t mapped_bytes;		/* currently mapped */
};

int guest_memory_create(struct guest_memory **out, uint32_t domid, uint64_t budget);
void guest_memory_destroy(struct guest_memory *gm);
/* Restrict the foreign-memory handle to the domain: 0 or -errno (logged). */
int guest_memory_restrict(struct guest_memory *gm);

/* See virtio_mem_ops.translate: a contiguous pointer to [gpa, gpa + len), or NULL. */
void *guest_memory_translate(struct guest_memory *gm, uint64_t gpa, uint64_t len, bool writable);
uint64_t guest_memory_generation(const struct guest_memory *gm);

/*
 * IOREQ_TYPE_INVALIDATE: from now on every translation maps afresh; the old
 * mappings are unmapped at once unless I/O holds them (then at release).
 */
void guest_memory_invalidate(struct guest_memory *gm);
/* Unmap what was set aside, unless held; call when no translated pointer is in use. */
void guest_memory_release(struct guest_memory *gm);
/* Asynchronous I/O in flight: set-aside mappings stay until the last unhold. */
void guest_memory_hold(struct guest_memory *gm);
void guest_memory_unhold(struct guest_memory *gm);

const struct guest_memory_stats *guest_memory_stats(const struct guest_memory *gm);

/* The virtio/ view of this cache. */
struct virtio_mem guest_memory_virtio(struct guest_memory *gm);

#endif
