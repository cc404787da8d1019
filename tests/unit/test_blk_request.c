// SPDX-License-Identifier: MIT
/* tests/unit/test_blk_request.c: what backends/blk_request.c makes of virtio-blk chains (virtio 1.2, 5.2.6). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <string.h>

#include "backends/blk_request.h"

static const struct blk_limits disk = {
	.capacity = 2048,	/* 1 MiB */
	.seg_max = 4,
	.align = 512,
	.max_discard_sectors = 1024,
	.max_write_zeroes_sectors = 1024,
};

struct request {
	uint8_t header[16];
	uint8_t data[8192];
	uint8_t range[16];
	uint8_t status;
	struct virtq_chain chain;
	struct iovec data_iov[8];
	struct blk_parsed parsed;
};

static struct request r;

static void header(uint32_t type, uint64_t sector)
{
	memset(&r, 0, sizeof(r));
	type = htole32(type);
	sector = htole64(sector);
	memcpy(r.header, &type, 4);
	memcpy(r.header + 8, &sector, 8);
	r.chain.out[r.chain.nr_out++] = (struct iovec){ r.header, 16 };
	r.chain.out_bytes = 16;
}

static void add_out(void *base, size_t len)
{
	r.chain.out[r.chain.nr_out++] = (struct iovec){ base, len };
	r.chain.out_bytes += len;
}

static void add_in(void *base, size_t len)
{
	r.chain.in[r.chain.nr_in++] = (struct iovec){ base, len };
	r.chain.in_bytes += len;
}

static enum blk_parse_result parse_with(const struct blk_limits *limits)
{
	return blk_request_parse(&r.chain, limits, r.data_iov, &r.parsed);
}

static enum blk_parse_result parse(void)
{
	return parse_with(&disk);
}

static void test_read_takes_the_data_before_the_status_byte(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_IN, 8);
	add_in(r.data, 1024);
	add_in(r.data + 1024, 512);
	add_in(&r.status, 1);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.data_len, 1536);
	assert_int_equal(r.parsed.nr_data, 2);
	assert_ptr_equal(r.parsed.data[1].iov_base, r.data + 1024);
	assert_ptr_equal(r.parsed.status, &r.status);
	assert_int_equal(r.parsed.sector, 8);
}

static void test_status_byte_may_share_a_buffer_with_data(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_IN, 0);
	add_in(r.data, 513);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.data_len, 512);
	assert_ptr_equal(r.parsed.status, r.data + 512);
}

static void test_write_takes_the_data_after_the_header(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_OUT, 2047);
	add_out(r.data, 512);
	add_in(&r.status, 1);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.data_len, 512);
	assert_ptr_equal(r.parsed.data[0].iov_base, r.data);
}

static void test_header_split_across_descriptors_is_read_whole(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_OUT, 0x0102030405060708ULL & 0x3ff);
	r.chain.out[0].iov_len = 5;
	r.chain.out[1] = (struct iovec){ r.header + 5, 11 };
	r.chain.nr_out = 2;
	add_out(r.data, 512);
	add_in(&r.status, 1);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.sector, 0x0102030405060708ULL & 0x3ff);
	assert_int_equal(r.parsed.data_len, 512);
}

static void test_short_header_is_malformed(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_IN, 0);
	r.chain.out[0].iov_len = 8;
	r.chain.out_bytes = 8;
	add_in(&r.status, 1);
	assert_int_equal(parse(), BLK_PARSE_MALFORMED);
}

static void test_missing_status_byte_is_malformed(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_OUT, 0);
	add_out(r.data, 512);
	assert_int_equal(parse(), BLK_PARSE_MALFORMED);
	assert_null(r.parsed.status);
}

static void assert_answered(uint8_t status)
{
	assert_int_equal(parse(), BLK_PARSE_COMPLETE);
	assert_int_equal(r.parsed.status_value, status);
	assert_non_null(r.parsed.why);
}

static void test_sectors_beyond_the_end_fail(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_IN, 2047);
	add_in(r.data, 1024);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_OUT, 2048);
	add_out(r.data, 512);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_IOERR);
	/* A sector so large that sector + count wraps. */
	header(VIRTIO_BLK_T_IN, ~0ULL);
	add_in(r.data, 512);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_IOERR);
}

static void test_write_to_a_read_only_disk_fails(void **state)
{
	struct blk_limits readonly = disk;

	(void)state;
	readonly.readonly = true;
	header(VIRTIO_BLK_T_OUT, 0);
	add_out(r.data, 512);
	add_in(&r.status, 1);
	assert_int_equal(parse_with(&readonly), BLK_PARSE_COMPLETE);
	assert_int_equal(r.parsed.status_value, VIRTIO_BLK_S_IOERR);
}

