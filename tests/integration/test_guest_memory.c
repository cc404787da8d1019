// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_guest_memory.c: how the daemon reaches guest RAM,
 * seen from the hypervisor: mappings are made once and reused, Xen's
 * INVALIDATE drops them (data written after a page was replaced lands in the
 * new page), a page populated without an INVALIDATE is found, what the
 * device only reads is mapped read-only, and the map budget bounds what stays
 * mapped however the guest spreads its I/O. A virtio-rng device is the probe
 * where one request at a time will do (it writes into the buffers the guest
 * hands it); a virtio-blk disk where I/O must be in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#define ISR_CONFIG	0x2	/* 4.1.4.5: a configuration change */
#define WAIT_MS		10000
#define REQUESTQ	0
#define BUCKET		(2ULL << 20)	/* the daemon's mapping unit */
#define PAGE		4096ULL
#define IMAGE_SIZE	(8ULL << 20)
#define DISK_QUEUE_SIZE	64
#define VIRTIO_BLK_T_IN	0
#define VIRTIO_BLK_T_OUT 1

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio rng;
	struct guest_virtio disk;	/* the same function as rng, when the test starts a disk */
	char image[64];
	int image_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2, .ram_size = RAM_SIZE,
						     .plain_ram = true /* maps past 8 MiB */ });
	f->image_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	if (f->image_fd >= 0) {
		close(f->image_fd);
		unlink(f->image);
	}
	free(f);
	return 0;
}

/* Start the daemon with the device @spec (at 00:01.0) and @extra options; probe it into @vd. */
static void start_device(struct fixture *f, const char *spec, const char *const extra[],
			 struct guest_virtio *vd)
{
	const char *args[8] = { "--device", spec };
	struct guest_pci_function found[2];

	for (int i = 0; extra && extra[i]; i++)
		args[2 + i] = extra[i];
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RING_RAM);
	/* The host bridge, then the device. */
	assert_int_equal(guest_pci_scan_bus(&f->pci, 0, found, 2), 2);
	assert_int_equal(guest_virtio_probe(vd, &f->pci, &found[1], &f->ram, RNG_BAR, 44), 0);
}

