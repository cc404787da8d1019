// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_guest_memory.c: the mapping cache (xen/guest_memory*.c)
 * on its own, over the simulated hypervisor running in this process: what a
 * budget full of referenced memory answers, who is woken when it is released
 * (from the event loop), when waiting is pointless, and what stays mapped,
 * counted by the hypervisor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "tests/sim/hv_internal.h"
#include "xen/guest_memory.h"

#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(256ULL << 20)
#define BUCKET		GUEST_MEMORY_BUCKET_SIZE
#define BUDGET		(64ULL << 20)
#define BUDGET_BUCKETS	(BUDGET / BUCKET)
#define PAGE		4096ULL

static struct sim_hv *hv;

struct fixture {
	struct event_base *base;
	struct guest_memory *gm;
	struct sim_hv_state start;
	struct virtio_mem_refs sets[BUDGET_BUCKETS + 2];
};

/* One hypervisor for the group: the simulated libxen* keep one connection per process. */
static int group_setup(void **state)
{
	(void)state;
	hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .ram_size = RAM_SIZE });
	setenv(SIM_SOCKET_ENV, hv->socket_path, 1);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sim_hv_destroy(hv);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->base = event_base_new();
	assert_int_equal(guest_memory_create(&f->gm, 1, BUDGET, f->base), 0);
	sim_hv_get_state(hv, &f->start);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_state now;

	guest_memory_destroy(f->gm);
	sim_hv_get_state(hv, &now);
	/* Everything it mapped went back. */
	assert_int_equal(now.foreign_mapped_pages, f->start.foreign_mapped_pages);
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct sim_hv_state hv_state(void)
{
	struct sim_hv_state state;

	sim_hv_get_state(hv, &state);
	return state;
}

/* Translate 64 bytes in bucket @n of guest RAM for @refs. */
static int translate_bucket(struct fixture *f, unsigned int n, bool writable,
			    struct virtio_mem_refs *refs)
{
	void *p;

	return guest_memory_translate(f->gm, RAM_BASE + n * BUCKET + PAGE, 64, writable, refs, &p);
}

struct counting_waiter {
	struct virtio_mem_waiter waiter;
	unsigned int woken;
};

static void count_wake(struct virtio_mem_waiter *waiter)
{
	((struct counting_waiter *)waiter)->woken++;
}

