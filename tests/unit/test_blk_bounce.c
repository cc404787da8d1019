// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_blk_bounce.c: a disk's bounce budget. Whatever is asked,
 * what is handed out stays inside the budget, aligned, and comes back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "backends/blk_bounce.h"

#define KiB	1024ULL
#define MiB	(1024 * KiB)

static void test_budgets_outside_the_range_are_refused(void **state)
{
	struct blk_bounce *b;

	(void)state;
	assert_int_equal(blk_bounce_create(&b, BLK_BOUNCE_BUDGET_MIN - 1, 4096), -EINVAL);
	assert_int_equal(blk_bounce_create(&b, BLK_BOUNCE_BUDGET_MAX + 1, 4096), -EINVAL);
	assert_int_equal(blk_bounce_create(&b, MiB, 3000), -EINVAL);
	assert_int_equal(blk_bounce_create(&b, MiB, 128 * KiB), -EINVAL);
	assert_int_equal(blk_bounce_create(&b, BLK_BOUNCE_BUDGET_MIN, 4096), 0);
	blk_bounce_destroy(b);
}

static void test_chunks_stay_inside_the_budget_and_come_back(void **state)
{
	struct blk_bounce *b;
	uint8_t *chunks[8];
	uint64_t len[8], total = 0;

	(void)state;
	assert_int_equal(blk_bounce_create(&b, 256 * KiB, 4096), 0);
	/* A request of 1 GiB gets a chunk, capped by the budget, aligned: not 1 GiB. */
	chunks[0] = blk_bounce_take(b, 1ULL << 30, &len[0]);
	assert_non_null(chunks[0]);
	assert_int_equal(len[0], 256 * KiB);
	assert_int_equal((uintptr_t)chunks[0] % 4096, 0);
	memset(chunks[0], 0xaa, len[0]);
	/* Nothing is left: the next request waits. */
	assert_null(blk_bounce_take(b, 4096, &len[1]));
	blk_bounce_give(b, chunks[0], len[0]);

	/* Small requests take what they need (one 16 KiB granule each), up to the budget. */
	for (unsigned int i = 0; i < 8; i++) {
		chunks[i] = blk_bounce_take(b, 4096, &len[i]);
		assert_non_null(chunks[i]);
		assert_int_equal(len[i], 4096);
		total += 16 * KiB;
	}
	assert_int_equal(total, 128 * KiB);
	/* A large one now gets the free rest, less than it asked: served in pieces. */
	{
		uint64_t rest;
		uint8_t *p = blk_bounce_take(b, MiB, &rest);

		assert_non_null(p);
		assert_int_equal(rest, 128 * KiB);
		assert_true(p >= chunks[7] + 16 * KiB || p + rest <= chunks[0]);
		blk_bounce_give(b, p, rest);
	}
	/* With a hole in the middle, the first free run is handed out. */
	blk_bounce_give(b, chunks[3], len[3]);
	blk_bounce_give(b, chunks[4], len[4]);
	{
		uint64_t got;
		uint8_t *p = blk_bounce_take(b, MiB, &got);

		assert_ptr_equal(p, chunks[3]);
		assert_int_equal(got, 32 * KiB);
		blk_bounce_give(b, p, got);
	}
	for (unsigned int i = 0; i < 8; i++)
		if (i != 3 && i != 4)
			blk_bounce_give(b, chunks[i], len[i]);
	/* All of it back: one chunk of the whole budget again. */
	chunks[0] = blk_bounce_take(b, 256 * KiB, &len[0]);
	assert_non_null(chunks[0]);
	assert_int_equal(len[0], 256 * KiB);
	blk_bounce_destroy(b);
}

static void test_no_chunk_is_larger_than_the_chunk_maximum(void **state)
{
	struct blk_bounce *b;
	uint64_t a_len, b_len;
	void *a, *second;

	(void)state;
	assert_int_equal(blk_bounce_create(&b, 16 * MiB, 512), 0);
	a = blk_bounce_take(b, 64 * MiB, &a_len);
	second = blk_bounce_take(b, 64 * MiB, &b_len);
	assert_non_null(a);
	assert_non_null(second);
	assert_int_equal(a_len, BLK_BOUNCE_CHUNK_MAX);
	assert_int_equal(b_len, BLK_BOUNCE_CHUNK_MAX);
	blk_bounce_give(b, a, a_len);
	blk_bounce_give(b, second, b_len);
	blk_bounce_destroy(b);
}

static void test_copy_crosses_buffer_boundaries_at_an_offset(void **state)
{
	uint8_t one[5], two[3], three[8], flat[6];
	const struct iovec iov[] = {
		{ one, sizeof(one) }, { two, sizeof(two) }, { three, sizeof(three) },
	};

	(void)state;
	memset(one, 1, sizeof(one));
	memset(two, 2, sizeof(two));
	memset(three, 3, sizeof(three));
	/* Bytes 4..9 of the buffers: 1, 2, 2, 2, 3, 3. */
	blk_bounce_copy(iov, 3, 4, flat, sizeof(flat), false);
	assert_memory_equal(flat, ((uint8_t[]){ 1, 2, 2, 2, 3, 3 }), sizeof(flat));
	memset(flat, 9, sizeof(flat));
	blk_bounce_copy(iov, 3, 4, flat, sizeof(flat), true);
	assert_int_equal(one[3], 1);
	assert_int_equal(one[4], 9);
	assert_memory_equal(two, ((uint8_t[]){ 9, 9, 9 }), 3);
	assert_memory_equal(three, ((uint8_t[]){ 9, 9, 3, 3, 3, 3, 3, 3 }), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budgets_outside_the_range_are_refused),
		cmocka_unit_test(test_chunks_stay_inside_the_budget_and_come_back),
		cmocka_unit_test(test_no_chunk_is_larger_than_the_chunk_maximum),
		cmocka_unit_test(test_copy_crosses_buffer_boundaries_at_an_offset),
	};

	return cmocka_run_group_tests_name("blk bounce budget", tests, NULL, NULL);
}
