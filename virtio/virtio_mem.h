/* SPDX-License-Identifier: MIT */
/*
 * virtio/virtio_mem.h: what virtio/ needs from whoever owns guest memory
 * (xen/guest_memory.c in the daemon, a plain buffer in unit tests).
 *
 * A translated pointer stays valid until the owner's generation changes
 * (Xen replaced a guest page, or the mapping cache evicted); callers that
 * keep pointers (the ring addresses) compare generations and translate again.
 * The memory behind a pointer stays mapped until the request being served
 * completes, or, for asynchronous I/O, for as long as the backend holds it:
 * hold() before handing pointers to the kernel, unhold() when it is done.
 */
#ifndef XVP_VIRTIO_VIRTIO_MEM_H
#define XVP_VIRTIO_VIRTIO_MEM_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_mem_ops {
	/*
	 * A pointer to guest-physical [gpa, gpa + len), contiguous in our
	 * address space, or NULL if any byte of it is not guest RAM (or len is
	 * 0, or the range wraps). @writable: the caller will store to it.
	 */
	void *(*translate)(void *opaque, uint64_t gpa, uint64_t len, bool writable);
	/* Changes whenever earlier translations may have become invalid. */
	uint64_t (*generation)(void *opaque);
	/* Keep every current mapping alive (counted): asynchronous I/O in flight. */
	void (*hold)(void *opaque);
	void (*unhold)(void *opaque);
};

struct virtio_mem {
	const struct virtio_mem_ops *ops;
	void *opaque;
};

static inline void *virtio_mem_translate(const struct virtio_mem *mem, uint64_t gpa, uint64_t len,
					 bool writable)
{
	return mem->ops->translate(mem->opaque, gpa, len, writable);
}

static inline uint64_t virtio_mem_generation(const struct virtio_mem *mem)
{
	return mem->ops->generation(mem->opaque);
}

static inline void virtio_mem_hold(const struct virtio_mem *mem)
{
	if (mem->ops->hold)
		mem->ops->hold(mem->opaque);
}

static inline void virtio_mem_unhold(const struct virtio_mem *mem)
{
	if (mem->ops->unhold)
		mem->ops->unhold(mem->opaque);
}

#endif
