/* SPDX-License-Identifier: MIT */
/* xen/guest_memory_private.h: the mapping cache's state, shared by xen/guest_memory*.c only. */
#ifndef XVP_XEN_GUEST_MEMORY_PRIVATE_H
#define XVP_XEN_GUEST_MEMORY_PRIVATE_H

#include <xenforeignmemory.h>

#include "lib/log.h"
#include "xen/guest_memory.h"

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define BUCKET_PAGES	(GUEST_MEMORY_BUCKET_SIZE >> PAGE_SHIFT)
#define HASH_SIZE	1024
#define REFS_PER_SLAB	128

struct mapping {
	uint64_t first_gfn;
	uint64_t nr_pages;
	uint8_t *addr;
	uint64_t *valid;		/* one bit per page: guest RAM, mapped */
	bool writable;			/* PROT_WRITE */
	bool cached;			/* in the hash: translations find it */
	unsigned long refs;		/* references in sets */
	uint64_t last_used;
	uint64_t last_stamp;		/* the set that referenced it last */
	unsigned int misses;		/* refused translations, for the retry backoff */
	struct mapping *next;		/* hash chain, or the uncached list */
};

/* One set's reference on one mapping (virtio/virtio_mem.h). */
struct virtio_mem_ref {
	struct mapping *mapping;
	struct virtio_mem_ref *next;
};

struct ref_slab {
	struct ref_slab *next;
	struct virtio_mem_ref refs[REFS_PER_SLAB];
};

struct guest_memory {
	uint32_t domid;
	uint64_t budget;
	xenforeignmemory_handle *fmem;
	struct mapping *hash[HASH_SIZE];
	struct mapping *recent;		/* in the hash: the one find_cached() found last */
	/* Out of the cache but referenced (invalidated, replaced), or a lasting set's own. */
	struct mapping *uncached;
	struct ref_slab *slabs;
	struct virtio_mem_ref *free_refs;
	uint64_t transient_refs;	/* references held by sets that are not lasting */
	uint64_t tick;
	uint64_t stamps;
	uint64_t generation;
	struct virtio_mem_waiter *waiters;
	struct virtio_mem_waiter *waking;	/* being woken now */
	struct event *wake;
	struct guest_memory_stats stats;
	struct log_ratelimit map_log;
};

/* guest_memory.c */
void guest_memory_unmap(struct guest_memory *gm, struct mapping *m);

/* guest_memory_refs.c */
/* Reference @m for @refs, once per set: 0 or -ENOMEM. */
int guest_memory_add_ref(struct guest_memory *gm, struct virtio_mem_refs *refs, struct mapping *m);
void guest_memory_wake_waiters(struct guest_memory *gm);
/* Free the references' storage (guest_memory_destroy). */
void guest_memory_free_refs(struct guest_memory *gm);

#endif
