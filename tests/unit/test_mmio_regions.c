// SPDX-License-Identifier: MIT
/* tests/unit/test_mmio_regions.c: adding, finding and removing an IOREQ server's MMIO ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen/mmio_regions.h"

static struct mmio_regions regions;

/* Distinct opaque pointers, so a test can tell which region it found. */
static int tag_a, tag_b, tag_c;

static const struct xen_mmio_ops dummy_ops;

static int setup(void **state)
{
	(void)state;
	memset(&regions, 0xaa, sizeof(regions));
	mmio_regions_init(&regions);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mmio_regions_free(&regions);
	return 0;
}

static int add(uint64_t base, uint64_t size, void *opaque)
{
	return mmio_regions_add(&regions, base, size, &dummy_ops, opaque);
}

/* The region found for [addr, addr + size), by its opaque pointer (NULL: none). */
static void *found(uint64_t addr, unsigned int size)
{
	const struct mmio_region *r = mmio_regions_find(&regions, addr, size);

	return r ? r->opaque : NULL;
}

static void assert_sorted_and_disjoint(void)
{
	for (size_t i = 1; i < regions.count; i++) {
		const struct mmio_region *prev = &regions.entries[i - 1];

		assert_true(prev->base < regions.entries[i].base);
		assert_true(prev->base + prev->size <= regions.entries[i].base);
	}
}

/* ---- add, find, remove */

static void test_empty_set_finds_nothing(void **state)
{
	(void)state;
	assert_int_equal(regions.count, 0);
	assert_null(found(0, 1));
	assert_null(found(0x10000000, 4));
	assert_null(found(UINT64_MAX, 1));
}

static void test_added_region_is_found_with_its_ops_and_opaque(void **state)
{
	const struct mmio_region *r;

	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(regions.count, 1);
	r = mmio_regions_find(&regions, 0x10000800, 4);
	assert_non_null(r);
	assert_int_equal(r->base, 0x10000000);
	assert_int_equal(r->size, 0x1000);
	assert_ptr_equal(r->ops, &dummy_ops);
	assert_ptr_equal(r->opaque, &tag_a);
}

static void test_find_at_first_and_last_byte(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_ptr_equal(found(0x10000000, 1), &tag_a);
	assert_ptr_equal(found(0x10000fff, 1), &tag_a);
	assert_null(found(0x0fffffff, 1));
	assert_null(found(0x10001000, 1));
}

static void test_eight_byte_access_at_region_end_is_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_ptr_equal(found(0x10000ff8, 8), &tag_a);
	assert_ptr_equal(found(0x10000ffc, 4), &tag_a);
	assert_ptr_equal(found(0x10000ffe, 2), &tag_a);
}

static void test_access_straddling_region_end_is_not_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_null(found(0x10000ff9, 8));
	assert_null(found(0x10000ffd, 4));
	assert_null(found(0x10000fff, 2));
}

static void test_access_straddling_region_start_is_not_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_null(found(0x0ffffffc, 8));
	assert_null(found(0x0fffffff, 2));
}

static void test_access_straddling_two_adjacent_regions_is_not_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10001000, 0x1000, &tag_b), 0);
	assert_null(found(0x10000ffc, 8));
	assert_null(found(0x10000fff, 2));
	assert_ptr_equal(found(0x10000ff8, 8), &tag_a);
	assert_ptr_equal(found(0x10001000, 8), &tag_b);
}

static void test_access_larger_than_region_is_not_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 4, &tag_a), 0);
	assert_ptr_equal(found(0x10000000, 4), &tag_a);
	assert_null(found(0x10000000, 8));
}

static void test_access_of_size_0_is_not_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_null(found(0x10000000, 0));
	assert_null(found(0x10000800, 0));
}

static void test_miss_in_gap_between_regions(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10003000, 0x1000, &tag_b), 0);
	assert_null(found(0x10001000, 4));
	assert_null(found(0x10002ffc, 4));
	assert_null(found(0x10004000, 4));
	assert_ptr_equal(found(0x10003000, 4), &tag_b);
}

static void test_removed_region_is_no_longer_found(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x20000000, 0x1000, &tag_b), 0);
	assert_int_equal(add(0x30000000, 0x1000, &tag_c), 0);
	assert_int_equal(mmio_regions_remove(&regions, 0x20000000, 0x1000), 0);
	assert_int_equal(regions.count, 2);
	assert_null(found(0x20000000, 4));
	assert_ptr_equal(found(0x10000000, 4), &tag_a);
	assert_ptr_equal(found(0x30000000, 4), &tag_c);
	assert_sorted_and_disjoint();
}

static void test_removed_range_can_be_added_again(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(mmio_regions_remove(&regions, 0x10000000, 0x1000), 0);
	assert_int_equal(regions.count, 0);
	assert_int_equal(add(0x10000000, 0x1000, &tag_b), 0);
	assert_ptr_equal(found(0x10000000, 4), &tag_b);
}

