// SPDX-License-Identifier: MIT
/*
 * backends/blk_request.c: parsing and checking one virtio-blk request
 * (virtio 1.2, 5.2.6). The chain's buffers are already validated as guest
 * memory by virtq_pop(); this decides what they mean.
 */
#include "backends/blk_request.h"

#include <endian.h>
#include <string.h>

#define HEADER_SIZE	16	/* le32 type, le32 reserved, le64 sector */
#define RANGE_SIZE	16	/* le64 sector, le32 num_sectors, le32 flags */

int iov_slice(const struct iovec *iov, unsigned int nr, uint64_t offset, uint64_t len,
	      struct iovec *out, unsigned int max)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < nr && len; i++) {
		uint64_t take;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		if (count == max)
			return -1;
		take = iov[i].iov_len - offset;
		if (take > len)
			take = len;
		out[count].iov_base = (uint8_t *)iov[i].iov_base + offset;
		out[count].iov_len = take;
		count++;
		len -= take;
		offset = 0;
	}
	return (int)count;
}

static enum blk_parse_result complete(struct blk_parsed *req, uint8_t status, const char *why)
{
	req->status_value = status;
	req->why = why;
	return BLK_PARSE_COMPLETE;
}

/* True if [sector, sector + count) lies on the disk. */
static bool in_range(const struct blk_limits *limits, uint64_t sector, uint64_t count)
{
	return sector <= limits->capacity && count <= limits->capacity - sector;
}

static enum blk_parse_result parse_rw(const struct virtq_chain *chain, const struct blk_limits *limits,
				      struct iovec *data, struct blk_parsed *req)
{
	bool out = req->type == VIRTIO_BLK_T_OUT;
	int nr;

	/* 5.2.6: OUT data follows the header; IN data precedes the status byte. */
	req->data_len = out ? chain->out_bytes - HEADER_SIZE : chain->in_bytes - 1;
	if (out && limits->readonly)
		return complete(req, VIRTIO_BLK_S_IOERR, "write to a read-only disk");
	/* 2.7.8: the used length (data + status byte) is 32 bits. */
	if (req->data_len >= UINT32_MAX)
		return complete(req, VIRTIO_BLK_S_IOERR, "more data than a used length can describe");
	if (req->data_len % limits->align)
		return complete(req, VIRTIO_BLK_S_IOERR, "length not a multiple of the block size");
	if ((req->sector * VIRTIO_BLK_SECTOR_SIZE) % limits->align)
		return complete(req, VIRTIO_BLK_S_IOERR, "sector not aligned to the block size");
	if (!in_range(limits, req->sector, req->data_len / VIRTIO_BLK_SECTOR_SIZE))
		return complete(req, VIRTIO_BLK_S_IOERR, "sectors beyond the end of the disk");
	nr = out ? iov_slice(chain->out, chain->nr_out, HEADER_SIZE, req->data_len, data, limits->seg_max)
		 : iov_slice(chain->in, chain->nr_in, 0, req->data_len, data, limits->seg_max);
	if (nr < 0)
		return complete(req, VIRTIO_BLK_S_IOERR, "more data segments than seg_max");
	req->data = data;
	req->nr_data = (unsigned int)nr;
	return BLK_PARSE_OK;
}

static enum blk_parse_result parse_range(const struct virtq_chain *chain, const struct blk_limits *limits,
					 struct blk_parsed *req)
{
	bool zeroes = req->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint32_t max = zeroes ? limits->max_write_zeroes_sectors : limits->max_discard_sectors;
	uint8_t range[RANGE_SIZE];
	uint32_t flags;

	if (limits->readonly)
		return complete(req, VIRTIO_BLK_S_IOERR, "discard or write-zeroes on a read-only disk");
	/* A disk that cannot (max 0) did not offer the feature: the command is unsupported (5.2.6). */
	if (!max)
		return complete(req, VIRTIO_BLK_S_UNSUPP, "discard or write-zeroes the disk cannot do");
	/* max_discard_seg and max_write_zeroes_seg are 1 (5.2.4). */
	if (chain->out_bytes - HEADER_SIZE != RANGE_SIZE)
		return complete(req, VIRTIO_BLK_S_UNSUPP, "not exactly one range");
	virtq_chain_read(chain, HEADER_SIZE, range, RANGE_SIZE);
	memcpy(&req->range_sector, range, 8);
	memcpy(&req->range_sectors, range + 8, 4);
	memcpy(&flags, range + 12, 4);
	req->range_sector = le64toh(req->range_sector);
	req->range_sectors = le32toh(req->range_sectors);
	flags = le32toh(flags);
	/* 5.2.6.2: unknown flags, or unmap on discard, are unsupported. */
	if (flags & ~(uint32_t)(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0))
		return complete(req, VIRTIO_BLK_S_UNSUPP, "unsupported range flags");
	req->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if (req->range_sectors > max || !in_range(limits, req->range_sector, req->range_sectors))
		return complete(req, VIRTIO_BLK_S_IOERR, "range beyond the disk or the limit");
	return BLK_PARSE_OK;
}

static uint8_t *status_byte(const struct virtq_chain *chain)
{
	const struct iovec *last;

	if (chain->in_bytes < 1)
		return NULL;
	/* Writable buffers of length 0 do not pass virtq_pop(), so the last one has a byte. */
	last = &chain->in[chain->nr_in - 1];
	return (uint8_t *)last->iov_base + last->iov_len - 1;
}

enum blk_parse_result blk_request_parse(const struct virtq_chain *chain, const struct blk_limits *limits,
					struct iovec *data, struct blk_parsed *req)
{
	uint8_t header[HEADER_SIZE];

	memset(req, 0, sizeof(*req));
	req->status = status_byte(chain);
	/* 5.2.6.1: the header is device-readable and the status byte device-writable. */
	if (virtq_chain_read(chain, 0, header, HEADER_SIZE) != HEADER_SIZE || !req->status) {
		req->why = req->status ? "request header shorter than 16 readable bytes"
				       : "request without a writable status byte";
		return BLK_PARSE_MALFORMED;
	}
	memcpy(&req->type, header, 4);
	memcpy(&req->sector, header + 8, 8);
	req->type = le32toh(req->type);
	req->sector = le64toh(req->sector);
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(chain, limits, data, req);
	case VIRTIO_BLK_T_FLUSH:
		return BLK_PARSE_OK;
	case VIRTIO_BLK_T_GET_ID:
		req->data_len = chain->in_bytes - 1;
		if (req->data_len > VIRTIO_BLK_ID_BYTES)
			req->data_len = VIRTIO_BLK_ID_BYTES;
		return BLK_PARSE_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range(chain, limits, req);
	default:
		return complete(req, VIRTIO_BLK_S_UNSUPP, "unknown request type");
	}
}
