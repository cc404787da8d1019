// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_host_bridge.c: the daemon, as built, serving the
 * host bridge to a simulated Xen guest with 2 vCPUs. Each test is what a
 * guest (or Xen) does and what it must see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "tests/guest/guest_pci.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define HOST_BRIDGE	0	/* devfn 00.0 */

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
};

static int start_daemon(struct fixture *f, const char *const args[])
{
	if (sim_hv_start_daemon(f->hv, sim_daemon_path(), args))
		return -1;
	if (sim_hv_wait_serving(f->hv, 10000)) {
		fprintf(stderr, "daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
		return -1;
	}
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2 });
	*state = f;
	return start_daemon(f, NULL);
}

static int setup_without_daemon(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2 });
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

/*
 * The host bridge's config space as the PCI specification says a type 0
 * host bridge with these IDs reads: every byte not listed is 0.
 */
static void expected_host_bridge_config(uint8_t image[4096])
{
	memset(image, 0, 4096);
	image[0x00] = 0x36; image[0x01] = 0x1b;		/* vendor 1b36 */
	image[0x02] = 0x08; image[0x03] = 0x00;		/* device 0008 */
	image[0x0b] = 0x06; image[0x0a] = 0x00;		/* class 06 00 00: host bridge */
}

static uint64_t expected_read(const uint8_t image[4096], unsigned int off, unsigned int size)
{
	uint64_t value = 0;

	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)image[off + i] << (8 * i);
	return value;
}

static void test_bus_0_scan_finds_only_the_host_bridge(void **state)
{
	struct fixture *f = *state;
	struct guest_pci_function found[8];

	/* Every one of the 256 functions on bus 0, not just what a Linux-style scan visits. */
	for (unsigned int devfn = 0; devfn < 256; devfn++) {
		uint32_t id = guest_pci_read(&f->pci, 0, devfn, 0, 4);

		if (devfn == HOST_BRIDGE)
			assert_int_equal(id, 0x00081b36);
		else
			assert_int_equal(id, 0xffffffff);
	}
	assert_int_equal(guest_pci_scan_bus(&f->pci, 0, found, 8), 1);
	assert_int_equal(found[0].class_code, 0x060000);
	assert_int_equal(found[0].header_type, 0);
	assert_int_equal(found[0].interrupt_pin, 0);
	/* Other buses are empty. */
	assert_int_equal(guest_pci_read(&f->pci, 1, 0, 0, 4), 0xffffffff);
	assert_int_equal(guest_pci_read(&f->pci, 255, 0xff, 0, 4), 0xffffffff);
	assert_int_equal(f->pci.errors, 0);
}

static void test_host_bridge_has_no_bars(void **state)
{
	struct fixture *f = *state;
	struct guest_pci_function fn;

	assert_int_equal(guest_pci_scan_bus(&f->pci, 0, &fn, 1), 1);
	guest_pci_size_bars(&f->pci, &fn);
	for (int bar = 0; bar < 6; bar++)
		assert_int_equal(fn.bars[bar].size, 0);
}