/* ---- refused adds */

static void test_add_overlapping_start_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x0ffff000, 0x1001, &tag_b), -EEXIST);
	assert_int_equal(regions.count, 1);
	assert_ptr_equal(found(0x10000000, 1), &tag_a);
}

static void test_add_overlapping_end_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10000fff, 0x1000, &tag_b), -EEXIST);
	assert_int_equal(regions.count, 1);
	assert_ptr_equal(found(0x10000fff, 1), &tag_a);
}

static void test_add_containing_existing_region_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x0f000000, 0x2000000, &tag_b), -EEXIST);
	assert_int_equal(regions.count, 1);
}

static void test_add_contained_in_existing_region_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10000100, 0x10, &tag_b), -EEXIST);
	assert_int_equal(add(0x10000000, 0x1000, &tag_b), -EEXIST);
	assert_int_equal(regions.count, 1);
}

static void test_add_bridging_two_regions_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10003000, 0x1000, &tag_b), 0);
	assert_int_equal(add(0x10000800, 0x3000, &tag_c), -EEXIST);
	assert_int_equal(regions.count, 2);
}

static void test_add_adjacent_on_both_sides_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(add(0x10001000, 0x1000, &tag_b), 0);
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(add(0x10002000, 0x1000, &tag_c), 0);
	assert_int_equal(regions.count, 3);
	assert_ptr_equal(found(0x10000fff, 1), &tag_a);
	assert_ptr_equal(found(0x10001000, 1), &tag_b);
	assert_ptr_equal(found(0x10002000, 1), &tag_c);
	assert_sorted_and_disjoint();
}

static void test_add_empty_range_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0, &tag_a), -EINVAL);
	assert_int_equal(regions.count, 0);
}

static void test_add_wrapping_range_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0xfffffffffffff000ULL, 0x2000, &tag_a), -EINVAL);
	assert_int_equal(add(2, UINT64_MAX, &tag_a), -EINVAL);
	assert_int_equal(regions.count, 0);
}

static void test_add_range_up_to_the_last_address_is_accepted(void **state)
{
	(void)state;
	/* [1, 2^64) is 2^64 - 1 bytes long: it ends at the last address, no wrap. */
	assert_int_equal(add(1, UINT64_MAX, &tag_a), 0);
	assert_ptr_equal(found(UINT64_MAX, 1), &tag_a);
	assert_ptr_equal(found(1, 8), &tag_a);
	assert_null(found(0, 1));
	assert_int_equal(add(0, 1, &tag_b), 0);
	assert_int_equal(add(0, 2, &tag_c), -EEXIST);
}

/* ---- refused removes */

static void test_remove_of_non_existent_range_is_refused(void **state)
{
	(void)state;
	assert_int_equal(mmio_regions_remove(&regions, 0x10000000, 0x1000), -ENOENT);
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(mmio_regions_remove(&regions, 0x20000000, 0x1000), -ENOENT);
	assert_int_equal(mmio_regions_remove(&regions, 0x0ffff000, 0x1000), -ENOENT);
	assert_int_equal(regions.count, 1);
}

static void test_remove_with_mismatched_size_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x1000, &tag_a), 0);
	assert_int_equal(mmio_regions_remove(&regions, 0x10000000, 0x800), -ENOENT);
	assert_int_equal(mmio_regions_remove(&regions, 0x10000000, 0x2000), -ENOENT);
	assert_int_equal(regions.count, 1);
	assert_ptr_equal(found(0x10000000, 4), &tag_a);
}

static void test_remove_inside_region_is_refused(void **state)
{
	(void)state;
	assert_int_equal(add(0x10000000, 0x2000, &tag_a), 0);
	assert_int_equal(mmio_regions_remove(&regions, 0x10001000, 0x1000), -ENOENT);
	assert_int_equal(regions.count, 1);
}

/* ---- many regions */

#define MANY 1000

