// SPDX-License-Identifier: MIT
/*
 * backends/blk.c: virtio-blk (virtio 1.2, 5.2).
 *
 * Each queue has a pool of requests as large as the ring, up to 256: chains
 * beyond that wait in the ring until a request completes, so a 32768-entry
 * queue costs no more than a 256-entry one. Chains are popped, parsed
 * (blk_request.c) and submitted to io_uring in a batch; completions come
 * back through the event loop, where the status byte is written, the chain
 * returned and the ring polled again.
 * While a queue has I/O in flight the driver need not notify us (we look at
 * the ring on every completion), so notifications are suppressed until the
 * queue is idle: with EVENT_IDX, a Linux guest then kicks about once per idle
 * period instead of once per request.
 */
#include "backends/blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/blk_bounce.h"
#include "backends/blk_request.h"
#include "backends/queue_loop.h"
#include "lib/log.h"

#define BLK_DEVICE_TYPE		2		/* 5: Device Types */
#define BLK_CLASS_CODE		0x010000	/* mass storage, SCSI: what guests expect of virtio-blk */
/* 5.2.3 feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_MQ		12
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
/* 5.2.4: struct virtio_blk_config up to write_zeroes_may_unmap and its padding. */
#define BLK_CONFIG_SIZE		60
#define MAX_RANGE_SECTORS	(UINT32_MAX / VIRTIO_BLK_SECTOR_SIZE)
/*
 * Data buffers per request: what Linux fills a 256-entry queue with, and
 * the per-request iovecs no larger whatever the queue size.
 */
#define BLK_SEG_MAX		254
_Static_assert(BLK_SEG_MAX + 2 <= VIRTQ_CHAIN_MAX_SEGMENTS, "a request of seg_max buffers is popped");
/* Requests in flight per queue at most (and io_uring entries: 64 queues of them fit its 32768). */
#define BLK_QUEUE_REQUESTS	256
#define DRAIN_TIMEOUT_MS	5000

struct blk;

struct blk_request {
	struct blk_queue *queue;
	struct blk_request *next_free;
	uint16_t head;
	uint32_t epoch;			/* the device's reset epoch when it started */
	struct virtio_mem_refs refs;	/* keeps its buffers mapped until it is answered */
	struct blk_parsed parsed;
	struct iovec *iov;		/* seg_max entries of the pool */
	struct iovec *io_iov;		/* what goes to the kernel: iov, or the bounce buffer */
	unsigned int io_nr;
	/* direct=on: the data goes through chunks of the device's bounce budget. */
	bool bounced;
	struct iovec bounce_iov;
	void *bounce;			/* the current chunk, NULL between chunks */
	uint64_t chunk;			/* its length */
	uint64_t done;			/* data bytes before it, already transferred */
	struct blk_request *next_waiting;
	uint64_t offset;		/* file offset of what is left */
	uint64_t remaining;		/* bytes left (short I/O resubmits the rest) */
	bool zero_unmap;		/* WRITE_ZEROES: the range may be deallocated */
};

struct blk_queue {
	struct blk *blk;
	unsigned int index;
	struct blk_request *requests;
	struct iovec *iov_storage;
	struct blk_request *free;
	unsigned int in_flight;
	bool completed;			/* pushed used entries since the last interrupt check */
	struct queue_service service;
};

struct blk {
	struct virtio_device *vdev;
	const struct virtio_transport *transport;
	char name[32];
	char serial[VIRTIO_BLK_ID_BYTES];
	struct disk *disk;		/* owned */
	struct blk_limits limits;
	const struct virtio_mem *mem;
	uint16_t num_queues;
	unsigned int queue_requests;	/* the pool of each queue */
	uint32_t size_max;
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
	struct virtq_chain chain;	/* scratch for virtq_pop() */
	struct blk_bounce *bounce;	/* direct=on only */
	struct blk_request *waiting;	/* for bounce memory, oldest first */
	struct blk_request **waiting_tail;
	uint32_t epoch;			/* bumped by every reset */
	bool stopping;
	struct log_ratelimit log;
};

/* ---- configuration (5.2.4) */