static void test_every_size_at_every_offset_reads_as_the_spec_says(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = ECAM_BASE, value;
	uint8_t image[4096];

	expected_host_bridge_config(image);
	for (unsigned int size = 1; size <= 8; size *= 2) {
		for (unsigned int off = 0; off < 4096; off++) {
			/* Misaligned accesses everywhere in the header, sampled beyond it. */
			if (off % size && off >= 256 && off % 61)
				continue;
			assert_int_equal(sim_vcpu_mmio_read(f->hv, off & 1, addr + off, size, &value),
					 SIM_ACCESS_SERVED);
			if (size == 8 || off % size)
				assert_int_equal(value, size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
			else
				assert_int_equal(value, expected_read(image, off, size));
		}
	}
}

static void test_writes_change_only_writable_bits(void **state)
{
	struct fixture *f = *state;
	uint8_t image[4096];

	expected_host_bridge_config(image);
	/* All-ones into every dword of the whole config space. */
	for (unsigned int off = 0; off < 4096; off += 4)
		guest_pci_write(&f->pci, 0, HOST_BRIDGE, off, 4, 0xffffffff);
	/*
	 * Writable in a type 0 header: Command bits Memory Space, Bus Master,
	 * Parity Error Response, SERR# Enable, Interrupt Disable; Cache Line
	 * Size; Interrupt Line. Status error bits are write-1-to-clear (so stay 0).
	 */
	image[0x04] = 0x46;
	image[0x05] = 0x05;
	image[0x0c] = 0xff;
	image[0x3c] = 0xff;
	for (unsigned int off = 0; off < 4096; off += 4)
		assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, off, 4),
				 expected_read(image, off, 4));
	/* And back to zero. */
	for (unsigned int off = 0; off < 0x40; off += 4)
		guest_pci_write(&f->pci, 0, HOST_BRIDGE, off, 4, 0);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x04, 4), 0);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x0c, 1), 0);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x3c, 1), 0);
	assert_int_equal(f->pci.errors, 0);
}

static void test_write_to_a_read_only_register_changes_nothing(void **state)
{
	struct fixture *f = *state;

	guest_pci_write(&f->pci, 0, HOST_BRIDGE, 0x00, 2, 0x1234);	/* vendor */
	guest_pci_write(&f->pci, 0, HOST_BRIDGE, 0x0a, 2, 0x0200);	/* class */
	guest_pci_write(&f->pci, 0, HOST_BRIDGE, 0x0e, 1, 0x80);	/* header type */
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x00, 4), 0x00081b36);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x08, 4), 0x06000000);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x0e, 1), 0);
	/* Writes to absent functions go nowhere. */
	guest_pci_write(&f->pci, 0, 8, 0x04, 2, 0x0006);
	assert_int_equal(guest_pci_read(&f->pci, 0, 8, 0x04, 2), 0xffff);
}

struct vcpu_worker {
	struct sim_hv *hv;
	unsigned int vcpu;
	unsigned int wrong;
	unsigned int failed;
};

static void *vcpu_reads(void *arg)
{
	struct vcpu_worker *w = arg;

	for (int i = 0; i < 300; i++) {
		uint64_t value;
		/* vCPU 0 reads the IDs, vCPU 1 the class: each checks its own answers. */
		uint64_t reg = w->vcpu == 0 ? 0x00 : 0x08;
		uint64_t want = w->vcpu == 0 ? 0x00081b36 : 0x06000000;

		if (sim_vcpu_mmio_read(w->hv, w->vcpu, ECAM_BASE + reg, 4, &value) != SIM_ACCESS_SERVED)
			w->failed++;
		else if (value != want)
			w->wrong++;
	}
	return NULL;
}

static void test_requests_from_both_vcpus_at_once_are_all_answered(void **state)
{
	struct fixture *f = *state;
	struct vcpu_worker workers[2] = { { f->hv, 0, 0, 0 }, { f->hv, 1, 0, 0 } };
	pthread_t threads[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, vcpu_reads, &workers[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(workers[i].failed, 0);
		assert_int_equal(workers[i].wrong, 0);
	}
}

static uint64_t send_raw(struct fixture *f, ioreq_t req)
{
	assert_int_equal(sim_vcpu_send_raw(f->hv, 1, &req), 0);
	return req.data;
}

static void assert_still_serving(struct fixture *f)
{
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0, 4), 0x00081b36);
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, 0x3c, 1), 0);
}

