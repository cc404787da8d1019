// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_rng.c: the daemon serving virtio-rng (virtio 1.2,
 * 5.4) as modern virtio-pci functions to a simulated Xen guest. The guest is
 * this process, driving the devices with tests/guest/guest_virtio.c, a driver
 * written from the specification; each test is what a guest does and what
 * it must see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL	/* the daemon's default 64-bit BAR window */
#define BAR_STRIDE	0x100000ULL	/* where the guest places the n-th function's BAR */
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44		/* the daemon's default --intx-spi */
#define WAIT_MS		10000
#define MAX_RNGS	4

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_ID_RNG		4
#define VIRTIO_RNG_DEVICE_ID	(0x1040 + VIRTIO_ID_RNG)	/* 4.1.2: modern device IDs */
#define REQUESTQ		0	/* 5.4.2: the only queue */
#define STATUS_ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define RNG_FEATURES		(1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX)

#define ISR_QUEUE		0x1	/* 4.1.4.5 */
#define ISR_CONFIG		0x2
#define PCI_STATUS		0x06
#define PCI_STATUS_INTERRUPT	0x08	/* PCI 3.0, 6.2.3: INTx# asserted */
#define COMMON_QUEUE_SELECT	0x16	/* 4.1.4.3 */
#define COMMON_QUEUE_SIZE	0x18

/* 2.7.5: a descriptor, as the guest writes it by hand for malformed rings. */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio rng[MAX_RNGS];
	unsigned int nr_rngs;
};

static int setup(void **state)
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
 * Start the daemon with @args, enumerate bus 0 like Linux, and probe every
 * virtio-rng function found (in device order) with its BAR placed in the
 * 64-bit window; there must be @expected of them.
 */
static void start_with_rngs(struct fixture *f, const char *const args[], unsigned int expected)
{
	struct guest_pci_function found[32];
	int count;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&f->pci, 0, found, 32);
	f->nr_rngs = 0;
	for (int i = 0; i < count && i < 32; i++) {
		struct guest_virtio *vd = &f->rng[f->nr_rngs];

		if (found[i].vendor_id != VIRTIO_VENDOR_ID || found[i].device_id != VIRTIO_RNG_DEVICE_ID)
			continue;
		assert_true(f->nr_rngs < MAX_RNGS);
		assert_int_equal(guest_virtio_probe(vd, &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + f->nr_rngs * BAR_STRIDE, INTX_SPI_BASE), 0);
		f->nr_rngs++;
	}
	assert_int_equal(f->nr_rngs, expected);
}

/* 3.1.1 with the features a Linux virtio-rng driver takes, one requestq, DRIVER_OK. */
static void rng_init(struct guest_virtio *vd)
{
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
}

/*
 * The guest's interrupt handler until one request completes: look at the
 * used ring, otherwise wait for the line and read the ISR (which lowers it).
 */
static void wait_used(struct guest_virtio *vd, uint32_t *len, void **token)
{
	for (;;) {
		unsigned long seen = guest_virtio_interrupts(vd);
		int got = guest_virtio_get_used(vd, REQUESTQ, len, token);

		assert_true(got >= 0);
		if (got == 1)
			return;
		assert_int_equal(guest_virtio_wait_interrupt(vd, seen, WAIT_MS), 0);
		guest_virtio_read_isr(vd);
	}
}

/* Ask for @size bytes of entropy in a fresh buffer and wait: returns the bytes written. */
static uint32_t read_entropy(struct guest_virtio *vd, uint32_t size, uint64_t *buffer_gpa)
{
	struct guest_buf buf = { guest_ram_alloc(vd->ram, size, 4096), size, true };
	void *token = NULL;
	uint32_t len;

	assert_int_not_equal(buf.gpa, 0);
	assert_int_equal(guest_virtio_add(vd, REQUESTQ, &buf, 1, &buf), 0);
	guest_virtio_kick(vd, REQUESTQ);
	wait_used(vd, &len, &token);
	assert_ptr_equal(token, &buf);
	assert_in_range(len, 1, size);
	if (buffer_gpa)
		*buffer_gpa = buf.gpa;
	return len;
}