static uint64_t blk_features(struct virtio_device *vdev)
{
	struct blk *blk = virtio_backend(vdev);
	uint64_t features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			    1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_MQ;

	if (blk->size_max)
		features |= 1ULL << VIRTIO_BLK_F_SIZE_MAX;
	if (blk->limits.readonly)
		return features | 1ULL << VIRTIO_BLK_F_RO;
	/* Offered only where the disk can (an NBD server without trim or zero cannot). */
	if (blk->limits.max_discard_sectors)
		features |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (blk->limits.max_write_zeroes_sectors)
		features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	return features;
}

static void put32(uint8_t *config, unsigned int off, uint32_t value)
{
	value = htole32(value);
	memcpy(config + off, &value, 4);
}

static void blk_config_read(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	struct blk *blk = virtio_backend(vdev);
	uint8_t config[BLK_CONFIG_SIZE] = { 0 };
	uint64_t capacity = htole64(blk->limits.capacity);
	uint16_t num_queues = htole16(blk->num_queues);
	uint32_t align_sectors = blk->limits.align / VIRTIO_BLK_SECTOR_SIZE;

	memcpy(config + 0, &capacity, 8);
	put32(config, 8, blk->size_max);
	put32(config, 12, blk->limits.seg_max);
	put32(config, 20, blk->limits.align);		/* blk_size */
	memcpy(config + 34, &num_queues, 2);
	put32(config, 36, blk->limits.max_discard_sectors);
	put32(config, 40, 1);				/* max_discard_seg */
	put32(config, 44, align_sectors);		/* discard_sector_alignment */
	put32(config, 48, blk->limits.max_write_zeroes_sectors);
	put32(config, 52, 1);				/* max_write_zeroes_seg */
	config[56] = 1;					/* write_zeroes_may_unmap */
	memcpy(buf, config + off, off + len <= BLK_CONFIG_SIZE ? len : 0);
}

static void blk_config_write(struct virtio_device *vdev, uint32_t off, const void *buf, uint32_t len)
{
	/* Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE. */
	(void)vdev;
	(void)off;
	(void)buf;
	(void)len;
}

/* ---- finishing requests */

static void release(struct blk_queue *q, struct blk_request *req, bool was_async)
{
	if (was_async)
		q->in_flight--;
	virtio_mem_release(q->blk->mem, &req->refs);
	if (req->bounce)
		blk_bounce_give(q->blk->bounce, req->bounce, req->chunk);
	req->bounce = NULL;
	req->next_free = q->free;
	q->free = req;
}

static void finish(struct blk_request *req, uint8_t status, uint32_t used_len, bool was_async)
{
	struct blk_queue *q = req->queue;
	struct blk *blk = q->blk;

	/* A request from before a reset: its rings are gone, touch nothing of the guest's. */
	if (req->epoch == blk->epoch) {
		*req->parsed.status = status;
		virtq_push(virtio_queue(blk->vdev, q->index), req->head, used_len);
		q->completed = true;
	}
	release(q, req, was_async);
}

static uint32_t used_length(const struct blk_request *req, uint8_t status)
{
	/* 5.2.6: the device wrote the data (IN, GET_ID) and the status byte. */
	if (status == VIRTIO_BLK_S_OK &&
	    (req->parsed.type == VIRTIO_BLK_T_IN || req->parsed.type == VIRTIO_BLK_T_GET_ID))
		return (uint32_t)req->parsed.data_len + 1;
	return 1;
}

static void fail_io(struct blk_request *req, int result, bool was_async)
{
	struct blk *blk = req->queue->blk;

	log_ratelimited(&blk->log, LOG_LEVEL_ERROR, "%s: queue %u: request type %u at sector %llu: %s",
			blk->name, req->queue->index, req->parsed.type,
			(unsigned long long)req->parsed.sector,
			result ? strerror(-result) : "unexpected end of image");
	finish(req, VIRTIO_BLK_S_IOERR, 1, was_async);
}

/* ---- submitting */

static int queue_io(struct blk *blk, struct blk_request *req)
{
	struct disk *disk = blk->disk;

	switch (req->parsed.type) {
	case VIRTIO_BLK_T_IN:
		return disk->ops->readv(disk, req->io_iov, req->io_nr, req->offset, req);
	case VIRTIO_BLK_T_OUT:
		return disk->ops->writev(disk, req->io_iov, req->io_nr, req->offset, req);
	case VIRTIO_BLK_T_FLUSH:
		return disk->ops->flush(disk, req);
	case VIRTIO_BLK_T_DISCARD:
		return disk->ops->discard(disk, req->offset, req->remaining, req);
	default:
		return disk->ops->write_zeroes(disk, req->offset, req->remaining, req->zero_unmap, req);
	}
}

