// SPDX-License-Identifier: MIT
/*
 * xen/guest_memory_refs.c: the references sets hold on the cache's
 * mappings, the waiters for room in the budget, and the cache as virtio/
 * sees it (virtio/virtio_mem.h).
 *
 * A set is a list of references, one per mapping: a mapping already in the
 * set carries the set's stamp, so a chain of many buffers in one bucket
 * costs one reference. References come from slabs and go back to a free
 * list, so steady-state I/O allocates nothing.
 */
#include "xen/guest_memory_private.h"

#include <errno.h>
#include <stdlib.h>

static struct virtio_mem_ref *new_ref(struct guest_memory *gm)
{
	struct virtio_mem_ref *ref;

	if (!gm->free_refs) {
		struct ref_slab *slab = calloc(1, sizeof(*slab));

		if (!slab)
			return NULL;
		slab->next = gm->slabs;
		gm->slabs = slab;
		for (unsigned int i = 0; i < REFS_PER_SLAB; i++) {
			slab->refs[i].next = gm->free_refs;
			gm->free_refs = &slab->refs[i];
		}
	}
	ref = gm->free_refs;
	gm->free_refs = ref->next;
	return ref;
}

int guest_memory_add_ref(struct guest_memory *gm, struct virtio_mem_refs *refs, struct mapping *m)
{
	struct virtio_mem_ref *ref;

	if (refs->count && m->last_stamp == refs->stamp)
		return 0;
	ref = new_ref(gm);
	if (!ref)
		return -ENOMEM;
	if (!refs->count)
		refs->stamp = ++gm->stamps;
	*ref = (struct virtio_mem_ref){ m, refs->first };
	refs->first = ref;
	refs->count++;
	m->refs++;
	m->last_stamp = refs->stamp;
	if (!refs->lasting)
		gm->transient_refs++;
	return 0;
}

static void forget_uncached(struct guest_memory *gm, struct mapping *m)
{
	struct mapping **link = &gm->uncached;

	while (*link != m)
		link = &(*link)->next;
	*link = m->next;
}

void guest_memory_release(struct guest_memory *gm, struct virtio_mem_refs *refs)
{
	struct virtio_mem_ref *ref = refs->first;

	while (ref) {
		struct virtio_mem_ref *next = ref->next;
		struct mapping *m = ref->mapping;

		/* Out of the cache (invalidated, replaced, or a lasting set's own): unmap with the last. */
		if (--m->refs == 0 && !m->cached) {
			forget_uncached(gm, m);
			guest_memory_unmap(gm, m);
		}
		if (!refs->lasting)
			gm->transient_refs--;
		ref->next = gm->free_refs;
		gm->free_refs = ref;
		ref = next;
	}
	if (refs->count && gm->waiters)
		event_active(gm->wake, EV_READ, 0);
	*refs = (struct virtio_mem_refs){ 0 };
}

static void waiter_add(struct guest_memory *gm, struct virtio_mem_waiter *w)
{
	if (w->waiting)
		return;
	w->waiting = true;
	w->next = gm->waiters;
	gm->waiters = w;
}

static void unlink_waiter(struct virtio_mem_waiter **list, struct virtio_mem_waiter *w)
{
	for (; *list; list = &(*list)->next) {
		if (*list == w) {
			*list = w->next;
			return;
		}
	}
}

static void waiter_cancel(struct guest_memory *gm, struct virtio_mem_waiter *w)
{
	if (!w->waiting)
		return;
	unlink_waiter(&gm->waiters, w);
	unlink_waiter(&gm->waking, w);
	w->waiting = false;
}

void guest_memory_wake_waiters(struct guest_memory *gm)
{
	/* Who waits again while being woken waits for the next release, not this one. */
	gm->waking = gm->waiters;
	gm->waiters = NULL;
	while (gm->waking) {
		struct virtio_mem_waiter *w = gm->waking;

		gm->waking = w->next;
		w->waiting = false;
		w->wake(w);
	}
}

void guest_memory_free_refs(struct guest_memory *gm)
{
	while (gm->slabs) {
		struct ref_slab *slab = gm->slabs;

		gm->slabs = slab->next;
		free(slab);
	}
	gm->free_refs = NULL;
}

/* ---- the virtio/ view */

static int virtio_translate(void *opaque, uint64_t gpa, uint64_t len, bool writable,
			    struct virtio_mem_refs *refs, void **ptr)
{
	return guest_memory_translate(opaque, gpa, len, writable, refs, ptr);
}

static void virtio_release(void *opaque, struct virtio_mem_refs *refs)
{
	guest_memory_release(opaque, refs);
}

static uint64_t virtio_generation(void *opaque)
{
	return guest_memory_generation(opaque);
}

static void virtio_wait(void *opaque, struct virtio_mem_waiter *waiter)
{
	waiter_add(opaque, waiter);
}

static void virtio_cancel_wait(void *opaque, struct virtio_mem_waiter *waiter)
{
	waiter_cancel(opaque, waiter);
}

static const struct virtio_mem_ops virtio_ops = {
	.translate = virtio_translate,
	.release = virtio_release,
	.generation = virtio_generation,
	.wait = virtio_wait,
	.cancel_wait = virtio_cancel_wait,
};

struct virtio_mem guest_memory_virtio(struct guest_memory *gm)
{
	return (struct virtio_mem){ &virtio_ops, gm };
}
