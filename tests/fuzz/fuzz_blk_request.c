// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_blk_request.c: the virtio-blk request parser
 * (backends/blk_request.h) over a chain the fuzzer lays out: how many
 * device-readable and device-writable buffers, their lengths and bytes,
 * and the disk's limits.
 *
 * Input: the limits (capacity, read-only, seg_max, alignment, discard and
 * write-zeroes maxima), the number of readable and writable buffers, each
 * buffer's length and bytes, then an iov_slice() query. Each buffer is its
 * own allocation, so ASan sees a step outside it. The chain is what
 * virtq_pop() hands out: no empty buffer, byte totals that add up.
 * The verdict is recomputed here from virtio 1.2, 5.2.6 and compared; the
 * data iovecs must be exactly the request's data, in order.
 */
#include <endian.h>

#include "backends/blk_request.h"
#include "tests/fuzz/fuzz.h"

#define HEADER_SIZE	16
#define RANGE_SIZE	16
#define MAX_BUFFERS	32
#define MAX_SEG		128

static struct virtq_chain chain;

/* Where [p, p + len) starts in the byte stream of @iov, if it lies in one buffer. */
static bool stream_pos(const struct iovec *iov, unsigned int nr, const void *p, uint64_t len,
		       uint64_t *pos)
{
	uint64_t before = 0;

	for (unsigned int i = 0; i < nr; i++) {
		uintptr_t base = (uintptr_t)iov[i].iov_base, at = (uintptr_t)p;

		if (at >= base && at - base < iov[i].iov_len && len <= iov[i].iov_len - (at - base)) {
			*pos = before + (at - base);
			return true;
		}
		before += iov[i].iov_len;
	}
	return false;
}

/* How many buffers of @iov the bytes [start, start + len) touch. */
static unsigned int buffers_touched(const struct iovec *iov, unsigned int nr, uint64_t start,
				    uint64_t len)
{
	uint64_t at = 0;
	unsigned int count = 0;

	for (unsigned int i = 0; i < nr; at += iov[i].iov_len, i++)
		if (len && at < start + len && start < at + iov[i].iov_len)
			count++;
	return count;
}

/* The data iovecs are [start, start + data_len) of the stream, in order, at most seg_max of them. */
static void check_data(const struct iovec *iov, unsigned int nr, uint64_t start,
		       const struct blk_parsed *req, const struct blk_limits *limits)
{
	uint64_t pos = start, at;

	FUZZ_CHECK(req->nr_data <= limits->seg_max);
	for (unsigned int i = 0; i < req->nr_data; i++) {
		FUZZ_CHECK(req->data[i].iov_len > 0);
		FUZZ_CHECK(stream_pos(iov, nr, req->data[i].iov_base, req->data[i].iov_len, &at));
		FUZZ_CHECK(at == pos);
		pos += req->data[i].iov_len;
	}
	FUZZ_CHECK(pos - start == req->data_len);
}

static bool in_range(const struct blk_limits *limits, uint64_t sector, uint64_t count)
{
	return sector <= limits->capacity && count <= limits->capacity - sector;
}

/* 5.2.6: IN and OUT that may be submitted. */
static bool rw_acceptable(const struct blk_parsed *req, const struct blk_limits *limits)
{
	bool out = req->type == VIRTIO_BLK_T_OUT;
	uint64_t len = out ? chain.out_bytes - HEADER_SIZE : chain.in_bytes - 1;
	unsigned int pieces = out ? buffers_touched(chain.out, chain.nr_out, HEADER_SIZE, len)
				  : buffers_touched(chain.in, chain.nr_in, 0, len);

	return !(out && limits->readonly) && len % limits->align == 0 &&
	       req->sector % (limits->align / VIRTIO_BLK_SECTOR_SIZE) == 0 &&
	       in_range(limits, req->sector, len / VIRTIO_BLK_SECTOR_SIZE) && pieces <= limits->seg_max;
}

static void check_ok(const struct blk_parsed *req, const struct blk_limits *limits)
{
	uint8_t range[RANGE_SIZE];
	uint64_t sector;
	uint32_t sectors, flags;

	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		FUZZ_CHECK(rw_acceptable(req, limits));
		check_data(chain.in, chain.nr_in, 0, req, limits);
		FUZZ_CHECK(req->data_len == chain.in_bytes - 1);
		break;
	case VIRTIO_BLK_T_OUT:
		FUZZ_CHECK(rw_acceptable(req, limits));
		check_data(chain.out, chain.nr_out, HEADER_SIZE, req, limits);
		FUZZ_CHECK(req->data_len == chain.out_bytes - HEADER_SIZE);
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;
	case VIRTIO_BLK_T_GET_ID:
		FUZZ_CHECK(req->data_len == (chain.in_bytes - 1 < VIRTIO_BLK_ID_BYTES ?
					     chain.in_bytes - 1 : VIRTIO_BLK_ID_BYTES));
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		FUZZ_CHECK(!limits->readonly && chain.out_bytes == HEADER_SIZE + RANGE_SIZE);
		FUZZ_CHECK(virtq_chain_read(&chain, HEADER_SIZE, range, RANGE_SIZE) == RANGE_SIZE);
		memcpy(&sector, range, 8);
		memcpy(&sectors, range + 8, 4);
		memcpy(&flags, range + 12, 4);
		FUZZ_CHECK(req->range_sector == le64toh(sector) && req->range_sectors == le32toh(sectors));
		FUZZ_CHECK(in_range(limits, req->range_sector, req->range_sectors));
		FUZZ_CHECK(req->range_sectors <= (req->type == VIRTIO_BLK_T_DISCARD ?
						  limits->max_discard_sectors :
						  limits->max_write_zeroes_sectors));
		FUZZ_CHECK(req->unmap == (le32toh(flags) == VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP));
		FUZZ_CHECK(!req->unmap || req->type == VIRTIO_BLK_T_WRITE_ZEROES);
		break;
	default:
		FUZZ_CHECK(!"an unknown type is submitted");
	}
}