/* Start the daemon with one rng at 00:01.0 and bring it to DRIVER_OK. */
static void start_rng(struct fixture *f, const char *const extra[])
{
	start_device(f, "rng,addr=1", extra, &f->rng);
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
		if (guest_virtio_get_status(&f->rng) & VIRTIO_STATUS_NEEDS_RESET)
			fail_msg("buffer 0x%llx refused; the daemon's log:\n%s",
				 (unsigned long long)gpa, sim_hv_daemon_log(f->hv));
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

/* The number the daemon's log puts just before @what ("... 12 @what"), or -1. */
static long logged_count(const char *log, const char *what)
{
	const char *at = strstr(log, what);
	const char *digits;

	if (!at || at - log < 2)
		return -1;
	for (digits = at - 1; digits > log && digits[-1] >= '0' && digits[-1] <= '9'; digits--)
		;
	return strtol(digits, NULL, 10);
}

static unsigned long maps_with_holes(struct fixture *f)
{
	struct sim_hv_state state;

	sim_hv_get_state(f->hv, &state);
	return state.foreign_maps_with_holes;
}

static unsigned long peak_mapped_bytes(struct fixture *f)
{
	struct sim_hv_state state;

	sim_hv_get_state(f->hv, &state);
	return state.foreign_mapped_pages_peak * PAGE;
}

/* ---- a virtio-blk disk at 00:01.0, for I/O that stays in flight */

static void start_disk(struct fixture *f, const char *const extra[])
{
	char spec[128];

	strcpy(f->image, "/tmp/xvp-mem-XXXXXX");
	f->image_fd = mkstemp(f->image);
	assert_true(f->image_fd >= 0);
	assert_int_equal(ftruncate(f->image_fd, (off_t)IMAGE_SIZE), 0);
	snprintf(spec, sizeof(spec), "blk,path=%s,addr=1", f->image);
	start_device(f, spec, extra, &f->disk);
	/*
	 * No EVENT_IDX: the device interrupts after every batch it completes.
	 * Indirect tables: one descriptor per request, so the queue holds 64.
	 */
	assert_int_equal(guest_virtio_negotiate(&f->disk, 1ULL << VIRTIO_F_INDIRECT_DESC), 0);
	f->disk.use_indirect = true;
	assert_int_equal(guest_virtio_setup_queue(&f->disk, REQUESTQ, DISK_QUEUE_SIZE), 0);
	guest_virtio_driver_ok(&f->disk);
}

/* A request as the guest lays it out in its RAM (virtio 1.2, 5.2.6). */
struct disk_request {
	uint64_t header, data, status;	/* guest-physical */
	uint32_t len;
	uint32_t type;
	uint64_t sector;
};

/* Queue @req (header, data, status byte preset to 0xff) without notifying. */
static void disk_add(struct fixture *f, struct disk_request *req)
{
	uint8_t *header = sim_hv_guest_ram(f->hv, req->header, 16);
	uint32_t type = htole32(req->type);
	uint64_t le_sector = htole64(req->sector);
	struct guest_buf bufs[3] = {
		{ req->header, 16, false },
		{ req->data, req->len, req->type == VIRTIO_BLK_T_IN },
		{ req->status, 1, true },
	};

	memcpy(header, &type, 4);
	memset(header + 4, 0, 4);
	memcpy(header + 8, &le_sector, 8);
	*(uint8_t *)sim_hv_guest_ram(f->hv, req->status, 1) = 0xff;
	assert_int_equal(guest_virtio_add(&f->disk, REQUESTQ, bufs, 3, req), 0);
}

/*
 * Take every used entry there is, checking each status byte is OK; when
 * there is none, wait for the next interrupt. The ISR is never read, as a
 * guest that never reads it: nothing the daemon does between requests may
 * be what bounds its mappings. Returns how many completed.
 */
static unsigned int disk_reap(struct fixture *f)
{
	unsigned int done = 0;

	/* Never read, the ISR keeps the line asserted after the first interrupt: poll the ring. */
	for (int waited_ms = 0; done == 0; waited_ms++) {
		unsigned long seen = guest_virtio_interrupts(&f->disk);
		void *token;
		uint32_t len;

		while (guest_virtio_get_used(&f->disk, REQUESTQ, &len, &token) == 1) {
			struct disk_request *req = token;

			assert_int_equal(*(uint8_t *)sim_hv_guest_ram(f->hv, req->status, 1), 0);
			done++;
		}
		if (done)
			break;
		if (guest_virtio_get_status(&f->disk) & VIRTIO_STATUS_NEEDS_RESET)
			fail_msg("the disk needs reset; the daemon's log:\n%s", sim_hv_daemon_log(f->hv));
		if (waited_ms >= WAIT_MS || guest_virtio_wait_interrupt(&f->disk, seen, WAIT_MS))
			fail_msg("no completion; the daemon's log:\n%s", sim_hv_daemon_log(f->hv));
		if (sim_hv_irq_level(f->hv, f->disk.spi))
			usleep(1000);
	}
	return done;
}

/* Run @n requests keeping the queue full, and wait until all are done. */
static void disk_run(struct fixture *f, struct disk_request *reqs, unsigned int n)
{
	unsigned int next = 0, done = 0;

	while (done < n) {
		while (next < n && next - done < DISK_QUEUE_SIZE) {
			disk_add(f, &reqs[next]);
			next++;
		}
		guest_virtio_kick(&f->disk, REQUESTQ);
		done += disk_reap(f);
	}
}

static uint8_t pattern_byte(uint64_t seed, size_t i)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 29;
	return (uint8_t)(x * 0xbf58476d1ce4e5b9ULL >> 56);
}

