// SPDX-License-Identifier: MIT
/*
 * virtio/virtqueue.c: the device side of a split virtqueue (virtio 1.2, 2.7).
 *
 * Everything in the rings was written by a guest we do not trust, and its
 * other vCPUs may rewrite it while we read. So each guest field a decision
 * depends on is loaded once (the avail index, each avail ring entry, each
 * descriptor as a whole), checked in our own copy, and only the copy is
 * used. A broken rule is -EPROTO: the transport then sets
 * DEVICE_NEEDS_RESET, so nothing here tries to recover.
 */
#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define DESC_SIZE		16	/* 2.7.5: le64 addr, le32 len, le16 flags, le16 next */
#define USED_ELEM_SIZE		8	/* 2.7.8: le32 id, le32 len */
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING		4
#define AVAIL_FLAGS		0	/* in 16-bit units of vq->avail */
#define AVAIL_IDX		1
#define AVAIL_RING		2

/* Our copy of one descriptor, in host byte order. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct desc) == DESC_SIZE, "struct desc is the wire layout");

/* One chain being walked: where it goes and how much of the queue it used. */
struct walk {
	const struct virtqueue *vq;
	struct virtq_chain *chain;
	const char *name;
	unsigned int buffers;		/* buffer descriptors, direct and indirect */
};

/*
 * One guest can loop on a malformed ring: keep the journal readable. The
 * limit is the function's (struct virtqueue.log), so one function's flood
 * does not hide another's first line; virtq_pop() points this at it for the
 * walk (queues are served from one thread). A queue without one (unit
 * tests, fuzzing) shares the fallback.
 */
static struct log_ratelimit fallback_ratelimit;
static struct log_ratelimit *protocol_ratelimit = &fallback_ratelimit;

static int __attribute__((format(printf, 2, 3))) refuse(const char *name, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_ratelimited(protocol_ratelimit, LOG_LEVEL_WARN, "%s: virtqueue: %s; device needs reset",
			name ? name : "?", why);
	return -EPROTO;
}

/* Queue Size is a power of two (2.7), so this agrees with the 16-bit wrap of the indices. */
static unsigned int slot(const struct virtqueue *vq, uint16_t idx)
{
	return idx & (vq->size - 1u);
}

static volatile uint16_t *used16(const struct virtqueue *vq, size_t offset)
{
	return (volatile uint16_t *)(vq->used + offset);
}

static size_t avail_event_offset(const struct virtqueue *vq)
{
	return USED_RING + (size_t)USED_ELEM_SIZE * vq->size;
}