/* Put the kernel's work for @req in the ring; false if it completed (failed) at once. */
static bool submit(struct blk *blk, struct blk_request *req)
{
	int ret = queue_io(blk, req);

	if (ret == -EAGAIN) {
		/* The ring holds every request of every queue, so this is rare: make room. */
		blk->disk->ops->submit(blk->disk);
		ret = queue_io(blk, req);
	}
	if (ret) {
		fail_io(req, ret, true);
		return false;
	}
	return true;
}

/*
 * O_DIRECT cannot reach guest memory (foreign mappings are VM_PFNMAP): the
 * next chunk of @req goes through the bounce budget. False if it is all in use.
 */
static bool take_chunk(struct blk *blk, struct blk_request *req)
{
	req->bounce = blk_bounce_take(blk->bounce, req->parsed.data_len - req->done, &req->chunk);
	if (!req->bounce)
		return false;
	if (req->parsed.type == VIRTIO_BLK_T_OUT)
		blk_bounce_copy(req->parsed.data, req->parsed.nr_data, req->done, req->bounce, req->chunk,
				false);
	req->bounce_iov = (struct iovec){ req->bounce, req->chunk };
	req->io_iov = &req->bounce_iov;
	req->io_nr = 1;
	req->offset = req->parsed.sector * VIRTIO_BLK_SECTOR_SIZE + req->done;
	req->remaining = req->chunk;
	return true;
}

/* Submit the next chunk of @req, or queue it behind the requests already waiting for memory. */
static void bounce_next_chunk(struct blk *blk, struct blk_request *req)
{
	if (!blk->waiting && take_chunk(blk, req)) {
		submit(blk, req);
		return;
	}
	req->next_waiting = NULL;
	*blk->waiting_tail = req;
	blk->waiting_tail = &req->next_waiting;
}

/* Bounce memory was given back: start the waiting requests, oldest first, while it lasts. */
static void start_waiting(struct blk *blk)
{
	struct blk_request *req;

	while (!blk->stopping && (req = blk->waiting) && take_chunk(blk, req)) {
		blk->waiting = req->next_waiting;
		if (!blk->waiting)
			blk->waiting_tail = &blk->waiting;
		submit(blk, req);
	}
	blk->disk->ops->submit(blk->disk);
}

/* A reset: requests still waiting never touched the guest; they go back to the pool. */
static void drop_waiting(struct blk *blk)
{
	while (blk->waiting) {
		struct blk_request *req = blk->waiting;

		blk->waiting = req->next_waiting;
		release(req->queue, req, true);
	}
	blk->waiting_tail = &blk->waiting;
}

static int prepare_range(struct blk_request *req)
{
	req->offset = req->parsed.range_sector * VIRTIO_BLK_SECTOR_SIZE;
	req->remaining = (uint64_t)req->parsed.range_sectors * VIRTIO_BLK_SECTOR_SIZE;
	/* 5.2.6.2: VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP allows deallocating the range. */
	req->zero_unmap = req->parsed.unmap;
	return 0;
}

/* Serve what needs no I/O; true if @req was finished here. */
static bool finish_at_once(struct blk *blk, struct blk_request *req)
{
	struct blk_parsed *p = &req->parsed;
	struct iovec id[VIRTIO_BLK_ID_BYTES];
	int nr;

	if (p->type == VIRTIO_BLK_T_GET_ID) {
		nr = iov_slice(blk->chain.in, blk->chain.nr_in, 0, p->data_len, id, VIRTIO_BLK_ID_BYTES);
		for (int i = 0, done = 0; i < nr; done += (int)id[i].iov_len, i++)
			memcpy(id[i].iov_base, blk->serial + done, id[i].iov_len);
		finish(req, VIRTIO_BLK_S_OK, used_length(req, VIRTIO_BLK_S_OK), false);
		return true;
	}
	if ((p->type == VIRTIO_BLK_T_IN || p->type == VIRTIO_BLK_T_OUT) && p->data_len == 0) {
		finish(req, VIRTIO_BLK_S_OK, 1, false);
		return true;
	}
	if ((p->type == VIRTIO_BLK_T_DISCARD || p->type == VIRTIO_BLK_T_WRITE_ZEROES) &&
	    p->range_sectors == 0) {
		finish(req, VIRTIO_BLK_S_OK, 1, false);
		return true;
	}
	return false;
}

