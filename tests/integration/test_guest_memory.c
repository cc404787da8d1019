// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_guest_memory.c: how the daemon reaches guest RAM,
 * seen from the hypervisor: mappings are made once and reused, Xen's
 * INVALIDATE drops them (data written after a page was replaced lands in the
 * new page), and the map budget evicts without breaking I/O. A virtio-rng
 * device is the probe: it writes into the buffers the guest hands it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define RNG_BAR		0x100000000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(256ULL << 20)
#define RING_RAM	(4ULL << 20)	/* the first 4 MiB hold the rings */
#define WAIT_MS		10000
#define REQUESTQ	0

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio rng;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2, .ram_size = RAM_SIZE,
						     .plain_ram = true /* maps past 8 MiB */ });
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	free(f);
	return 0;
}

/* Start the daemon with one rng at 00:01.0 and bring it to DRIVER_OK. */
static void start_rng(struct fixture *f, const char *const extra[])
{
	const char *args[8] = { "--device", "rng,addr=1" };
	struct guest_pci_function found[2];

	for (int i = 0; extra && extra[i]; i++)
		args[2 + i] = extra[i];
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RING_RAM);
	/* The host bridge, then the rng. */
	assert_int_equal(guest_pci_scan_bus(&f->pci, 0, found, 2), 2);
	assert_int_equal(guest_virtio_probe(&f->rng, &f->pci, &found[1], &f->ram, RNG_BAR, 44), 0);
	assert_int_equal(guest_virtio_negotiate(&f->rng, 1ULL << VIRTIO_F_EVENT_IDX), 0);
	assert_int_equal(guest_virtio_setup_queue(&f->rng, REQUESTQ, 64), 0);
	guest_virtio_driver_ok(&f->rng);
}

/* Hand the device the buffer at @gpa and wait until it is filled; returns the length. */
static uint32_t fill_buffer(struct fixture *f, uint64_t gpa, uint32_t size)
{
	struct guest_buf buf = { gpa, size, true };
	unsigned long seen = guest_virtio_interrupts(&f->rng);
	void *token;
	uint32_t len;

	assert_int_equal(guest_virtio_add(&f->rng, REQUESTQ, &buf, 1, &buf), 0);
	guest_virtio_kick(&f->rng, REQUESTQ);
	while (guest_virtio_get_used(&f->rng, REQUESTQ, &len, &token) == 0) {
		assert_int_equal(guest_virtio_wait_interrupt(&f->rng, seen, WAIT_MS), 0);
		seen = guest_virtio_interrupts(&f->rng);
		guest_virtio_read_isr(&f->rng);
	}
	assert_ptr_equal(token, &buf);
	return len;
}

static bool all_zero(const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

static unsigned long map_calls(struct fixture *f)
{
	struct sim_hv_state state;

	sim_hv_get_state(f->hv, &state);
	return state.foreign_map_calls;
}

static void test_steady_state_io_makes_no_map_calls(void **state)
{
	struct fixture *f = *state;
	uint64_t buffer = RAM_BASE + RING_RAM;
	unsigned long after_first;

	start_rng(f, NULL);
	assert_int_equal(fill_buffer(f, buffer, 4096), 4096);
	after_first = map_calls(f);
	assert_true(after_first >= 1);
	for (int i = 0; i < 200; i++)
		assert_int_equal(fill_buffer(f, buffer + (uint64_t)(i % 16) * 4096, 4096), 4096);
	/* 200 requests over the same memory: not one more mapping. */
	assert_int_equal(map_calls(f), after_first);
}

static void test_data_after_a_page_was_replaced_lands_in_the_new_page(void **state)
{
	struct fixture *f = *state;
	uint64_t buffer = RAM_BASE + RING_RAM + 0x3000;
	uint8_t *page = sim_hv_guest_ram(f->hv, buffer, 4096);
	unsigned long before;

	start_rng(f, NULL);
	assert_int_equal(fill_buffer(f, buffer, 4096), 4096);
	assert_false(all_zero(page, 4096));
	before = map_calls(f);

	/* Xen backs the page with another one and sends INVALIDATE. */
	assert_int_equal(sim_hv_replace_guest_page(f->hv, 1, buffer), 0);
	assert_true(all_zero(page, 4096));
	assert_int_equal(fill_buffer(f, buffer, 4096), 4096);
	/* A stale mapping would have written the old page; the guest sees the new one filled. */
	assert_false(all_zero(page, 4096));
	assert_true(map_calls(f) > before);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "1 invalidations"));
}