static void test_partial_sectors_and_misalignment_fail(void **state)
{
	struct blk_limits direct = disk;

	(void)state;
	header(VIRTIO_BLK_T_IN, 0);
	add_in(r.data, 100);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_IOERR);
	direct.align = 4096;
	header(VIRTIO_BLK_T_IN, 1);
	add_in(r.data, 4096);
	add_in(&r.status, 1);
	assert_int_equal(parse_with(&direct), BLK_PARSE_COMPLETE);
	assert_int_equal(r.parsed.status_value, VIRTIO_BLK_S_IOERR);
}

static void test_more_segments_than_seg_max_fail(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_IN, 0);
	for (int i = 0; i < 5; i++)
		add_in(r.data + i * 512, 512);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_IOERR);
}

static void test_data_beyond_a_32_bit_used_length_fails(void **state)
{
	struct blk_limits big = disk;

	(void)state;
	/* The used length is data + status in 32 bits (2.7.8): 4 GiB of data cannot be described. */
	big.capacity = 1ULL << 40;
	header(VIRTIO_BLK_T_IN, 0);
	add_in(r.data, 1ULL << 31);	/* never dereferenced: refused before any I/O */
	add_in(r.data, 1ULL << 31);
	add_in(&r.status, 1);
	assert_int_equal(parse_with(&big), BLK_PARSE_COMPLETE);
	assert_int_equal(r.parsed.status_value, VIRTIO_BLK_S_IOERR);
}

static void test_unknown_type_is_unsupported(void **state)
{
	(void)state;
	header(99, 0);
	add_in(&r.status, 1);
	assert_answered(VIRTIO_BLK_S_UNSUPP);
}

static void test_get_id_is_limited_to_20_bytes(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_GET_ID, 0);
	add_in(r.data, 64);
	add_in(&r.status, 1);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.data_len, VIRTIO_BLK_ID_BYTES);
}

static void set_range(uint64_t sector, uint32_t count, uint32_t flags)
{
	sector = htole64(sector);
	count = htole32(count);
	flags = htole32(flags);
	memcpy(r.range, &sector, 8);
	memcpy(r.range + 8, &count, 4);
	memcpy(r.range + 12, &flags, 4);
	add_out(r.range, 16);
	add_in(&r.status, 1);
}

static void test_write_zeroes_reads_its_one_range(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	set_range(100, 28, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	assert_int_equal(parse(), BLK_PARSE_OK);
	assert_int_equal(r.parsed.range_sector, 100);
	assert_int_equal(r.parsed.range_sectors, 28);
	assert_true(r.parsed.unmap);
}

static void test_bad_ranges_are_refused(void **state)
{
	(void)state;
	header(VIRTIO_BLK_T_DISCARD, 0);
	set_range(0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);	/* unmap is not a discard flag */
	assert_answered(VIRTIO_BLK_S_UNSUPP);
	header(VIRTIO_BLK_T_DISCARD, 0);
	set_range(2040, 16, 0);					/* beyond the end */
	assert_answered(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_DISCARD, 0);
	set_range(0, 2000, 0);					/* beyond max_discard_sectors */
	assert_answered(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_DISCARD, 0);
	add_out(r.range, 16);					/* two ranges: max_discard_seg is 1 */
	set_range(0, 8, 0);
	assert_answered(VIRTIO_BLK_S_UNSUPP);
}

static void test_iov_slice_cuts_at_offsets(void **state)
{
	uint8_t a[10], b[10];
	struct iovec in[2] = { { a, 10 }, { b, 10 } }, out[2];

	(void)state;
	assert_int_equal(iov_slice(in, 2, 5, 10, out, 2), 2);
	assert_ptr_equal(out[0].iov_base, a + 5);
	assert_int_equal(out[0].iov_len, 5);
	assert_ptr_equal(out[1].iov_base, b);
	assert_int_equal(out[1].iov_len, 5);
	assert_int_equal(iov_slice(in, 2, 0, 20, out, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_takes_the_data_before_the_status_byte),
		cmocka_unit_test(test_status_byte_may_share_a_buffer_with_data),
		cmocka_unit_test(test_write_takes_the_data_after_the_header),
		cmocka_unit_test(test_header_split_across_descriptors_is_read_whole),
		cmocka_unit_test(test_short_header_is_malformed),
		cmocka_unit_test(test_missing_status_byte_is_malformed),
		cmocka_unit_test(test_sectors_beyond_the_end_fail),
		cmocka_unit_test(test_write_to_a_read_only_disk_fails),
		cmocka_unit_test(test_partial_sectors_and_misalignment_fail),
		cmocka_unit_test(test_more_segments_than_seg_max_fail),
		cmocka_unit_test(test_data_beyond_a_32_bit_used_length_fails),
		cmocka_unit_test(test_unknown_type_is_unsupported),
		cmocka_unit_test(test_get_id_is_limited_to_20_bytes),
		cmocka_unit_test(test_write_zeroes_reads_its_one_range),
		cmocka_unit_test(test_bad_ranges_are_refused),
		cmocka_unit_test(test_iov_slice_cuts_at_offsets),
	};

	return cmocka_run_group_tests_name("blk request parsing", tests, NULL, NULL);
}