static void test_map_budget_holds_while_the_guest_floods_new_buckets(void **state)
{
	struct fixture *f = *state;
	const char *const budget[] = { "--map-budget", "64M", NULL };
	/* Every bucket after the rings' two: 252 MiB of RAM in flight against 64 MiB. */
	enum { REQUESTS = (int)((RAM_SIZE - RING_RAM) / BUCKET) };
	static struct disk_request writes[REQUESTS], reads[REQUESTS];
	uint8_t got[PAGE];

	start_disk(f, budget);
	for (unsigned int i = 0; i < REQUESTS; i++) {
		uint64_t bucket = RAM_BASE + RING_RAM + i * BUCKET;
		uint8_t *data = sim_hv_guest_ram(f->hv, bucket + PAGE, PAGE);

		for (size_t b = 0; b < PAGE; b++)
			data[b] = pattern_byte(i, b);
		/* Header, data and status of one request share its bucket: each is a new one. */
		writes[i] = (struct disk_request){ bucket, bucket + PAGE, bucket + 16, PAGE,
						   VIRTIO_BLK_T_OUT, i * 8 };
		reads[i] = (struct disk_request){ bucket + 32, bucket + 2 * PAGE, bucket + 48, PAGE,
						  VIRTIO_BLK_T_IN, i * 8 };
	}
	disk_run(f, writes, REQUESTS);
	for (unsigned int i = 0; i < REQUESTS; i++) {
		assert_int_equal(pread(f->image_fd, got, PAGE, (off_t)writes[i].sector * 512), (ssize_t)PAGE);
		for (size_t b = 0; b < PAGE; b++)
			if (got[b] != pattern_byte(i, b))
				fail_msg("request %u: image byte %zu is 0x%02x", i, b, got[b]);
	}
	/* Read each back into a zeroed page of its bucket: the guest sees what it wrote. */
	disk_run(f, reads, REQUESTS);
	for (unsigned int i = 0; i < REQUESTS; i++) {
		const uint8_t *data = sim_hv_guest_ram(f->hv, reads[i].data, PAGE);

		for (size_t b = 0; b < PAGE; b++)
			if (data[b] != pattern_byte(i, b))
				fail_msg("read %u: guest byte %zu is 0x%02x", i, b, data[b]);
	}
	/* Counted by the hypervisor over the whole run, not the daemon's word. */
	if (peak_mapped_bytes(f) > (64ULL << 20))
		fail_msg("%lu MiB of guest RAM mapped at once against a 64 MiB budget",
			 peak_mapped_bytes(f) >> 20);
	/* 64 requests on new buckets per pass cannot fit 32 buckets: requests did wait. */
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_true(logged_count(sim_hv_daemon_log(f->hv), "waits for mapping room") > 0);
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
	 * had there (as a guest would after ballooning the page back in), once
	 * the device stopped watching the ring: it must not meet the page in
	 * between, half restored.
	 */
	assert_int_equal(guest_virtio_wait_notify_wanted(&f->rng, REQUESTQ, WAIT_MS), 0);
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
	/* Never more than the budget, counted by the hypervisor. */
	assert_true(hv_state.foreign_mapped_pages_peak * PAGE <= (64ULL << 20));
}