static void test_replaced_ring_page_is_followed_too(void **state)
{
	struct fixture *f = *state;
	uint64_t buffer = RAM_BASE + RING_RAM;
	uint64_t used_ring;

	start_rng(f, NULL);
	used_ring = f->rng.queues[REQUESTQ].used_gpa;
	assert_int_equal(fill_buffer(f, buffer, 512), 512);
	/*
	 * Replace the page holding the used ring, then restore what the guest
	 * had there (as a guest would after ballooning the page back in).
	 */
	{
		uint8_t saved[4096];
		uint64_t page_gpa = used_ring & ~0xfffULL;

		memcpy(saved, sim_hv_guest_ram(f->hv, page_gpa, 4096), 4096);
		assert_int_equal(sim_hv_replace_guest_page(f->hv, 0, page_gpa), 0);
		memcpy(sim_hv_guest_ram(f->hv, page_gpa, 4096), saved, 4096);
	}
	/* The completion must appear in the new used-ring page, or the guest waits forever. */
	assert_int_equal(fill_buffer(f, buffer, 512), 512);
}

static void test_map_budget_evicts_and_io_still_works(void **state)
{
	struct fixture *f = *state;
	const char *const budget[] = { "--map-budget", "64M", NULL };
	struct sim_hv_state hv_state;

	start_rng(f, budget);
	/* 100 buffers 2 MiB apart: 200 MiB of RAM touched against a 64 MiB budget. */
	for (int round = 0; round < 2; round++) {
		for (uint64_t i = 0; i < 100; i++) {
			uint64_t gpa = RAM_BASE + RING_RAM + i * (2ULL << 20);
			uint8_t *bytes = sim_hv_guest_ram(f->hv, gpa, 256);

			memset(bytes, 0, 256);
			assert_int_equal(fill_buffer(f, gpa, 256), 256);
			assert_false(all_zero(bytes, 256));
		}
	}
	sim_hv_get_state(f->hv, &hv_state);
	assert_true(hv_state.foreign_unmap_calls > 0);
	/* Never more than the budget (32 buckets of 2 MiB) plus the current one stay mapped. */
	assert_true(hv_state.foreign_map_calls - hv_state.foreign_unmap_calls <= 33);
}

static void test_buffer_outside_guest_ram_costs_one_map_call(void **state)
{
	struct fixture *f = *state;
	unsigned long before;

	start_rng(f, NULL);
	/* Make the device fail on a hole once, then recover it with a reset. */
	for (int i = 0; i < 3; i++) {
		struct guest_buf hole = { RAM_BASE + RAM_SIZE + 0x1000, 64, true };

		before = map_calls(f);
		assert_int_equal(guest_virtio_add(&f->rng, REQUESTQ, &hole, 1, &hole), 0);
		guest_virtio_notify(&f->rng, REQUESTQ);
		assert_true(guest_virtio_get_status(&f->rng) & VIRTIO_STATUS_NEEDS_RESET);
		if (i > 0)
			assert_int_equal(map_calls(f), before);
		assert_int_equal(guest_virtio_negotiate(&f->rng, 1ULL << VIRTIO_F_EVENT_IDX), 0);
		assert_int_equal(guest_virtio_setup_queue(&f->rng, REQUESTQ, 64), 0);
		guest_virtio_driver_ok(&f->rng);
	}
	assert_int_equal(fill_buffer(f, RAM_BASE + RING_RAM, 64), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steady_state_io_makes_no_map_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_after_a_page_was_replaced_lands_in_the_new_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_ring_page_is_followed_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_budget_evicts_and_io_still_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_outside_guest_ram_costs_one_map_call, setup, teardown),
	};

	return cmocka_run_group_tests_name("guest memory through the daemon", tests, NULL, NULL);
}