/* Start @req from the chain just popped; true if it was finished synchronously. */
static bool start_request(struct blk *blk, struct blk_queue *q, struct blk_request *req)
{
	enum blk_parse_result result = blk_request_parse(&blk->chain, &blk->limits, req->iov, &req->parsed);

	virtio_mem_refs_move(&req->refs, &blk->chain.refs);
	req->queue = q;
	req->head = blk->chain.head;
	req->epoch = blk->epoch;
	if (result == BLK_PARSE_MALFORMED) {
		virtio_device_needs_reset(blk->vdev, req->parsed.why);
		release(q, req, false);
		return false;
	}
	if (result == BLK_PARSE_COMPLETE) {
		log_ratelimited(&blk->log, LOG_LEVEL_DEBUG, "%s: sector %llu: %s", blk->name,
				(unsigned long long)req->parsed.sector, req->parsed.why);
		finish(req, req->parsed.status_value, 1, false);
		return true;
	}
	if (finish_at_once(blk, req))
		return true;
	req->io_iov = req->parsed.data;
	req->io_nr = req->parsed.nr_data;
	req->offset = req->parsed.sector * VIRTIO_BLK_SECTOR_SIZE;
	req->remaining = req->parsed.data_len;
	if (req->parsed.type == VIRTIO_BLK_T_DISCARD || req->parsed.type == VIRTIO_BLK_T_WRITE_ZEROES)
		prepare_range(req);
	req->bounced = req->remaining && blk->disk->geometry.direct &&
		       (req->parsed.type == VIRTIO_BLK_T_IN || req->parsed.type == VIRTIO_BLK_T_OUT);
	req->done = 0;
	q->in_flight++;
	if (req->bounced) {
		bounce_next_chunk(blk, req);
		return false;
	}
	return !submit(blk, req);
}

/* ---- the serve loop: passes of the shared queue service (virtio/queue_service.h) */

/* Every request of the pool in flight: a completion will look at the ring. Stopping: nothing new. */
static bool queue_has_room(struct queue_service *qs)
{
	struct blk_queue *q = qs->opaque;

	return q->free != NULL && !q->blk->stopping;
}

static bool queue_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct blk_queue *q = qs->opaque;
	struct blk_request *req = q->free;

	(void)chain;	/* start_request() parses blk->chain, where the service popped it */
	q->free = req->next_free;
	start_request(q->blk, q, req);
	return true;
}

/* Busy: the next completion looks again. Idle: ask for a notification. */
static bool queue_busy(struct queue_service *qs)
{
	struct blk_queue *q = qs->opaque;

	return q->in_flight != 0;
}

static void queue_pass_done(struct queue_service *qs)
{
	struct blk_queue *q = qs->opaque;
	struct blk *blk = q->blk;

	blk->disk->ops->submit(blk->disk);
	if (q->completed) {
		q->completed = false;
		virtio_queue_interrupt(blk->vdev, q->index);
	}
}

static const struct queue_service_ops queue_ops = {
	.has_room = queue_has_room,
	.serve = queue_serve,
	.busy = queue_busy,
	.pass_done = queue_pass_done,
};

static void serve_queue(struct blk *blk, struct blk_queue *q)
{
	if (!blk->stopping)
		queue_service_run(&q->service);
}

static void blk_queue_notify(struct virtio_device *vdev, unsigned int index)
{
	struct blk *blk = virtio_backend(vdev);

	if (index < blk->num_queues)
		serve_queue(blk, &blk->queues[index]);
}

/* ---- completions */

static void advance(struct blk_request *req, uint64_t done)
{
	while (done && req->io_nr) {
		if (done >= req->io_iov->iov_len) {
			done -= req->io_iov->iov_len;
			req->io_iov++;
			req->io_nr--;
			continue;
		}
		req->io_iov->iov_base = (uint8_t *)req->io_iov->iov_base + done;
		req->io_iov->iov_len -= done;
		done = 0;
	}
}

/* A chunk is done: copy it out (IN), give it back; true if the request has more to do. */
static bool chunk_done(struct blk *blk, struct blk_request *req)
{
	if (req->parsed.type == VIRTIO_BLK_T_IN)
		blk_bounce_copy(req->parsed.data, req->parsed.nr_data, req->done, req->bounce, req->chunk,
				true);
	blk_bounce_give(blk->bounce, req->bounce, req->chunk);
	req->bounce = NULL;
	req->done += req->chunk;
	return req->done < req->parsed.data_len;
}