static void test_many_regions_in_random_order_stay_sorted_and_findable(void **state)
{
	static uint64_t order[MANY];
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (size_t i = 0; i < MANY; i++)
		order[i] = i;
	/* Fisher-Yates with a fixed xorshift seed: the same order every run. */
	for (size_t i = MANY - 1; i > 0; i--) {
		size_t j;
		uint64_t t;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		j = (size_t)(rng % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	/* Region i covers [0x100000000 + i * 0x2000, +0x1000): a 4 KiB gap after each. */
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(add(0x100000000ULL + order[i] * 0x2000, 0x1000,
				     (void *)(uintptr_t)(order[i] + 1)), 0);
	assert_int_equal(regions.count, MANY);
	assert_sorted_and_disjoint();
	for (size_t i = 0; i < MANY; i++) {
		uint64_t base = 0x100000000ULL + i * 0x2000;

		assert_int_equal(regions.entries[i].base, base);
		assert_ptr_equal(found(base, 1), (void *)(uintptr_t)(i + 1));
		assert_ptr_equal(found(base + 0xff8, 8), (void *)(uintptr_t)(i + 1));
		assert_null(found(base + 0x1000, 1));
		assert_null(found(base + 0xffc, 8));
	}
	/* Every region refuses a duplicate, and the gaps stay free. */
	for (size_t i = 0; i < MANY; i += 97)
		assert_int_equal(add(0x100000000ULL + i * 0x2000 + 0x800, 0x1000, NULL), -EEXIST);
	/* Remove the even ones, in the shuffled order. */
	for (size_t i = 0; i < MANY; i++)
		if (order[i] % 2 == 0)
			assert_int_equal(mmio_regions_remove(&regions,
							     0x100000000ULL + order[i] * 0x2000,
							     0x1000), 0);
	assert_int_equal(regions.count, MANY / 2);
	assert_sorted_and_disjoint();
	for (size_t i = 0; i < MANY; i++) {
		uint64_t base = 0x100000000ULL + i * 0x2000;

		if (i % 2)
			assert_ptr_equal(found(base + 4, 4), (void *)(uintptr_t)(i + 1));
		else
			assert_null(found(base + 4, 4));
	}
}

/* ---- the top of the address space */

static void test_region_ending_at_2_64_minus_1_works(void **state)
{
	(void)state;
	assert_int_equal(add(0xfffffffffffff000ULL, 0x1000, &tag_a), 0);
	assert_ptr_equal(found(0xfffffffffffff000ULL, 1), &tag_a);
	assert_ptr_equal(found(0xffffffffffffffffULL, 1), &tag_a);
	assert_ptr_equal(found(0xfffffffffffffff8ULL, 8), &tag_a);
	assert_null(found(0xfffffffffffffff9ULL, 8));
	assert_null(found(0xffffffffffffffffULL, 2));
	assert_null(found(0xffffffffffffefffULL, 1));
	assert_int_equal(add(0xffffffffffffe000ULL, 0x1000, &tag_b), 0);
	assert_int_equal(add(0xfffffffffffff800ULL, 0x800, &tag_c), -EEXIST);
	assert_ptr_equal(found(0xffffffffffffefffULL, 1), &tag_b);
	assert_int_equal(mmio_regions_remove(&regions, 0xfffffffffffff000ULL, 0x1000), 0);
	assert_null(found(0xffffffffffffffffULL, 1));
}

static void test_region_at_address_0_works(void **state)
{
	(void)state;
	assert_int_equal(add(0, 0x1000, &tag_a), 0);
	assert_ptr_equal(found(0, 8), &tag_a);
	assert_ptr_equal(found(0xfff, 1), &tag_a);
	assert_int_equal(add(0, 1, &tag_b), -EEXIST);
	assert_int_equal(mmio_regions_remove(&regions, 0, 0x1000), 0);
	assert_null(found(0, 1));
}

static void test_free_leaves_an_empty_reusable_set(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < 20; i++)
		assert_int_equal(add(i * 0x1000, 0x1000, &tag_a), 0);
	mmio_regions_free(&regions);
	assert_int_equal(regions.count, 0);
	assert_null(regions.entries);
	assert_null(found(0, 1));
	assert_int_equal(add(0, 0x1000, &tag_b), 0);
	assert_ptr_equal(found(0, 1), &tag_b);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_empty_set_finds_nothing),
		TEST(test_added_region_is_found_with_its_ops_and_opaque),
		TEST(test_find_at_first_and_last_byte),
		TEST(test_eight_byte_access_at_region_end_is_found),
		TEST(test_access_straddling_region_end_is_not_found),
		TEST(test_access_straddling_region_start_is_not_found),
		TEST(test_access_straddling_two_adjacent_regions_is_not_found),
		TEST(test_access_larger_than_region_is_not_found),
		TEST(test_access_of_size_0_is_not_found),
		TEST(test_miss_in_gap_between_regions),
		TEST(test_removed_region_is_no_longer_found),
		TEST(test_removed_range_can_be_added_again),
		TEST(test_add_overlapping_start_is_refused),
		TEST(test_add_overlapping_end_is_refused),
		TEST(test_add_containing_existing_region_is_refused),
		TEST(test_add_contained_in_existing_region_is_refused),
		TEST(test_add_bridging_two_regions_is_refused),
		TEST(test_add_adjacent_on_both_sides_is_accepted),
		TEST(test_add_empty_range_is_refused),
		TEST(test_add_wrapping_range_is_refused),
		TEST(test_add_range_up_to_the_last_address_is_accepted),
		TEST(test_remove_of_non_existent_range_is_refused),
		TEST(test_remove_with_mismatched_size_is_refused),
		TEST(test_remove_inside_region_is_refused),
		TEST(test_many_regions_in_random_order_stay_sorted_and_findable),
		TEST(test_region_ending_at_2_64_minus_1_works),
		TEST(test_region_at_address_0_works),
		TEST(test_free_leaves_an_empty_reusable_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
