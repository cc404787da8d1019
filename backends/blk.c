// SPDX-License-Identifier: MIT
/*
 * backends/blk.c: virtio-blk (virtio 1.2, 5.2).
 *
 * Each queue has a pool of requests as large as the ring, so a request never
 * waits for memory. Chains are popped, parsed (blk_request.c) and submitted
 * to io_uring in a batch; completions come back through the event loop, where
 * the status byte is written, the chain returned and the ring polled again.
 * While a queue has I/O in flight the driver need not notify us (we look at
 * the ring on every completion), so notifications are suppressed until the
 * queue is idle: with EVENT_IDX, a Linux guest then kicks about once per idle
 * period instead of once per request.
 */
#include "backends/blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/blk_io.h"
#include "backends/blk_request.h"
#include "lib/log.h"

#define BLK_DEVICE_TYPE		2		/* 5: Device Types */
#define BLK_CLASS_CODE		0x010000	/* mass storage, SCSI: what guests expect of virtio-blk */
/* 5.2.3 feature bits. */
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
#define DRAIN_TIMEOUT_MS	5000

struct blk;

struct blk_request {
	struct blk_queue *queue;
	struct blk_request *next_free;
	uint16_t head;
	uint32_t epoch;			/* the device's reset epoch when it started */
	struct blk_parsed parsed;
	struct iovec *iov;		/* seg_max entries of the pool */
	struct iovec *io_iov;		/* what goes to the kernel: iov, or the bounce buffer */
	unsigned int io_nr;
	struct iovec bounce_iov;
	void *bounce;
	uint64_t offset;		/* file offset of what is left */
	uint64_t remaining;		/* bytes left (short I/O resubmits the rest) */
	int fallocate_mode;
};

struct blk_queue {
	struct blk *blk;
	unsigned int index;
	struct blk_request *requests;
	struct iovec *iov_storage;
	struct blk_request *free;
	unsigned int in_flight;
	bool completed;			/* pushed used entries since the last interrupt check */
};

struct blk {
	struct virtio_device *vdev;
	char name[32];
	char serial[VIRTIO_BLK_ID_BYTES];
	struct blk_image *image;
	struct blk_limits limits;
	struct blk_io *io;
	const struct virtio_mem *mem;
	uint16_t num_queues;
	uint16_t queue_size;
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
	struct virtq_chain chain;	/* scratch for virtq_pop() */
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

	if (blk->limits.readonly)
		return features | 1ULL << VIRTIO_BLK_F_RO;
	return features | 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
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
	if (was_async) {
		q->in_flight--;
		virtio_mem_unhold(q->blk->mem);
	}
	free(req->bounce);
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
	int fd = blk->image->fd;

	switch (req->parsed.type) {
	case VIRTIO_BLK_T_IN:
		return blk_io_readv(blk->io, fd, req->io_iov, req->io_nr, req->offset, req);
	case VIRTIO_BLK_T_OUT:
		return blk_io_writev(blk->io, fd, req->io_iov, req->io_nr, req->offset, req);
	case VIRTIO_BLK_T_FLUSH:
		return blk_io_fdatasync(blk->io, fd, req);
	default:
		return blk_io_fallocate(blk->io, fd, req->fallocate_mode, req->offset, req->remaining, req);
	}
}

/* Put the kernel's work for @req in the ring; false if it completed (failed) at once. */
static bool submit(struct blk *blk, struct blk_request *req)
{
	int ret = queue_io(blk, req);

	if (ret == -EAGAIN) {
		/* The ring holds every request of every queue, so this is rare: make room. */
		blk_io_submit(blk->io);
		ret = queue_io(blk, req);
	}
	if (ret) {
		fail_io(req, ret, true);
		return false;
	}
	return true;
}

/* O_DIRECT cannot reach guest memory (foreign mappings are VM_PFNMAP): go through our own. */
static int use_bounce_buffer(struct blk *blk, struct blk_request *req)
{
	uint64_t size = (req->remaining + 4095) & ~4095ULL;
	size_t align = blk->image->dio_mem_align > 4096 ? blk->image->dio_mem_align : 4096;

	if (posix_memalign(&req->bounce, align, size))
		return -ENOMEM;
	if (req->parsed.type == VIRTIO_BLK_T_OUT) {
		uint8_t *to = req->bounce;

		for (unsigned int i = 0; i < req->parsed.nr_data; i++) {
			memcpy(to, req->parsed.data[i].iov_base, req->parsed.data[i].iov_len);
			to += req->parsed.data[i].iov_len;
		}
	}
	req->bounce_iov = (struct iovec){ req->bounce, req->remaining };
	req->io_iov = &req->bounce_iov;
	req->io_nr = 1;
	return 0;
}

static int prepare_range(struct blk_request *req)
{
	req->offset = req->parsed.range_sector * VIRTIO_BLK_SECTOR_SIZE;
	req->remaining = (uint64_t)req->parsed.range_sectors * VIRTIO_BLK_SECTOR_SIZE;
	if (req->parsed.type == VIRTIO_BLK_T_DISCARD || req->parsed.unmap)
		req->fallocate_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else
		req->fallocate_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
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
	else if (blk->image->direct && req->remaining && use_bounce_buffer(blk, req)) {
		fail_io(req, -ENOMEM, false);
		return true;
	}
	q->in_flight++;
	virtio_mem_hold(blk->mem);
	return !submit(blk, req);
}