static void check_parse(const struct blk_limits *limits, struct iovec *data)
{
	struct blk_parsed req;
	enum blk_parse_result result = blk_request_parse(&chain, limits, data, &req);
	const struct iovec *last = chain.nr_in ? &chain.in[chain.nr_in - 1] : NULL;
	uint8_t header[HEADER_SIZE];
	uint32_t type;
	uint64_t sector;

	/* 5.2.6.1: a header of 16 readable bytes and a writable status byte, or the driver is broken. */
	FUZZ_CHECK((result == BLK_PARSE_MALFORMED) ==
		   (chain.out_bytes < HEADER_SIZE || !chain.in_bytes));
	if (result == BLK_PARSE_MALFORMED) {
		FUZZ_CHECK(req.why);
		return;
	}
	/* The status byte is the last writable byte. */
	FUZZ_CHECK(req.status == (uint8_t *)last->iov_base + last->iov_len - 1);
	virtq_chain_read(&chain, 0, header, HEADER_SIZE);
	memcpy(&type, header, 4);
	memcpy(&sector, header + 8, 8);
	FUZZ_CHECK(req.type == le32toh(type) && req.sector == le64toh(sector));
	if (result == BLK_PARSE_OK) {
		check_ok(&req, limits);
		return;
	}
	FUZZ_CHECK(result == BLK_PARSE_COMPLETE && req.why);
	FUZZ_CHECK(req.status_value == VIRTIO_BLK_S_IOERR || req.status_value == VIRTIO_BLK_S_UNSUPP);
	if (req.type == VIRTIO_BLK_T_IN || req.type == VIRTIO_BLK_T_OUT)
		FUZZ_CHECK(req.status_value == VIRTIO_BLK_S_IOERR && !rw_acceptable(&req, limits));
	else if (req.type != VIRTIO_BLK_T_DISCARD && req.type != VIRTIO_BLK_T_WRITE_ZEROES)
		FUZZ_CHECK(req.status_value == VIRTIO_BLK_S_UNSUPP &&
			   req.type != VIRTIO_BLK_T_FLUSH && req.type != VIRTIO_BLK_T_GET_ID);
}

/* iov_slice() alone: a slice of the readable buffers, within @max pieces. */
static void check_slice(struct fuzz_input *in)
{
	struct iovec out[MAX_BUFFERS];
	uint64_t offset = fuzz_u16(in), len = fuzz_u16(in), pos;
	unsigned int max = fuzz_u8(in) % (MAX_BUFFERS + 1);
	int nr = iov_slice(chain.out, chain.nr_out, offset, len, out, max);
	uint64_t want = offset >= chain.out_bytes ? 0 : chain.out_bytes - offset;
	uint64_t total = 0;

	if (want > len)
		want = len;
	FUZZ_CHECK(nr == (buffers_touched(chain.out, chain.nr_out, offset, want) <= max ?
			  (int)buffers_touched(chain.out, chain.nr_out, offset, want) : -1));
	for (int i = 0; i < nr; i++) {
		FUZZ_CHECK(stream_pos(chain.out, chain.nr_out, out[i].iov_base, out[i].iov_len, &pos));
		FUZZ_CHECK(pos == offset + total && out[i].iov_len > 0);
		total += out[i].iov_len;
	}
	FUZZ_CHECK(nr < 0 || total == want);
}

static void read_limits(struct fuzz_input *in, struct blk_limits *limits)
{
	uint8_t how = fuzz_u8(in);

	limits->capacity = how & 0x80 ? fuzz_u64(in) : fuzz_u16(in);
	limits->readonly = how & 0x40;
	limits->seg_max = 1 + fuzz_u8(in) % MAX_SEG;
	limits->align = VIRTIO_BLK_SECTOR_SIZE << (how & 3);
	limits->max_discard_sectors = fuzz_u32(in);
	limits->max_write_zeroes_sectors = fuzz_u32(in);
}

static void add_buffers(struct fuzz_input *in, struct iovec *iov, unsigned int nr, uint64_t *bytes)
{
	*bytes = 0;
	for (unsigned int i = 0; i < nr; i++) {
		size_t len = 1 + fuzz_u16(in) % 4096;

		iov[i].iov_base = calloc(1, len);
		FUZZ_CHECK(iov[i].iov_base);
		iov[i].iov_len = len;
		fuzz_bytes(in, iov[i].iov_base, len < 64 ? len : 64);
		*bytes += len;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .size = size };
	struct blk_limits limits;
	struct iovec *segments;

	read_limits(&in, &limits);
	chain.head = 0;
	chain.nr_out = fuzz_u8(&in) % (MAX_BUFFERS + 1);
	chain.nr_in = fuzz_u8(&in) % (MAX_BUFFERS + 1);
	add_buffers(&in, chain.out, chain.nr_out, &chain.out_bytes);
	add_buffers(&in, chain.in, chain.nr_in, &chain.in_bytes);
	/* Exactly seg_max entries, as blk.c gives: ASan sees one more. */
	segments = calloc(limits.seg_max, sizeof(*segments));
	FUZZ_CHECK(segments);

	check_parse(&limits, segments);
	check_slice(&in);

	free(segments);
	for (unsigned int i = 0; i < chain.nr_out; i++)
		free(chain.out[i].iov_base);
	for (unsigned int i = 0; i < chain.nr_in; i++)
		free(chain.in[i].iov_base);
	return 0;
}
