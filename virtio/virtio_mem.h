/* SPDX-License-Identifier: MIT */
/*
 * virtio/virtio_mem.h: what virtio/ needs from whoever owns guest memory
 * (xen/guest_memory.c in the daemon, a plain buffer in unit tests).
 *
 * A translated pointer is backed by a mapping that stays mapped while a
 * reference on it is held. References are collected in a set (struct
 * virtio_mem_refs): a chain's buffers, a request in flight, a queue's rings.
 * Releasing the set drops them all; a device releases a request's set once
 * it is done with the buffers (after the used entry is pushed), so what stays
 * mapped is what requests use, and the owner can keep it within a budget.
 *
 * The generation changes when earlier translations may point at memory the
 * guest no longer has there (Xen replaced or removed a page): the memory is
 * still mapped while referenced, but new work must translate again.
 */
#ifndef XVP_VIRTIO_VIRTIO_MEM_H
#define XVP_VIRTIO_VIRTIO_MEM_H

#include <stdbool.h>
#include <stdint.h>

/* One reference on one mapping: the owner's, opaque here. */
struct virtio_mem_ref;

/* A set of references. Zero-initialised it is empty; the owner keeps the fields. */
struct virtio_mem_refs {
	struct virtio_mem_ref *first;
	uint64_t stamp;			/* which set this is, so a mapping is referenced once */
	unsigned int count;
	/*
	 * Set by the caller while empty: memory kept for long (the rings). Each
	 * translation gets a mapping of exactly its pages, for this set alone,
	 * out of the same budget; so translating the same ranges again after an
	 * invalidation, once the set is released, always finds the room it gave
	 * back.
	 */
	bool lasting;
};

/* Someone waiting for memory: wake() is called from the event loop, once per wait(). */
struct virtio_mem_waiter {
	void (*wake)(struct virtio_mem_waiter *waiter);
	struct virtio_mem_waiter *next;
	bool waiting;
};

struct virtio_mem_ops {
	/*
	 * Point *@ptr at guest-physical [gpa, gpa + len), contiguous in our
	 * address space, and add a reference on what backs it to @refs.
	 * @writable: the caller will store to it (else it may be mapped
	 * read-only). 0, or:
	 *   -EFAULT  a byte of it is not guest RAM (or len is 0, or it wraps);
	 *   -EAGAIN  not now: the budget is full of memory that others hold and
	 *            will release; give back what this request holds, wait(),
	 *            and try again when woken;
	 *   -E2BIG   never: larger than what may be mapped at once, even with
	 *            nothing else held;
	 *   -ENOMEM  out of memory.
	 */
	int (*translate)(void *opaque, uint64_t gpa, uint64_t len, bool writable,
			 struct virtio_mem_refs *refs, void **ptr);
	/* Drop every reference in @refs; it is empty (and not lasting) afterwards. May be NULL. */
	void (*release)(void *opaque, struct virtio_mem_refs *refs);
	/* Changes whenever earlier translations may have become invalid. */
	uint64_t (*generation)(void *opaque);
	/* After -EAGAIN: wake @waiter once memory was released. Both may be NULL (never -EAGAIN). */
	void (*wait)(void *opaque, struct virtio_mem_waiter *waiter);
	void (*cancel_wait)(void *opaque, struct virtio_mem_waiter *waiter);
};

struct virtio_mem {
	const struct virtio_mem_ops *ops;
	void *opaque;
};

static inline int virtio_mem_translate(const struct virtio_mem *mem, uint64_t gpa, uint64_t len,
				       bool writable, struct virtio_mem_refs *refs, void **ptr)
{
	return mem->ops->translate(mem->opaque, gpa, len, writable, refs, ptr);
}

static inline void virtio_mem_release(const struct virtio_mem *mem, struct virtio_mem_refs *refs)
{
	/* An empty set holds nothing: no call (each buffer a device pops starts with one). */
	if (refs->count && mem->ops->release)
		mem->ops->release(mem->opaque, refs);
	*refs = (struct virtio_mem_refs){ 0 };
}

/* Hand the references of @from to @to (empty before); @from is empty afterwards. */
static inline void virtio_mem_refs_move(struct virtio_mem_refs *to, struct virtio_mem_refs *from)
{
	*to = *from;
	*from = (struct virtio_mem_refs){ 0 };
}

static inline uint64_t virtio_mem_generation(const struct virtio_mem *mem)
{
	return mem->ops->generation(mem->opaque);
}

static inline void virtio_mem_wait(const struct virtio_mem *mem, struct virtio_mem_waiter *waiter)
{
	if (mem->ops->wait)
		mem->ops->wait(mem->opaque, waiter);
}

static inline void virtio_mem_cancel_wait(const struct virtio_mem *mem,
					  struct virtio_mem_waiter *waiter)
{
	if (mem->ops->cancel_wait)
		mem->ops->cancel_wait(mem->opaque, waiter);
}

#endif