static void test_malformed_requests_get_their_defined_answer(void **state)
{
	struct fixture *f = *state;
	const uint64_t line = ECAM_BASE + 0x3c;	/* Interrupt Line: writable */
	const ioreq_t reads[] = {
		{ .type = IOREQ_TYPE_PIO, .addr = 0xcfc, .size = 4, .count = 1, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_PCI_CONFIG, .addr = 0, .size = 4, .count = 1, .dir = IOREQ_READ },
		{ .type = 0x42, .addr = ECAM_BASE, .size = 4, .count = 1, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 4, .count = 2, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 4, .count = 0, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 4, .count = 1, .dir = IOREQ_READ, .df = 1 },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 3, .count = 1, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 0, .count = 1, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 16, .count = 1, .dir = IOREQ_READ },
		/* Straddles the end of the ECAM window. */
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE + ECAM_SIZE - 2, .size = 4, .count = 1, .dir = IOREQ_READ },
		/* Wraps the address space. */
		{ .type = IOREQ_TYPE_COPY, .addr = ~0ULL - 1, .size = 4, .count = 1, .dir = IOREQ_READ },
		/* An 8-byte and a misaligned ECAM access. */
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 8, .count = 1, .dir = IOREQ_READ },
		{ .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE + 1, .size = 2, .count = 1, .dir = IOREQ_READ },
	};
	const ioreq_t writes[] = {
		{ .type = IOREQ_TYPE_PIO, .addr = 0xcfc, .size = 1, .count = 1, .data = 0x55 },
		{ .type = IOREQ_TYPE_COPY, .addr = line, .size = 1, .count = 2, .data = 0x55 },
		{ .type = IOREQ_TYPE_COPY, .addr = line, .size = 1, .count = 1, .data = 0x55, .df = 1 },
		{ .type = IOREQ_TYPE_COPY, .addr = line, .size = 1, .count = 1, .data = 0x55, .data_is_ptr = 1 },
		{ .type = IOREQ_TYPE_COPY, .addr = line, .size = 3, .count = 1, .data = 0x55 },
		{ .type = IOREQ_TYPE_COPY, .addr = line, .size = 8, .count = 1, .data = 0x55 },
		{ .type = IOREQ_TYPE_COPY, .addr = line - 3, .size = 4, .count = 1, .data = 0x55555555 },
	};
	ioreq_t pointer_read = { .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 4, .count = 1,
				 .dir = IOREQ_READ, .data_is_ptr = 1, .data = 0x40001000 };

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		uint64_t expected = reads[i].size == 4 ? 0xffffffffULL :
				    reads[i].size == 2 ? 0xffff : ~0ULL;

		assert_int_equal(send_raw(f, reads[i]), expected);
		assert_still_serving(f);
	}
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		send_raw(f, writes[i]);
		assert_still_serving(f);
	}
	/* A pointer request's data is a guest address: answered, left alone, memory untouched. */
	assert_int_equal(send_raw(f, pointer_read), 0x40001000);
	/* Time offsets and invalidations are acknowledged. */
	send_raw(f, (ioreq_t){ .type = IOREQ_TYPE_TIMEOFFSET, .data = 12345 });
	send_raw(f, (ioreq_t){ .type = IOREQ_TYPE_INVALIDATE, .size = 4, .data = ~0ULL });
	assert_still_serving(f);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, 10000), 0);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "1 invalidations"));
}

static void test_sigterm_leaves_no_server_range_or_port_behind(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_state before, after;

	sim_hv_get_state(f->hv, &before);
	assert_int_equal(before.servers, 1);
	assert_int_equal(before.servers_enabled, 1);
	assert_int_equal(before.ranges, 1);
	assert_int_equal(before.ports_bound, 2);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, 10000), 0);
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers, 0);
	assert_int_equal(after.ranges, 0);
	assert_int_equal(after.ports_bound, 0);
	assert_int_equal(after.evtchn_handles, 0);
	/* Torn down explicitly, not left for Xen or the kernel to clean up. */
	assert_int_equal(after.ranges_dropped_by_destroy, 0);
	assert_int_equal(after.ports_dropped_by_close, 0);
}

static void test_stop_after_the_guest_is_gone_is_quiet(void **state)
{
	struct fixture *f = *state;
	const char *log;

	/* The guest powered off and was destroyed before the daemon was told to stop. */
	sim_hv_destroy_domain(f->hv);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, 10000), 0);
	log = sim_hv_daemon_log(f->hv);
	assert_non_null(strstr(log, "domain 1 is gone"));
	if (strstr(log, "error:"))
		fail_msg("the daemon logged errors for a domain that is simply gone:\n%s", log);
}