static void complete_rw(struct blk *blk, struct blk_request *req, int result)
{
	if (result <= 0) {
		fail_io(req, result, true);
		return;
	}
	if ((uint64_t)result < req->remaining && !blk->stopping) {
		/* Short I/O: never truncate silently; ask for the rest. */
		advance(req, (uint64_t)result);
		req->offset += (uint64_t)result;
		req->remaining -= (uint64_t)result;
		if (submit(blk, req))
			blk->disk->ops->submit(blk->disk);
		return;
	}
	if ((uint64_t)result < req->remaining) {
		fail_io(req, 0, true);
		return;
	}
	if (req->bounced && chunk_done(blk, req)) {
		if (blk->stopping) {
			fail_io(req, 0, true);
			return;
		}
		bounce_next_chunk(blk, req);
		blk->disk->ops->submit(blk->disk);
		return;
	}
	finish(req, VIRTIO_BLK_S_OK, used_length(req, VIRTIO_BLK_S_OK), true);
}

static void on_complete(void *opaque, void *user, int result)
{
	struct blk *blk = opaque;
	struct blk_request *req = user;

	if (req->epoch != blk->epoch) {
		/* Started before a reset: nothing to answer, its rings are gone. */
		release(req->queue, req, true);
		return;
	}
	switch (req->parsed.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		complete_rw(blk, req, result);
		return;
	case VIRTIO_BLK_T_DISCARD:
		/* Discard is a hint (5.2.6.2): a file system without hole punching still answers OK. */
		if (result == -EOPNOTSUPP)
			result = 0;
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (result == -EOPNOTSUPP && !req->zero_unmap) {
			/* Zeroes that deallocate read back as zeroes too. */
			req->zero_unmap = true;
			if (submit(blk, req))
				blk->disk->ops->submit(blk->disk);
			return;
		}
		break;
	}
	if (result < 0)
		fail_io(req, result, true);
	else
		finish(req, VIRTIO_BLK_S_OK, 1, true);
}

static void on_batch_done(void *opaque)
{
	struct blk *blk = opaque;

	/* Requests waiting for bounce memory go before new ones. */
	if (blk->waiting)
		start_waiting(blk);
	for (unsigned int i = 0; i < blk->num_queues; i++)
		serve_queue(blk, &blk->queues[i]);
	/* serve_queue() stops early for a queue that is not ready: still interrupt for what completed. */
	for (unsigned int i = 0; i < blk->num_queues; i++) {
		if (blk->queues[i].completed) {
			blk->queues[i].completed = false;
			virtio_queue_interrupt(blk->vdev, i);
		}
	}
}

/* ---- reset and lifetime */

static void blk_reset(struct virtio_device *vdev)
{
	struct blk *blk = virtio_backend(vdev);

	/* Requests still in the kernel finish without touching the old rings. */
	blk->epoch++;
	drop_waiting(blk);
	for (unsigned int i = 0; i < blk->num_queues; i++)
		blk->queues[i].completed = false;
}

static bool blk_quiesced(struct virtio_device *vdev)
{
	struct blk *blk = virtio_backend(vdev);

	return blk->disk->ops->in_flight(blk->disk) == 0;
}

static const struct virtio_device_ops blk_ops = {
	.features = blk_features,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.quiesced = blk_quiesced,
};

static int create_queue(struct blk *blk, struct blk_queue *q, unsigned int index)
{
	q->blk = blk;
	q->index = index;
	q->requests = calloc(blk->queue_requests, sizeof(*q->requests));
	q->iov_storage = calloc((size_t)blk->queue_requests * blk->limits.seg_max, sizeof(struct iovec));
	if (!q->requests || !q->iov_storage)
		return -ENOMEM;
	for (unsigned int i = 0; i < blk->queue_requests; i++) {
		q->requests[i].iov = &q->iov_storage[(size_t)i * blk->limits.seg_max];
		q->requests[i].next_free = q->free;
		q->free = &q->requests[i];
	}
	return 0;
}