static void serve_queue(struct blk *blk, struct blk_queue *q)
{
	struct virtqueue *vq = virtio_queue(blk->vdev, q->index);

	if (blk->stopping || !virtio_queue_ready(blk->vdev, q->index))
		return;
	while (q->free) {
		int ret = virtq_pop(vq, &blk->chain, blk->name);

		if (ret < 0) {
			virtio_device_needs_reset(blk->vdev, ret == -EFAULT ? "rings left guest RAM" : NULL);
			break;
		}
		if (ret == 0) {
			/* Busy: the next completion looks again. Idle: ask for a notification. */
			if (q->in_flight) {
				virtq_disable_notification(vq);
				break;
			}
			if (!virtq_enable_notification(vq))
				break;
			continue;
		}
		{
			struct blk_request *req = q->free;

			q->free = req->next_free;
			start_request(blk, q, req);
		}
		if (!virtio_queue_ready(blk->vdev, q->index))
			break;	/* the request made the device need a reset */
	}
	/* Every request of the pool in flight: a completion will look at the ring. */
	if (!q->free)
		virtq_disable_notification(vq);
	blk_io_submit(blk->io);
	if (q->completed) {
		q->completed = false;
		virtio_queue_interrupt(blk->vdev, q->index);
	}
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

static void copy_bounce_to_guest(struct blk_request *req)
{
	const uint8_t *from = req->bounce;

	for (unsigned int i = 0; i < req->parsed.nr_data; i++) {
		memcpy(req->parsed.data[i].iov_base, from, req->parsed.data[i].iov_len);
		from += req->parsed.data[i].iov_len;
	}
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
			blk_io_submit(blk->io);
		return;
	}
	if ((uint64_t)result < req->remaining) {
		fail_io(req, 0, true);
		return;
	}
	if (req->bounce && req->parsed.type == VIRTIO_BLK_T_IN)
		copy_bounce_to_guest(req);
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
		if (result == -EOPNOTSUPP && (req->fallocate_mode & FALLOC_FL_ZERO_RANGE)) {
			/* Punching a hole reads back as zeroes too. */
			req->fallocate_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
			if (submit(blk, req))
				blk_io_submit(blk->io);
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
	for (unsigned int i = 0; i < blk->num_queues; i++)
		blk->queues[i].completed = false;
}

static bool blk_quiesced(struct virtio_device *vdev)
{
	struct blk *blk = virtio_backend(vdev);

	return blk_io_in_flight(blk->io) == 0;
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
	q->requests = calloc(blk->queue_size, sizeof(*q->requests));
	q->iov_storage = calloc((size_t)blk->queue_size * blk->limits.seg_max, sizeof(struct iovec));
	if (!q->requests || !q->iov_storage)
		return -ENOMEM;
	for (unsigned int i = 0; i < blk->queue_size; i++) {
		q->requests[i].iov = &q->iov_storage[(size_t)i * blk->limits.seg_max];
		q->requests[i].next_free = q->free;
		q->free = &q->requests[i];
	}
	return 0;
}

static void set_limits(struct blk *blk, const struct blk_config *config)
{
	struct blk_limits *l = &blk->limits;

	l->capacity = config->image->size / VIRTIO_BLK_SECTOR_SIZE;
	l->readonly = config->image->readonly;
	/* Header and status take two descriptors of a chain no longer than the queue (2.7.5.3.1). */
	l->seg_max = config->queue_size > 2 ? config->queue_size - 2u : 1u;
	l->align = config->image->direct ? config->image->dio_offset_align : VIRTIO_BLK_SECTOR_SIZE;
	l->max_discard_sectors = MAX_RANGE_SECTORS;
	l->max_write_zeroes_sectors = MAX_RANGE_SECTORS;
}

static void free_blk(struct blk *blk)
{
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		free(blk->queues[i].requests);
		free(blk->queues[i].iov_storage);
	}
	blk_io_destroy(blk->io);
	free(blk);
}

int blk_create(struct virtio_device **out, const struct blk_config *config,
	       const struct virtio_mem *mem, struct event_base *base)
{
	struct blk *blk = calloc(1, sizeof(*blk));
	struct virtio_device_info info = {
		.device_type = BLK_DEVICE_TYPE,
		.class_code = BLK_CLASS_CODE,
		.num_queues = config->num_queues,
		.queue_size = config->queue_size,
		.config_size = BLK_CONFIG_SIZE,
	};
	int ret = 0;

	if (!blk)
		return -ENOMEM;
	snprintf(blk->name, sizeof(blk->name), "%s", config->name);
	/* GET_ID: NUL-padded to 20 bytes, not necessarily terminated (5.2.6). */
	memcpy(blk->serial, config->serial, strnlen(config->serial, sizeof(blk->serial)));
	blk->image = config->image;
	blk->mem = mem;
	blk->num_queues = config->num_queues;
	blk->queue_size = config->queue_size;
	info.name = blk->name;
	set_limits(blk, config);
	for (unsigned int i = 0; i < config->num_queues && !ret; i++)
		ret = create_queue(blk, &blk->queues[i], i);
	if (!ret)
		ret = blk_io_create(&blk->io, (unsigned int)config->num_queues * config->queue_size,
				    blk->image->fd, base,
				    on_complete, on_batch_done, blk);
	if (!ret)
		ret = virtio_pci_create(&blk->vdev, &info, &blk_ops, blk, mem);
	if (ret) {
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
	blk_io_drain(blk->io, DRAIN_TIMEOUT_MS);
	virtio_pci_destroy(vdev);
	free_blk(blk);
}