static void test_full_budget_says_not_now_and_wakes_after_a_release(void **state)
{
	struct fixture *f = *state;
	struct counting_waiter w = { { .wake = count_wake }, 0 };
	struct virtio_mem_refs late = { 0 };

	/* Another device's requests in flight hold the whole budget, one bucket each. */
	for (unsigned int i = 0; i < BUDGET_BUCKETS; i++)
		assert_int_equal(translate_bucket(f, i, true, &f->sets[i]), 0);
	assert_int_equal(translate_bucket(f, BUDGET_BUCKETS, true, &late), -EAGAIN);
	assert_int_equal(late.count, 0);
	guest_memory_virtio(f->gm).ops->wait(f->gm, &w.waiter);

	/* Woken from the event loop after a release, never from inside it. */
	guest_memory_release(f->gm, &f->sets[3]);
	assert_int_equal(w.woken, 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(w.woken, 1);
	assert_int_equal(translate_bucket(f, BUDGET_BUCKETS, true, &late), 0);
	assert_true(hv_state().foreign_mapped_pages_peak - f->start.foreign_mapped_pages <=
		    BUDGET / PAGE);
	guest_memory_release(f->gm, &late);
	for (unsigned int i = 0; i < BUDGET_BUCKETS; i++)
		guest_memory_release(f->gm, &f->sets[i]);
	/* Woken once per wait, not once per release. */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(w.woken, 1);
}

static void test_a_set_larger_than_the_budget_gets_no_wait(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs *chain = &f->sets[0];
	void *p;

	/* One chain, nothing else held: waiting would never end. */
	for (unsigned int i = 0; i < BUDGET_BUCKETS; i++)
		assert_int_equal(translate_bucket(f, i, false, chain), 0);
	assert_int_equal(translate_bucket(f, BUDGET_BUCKETS, false, chain), -E2BIG);
	guest_memory_release(f->gm, chain);
	/* A single range beyond what is ever mapped at once. */
	assert_int_equal(guest_memory_translate(f->gm, RAM_BASE, GUEST_MEMORY_MAX_TRANSLATE + 1, false,
						chain, &p), -E2BIG);
}

static void test_unreferenced_buckets_are_evicted_and_reused(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs refs = { 0 };
	unsigned long calls;

	for (unsigned int i = 0; i < 3 * BUDGET_BUCKETS; i++) {
		assert_int_equal(translate_bucket(f, i % 100, true, &refs), 0);
		guest_memory_release(f->gm, &refs);
	}
	assert_true(guest_memory_stats(f->gm)->evictions > 0);
	assert_true(hv_state().foreign_mapped_pages_peak - f->start.foreign_mapped_pages <=
		    BUDGET / PAGE);
	/* Steady state: the same buckets again cost nothing. */
	calls = hv_state().foreign_map_calls;
	for (unsigned int i = 0; i < 1000; i++) {
		assert_int_equal(translate_bucket(f, i % 4, true, &refs), 0);
		guest_memory_release(f->gm, &refs);
	}
	assert_true(hv_state().foreign_map_calls - calls <= 4);
}

static void test_a_set_references_each_mapping_once(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs refs = { 0 };

	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(translate_bucket(f, i % 2, false, &refs), 0);
	assert_int_equal(refs.count, 2);
	guest_memory_release(f->gm, &refs);
	assert_int_equal(refs.count, 0);
}

/*
 * Rings: their own mappings. After an invalidation, released and
 * translated again, they fit even when everything else is held.
 */
static void test_lasting_set_is_mapped_again_in_the_room_it_gave_back(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs rings = { .lasting = true };
	void *p;

	assert_int_equal(guest_memory_translate(f->gm, RAM_BASE, 3 * PAGE, true, &rings, &p), 0);
	for (unsigned int i = 1; i < BUDGET_BUCKETS; i++)
		assert_int_equal(translate_bucket(f, i, true, &f->sets[i]), 0);
	/* No room for another bucket: a ring in a bucket of its own could not come back. */
	assert_int_equal(translate_bucket(f, BUDGET_BUCKETS, true, &f->sets[0]), -EAGAIN);
	guest_memory_invalidate(f->gm);
	guest_memory_release(f->gm, &rings);
	rings.lasting = true;
	assert_int_equal(guest_memory_translate(f->gm, RAM_BASE, 3 * PAGE, true, &rings, &p), 0);
	guest_memory_release(f->gm, &rings);
	for (unsigned int i = 1; i < BUDGET_BUCKETS; i++)
		guest_memory_release(f->gm, &f->sets[i]);
}

/* A read-only mapping in use when a writable translation comes: both stay until released. */
static void test_upgrade_of_a_referenced_read_only_bucket(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs reader = { 0 }, writer = { 0 };
	unsigned int read_only, writable;

	assert_int_equal(translate_bucket(f, 5, false, &reader), 0);
	assert_int_equal(translate_bucket(f, 5, true, &writer), 0);
	sim_hv_foreign_mappings(hv, RAM_BASE + 5 * BUCKET, &read_only, &writable);
	assert_int_equal(read_only, 1);
	assert_int_equal(writable, 1);
	guest_memory_release(f->gm, &reader);
	sim_hv_foreign_mappings(hv, RAM_BASE + 5 * BUCKET, &read_only, &writable);
	assert_int_equal(read_only, 0);
	assert_int_equal(writable, 1);
	/* Read-only translations use the read-write mapping from now on. */
	assert_int_equal(translate_bucket(f, 5, false, &reader), 0);
	sim_hv_foreign_mappings(hv, RAM_BASE + 5 * BUCKET, &read_only, &writable);
	assert_int_equal(read_only + writable, 1);
	guest_memory_release(f->gm, &reader);
	guest_memory_release(f->gm, &writer);
}

/*
 * The full ring of writes (tests/integration/test_blk.c): each request maps
 * its header read-only and its status byte writable, so the first request
 * in a bucket leaves a read-only mapping of it alive next to the writable
 * one until it completes. Dom0 that cannot back one more mapping (privcmd
 * gets no empty pages) is short of host memory, and the guest did nothing
 * wrong: the translation waits for a release instead of failing the
 * request (which made the device need a reset).
 */
static void test_a_map_dom0_cannot_back_waits_for_a_release(void **state)
{
	struct fixture *f = *state;
	struct counting_waiter w = { { .wake = count_wake }, 0 };
	struct virtio_mem_refs first = { 0 }, others = { 0 }, last = { 0 };

	sim_hv_limit_foreign_pages(hv, f->start.foreign_mapped_pages + 3 * BUCKET / PAGE);
	/* Request 0: header read-only, status writable, in bucket 0; the rest use the writable one. */
	assert_int_equal(translate_bucket(f, 0, false, &first), 0);
	assert_int_equal(translate_bucket(f, 0, true, &first), 0);
	assert_int_equal(translate_bucket(f, 0, false, &others), 0);
	/* The last request: its header in bucket 1 maps, its status byte finds no room. */
	assert_int_equal(translate_bucket(f, 1, false, &last), 0);
	assert_int_equal(translate_bucket(f, 1, true, &last), -EAGAIN);
	guest_memory_release(f->gm, &last);	/* as virtq_pop() gives the chain's back */
	guest_memory_virtio(f->gm).ops->wait(f->gm, &w.waiter);

	/* Request 0 completes: its read-only mapping goes, and the last request fits. */
	guest_memory_release(f->gm, &first);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(w.woken, 1);
	assert_int_equal(translate_bucket(f, 1, false, &last), 0);
	assert_int_equal(translate_bucket(f, 1, true, &last), 0);
	assert_true(hv_state().foreign_mapped_pages - f->start.foreign_mapped_pages <= 3 * BUCKET / PAGE);
	guest_memory_release(f->gm, &last);
	guest_memory_release(f->gm, &others);

	/* Unreferenced buckets are given back to make room, without waiting. */
	sim_hv_limit_foreign_pages(hv, f->start.foreign_mapped_pages + BUCKET / PAGE);
	assert_int_equal(translate_bucket(f, 7, true, &last), 0);
	guest_memory_release(f->gm, &last);
	sim_hv_limit_foreign_pages(hv, 0);
}

/* Dom0 short of pages with nothing else mapped: no release would come, so no wait either. */
static void test_a_map_dom0_cannot_back_alone_is_refused(void **state)
{
	struct fixture *f = *state;
	struct virtio_mem_refs refs = { 0 };

	sim_hv_limit_foreign_pages(hv, f->start.foreign_mapped_pages + BUCKET / PAGE - 1);
	assert_int_equal(translate_bucket(f, 2, true, &refs), -ENOMEM);
	assert_int_equal(refs.count, 0);
	sim_hv_limit_foreign_pages(hv, 0);
	assert_int_equal(translate_bucket(f, 2, true, &refs), 0);
	guest_memory_release(f->gm, &refs);
}

/*
 * A bucket's pages that are not RAM are refused wherever a range lies in
 * the bitmap that records them (64 pages a word): a hole at page 64 of a
 * bucket is met by a range from page 63, and ranges on either side of it,
 * across a word or not, are RAM.
 */
static void test_a_hole_is_refused_at_a_bitmap_word_boundary(void **state)
{
	struct fixture *f = *state;
	uint64_t bucket = RAM_BASE + 100 * BUCKET, hole = bucket + 64 * PAGE;
	struct virtio_mem_refs refs = { 0 };
	void *p;

	sim_hv_balloon_out(hv, 0, hole);	/* no server to tell: the p2m is what counts */
	assert_int_equal(guest_memory_translate(f->gm, hole - PAGE, 2 * PAGE, false, &refs, &p), -EFAULT);
	assert_int_equal(guest_memory_translate(f->gm, hole - 1, 2, false, &refs, &p), -EFAULT);
	assert_int_equal(guest_memory_translate(f->gm, hole, PAGE, false, &refs, &p), -EFAULT);
	assert_int_equal(guest_memory_translate(f->gm, bucket, 64 * PAGE, false, &refs, &p), 0);
	assert_int_equal(guest_memory_translate(f->gm, hole + PAGE, 100 * PAGE, false, &refs, &p), 0);
	assert_int_equal(guest_memory_translate(f->gm, bucket + 130 * PAGE, 64 * PAGE, false, &refs, &p), 0);
	guest_memory_release(f->gm, &refs);
	assert_int_equal(sim_hv_populate(hv, hole), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_full_budget_says_not_now_and_wakes_after_a_release),
		T(test_a_set_larger_than_the_budget_gets_no_wait),
		T(test_unreferenced_buckets_are_evicted_and_reused),
		T(test_a_set_references_each_mapping_once),
		T(test_lasting_set_is_mapped_again_in_the_room_it_gave_back),
		T(test_upgrade_of_a_referenced_read_only_bucket),
		T(test_a_map_dom0_cannot_back_waits_for_a_release),
		T(test_a_map_dom0_cannot_back_alone_is_refused),
		T(test_a_hole_is_refused_at_a_bitmap_word_boundary),
	};

	return cmocka_run_group_tests_name("guest memory cache", tests, group_setup, group_teardown);
}