static void set_limits(struct blk *blk, const struct blk_config *config)
{
	struct blk_limits *l = &blk->limits;

	const struct disk_geometry *g = &config->disk->geometry;

	l->capacity = g->size / VIRTIO_BLK_SECTOR_SIZE;
	l->readonly = g->readonly;
	/* Header and status take two descriptors of a chain no longer than the queue (2.7.5.3.1). */
	l->seg_max = config->queue_size - 2u < BLK_SEG_MAX ? config->queue_size - 2u : BLK_SEG_MAX;
	l->align = g->offset_align > VIRTIO_BLK_SECTOR_SIZE ? g->offset_align : VIRTIO_BLK_SECTOR_SIZE;
	l->max_discard_sectors = g->discard ? MAX_RANGE_SECTORS : 0;
	l->max_write_zeroes_sectors = g->write_zeroes ? MAX_RANGE_SECTORS : 0;
}

/* Chunks start at file offsets and memory addresses O_DIRECT accepts. */
static uint32_t bounce_align(const struct disk_geometry *g)
{
	uint32_t align = g->offset_align > g->mem_align ? g->offset_align : g->mem_align;

	return align > 4096 ? align : 4096;
}

static void free_blk(struct blk *blk)
{
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		queue_loop_detach(&blk->queues[i].service);
		free(blk->queues[i].requests);
		free(blk->queues[i].iov_storage);
	}
	blk->disk->ops->destroy(blk->disk);
	blk_bounce_destroy(blk->bounce);
	free(blk);
}

int blk_create(struct virtio_device **out, const struct blk_config *config,
	       const struct virtio_mem *mem, struct event_base *base,
	       const struct virtio_transport *transport)
{
	struct virtio_device_info info = {
		.device_type = BLK_DEVICE_TYPE,
		.class_code = BLK_CLASS_CODE,
		.num_queues = config->num_queues,
		.queue_size = config->queue_size,
		.config_size = BLK_CONFIG_SIZE,
	};
	struct blk *blk;
	int ret = 0;

	if (config->queue_size < BLK_QUEUE_SIZE_MIN) {
		config->disk->ops->destroy(config->disk);
		return -EINVAL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		config->disk->ops->destroy(config->disk);
		return -ENOMEM;
	}
	snprintf(blk->name, sizeof(blk->name), "%s", config->name);
	/* GET_ID: NUL-padded to 20 bytes, not necessarily terminated (5.2.6). */
	memcpy(blk->serial, config->serial, strnlen(config->serial, sizeof(blk->serial)));
	blk->transport = transport;
	blk->disk = config->disk;
	blk->mem = mem;
	blk->waiting_tail = &blk->waiting;
	blk->num_queues = config->num_queues;
	blk->queue_requests = config->queue_size < BLK_QUEUE_REQUESTS ? config->queue_size :
								     BLK_QUEUE_REQUESTS;
	blk->size_max = config->size_max;
	info.name = blk->name;
	log_ratelimit_init(&blk->log, blk->name);
	set_limits(blk, config);
	for (unsigned int i = 0; i < config->num_queues && !ret; i++)
		ret = create_queue(blk, &blk->queues[i], i);
	if (!ret && blk->disk->geometry.direct)
		ret = blk_bounce_create(&blk->bounce, config->bounce_budget ? config->bounce_budget :
					BLK_BOUNCE_BUDGET_DEFAULT, bounce_align(&blk->disk->geometry));
	if (!ret)
		ret = blk->disk->ops->start(blk->disk, config->num_queues * blk->queue_requests, base,
					    on_complete, on_batch_done, blk);
	if (!ret)
		ret = transport->create(&blk->vdev, &info, &blk_ops, blk, mem);
	for (unsigned int i = 0; i < config->num_queues && !ret; i++) {
		struct blk_queue *q = &blk->queues[i];

		queue_service_init(&q->service, blk->vdev, i, &queue_ops, q, &blk->chain);
		ret = queue_loop_attach(&q->service, base);
	}
	if (ret) {
		if (blk->vdev)
			transport->destroy(blk->vdev);
		free_blk(blk);
		return ret;
	}
	*out = blk->vdev;
	return 0;
}

void blk_destroy(struct virtio_device *vdev)
{
	struct blk *blk;

	if (!vdev)
		return;
	blk = virtio_backend(vdev);
	/* Let in-flight I/O finish and be answered, but start nothing new. */
	blk->stopping = true;
	blk->disk->ops->drain(blk->disk, DRAIN_TIMEOUT_MS);
	blk->transport->destroy(vdev);
	log_ratelimit_flush(&blk->log);
	free_blk(blk);
}
