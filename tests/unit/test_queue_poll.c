// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_queue_poll.c: the adaptive window of watching an idle
 * queue (virtio/queue_poll.c), on a clock the test moves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "virtio/queue_poll.h"

#define MAX_NS	64000
#define T0	1000000		/* any time but 0 */

/* Watch from @now until the window closes, looking every @step ns: when it closed. */
static uint64_t watch_until_closed(struct queue_poll *p, uint64_t now, uint64_t step)
{
	assert_true(queue_poll_idle(p, now));
	while (queue_poll_idle(p, now))
		now += step;
	return now;
}

static void test_an_idle_queue_is_watched_for_the_window_then_given_up(void **state)
{
	struct queue_poll p;
	uint64_t closed;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	closed = watch_until_closed(&p, T0, 1000);
	assert_int_equal(closed - T0, MAX_NS);
	assert_false(queue_poll_watching(&p));
	assert_int_equal(p.watches, 1);
	assert_int_equal(p.hits, 0);
	assert_int_equal(p.watched_ns, MAX_NS);
	/* Found nothing: the next window is half as long. */
	assert_int_equal(p.window_ns, MAX_NS / 2);
}

static void test_windows_that_find_nothing_shrink_to_none(void **state)
{
	struct queue_poll p;
	uint64_t now = T0, spent = 0;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	for (int i = 0; i < 10; i++) {
		uint64_t closed;

		if (!queue_poll_idle(&p, now))
			break;
		closed = now;
		while (queue_poll_idle(&p, closed))
			closed += 500;
		spent += closed - now;
		now = closed + 1000000;
	}
	/* 64 + 32 + 16 + 8 + 4 us, then no more watching: an idle guest costs nothing. */
	assert_int_equal(p.window_ns, 0);
	assert_int_equal(p.watches, 5);
	assert_int_equal(p.watched_ns, spent);
	assert_true(spent <= 2 * MAX_NS);
	assert_false(queue_poll_idle(&p, now));
	assert_int_equal(p.watches, 5);
}

static void test_a_window_that_finds_a_chain_grows_to_the_maximum(void **state)
{
	struct queue_poll p;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	watch_until_closed(&p, T0, 1000);
	assert_int_equal(p.window_ns, MAX_NS / 2);
	assert_true(queue_poll_idle(&p, 2 * T0));
	queue_poll_found(&p, 2 * T0 + 3000);
	assert_false(queue_poll_watching(&p));
	assert_int_equal(p.hits, 1);
	assert_int_equal(p.window_ns, MAX_NS);
	/* Never beyond the maximum. */
	assert_true(queue_poll_idle(&p, 3 * T0));
	queue_poll_found(&p, 3 * T0 + 1000);
	assert_int_equal(p.window_ns, MAX_NS);
	assert_int_equal(p.watched_ns, MAX_NS + 3000 + 1000);
}

static void test_a_notification_soon_after_giving_up_opens_the_window_again(void **state)
{
	struct queue_poll p;
	uint64_t now = T0;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	while (p.window_ns) {
		now = watch_until_closed(&p, now, 1000);
		now += 1000000;
	}
	/* Given up: notifications back on. A kick long after says nothing. */
	assert_false(queue_poll_idle(&p, now));
	queue_poll_notified(&p, now + 10 * MAX_NS);
	assert_int_equal(p.window_ns, 0);
	/* One soon after the ring was given up: a window of the maximum would have caught it. */
	assert_false(queue_poll_idle(&p, now + 20 * MAX_NS));
	queue_poll_notified(&p, now + 20 * MAX_NS + 5000);
	assert_int_equal(p.window_ns, MAX_NS);
	assert_true(queue_poll_idle(&p, now + 30 * MAX_NS));
}

/*
 * The guest refills later than the maximum after each batch: every watch
 * misses and the kicks that follow come too late to reopen the window, so
 * watching costs a few halving windows and then nothing.
 */
static void test_a_guest_slower_than_the_maximum_costs_a_few_windows(void **state)
{
	struct queue_poll p;
	uint64_t now = T0;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	for (int batch = 0; batch < 100; batch++) {
		uint64_t idle = now;

		while (queue_poll_idle(&p, now))
			now += 1000;
		/* The kick comes 1.5 maxima after the batch. */
		now = idle + MAX_NS + MAX_NS / 2;
		queue_poll_notified(&p, now);
		now += 10000;
	}
	assert_int_equal(p.hits, 0);
	assert_int_equal(p.watches, 5);
	assert_true(p.watched_ns <= 2 * MAX_NS);
}

/* Kicks that come just after each miss, within the maximum: the window goes back to it and finds. */
static void test_a_guest_just_slower_than_the_window_gets_the_maximum(void **state)
{
	struct queue_poll p;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	watch_until_closed(&p, T0, 1000);
	assert_int_equal(p.window_ns, MAX_NS / 2);
	assert_true(queue_poll_idle(&p, 2 * T0));
	assert_false(queue_poll_idle(&p, 2 * T0 + MAX_NS / 2));
	/* 40 us after the window opened: a 64 us one would have caught it. */
	queue_poll_notified(&p, 2 * T0 + 40000);
	assert_int_equal(p.window_ns, MAX_NS);
}

static void test_a_zero_maximum_never_watches(void **state)
{
	struct queue_poll p;

	(void)state;
	queue_poll_init(&p, 0);
	assert_false(queue_poll_idle(&p, T0));
	queue_poll_notified(&p, T0 + 1);
	assert_false(queue_poll_idle(&p, T0 + 2));
	assert_int_equal(p.watches, 0);
}

static void test_stop_counts_the_open_window(void **state)
{
	struct queue_poll p;

	(void)state;
	queue_poll_init(&p, MAX_NS);
	assert_true(queue_poll_idle(&p, T0));
	queue_poll_stop(&p, T0 + 7000);
	assert_false(queue_poll_watching(&p));
	assert_int_equal(p.watched_ns, 7000);
	assert_int_equal(p.hits, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_idle_queue_is_watched_for_the_window_then_given_up),
		cmocka_unit_test(test_windows_that_find_nothing_shrink_to_none),
		cmocka_unit_test(test_a_window_that_finds_a_chain_grows_to_the_maximum),
		cmocka_unit_test(test_a_notification_soon_after_giving_up_opens_the_window_again),
		cmocka_unit_test(test_a_guest_slower_than_the_maximum_costs_a_few_windows),
		cmocka_unit_test(test_a_guest_just_slower_than_the_window_gets_the_maximum),
		cmocka_unit_test(test_a_zero_maximum_never_watches),
		cmocka_unit_test(test_stop_counts_the_open_window),
	};

	return cmocka_run_group_tests_name("queue poll", tests, NULL, NULL);
}