static bool all_zero(const uint8_t *bytes, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

static void test_a_huge_buffer_gets_at_most_64_KiB(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", NULL };
	uint32_t len;

	/*
	 * 5.4.7.1: the device may fill less than the whole buffer. A bounded
	 * answer keeps one request from stalling the event loop.
	 */
	sim_hv_destroy(f->hv);
	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .plain_ram = true /* 8 MiB */ });
	start_with_rngs(f, args, 1);
	rng_init(&f->rng[0]);
	len = read_entropy(&f->rng[0], 8 << 20, NULL);
	assert_in_range(len, 1, 64 * 1024);
}

static void test_guest_initialises_the_rng_and_reads_entropy(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", NULL };
	struct guest_buf first = { 0, 4096, true };
	struct guest_virtio *vd;
	const struct guest_pci_bar *bar;
	uint64_t second_gpa;
	uint32_t len, second_len;
	unsigned long seen;
	void *token = NULL;
	uint8_t *bytes;

	start_with_rngs(f, args, 1);
	vd = &f->rng[0];

	/* What lspci shows: a modern virtio-rng in the first free slot after the host bridge. */
	assert_int_equal(vd->fn.bus, 0);
	assert_int_equal(vd->fn.devfn, 1 << 3);
	assert_true(vd->fn.revision >= 1);
	assert_int_equal(vd->fn.class_code, 0xff0000);
	assert_int_equal(vd->fn.interrupt_pin, 1);
	bar = &vd->fn.bars[vd->bar];
	assert_true(bar->size > 0 && !bar->is_io && bar->is_64bit && bar->prefetchable);
	assert_int_not_equal(vd->pci_cfg_cap, 0);
	/* Device 1, INTA: swizzled to the host bridge's INTB, SPI 45. */
	assert_int_equal(vd->spi, INTX_SPI_BASE + 1);

	/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, the queue, DRIVER_OK. */
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_true(vd->device_features & 1ULL << VIRTIO_F_VERSION_1);
	assert_true(vd->device_features & 1ULL << VIRTIO_F_INDIRECT_DESC);
	assert_true(vd->device_features & 1ULL << VIRTIO_F_EVENT_IDX);
	assert_int_equal(vd->driver_features, RNG_FEATURES | 1ULL << VIRTIO_F_VERSION_1);
	assert_int_equal(guest_virtio_get_status(vd), VIRTIO_STATUS_ACKNOWLEDGE |
			 VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vd->num_queues, 1);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	assert_int_equal(vd->queues[REQUESTQ].size, 256);
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);

	/* One 4 KiB device-writable buffer; the first kick is always wanted. */
	first.gpa = guest_ram_alloc(&f->ram, 4096, 4096);
	seen = guest_virtio_interrupts(vd);
	assert_int_equal(guest_virtio_add(vd, REQUESTQ, &first, 1, &first), 0);
	assert_true(guest_virtio_kick(vd, REQUESTQ));
	assert_int_equal(guest_virtio_wait_interrupt(vd, seen, WAIT_MS), 0);

	/*
	 * 4.1.5.3: without MSI-X the device sets ISR bit 0 and INTx follows
	 * the ISR; reading the ISR clears it and the line drops.
	 */
	assert_true(guest_pci_read(&f->pci, 0, vd->fn.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(guest_virtio_read_isr(vd) & ISR_QUEUE, ISR_QUEUE);
	assert_int_equal(guest_virtio_read_isr(vd), 0);
	assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 0);
	assert_false(guest_pci_read(&f->pci, 0, vd->fn.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

	assert_int_equal(guest_virtio_get_used(vd, REQUESTQ, &len, &token), 1);
	assert_ptr_equal(token, &first);
	assert_in_range(len, 1, 4096);
	bytes = guest_ram_ptr(&f->ram, first.gpa, 4096);
	assert_false(all_zero(bytes, len));
	assert_int_equal(vd->queues[REQUESTQ].num_free, 256);

	/* A second read gives other bytes. */
	second_len = read_entropy(vd, 4096, &second_gpa);
	assert_memory_not_equal(bytes, guest_ram_ptr(&f->ram, second_gpa, 4096),
				len < second_len ? len : second_len);
	assert_int_equal(f->pci.errors, 0);
}

static void test_device_refuses_a_driver_without_version_1(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", NULL };
	struct guest_virtio *vd;
	uint8_t status;

	start_with_rngs(f, args, 1);
	vd = &f->rng[0];

	/* A legacy-minded driver takes the ring features but not VIRTIO_F_VERSION_1 (6.1). */
	assert_int_equal(guest_virtio_negotiate_exact(vd, RNG_FEATURES), -EPROTO);
	status = guest_virtio_get_status(vd);
	assert_int_equal(status & VIRTIO_STATUS_FEATURES_OK, 0);
	/* 3.1.1 step 6: the driver gives up. */
	guest_virtio_set_status(vd, status | VIRTIO_STATUS_FAILED);

	/* A driver that does it right afterwards gets a working device. */
	rng_init(vd);
	read_entropy(vd, 4096, NULL);
}

static void test_reset_with_buffers_in_flight_then_reinitialise(void **state)
{
	struct fixture *f = *state;
	/* Slow enough that most of the buffers are still the device's at the reset. */
	const char *const args[] = { "--device", "rng,rate=1024", NULL };
	struct guest_buf bufs[8];
	struct guest_virtio *vd;
	uint16_t *old_used_idx, used_at_reset;

	start_with_rngs(f, args, 1);
	vd = &f->rng[0];
	rng_init(vd);
	for (int i = 0; i < 8; i++) {
		bufs[i] = (struct guest_buf){ guest_ram_alloc(&f->ram, 4096, 4096), 4096, true };
		assert_int_equal(guest_virtio_add(vd, REQUESTQ, &bufs[i], 1, &bufs[i]), 0);
	}
	guest_virtio_kick(vd, REQUESTQ);

	/* 4.1.4.3.2: writing 0 resets; the device is done with the rings when it reads back 0. */
	assert_int_equal(guest_virtio_reset(vd), 0);
	assert_int_equal(guest_virtio_get_status(vd), 0);
	old_used_idx = guest_ram_ptr(&f->ram, vd->queues[REQUESTQ].used_gpa + 2, 2);
	used_at_reset = __atomic_load_n(old_used_idx, __ATOMIC_ACQUIRE);

	/* From scratch, with new rings: entropy again. */
	rng_init(vd);
	read_entropy(vd, 256, NULL);
	/* The old queue was never touched after the reset. */
	assert_int_equal(__atomic_load_n(old_used_idx, __ATOMIC_ACQUIRE), used_at_reset);
}

/*
 * The guest's handler for a shared level-triggered INTx line, as Linux's
 * vp_interrupt registered IRQF_SHARED: every device on the line reads its
 * ISR and drains its used ring; the interrupt controller delivers again as
 * long as the line stays asserted. Counts completions into @done.
 */
static void serve_shared_line(struct fixture *f, struct guest_virtio *const devs[], unsigned int n,
			      unsigned int done[], unsigned int want, unsigned long seen)
{
	unsigned int spi = devs[0]->spi;
	bool finished = false;

	while (!finished) {
		assert_int_equal(sim_hv_wait_irq(f->hv, spi, seen, WAIT_MS), 0);
		for (int passes = 0; passes == 0 || sim_hv_irq_level(f->hv, spi); passes++) {
			uint32_t len;
			void *token;

			assert_true(passes < 10000);
			seen = sim_hv_irq_raises(f->hv, spi);
			for (unsigned int d = 0; d < n; d++)
				guest_virtio_read_isr(devs[d]);
			for (unsigned int d = 0; d < n; d++)
				while (guest_virtio_get_used(devs[d], REQUESTQ, &len, &token) == 1) {
					assert_in_range(len, 1, 512);
					done[d]++;
				}
		}
		finished = true;
		for (unsigned int d = 0; d < n; d++)
			finished &= done[d] == want;
	}
}

static void test_two_rngs_sharing_one_line_lose_no_completion(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng,addr=1", "--device", "rng,addr=5", NULL };
	const unsigned int rounds = 4, per_round = 8;
	struct guest_virtio *devs[2] = { &f->rng[0], &f->rng[1] };
	unsigned int done[2] = { 0, 0 };

	start_with_rngs(f, args, 2);
	/* Devices 1 and 5 with INTA: (1 + 0) % 4 == (5 + 0) % 4, both on SPI 45. */
	assert_int_equal(devs[0]->fn.devfn, 1 << 3);
	assert_int_equal(devs[1]->fn.devfn, 5 << 3);
	assert_int_equal(devs[0]->spi, INTX_SPI_BASE + 1);
	assert_int_equal(devs[1]->spi, devs[0]->spi);
	rng_init(devs[0]);
	rng_init(devs[1]);

	for (unsigned int round = 0; round < rounds; round++) {
		unsigned long seen = sim_hv_irq_raises(f->hv, devs[0]->spi);

		/* Both devices get work before the guest handles anything. */
		for (unsigned int d = 0; d < 2; d++) {
			for (unsigned int i = 0; i < per_round; i++) {
				struct guest_buf buf = { guest_ram_alloc(&f->ram, 512, 512), 512, true };

				assert_int_equal(guest_virtio_add(devs[d], REQUESTQ, &buf, 1, NULL), 0);
			}
			guest_virtio_kick(devs[d], REQUESTQ);
		}
		serve_shared_line(f, devs, 2, done, (round + 1) * per_round, seen);
	}
	for (unsigned int d = 0; d < 2; d++) {
		/* Every completion arrived on the one kick per round, none needed a nudge. */
		assert_int_equal(done[d], rounds * per_round);
		assert_int_equal(devs[d]->queues[REQUESTQ].kicks +
				 devs[d]->queues[REQUESTQ].kicks_suppressed, rounds);
		assert_int_equal(guest_virtio_read_isr(devs[d]), 0);
	}
	/* Every ISR on the line read zero: the line is down. */
	assert_int_equal(sim_hv_irq_level(f->hv, devs[0]->spi), 0);
}

/* ---- malformed rings: the guest writes descriptors and avail entries by hand */

static void put_desc(struct guest_virtio *vd, uint64_t table_gpa, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *desc = guest_ram_ptr(vd->ram, table_gpa + 16 * i, 16);
	uint64_t le_addr = htole64(addr);
	uint32_t le_len = htole32(len);
	uint16_t le_flags = htole16(flags), le_next = htole16(next);

	memcpy(desc, &le_addr, 8);
	memcpy(desc + 8, &le_len, 4);
	memcpy(desc + 12, &le_flags, 2);
	memcpy(desc + 14, &le_next, 2);
}

/* Publish @head in the avail ring (entry, barrier, idx) and notify. */
static void publish_head(struct guest_virtio *vd, uint16_t head)
{
	struct guest_virtq *q = &vd->queues[REQUESTQ];
	uint16_t *avail = guest_ram_ptr(vd->ram, q->avail_gpa, 4 + 2ULL * q->size);

	avail[2 + q->avail_idx % q->size] = htole16(head);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail_idx++;
	__atomic_store_n(&avail[1], htole16(q->avail_idx), __ATOMIC_RELAXED);
	guest_virtio_notify(vd, REQUESTQ);
}

static uint64_t page(struct guest_virtio *vd)
{
	uint64_t gpa = guest_ram_alloc(vd->ram, 4096, 4096);

	assert_int_not_equal(gpa, 0);
	return gpa;
}

static void head_out_of_range(struct guest_virtio *vd)
{
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, page(vd), 4096, VIRTQ_DESC_F_WRITE, 0);
	publish_head(vd, vd->queues[REQUESTQ].size + 3);
}

static void descriptor_loop(struct guest_virtio *vd)
{
	uint64_t desc = vd->queues[REQUESTQ].desc_gpa, buf = page(vd);

	put_desc(vd, desc, 0, buf, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(vd, desc, 1, buf, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	publish_head(vd, 0);
}

static void indirect_inside_indirect(struct guest_virtio *vd)
{
	uint64_t outer = page(vd), inner = page(vd);

	/* 2.7.5.3.1: the driver MUST NOT set INDIRECT within an indirect table. */
	put_desc(vd, inner, 0, page(vd), 4096, VIRTQ_DESC_F_WRITE, 0);
	put_desc(vd, outer, 0, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, outer, 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish_head(vd, 0);
}

static void indirect_table_of_24_bytes(struct guest_virtio *vd)
{
	uint64_t table = page(vd);

	/* A table is whole 16-byte descriptors; 24 bytes is one and a half. */
	put_desc(vd, table, 0, page(vd), 2048, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(vd, table, 1, page(vd), 2048, VIRTQ_DESC_F_WRITE, 0);
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
	publish_head(vd, 0);
}

static void zero_length_buffer(struct guest_virtio *vd)
{
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, page(vd), 0, VIRTQ_DESC_F_WRITE, 0);
	publish_head(vd, 0);
}

static void buffer_outside_guest_ram(struct guest_virtio *vd)
{
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, 0x3000000000ULL, 4096, VIRTQ_DESC_F_WRITE, 0);
	publish_head(vd, 0);
}

static void device_readable_buffer(struct guest_virtio *vd)
{
	/* 5.4.6.1: the driver MUST NOT place driver-readable buffers into the queue. */
	put_desc(vd, vd->queues[REQUESTQ].desc_gpa, 0, page(vd), 4096, 0, 0);
	publish_head(vd, 0);
}

static const struct {
	const char *what;
	void (*corrupt)(struct guest_virtio *vd);
} malformations[] = {
	{ "avail entry naming head size + 3", head_out_of_range },
	{ "descriptor 0 -> 1 -> 0", descriptor_loop },
	{ "indirect table inside an indirect table", indirect_inside_indirect },
	{ "indirect table of 24 bytes", indirect_table_of_24_bytes },
	{ "zero-length buffer", zero_length_buffer },
	{ "buffer at 0x3000000000, outside guest RAM", buffer_outside_guest_ram },
	{ "device-readable buffer", device_readable_buffer },
};

static void test_malformed_rings_need_a_reset_and_the_other_rng_goes_on(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng,addr=1", "--device", "rng,addr=2", NULL };
	struct guest_virtio *broken = &f->rng[0], *healthy = &f->rng[1];

	start_with_rngs(f, args, 2);
	assert_int_not_equal(broken->spi, healthy->spi);
	rng_init(healthy);
	rng_init(broken);
	for (size_t m = 0; m < sizeof(malformations) / sizeof(malformations[0]); m++) {
		print_message("guest puts a %s in the ring\n", malformations[m].what);
		malformations[m].corrupt(broken);

		/* 2.1.2: DEVICE_NEEDS_RESET, announced by a configuration change interrupt. */
		assert_true(guest_virtio_wait_isr(broken, ISR_CONFIG, WAIT_MS) & ISR_CONFIG);
		assert_true(guest_virtio_get_status(broken) & VIRTIO_STATUS_NEEDS_RESET);

		/* Nothing else stops: the other function serves entropy. */
		read_entropy(healthy, 4096, NULL);
		/* And a reset brings this one back. */
		rng_init(broken);
		read_entropy(broken, 4096, NULL);
	}
	assert_int_equal(f->pci.errors, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_rate_limit_spreads_entropy_over_completions(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng,rate=1024", NULL };
	unsigned int completions = 0;
	uint64_t total = 0, start, elapsed_ms;
	struct guest_virtio *vd;

	start_with_rngs(f, args, 1);
	vd = &f->rng[0];
	rng_init(vd);

	/* 4 KiB, asked for a 4 KiB buffer at a time, at 1024 bytes/s. */
	start = now_ms();
	while (total < 4096) {
		uint32_t len = read_entropy(vd, 4096, NULL);

		/* No completion holds more than one second's worth. */
		assert_in_range(len, 1, 1024);
		total += len;
		completions++;
	}
	elapsed_ms = now_ms() - start;
	assert_true(completions >= 4);
	/* Never more than the burst plus the rate over the time taken (slower only loosens this). */
	assert_true(total <= 1024 + 1024 * (elapsed_ms + 999) / 1000);
}

static void test_queue_size_option_sets_the_maximum(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng,queue-size=64", NULL };
	struct guest_virtio *vd;
	uint32_t common;
	uint64_t value;

	start_with_rngs(f, args, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);

	/* queue_select 0, then queue_size reads the device's maximum (4.1.4.3). */
	assert_int_equal(sim_vcpu_mmio_write(f->hv, 0, vd->common_gpa + COMMON_QUEUE_SELECT, 2, 0),
			 SIM_ACCESS_SERVED);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, vd->common_gpa + COMMON_QUEUE_SIZE, 2, &value),
			 SIM_ACCESS_SERVED);
	assert_int_equal(value, 64);
	/* The same register through the PCI configuration access window (4.1.4.9). */
	common = (uint32_t)(vd->common_gpa - vd->bar_gpa);
	guest_virtio_pci_cfg_write(vd, common + COMMON_QUEUE_SELECT, 2, 0);
	assert_int_equal(guest_virtio_pci_cfg_read(vd, common + COMMON_QUEUE_SIZE, 2), 64);

	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	assert_int_equal(vd->queues[REQUESTQ].size, 64);
	guest_virtio_driver_ok(vd);
	read_entropy(vd, 4096, NULL);
}

static void assert_refused(struct fixture *f, const char *const args[], const char *named)
{
	struct sim_hv_state after;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	if (!strstr(sim_hv_daemon_log(f->hv), named))
		fail_msg("the refusal does not name '%s'; the log:\n%s", named, sim_hv_daemon_log(f->hv));
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers_created, 0);
}

static void test_rng_in_the_host_bridge_slot_is_refused(void **state)
{
	const char *const args[] = { "--device", "rng,addr=0", NULL };

	assert_refused(*state, args, "addr=0");
}

static void test_unknown_device_type_is_refused(void **state)
{
	const char *const args[] = { "--device", "bogus", NULL };

	assert_refused(*state, args, "bogus");
}

/* ---- isolation (docs/security.md) */

/* One request of @size bytes of entropy, answered. */
static void read_entropy_once(struct fixture *f, struct guest_virtio *vd, uint32_t size)
{
	struct guest_buf buf = { guest_ram_alloc(&f->ram, size, 4096), size, true };
	void *token = NULL;
	uint32_t len = 0;

	assert_int_equal(guest_virtio_add(vd, REQUESTQ, &buf, 1, &buf), 0);
	guest_virtio_kick(vd, REQUESTQ);
	wait_used(vd, &len, &token);
	assert_ptr_equal(token, &buf);
	assert_in_range(len, 1, size);
	assert_false(all_zero(guest_ram_ptr(&f->ram, buf.gpa, len), len));
}

/*
 * Once serving, the daemon's Xen handles name its domain only (the
 * hypervisor refuses the rest), and with --user it runs unprivileged:
 * guest memory is still mapped on demand, and the stop is clean.
 */
static void test_a_worker_is_restricted_to_its_domain_and_unprivileged(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", "--user", "65534:65534", NULL };
	struct sim_hv_domain_state domain;
	struct sim_hv_state after;

	start_with_rngs(f, args, 1);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "running as uid 65534 gid 65534", WAIT_MS), 0);
	assert_int_equal(sim_hv_get_domain_state(f->hv, 1, &domain), 0);
	assert_int_equal(sim_hv_restriction(f->hv, domain.serving_pid), 1);
	assert_int_equal(process_uid(domain.serving_pid), 65534);
	rng_init(&f->rng[0]);
	/* Buffers far apart: new guest-memory mappings after the drop. */
	read_entropy_once(f, &f->rng[0], 4096);
	(void)guest_ram_alloc(&f->ram, 8 << 20, 4096);
	read_entropy_once(f, &f->rng[0], 4096);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "running as uid 65534 gid 65534"));

	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	if (strstr(sim_hv_daemon_log(f->hv), "error:"))
		fail_msg("errors after dropping privileges:\n%s", sim_hv_daemon_log(f->hv));
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers, 0);
	assert_int_equal(after.ports_bound, 0);
}

/* --user root (or 0) is the one way to keep root, and it says why not to. */
static void test_root_as_user_stays_root_with_a_warning(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", "--user", "root", NULL };
	struct sim_hv_domain_state domain;

	start_with_rngs(f, args, 1);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "warning: dom1: running as root", WAIT_MS), 0);
	assert_int_equal(sim_hv_get_domain_state(f->hv, 1, &domain), 0);
	assert_int_equal(process_uid(domain.serving_pid), 0);
	rng_init(&f->rng[0]);
	read_entropy_once(f, &f->rng[0], 4096);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_initialises_the_rng_and_reads_entropy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_worker_is_restricted_to_its_domain_and_unprivileged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_as_user_stays_root_with_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_huge_buffer_gets_at_most_64_KiB, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_refuses_a_driver_without_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_buffers_in_flight_then_reinitialise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_rngs_sharing_one_line_lose_no_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_rings_need_a_reset_and_the_other_rng_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_spreads_entropy_over_completions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_option_sets_the_maximum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng_in_the_host_bridge_slot_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_device_type_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio-rng through the daemon", tests, NULL, NULL);
}
