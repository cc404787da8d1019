/* SPDX-License-Identifier: MIT */
/*
 * virtio/virtqueue.h: the device side of a split virtqueue (virtio 1.2,
 * section 2.7), with indirect descriptors (2.7.5.3) and EVENT_IDX (2.7.7,
 * 2.7.10).
 *
 * The guest is hostile. Every index, descriptor, length and address it
 * wrote is validated; each descriptor is read exactly once into our own
 * memory before it is used (no double fetch); anything malformed makes
 * virtq_pop() return -EPROTO and the caller puts the device in
 * DEVICE_NEEDS_RESET.
 */
#ifndef XVP_VIRTIO_VIRTQUEUE_H
#define XVP_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/log.h"
#include "virtio/virtio_mem.h"

#define VIRTQ_MAX_SIZE		32768	/* 2.7: Queue Size is at most 32768 */

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY	1

/* Device-readable and device-writable buffers of one chain, in guest order. */
#define VIRTQ_CHAIN_MAX_SEGMENTS 1024

struct virtq_chain {
	uint16_t head;			/* the id to return in the used ring */
	/*
	 * What keeps the buffers mapped: the device releases it
	 * (virtq_chain_release) once it is done with them, or moves it into
	 * its request (virtio_mem_refs_move) and releases that.
	 */
	struct virtio_mem_refs refs;
	unsigned int nr_out;		/* device-readable (driver -> device) */
	unsigned int nr_in;		/* device-writable (device -> driver) */
	uint64_t out_bytes;
	uint64_t in_bytes;
	struct iovec out[VIRTQ_CHAIN_MAX_SEGMENTS];
	struct iovec in[VIRTQ_CHAIN_MAX_SEGMENTS];
};

struct virtqueue {
	/* Set by the transport before virtq_start(). */
	uint16_t size;			/* a power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_addr;		/* guest-physical, 16-byte aligned */
	uint64_t avail_addr;		/* 2-byte aligned */
	uint64_t used_addr;		/* 4-byte aligned */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	const struct virtio_mem *mem;
	struct log_ratelimit *log;	/* the function's, for ring violations; NULL: a shared one */

	/* Device state. */
	bool started;
	uint16_t last_avail_idx;	/* next avail entry we will take */
	uint16_t used_idx;		/* next used entry we will fill */
	uint16_t signalled_used;	/* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_used_valid;

	/*
	 * Set by the transport: called from the event loop when virtq_pop()
	 * returned -EAGAIN and guest memory may have been released since.
	 */
	void (*memory_ready)(struct virtqueue *vq, void *opaque);
	void *memory_ready_opaque;
	struct virtio_mem_waiter mem_waiter;

	/* Translated ring pointers, valid while mem_generation matches; ring_refs keeps them mapped. */
	struct virtio_mem_refs ring_refs;
	uint64_t mem_generation;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, ring[size] {id, len}, avail_event */
	volatile uint8_t *desc;		/* size descriptors of 16 bytes */

	/* Counters, for tests and benchmarks. */
	uint64_t chains_popped;
	uint64_t interrupts_requested;
};

/*
 * Check the layout (size a power of two, alignment, every ring inside guest
 * RAM) and start the queue with all indices at 0. 0 or -EINVAL / -EFAULT /
 * -E2BIG. When the mapping budget has no room for the rings now, the queue
 * starts and they are mapped by the first virtq_pop().
 */
int virtq_start(struct virtqueue *vq);
/* Forget the device state (device reset); the configuration stays. */
void virtq_stop(struct virtqueue *vq);

/*
 * Take the next available chain. 1: @chain filled (its iovecs point into
 * guest memory, mapped while chain->refs holds them); 0: nothing available;
 * -EAGAIN: not now, the mapping budget is full of memory other requests hold:
 * the chain stays in the ring and memory_ready() is called once some is
 * released (stop popping until then); -EPROTO: the guest broke the ring rules,
 * or one chain needs more guest memory mapped at once than the budget allows
 * (logged, rate-limited, with @name as context); -EFAULT: rings no longer
 * translatable.
 * A head out of range, a chain longer than the queue, a loop, a
 * descriptor with both NEXT and INDIRECT, an indirect descriptor inside an
 * indirect table or without VIRTIO_F_INDIRECT_DESC, an indirect table whose
 * length is 0 or not a multiple of 16 or longer than the queue allows, a
 * zero-length buffer, an address range that wraps or is not guest RAM, a
 * readable buffer after a writable one, an avail index more than
 * @size ahead: all -EPROTO.
 */
int virtq_pop(struct virtqueue *vq, struct virtq_chain *chain, const char *name);

/* Give back a chain popped earlier: it will be popped again next time (only the last one popped). */
void virtq_unpop(struct virtqueue *vq);
/* Drop what keeps @chain's buffers mapped: after its used entry is pushed, or it was given back. */
void virtq_chain_release(struct virtqueue *vq, struct virtq_chain *chain);

/* Return chain @head with @written bytes stored in its writable buffers. */
void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t written);
/*
 * The same for several chains the driver must see at once (virtio-net's
 * mergeable buffers of one frame, 5.1.6.4: a driver that finds fewer than
 * num_buffers used entries drops the frame): virtq_fill() writes the @nth
 * used entry after those published, virtq_flush() publishes @count of them.
 */
void virtq_fill(struct virtqueue *vq, unsigned int nth, uint16_t head, uint32_t written);
void virtq_flush(struct virtqueue *vq, unsigned int count);

/*
 * After one or more pushes: should the driver be interrupted? Follows
 * used_event with EVENT_IDX (2.7.10), VRING_AVAIL_F_NO_INTERRUPT otherwise.
 * True results are counted in interrupts_requested.
 */
bool virtq_should_interrupt(struct virtqueue *vq);

/*
 * Before going idle: ask the driver to notify us on the next buffer (with
 * EVENT_IDX: avail_event = last_avail_idx). Returns true if buffers became
 * available meanwhile (the caller must pop again rather than sleep).
 */
bool virtq_enable_notification(struct virtqueue *vq);

/*
 * While the device is busy (I/O in flight, it will look at the ring again on
 * completion) the driver need not notify it: without EVENT_IDX set
 * VRING_USED_F_NO_NOTIFY; with it, simply not moving avail_event does it.
 */
void virtq_disable_notification(struct virtqueue *vq);

/* Bytes of a chain's writable buffers helper: copy @len bytes from @src into chain->in at @offset. Returns bytes copied. */
uint64_t virtq_chain_write(struct virtq_chain *chain, uint64_t offset, const void *src, uint64_t len);
/* Copy up to @len bytes from chain->out at @offset into @dst. Returns bytes copied. */
uint64_t virtq_chain_read(const struct virtq_chain *chain, uint64_t offset, void *dst, uint64_t len);

#endif