static void release_rings(struct virtqueue *vq)
{
	virtio_mem_release(vq->mem, &vq->ring_refs);
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

/*
 * The three rings, 2.7 "Virtqueue Part" sizes, for the current memory
 * generation. The old mappings go first: the new ones, of the same pages,
 * take the room they gave back in the budget.
 */
static int map_rings(struct virtqueue *vq)
{
	/* Read before translating: a change during translation makes us translate again. */
	uint64_t generation = virtio_mem_generation(vq->mem);
	void *desc, *avail, *used;
	int ret;

	release_rings(vq);
	vq->ring_refs.lasting = true;
	ret = virtio_mem_translate(vq->mem, vq->desc_addr, (uint64_t)DESC_SIZE * vq->size, false,
				   &vq->ring_refs, &desc);
	if (!ret)
		ret = virtio_mem_translate(vq->mem, vq->avail_addr, 6 + 2 * (uint64_t)vq->size, false,
					   &vq->ring_refs, &avail);
	if (!ret)
		ret = virtio_mem_translate(vq->mem, vq->used_addr, 6 + 8 * (uint64_t)vq->size, true,
					   &vq->ring_refs, &used);
	if (ret) {
		release_rings(vq);
		return ret == -EAGAIN ? ret : ret == -E2BIG ? -E2BIG : -EFAULT;
	}
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->mem_generation = generation;
	return 0;
}

/* Ring pointers may only be used after this returns 0. */
static int rings_current(struct virtqueue *vq)
{
	if (!vq->started)
		return -EINVAL;
	if (vq->desc && virtio_mem_generation(vq->mem) == vq->mem_generation)
		return 0;
	return map_rings(vq);
}

static void memory_ready(struct virtio_mem_waiter *waiter)
{
	struct virtqueue *vq =
		(struct virtqueue *)((char *)waiter - offsetof(struct virtqueue, mem_waiter));

	if (vq->started && vq->memory_ready)
		vq->memory_ready(vq, vq->memory_ready_opaque);
}

/* -EAGAIN from the memory: be told when to look again. */
static int wait_for_memory(struct virtqueue *vq)
{
	vq->mem_waiter.wake = memory_ready;
	virtio_mem_wait(vq->mem, &vq->mem_waiter);
	return -EAGAIN;
}

int virtq_start(struct virtqueue *vq)
{
	int ret;

	/* 2.7: "Queue Size value is always a power of 2", at most 32768. */
	if (vq->size == 0 || vq->size > VIRTQ_MAX_SIZE || (vq->size & (vq->size - 1)))
		return -EINVAL;
	/* 2.7: alignment 16 for the descriptor table, 2 for the avail ring, 4 for the used ring. */
	if (vq->desc_addr % 16 || vq->avail_addr % 2 || vq->used_addr % 4 || !vq->mem)
		return -EINVAL;
	virtq_stop(vq);
	ret = map_rings(vq);
	if (ret && ret != -EAGAIN)
		return ret;
	vq->started = true;
	return 0;
}

void virtq_stop(struct virtqueue *vq)
{
	if (vq->mem) {
		virtio_mem_cancel_wait(vq->mem, &vq->mem_waiter);
		release_rings(vq);
	}
	vq->started = false;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->mem_generation = 0;
}

/*
 * Copy descriptor @i of @table once. The compiler barrier stops the compiler
 * from reading the guest's copy again in place of ours (a double fetch it
 * would otherwise be free to generate); memcpy, because an indirect table
 * need not be aligned.
 */
static void read_desc(const volatile uint8_t *table, unsigned int i, struct desc *d)
{
	struct desc raw;

	memcpy(&raw, (const uint8_t *)table + (size_t)i * DESC_SIZE, sizeof(raw));
	__asm__ __volatile__("" ::: "memory");
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

/* @where names the descriptor in log lines. 0, -EAGAIN (wait for memory) or -EPROTO. */
static int guest_range(const struct walk *w, const char *where, unsigned int i,
		       uint64_t addr, uint32_t len, bool writable, void **p)
{
	int ret;

	if (len - 1 > UINT64_MAX - addr)
		return refuse(w->name, "%s %u: range 0x%" PRIx64 "+0x%" PRIx32 " wraps", where, i, addr, len);
	ret = virtio_mem_translate(w->vq->mem, addr, len, writable, &w->chain->refs, p);
	if (ret == 0 || ret == -EAGAIN)
		return ret;
	if (ret == -E2BIG)
		return refuse(w->name, "%s %u: 0x%" PRIx64 "+0x%" PRIx32 ": the request needs more guest "
			      "memory mapped at once than the mapping budget allows", where, i, addr, len);
	if (ret == -ENOMEM)
		return refuse(w->name, "%s %u: out of memory", where, i);
	return refuse(w->name, "%s %u: 0x%" PRIx64 "+0x%" PRIx32 " is not %sguest RAM", where, i,
		      addr, len, writable ? "writable " : "");
}

/* Append the buffer @d describes to the chain. */
static int add_buffer(struct walk *w, const struct desc *d, const char *where, unsigned int i)
{
	struct virtq_chain *chain = w->chain;
	bool writable = d->flags & VRING_DESC_F_WRITE;
	unsigned int *nr = writable ? &chain->nr_in : &chain->nr_out;
	struct iovec *iov;
	void *p;
	int ret;

	/* 2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the Queue Size". */
	if (++w->buffers > w->vq->size)
		return refuse(w->name, "%s %u: chain longer than the queue size %u", where, i,
			      w->vq->size);
	if (d->len == 0)
		return refuse(w->name, "%s %u: zero-length buffer", where, i);
	/* 2.7.4.2: "MUST place any device-writable descriptor elements after any device-readable". */
	if (!writable && chain->nr_in)
		return refuse(w->name, "%s %u: device-readable after device-writable", where, i);
	if (*nr == VIRTQ_CHAIN_MAX_SEGMENTS)
		return refuse(w->name, "%s %u: more than %u %s buffers", where, i,
			      VIRTQ_CHAIN_MAX_SEGMENTS, writable ? "writable" : "readable");
	ret = guest_range(w, where, i, d->addr, d->len, writable, &p);
	if (ret)
		return ret;
	iov = writable ? &chain->in[*nr] : &chain->out[*nr];
	iov->iov_base = p;
	iov->iov_len = d->len;
	(*nr)++;
	if (writable)
		chain->in_bytes += d->len;
	else
		chain->out_bytes += d->len;
	return 0;
}

/* 2.7.5.3: the table @ind refers to, entries chained by next from index 0. */
static int walk_indirect(struct walk *w, const struct desc *ind, unsigned int at)
{
	const char *name = w->name;
	unsigned int entries, i = 0, seen;
	void *table;
	struct desc d;
	int ret;

	/* 2.7.5.3.1: "MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT". */
	if (ind->flags & VRING_DESC_F_NEXT)
		return refuse(name, "descriptor %u: both INDIRECT and NEXT", at);
	if (!w->vq->indirect)
		return refuse(name, "descriptor %u: INDIRECT without VIRTIO_F_INDIRECT_DESC", at);
	if (ind->len == 0 || ind->len % DESC_SIZE)
		return refuse(name, "descriptor %u: indirect table length %" PRIu32, at, ind->len);
	entries = ind->len / DESC_SIZE;
	if (entries > w->vq->size)
		return refuse(name, "descriptor %u: indirect table of %u entries, queue size %u", at,
			      entries, w->vq->size);
	/* 2.7.5.3.2: the WRITE flag of the descriptor naming a table is ignored. */
	ret = guest_range(w, "indirect table at descriptor", at, ind->addr, ind->len, false, &table);
	if (ret)
		return ret;
	for (seen = 0;; seen++) {
		if (seen == entries)
			return refuse(name, "indirect table at descriptor %u: loop", at);
		read_desc(table, i, &d);
		/* 2.7.5.3.1: "MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an indirect descriptor". */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return refuse(name, "indirect descriptor %u: INDIRECT in an indirect table", i);
		ret = add_buffer(w, &d, "indirect descriptor", i);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= entries)
			return refuse(name, "indirect descriptor %u: next %u beyond the table", i, d.next);
		i = d.next;
	}
}

/*
 * 2.7.5.3.2: "zero or more normal chained descriptors followed by a single
 * descriptor with flags&VIRTQ_DESC_F_INDIRECT". The table has @size entries,
 * so a chain that visits more of them than that loops (2.7.5.2).
 */
static int walk_chain(struct walk *w, uint16_t head)
{
	const struct virtqueue *vq = w->vq;
	unsigned int i = head, seen;
	struct desc d;
	int ret;

	for (seen = 0;; seen++) {
		if (seen == vq->size)
			return refuse(w->name, "chain from head %u: loop or longer than the queue", head);
		read_desc(vq->desc, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(w, &d, i);
		ret = add_buffer(w, &d, "descriptor", i);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return refuse(w->name, "descriptor %u: next %u >= queue size %u", i, d.next,
				      vq->size);
		i = d.next;
	}
}

int virtq_pop(struct virtqueue *vq, struct virtq_chain *chain, const char *name)
{
	struct walk w = { .vq = vq, .chain = chain, .name = name };
	uint16_t avail_idx, pending, head;
	int ret;

	if (!vq->started)
		return 0;
	/* What the device left behind (it should have released or taken it). */
	virtio_mem_release(vq->mem, &chain->refs);
	ret = rings_current(vq);
	if (ret)
		return ret == -EAGAIN ? wait_for_memory(vq) : -EFAULT;
	protocol_ratelimit = vq->log ? vq->log : &fallback_ratelimit;
	avail_idx = le16toh(vq->avail[AVAIL_IDX]);
	/* 2.7.13: the driver fills the ring entry before the index; read them in that order. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	pending = avail_idx - vq->last_avail_idx;
	if (pending == 0)
		return 0;
	/* 2.7.6.1: idx never goes back, and the ring holds at most size entries. */
	if (pending > vq->size)
		return refuse(name, "avail idx %u is %u ahead of %u, queue size %u", avail_idx,
			      pending, vq->last_avail_idx, vq->size);
	head = le16toh(vq->avail[AVAIL_RING + slot(vq, vq->last_avail_idx)]);
	if (head >= vq->size)
		return refuse(name, "avail ring %u: head %u >= queue size %u", vq->last_avail_idx,
			      head, vq->size);
	chain->head = head;
	chain->nr_out = chain->nr_in = 0;
	chain->out_bytes = chain->in_bytes = 0;
	ret = walk_chain(&w, head);
	if (ret) {
		/* Not taken: the entry stays in the avail ring, and nothing stays mapped for it. */
		virtio_mem_release(vq->mem, &chain->refs);
		return ret == -EAGAIN ? wait_for_memory(vq) : ret;
	}
	vq->last_avail_idx++;
	vq->chains_popped++;
	return 1;
}

void virtq_unpop(struct virtqueue *vq)
{
	if (!vq->started)
		return;
	vq->last_avail_idx--;
	vq->chains_popped--;
}

void virtq_chain_release(struct virtqueue *vq, struct virtq_chain *chain)
{
	virtio_mem_release(vq->mem, &chain->refs);
}

void virtq_fill(struct virtqueue *vq, unsigned int nth, uint16_t head, uint32_t written)
{
	volatile uint32_t *elem;

	if (rings_current(vq))
		return;
	elem = (volatile uint32_t *)(vq->used + USED_RING +
				     (size_t)USED_ELEM_SIZE * slot(vq, (uint16_t)(vq->used_idx + nth)));
	elem[0] = htole32(head);
	elem[1] = htole32(written);
}

void virtq_flush(struct virtqueue *vq, unsigned int count)
{
	uint16_t before = vq->used_idx;

	if (rings_current(vq))
		return;
	/* 2.7.8.2: "The device MUST set len prior to updating the used idx". */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx = (uint16_t)(vq->used_idx + count);
	*used16(vq, USED_IDX) = htole16(vq->used_idx);
	/*
	 * Linux vhost_add_used_n: once used_idx has gone all the way round to
	 * signalled_used, comparing against it says nothing; interrupt next time.
	 */
	if ((uint16_t)(vq->signalled_used - before - 1) < count)
		vq->signalled_used_valid = false;
}

void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	virtq_fill(vq, 0, head, written);
	virtq_flush(vq, 1);
}

/* 2.7.7.2 with EVENT_IDX: interrupt when used idx moved past used_event since the last check. */
static bool used_event_crossed(struct virtqueue *vq)
{
	uint16_t used_event = le16toh(vq->avail[AVAIL_RING + vq->size]);
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	bool valid = vq->signalled_used_valid;

	/* As Linux vhost_notify: every check counts as a signal point. */
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	/* vring_need_event(): is used_event in [old, new)? */
	return (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
}

bool virtq_should_interrupt(struct virtqueue *vq)
{
	bool interrupt;

	if (rings_current(vq))
		return false;
	/*
	 * Our used idx store must be visible before we read the driver's
	 * suppression field, which it writes before re-reading used idx
	 * (2.7.14); otherwise both sides may decide the other will act.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		interrupt = used_event_crossed(vq);
	else
		interrupt = !(le16toh(vq->avail[AVAIL_FLAGS]) & VRING_AVAIL_F_NO_INTERRUPT);
	if (interrupt)
		vq->interrupts_requested++;
	return interrupt;
}

bool virtq_enable_notification(struct virtqueue *vq)
{
	uint16_t avail_idx;

	if (rings_current(vq))
		return false;
	/* 2.7.10.2: with EVENT_IDX flags stay 0 and avail_event asks for the next entry. */
	if (vq->event_idx)
		*used16(vq, avail_event_offset(vq)) = htole16(vq->last_avail_idx);
	else
		*used16(vq, USED_FLAGS) = htole16(0);	/* we never set anything but NO_NOTIFY */
	/*
	 * The request must be visible before we look at avail idx again: a
	 * buffer added before the driver saw it was not notified, and would
	 * sit there while we sleep.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx = le16toh(vq->avail[AVAIL_IDX]);
	return avail_idx != vq->last_avail_idx;
}

void virtq_disable_notification(struct virtqueue *vq)
{
	if (rings_current(vq))
		return;
	/*
	 * 2.7.10: with EVENT_IDX, leaving avail_event behind is what suppresses
	 * kicks (the driver only notifies when it crosses it); without it, the
	 * used ring's NO_NOTIFY flag asks the same.
	 */
	if (!vq->event_idx)
		*used16(vq, USED_FLAGS) = htole16(VRING_USED_F_NO_NOTIFY);
}

/* Copy at most @len bytes between the bytes of @iov from @offset on and @to or @from. */
static uint64_t copy_iov(const struct iovec *iov, unsigned int nr, uint64_t offset, uint64_t len,
			 uint8_t *to, const uint8_t *from)
{
	uint64_t done = 0, n;
	unsigned int i;

	for (i = 0; i < nr && done < len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - offset;
		if (n > len - done)
			n = len - done;
		if (to)
			memcpy(to + done, (const uint8_t *)iov[i].iov_base + offset, n);
		else
			memcpy((uint8_t *)iov[i].iov_base + offset, from + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

uint64_t virtq_chain_write(struct virtq_chain *chain, uint64_t offset, const void *src,
			   uint64_t len)
{
	return copy_iov(chain->in, chain->nr_in, offset, len, NULL, src);
}

uint64_t virtq_chain_read(const struct virtq_chain *chain, uint64_t offset, void *dst, uint64_t len)
{
	return copy_iov(chain->out, chain->nr_out, offset, len, dst, NULL);
}
