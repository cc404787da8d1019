/* SPDX-License-Identifier: MIT */
/*
 * backends/blk.h: virtio-blk (virtio 1.2, 5.2) on a disk (backends/disk.h):
 * today a raw image file or block device, with io_uring.
 */
#ifndef XVP_BACKENDS_BLK_H
#define XVP_BACKENDS_BLK_H

#include <stdint.h>

#include "backends/backend.h"
#include "backends/blk_image.h"
#include "backends/disk.h"
#include "backends/nbd_export.h"
#include "virtio/device.h"

struct event_base;

/* 5.2.6: header, data, status; a chain is no longer than the queue (2.7.5.3.1). */
#define BLK_QUEUE_SIZE_MIN	4
/* nbd=: how long an outage may last before requests fail (timeout=), in seconds. */
#define BLK_NBD_TIMEOUT_DEFAULT	30
#define BLK_NBD_TIMEOUT_MAX	3600

/* What --device blk,... sets beyond addr and queue-size, and the image open() opened. */
struct blk_options {
	char path[PATH_MAX];	/* path=FILE, or nbd=URI's URI */
	bool nbd;		/* ... the second */
	bool readonly;
	bool direct;
	char serial[21];	/* at most 20 bytes (5.2.6: GET_ID) */
	uint16_t queues;	/* 0: one per guest vCPU */
	uint64_t bounce_budget;	/* direct=on: bytes of bounce memory; 0: the default */
	uint32_t timeout;	/* nbd=: seconds an outage may last (timeout=) */
	bool timeout_set;	/* ... given (refused without nbd=) */
	union {			/* open() fills the one in use */
		struct blk_image image;
		struct nbd_export export;
	};
};

/* The blk type for the daemon's table (backends/blk_backend.c). */
extern const struct backend_type blk_backend;

struct blk_config {
	const char *name;		/* "blk0" */
	struct disk *disk;		/* the device owns it from blk_create() on, failing or not */
	const char *serial;		/* GET_ID, at most 20 bytes; "" for none */
	uint16_t num_queues;		/* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_size;		/* BLK_QUEUE_SIZE_MIN..VIRTQ_MAX_SIZE, a power of two */
	uint32_t size_max;		/* largest buffer guest memory maps at once; 0: no limit */
	uint64_t bounce_budget;		/* direct=on: bounce memory at most (0: BLK_BOUNCE_BUDGET_DEFAULT) */
};

int blk_create(struct virtio_device **out, const struct blk_config *config,
	       const struct virtio_mem *mem, struct event_base *base,
	       const struct virtio_transport *transport);
/* Completes what is in flight (bounded wait), then frees. */
void blk_destroy(struct virtio_device *vdev);

#endif