/* A broken event-channel handle: the daemon stops with an error instead of spinning. */
static void test_a_failing_event_channel_stops_the_daemon(void **state)
{
	struct fixture *f = *state;
	int status;

	/* Fully started (its handles restricted), not only with its ports bound. */
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "serving ECAM", 10000), 0);
	sim_hv_close_event_channels(f->hv);
	status = sim_hv_wait_daemon_exit(f->hv, 10000);
	if (status != 1)
		fail_msg("exit status %d; the daemon's log:\n%s", status, sim_hv_daemon_log(f->hv));
	if (!strstr(sim_hv_daemon_log(f->hv), "event channel failed"))
		fail_msg("no 'event channel failed' line in the daemon's log:\n%s",
			 sim_hv_daemon_log(f->hv));
}

static void test_sigint_stops_cleanly_too(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_state after;

	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGINT, 10000), 0);
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers, 0);
	assert_int_equal(after.ports_bound, 0);
}

static void test_request_pending_before_ports_are_bound_is_answered(void **state)
{
	struct fixture *f = *state;
	ioreq_t req = { .type = IOREQ_TYPE_COPY, .addr = ECAM_BASE, .size = 4, .count = 1,
			.dir = IOREQ_READ };

	/* Xen signals the vCPU's port the moment the server is enabled: nobody listens yet. */
	sim_vcpu_queue_on_enable(f->hv, 1, &req);
	assert_int_equal(start_daemon(f, NULL), 0);
	assert_int_equal(sim_vcpu_collect_queued(f->hv, 1, &req, 10000), 0);
	assert_int_equal(req.data, 0x00081b36);
}

static void test_a_domain_that_does_not_exist_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--domain", "7", NULL };
	struct sim_hv_state after;

	/* _argv: sim_hv_start_daemon() gives --domain already, and an option is given once. */
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, 10000), 2);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "domain 7 does not exist"));
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers_created, 0);
}

static void test_a_bad_window_is_refused_before_touching_xen(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--mmio64", "0x200000000,0x100000000", NULL };
	struct sim_hv_state after;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, 10000), 2);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "--mmio64 0x200000000,0x100000000 overlaps guest RAM bank 1"));
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers_created, 0);
}

static void test_custom_ecam_window_is_served_there(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--ecam", "0x11000000,16M", NULL };
	uint64_t value;

	assert_int_equal(start_daemon(f, args), 0);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, 0x11000000, 4, &value), SIM_ACCESS_SERVED);
	assert_int_equal(value, 0x00081b36);
	/* The default window is not claimed any more: Xen answers all-ones itself. */
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, 0x10000000, 4, &value), SIM_ACCESS_UNCLAIMED);
	/* Bus 16 would be beyond a 16-bus window. */
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, 0x11000000 + (16 << 20), 4, &value),
			 SIM_ACCESS_UNCLAIMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bus_0_scan_finds_only_the_host_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_bridge_has_no_bars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_size_at_every_offset_reads_as_the_spec_says, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_change_only_writable_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_to_a_read_only_register_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_from_both_vcpus_at_once_are_all_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests_get_their_defined_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_leaves_no_server_range_or_port_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigint_stops_cleanly_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failing_event_channel_stops_the_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_after_the_guest_is_gone_is_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_pending_before_ports_are_bound_is_answered, setup_without_daemon, teardown),
		cmocka_unit_test_setup_teardown(test_a_domain_that_does_not_exist_is_refused, setup_without_daemon, teardown),
		cmocka_unit_test_setup_teardown(test_a_bad_window_is_refused_before_touching_xen, setup_without_daemon, teardown),
		cmocka_unit_test_setup_teardown(test_custom_ecam_window_is_served_there, setup_without_daemon, teardown),
	};

	return cmocka_run_group_tests_name("host bridge through the daemon", tests, NULL, NULL);
}
