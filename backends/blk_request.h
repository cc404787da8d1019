/* SPDX-License-Identifier: MIT */
/*
 * backends/blk_request.h: what a virtio-blk request chain says (virtio 1.2,
 * 5.2.6), decided once from the popped chain and checked against the disk
 * before any I/O starts. Pure: no I/O, no rings.
 */
#ifndef XVP_BACKENDS_BLK_REQUEST_H
#define XVP_BACKENDS_BLK_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtqueue.h"

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_SECTOR_SIZE		512
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* What the disk allows; checked against every request. */
struct blk_limits {
	uint64_t capacity;		/* sectors */
	bool readonly;
	uint32_t seg_max;		/* data segments per request */
	uint32_t align;			/* offsets and lengths of IN/OUT, bytes (512, or O_DIRECT's) */
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
};

enum blk_parse_result {
	BLK_PARSE_OK,		/* submit it */
	BLK_PARSE_COMPLETE,	/* answer at once with req->status */
	BLK_PARSE_MALFORMED,	/* the driver broke 5.2.6.1: the device needs reset */
};

struct blk_parsed {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;		/* the status byte, in guest memory */
	uint8_t status_value;		/* for BLK_PARSE_COMPLETE */
	/* IN/OUT: the data; GET_ID: where the ID goes. */
	struct iovec *data;
	unsigned int nr_data;
	uint64_t data_len;
	/* DISCARD/WRITE_ZEROES: the one range (max_*_seg is 1). */
	uint64_t range_sector;
	uint32_t range_sectors;
	bool unmap;
	const char *why;		/* for MALFORMED and refusals: a log line */
};

/*
 * Decide what @chain asks for. @data has room for limits->seg_max entries.
 * MALFORMED: a header shorter than 16 readable bytes, or no writable status
 * byte. COMPLETE with IOERR: sectors beyond the capacity, writes to a
 * read-only disk, lengths not a multiple of the alignment, too many
 * segments; UNSUPP: unknown types or flags.
 */
enum blk_parse_result blk_request_parse(const struct virtq_chain *chain, const struct blk_limits *limits,
					struct iovec *data, struct blk_parsed *req);

/* Copy the slice [offset, offset + len) of @iov into @out (at most @max entries); count or -1. */
int iov_slice(const struct iovec *iov, unsigned int nr, uint64_t offset, uint64_t len,
	      struct iovec *out, unsigned int max);

#endif