/* Make the device meet a buffer in a hole, then reset it and set it up again. */
static void refuse_hole_and_recover(struct fixture *f, uint64_t gpa)
{
	struct guest_buf hole = { gpa, 64, true };

	assert_int_equal(guest_virtio_add(&f->rng, REQUESTQ, &hole, 1, &hole), 0);
	guest_virtio_notify(&f->rng, REQUESTQ);
	/* 2.1.2: announced by a configuration change interrupt (the kick is answered first). */
	assert_true(guest_virtio_wait_isr(&f->rng, ISR_CONFIG, WAIT_MS) & ISR_CONFIG);
	assert_true(guest_virtio_get_status(&f->rng) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(guest_virtio_negotiate(&f->rng, 1ULL << VIRTIO_F_EVENT_IDX), 0);
	assert_int_equal(guest_virtio_setup_queue(&f->rng, REQUESTQ, 64), 0);
	guest_virtio_driver_ok(&f->rng);
}

/*
 * A miss is mapped again (the page may have been populated since), but a
 * guest aiming at the same hole over and over gets fewer and fewer tries:
 * 16 refused buffers cost the first map of the hole's bucket and at most one
 * retry per doubling (the hypervisor counts the maps that met a hole).
 */
static void test_buffers_aimed_at_a_hole_cost_few_map_calls(void **state)
{
	struct fixture *f = *state;

	start_rng(f, NULL);
	assert_int_equal(maps_with_holes(f), 0);
	for (int i = 0; i < 16; i++)
		refuse_hole_and_recover(f, RAM_BASE + RAM_SIZE + 0x1000);
	assert_true(maps_with_holes(f) >= 1);
	assert_true(maps_with_holes(f) <= 1 + 5);
	assert_int_equal(fill_buffer(f, RAM_BASE + RING_RAM, 64), 64);
}

/*
 * Ballooning: a page goes (Xen sends INVALIDATE), its bucket is mapped
 * while it is away, then it comes back with no INVALIDATE (Xen sends none
 * for populate_physmap). A buffer in it must be served, not refused.
 */
static void test_buffer_in_a_page_populated_later_is_served(void **state)
{
	struct fixture *f = *state;
	uint64_t bucket = RAM_BASE + 8 * BUCKET;
	uint64_t away = bucket + 5 * PAGE;
	uint8_t *bytes;

	start_rng(f, NULL);
	assert_int_equal(sim_hv_balloon_out(f->hv, 1, away), 0);
	assert_int_equal(fill_buffer(f, bucket + PAGE, 256), 256);
	assert_int_equal(sim_hv_populate(f->hv, away), 0);
	bytes = sim_hv_guest_ram(f->hv, away, 256);
	assert_true(all_zero(bytes, 256));
	assert_int_equal(fill_buffer(f, away, 256), 256);
	assert_false(all_zero(bytes, 256));
}

/*
 * virtio 1.2, 2.7.4: device-readable buffers are the driver's to give, not
 * ours to change. A bucket the disk only reads from is mapped read-only; a
 * write into it later upgrades that mapping to read-write, once.
 */
static void test_buffers_the_device_only_reads_are_mapped_read_only(void **state)
{
	struct fixture *f = *state;
	uint64_t bucket = RAM_BASE + 10 * BUCKET, status_bucket = RAM_BASE + 11 * BUCKET;
	struct disk_request write = { bucket, bucket + PAGE, status_bucket, PAGE, VIRTIO_BLK_T_OUT, 8 };
	struct disk_request read = { bucket + 64, bucket + 2 * PAGE, status_bucket + 16, PAGE,
				     VIRTIO_BLK_T_IN, 8 };
	struct disk_request after = { status_bucket + 64, status_bucket + PAGE, status_bucket + 32,
				      PAGE, VIRTIO_BLK_T_IN, 16 };
	uint8_t *data = sim_hv_guest_ram(f->hv, write.data, PAGE);
	unsigned int read_only, writable;

	start_disk(f, NULL);
	for (size_t b = 0; b < PAGE; b++)
		data[b] = pattern_byte(7, b);
	disk_run(f, &write, 1);
	sim_hv_foreign_mappings(f->hv, write.data, &read_only, &writable);
	assert_int_equal(writable, 0);
	assert_int_equal(read_only, 1);

	disk_run(f, &read, 1);
	assert_memory_equal(sim_hv_guest_ram(f->hv, read.data, PAGE), data, PAGE);
	/*
	 * The read's header was translated before its data: the read-only
	 * mapping it referenced goes when that request's references do, just
	 * after its used entry; one more request, served after, orders that.
	 */
	disk_run(f, &after, 1);
	sim_hv_foreign_mappings(f->hv, write.data, &read_only, &writable);
	assert_int_equal(writable, 1);
	assert_int_equal(read_only, 0);	/* upgraded, not mapped twice */
}

/*
 * One request whose buffers lie in more buckets than the budget holds can
 * never be mapped at once: it is refused (the device needs reset), it does
 * not hang the queue, and the device serves again after the reset.
 */
static void test_a_request_larger_than_the_budget_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *const budget[] = { "--map-budget", "64M", NULL };
	struct guest_buf bufs[40];

	start_rng(f, budget);
	for (unsigned int i = 0; i < 40; i++)
		bufs[i] = (struct guest_buf){ RAM_BASE + RING_RAM + i * BUCKET, 64, true };
	assert_int_equal(guest_virtio_add(&f->rng, REQUESTQ, bufs, 40, bufs), 0);
	guest_virtio_notify(&f->rng, REQUESTQ);
	/* 2.1.2: announced by a configuration change interrupt (the kick is answered first). */
	assert_true(guest_virtio_wait_isr(&f->rng, ISR_CONFIG, WAIT_MS) & ISR_CONFIG);
	assert_true(guest_virtio_get_status(&f->rng) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(peak_mapped_bytes(f) <= (64ULL << 20));
	assert_int_equal(guest_virtio_negotiate(&f->rng, 1ULL << VIRTIO_F_EVENT_IDX), 0);
	assert_int_equal(guest_virtio_setup_queue(&f->rng, REQUESTQ, 64), 0);
	guest_virtio_driver_ok(&f->rng);
	assert_int_equal(fill_buffer(f, RAM_BASE + RING_RAM, 64), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steady_state_io_makes_no_map_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_after_a_page_was_replaced_lands_in_the_new_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_ring_page_is_followed_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_budget_evicts_and_io_still_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_aimed_at_a_hole_cost_few_map_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_in_a_page_populated_later_is_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_budget_holds_while_the_guest_floods_new_buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_the_device_only_reads_are_mapped_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_request_larger_than_the_budget_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("guest memory through the daemon", tests, NULL, NULL);
}
