// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_virtio_transport.c: the modern virtio-pci transport
 * (virtio 1.2, 4.1) as a guest driver sees it, with virtio-rng as the device
 * behind it: the common configuration (4.1.4.3), the ISR (4.1.4.5), the PCI
 * configuration access window (4.1.4.9), the device status rules (2.1), and
 * what the PCI Command and Status registers do to a virtio function (PCI
 * 3.0, 6.2.2 and 6.2.3). The guest is this process; register offsets are
 * the spec's, structure locations come from the capabilities.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL	/* the daemon's default 64-bit BAR window */
#define BAR_STRIDE	0x100000ULL	/* where the guest places the n-th function's BAR */
#define RAM_BASE	0x40000000ULL	/* GUEST_RAM0 */
#define HIGH_RAM_BASE	0x200000000ULL	/* GUEST_RAM1: every address needs both halves */
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44		/* the daemon's default --intx-spi */
#define WAIT_MS		10000
#define MAX_RNGS	2

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_RNG_DEVICE_ID	(0x1040 + 4)	/* 4.1.2: modern ID of the entropy device */
#define REQUESTQ		0
#define DEFAULT_QUEUE_SIZE	256
#define STATUS_FEATURES_DONE	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
				 VIRTIO_STATUS_FEATURES_OK)
#define STATUS_ALL_OK		(STATUS_FEATURES_DONE | VIRTIO_STATUS_DRIVER_OK)
#define RNG_FEATURES		(1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX)
#define VIRTIO_MSI_NO_VECTOR	0xffff	/* 4.1.5.1.2 */

/* 4.1.4.3: struct virtio_pci_common_cfg. */
#define COMMON_DEVICE_FEATURE_SELECT	0x00
#define COMMON_DEVICE_FEATURE		0x04
#define COMMON_DRIVER_FEATURE_SELECT	0x08
#define COMMON_DRIVER_FEATURE		0x0c
#define COMMON_CONFIG_MSIX_VECTOR	0x10
#define COMMON_NUM_QUEUES		0x12
#define COMMON_DEVICE_STATUS		0x14
#define COMMON_CONFIG_GENERATION	0x15
#define COMMON_QUEUE_SELECT		0x16
#define COMMON_QUEUE_SIZE		0x18
#define COMMON_QUEUE_MSIX_VECTOR	0x1a
#define COMMON_QUEUE_ENABLE		0x1c
#define COMMON_QUEUE_NOTIFY_OFF		0x1e
#define COMMON_QUEUE_DESC		0x20
#define COMMON_QUEUE_DRIVER		0x28
#define COMMON_QUEUE_DEVICE		0x30

#define ISR_QUEUE		0x1	/* 4.1.4.5 */
#define ISR_CONFIG		0x2

/* PCI 3.0, 6.2.2 and 6.2.3. */
#define PCI_COMMAND			0x04
#define PCI_STATUS			0x06
#define PCI_COMMAND_BUS_MASTER		0x0004
#define PCI_COMMAND_INTX_DISABLE	0x0400
#define PCI_STATUS_INTERRUPT		0x0008

struct fixture {
	struct sim_hv *hv;
	uint64_t ram_base;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio rng[MAX_RNGS];
	unsigned int nr_rngs;
};

static const char *const one_rng[] = { "--device", "rng", NULL };

static int setup_at(void **state, uint64_t ram_base)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ram_base = ram_base;
	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2,
						      .ram_base = ram_base, .ram_size = RAM_SIZE });
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_at(state, RAM_BASE);
}

static int setup_high_ram(void **state)
{
	return setup_at(state, HIGH_RAM_BASE);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	free(f);
	return 0;
}

/* Start the daemon with @args and probe the @expected virtio-rng functions on bus 0. */
static void start_with_rngs(struct fixture *f, const char *const args[], unsigned int expected)
{
	struct guest_pci_function found[32];
	int count;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, f->ram_base, RAM_SIZE);
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

/* ---- the guest's raw accesses */

static uint64_t common_read(struct guest_virtio *vd, unsigned int off, unsigned int size)
{
	uint64_t value = 0;

	assert_int_equal(sim_vcpu_mmio_read(vd->pci->hv, 0, vd->common_gpa + off, size, &value),
			 SIM_ACCESS_SERVED);
	return value;
}

static void common_write(struct guest_virtio *vd, unsigned int off, unsigned int size, uint64_t value)
{
	assert_int_equal(sim_vcpu_mmio_write(vd->pci->hv, 0, vd->common_gpa + off, size, value),
			 SIM_ACCESS_SERVED);
}

static void select_queue(struct guest_virtio *vd, uint16_t index)
{
	common_write(vd, COMMON_QUEUE_SELECT, 2, index);
}

/* A 64-bit field read as two 32-bit halves, low first (4.1.3.1). */
static uint64_t common_read64_halves(struct guest_virtio *vd, unsigned int off)
{
	uint64_t low = common_read(vd, off, 4);

	return low | common_read(vd, off + 4, 4) << 32;
}

static uint16_t pci_command(struct guest_virtio *vd)
{
	return (uint16_t)guest_pci_read(vd->pci, vd->fn.bus, vd->fn.devfn, PCI_COMMAND, 2);
}

static void set_pci_command(struct guest_virtio *vd, uint16_t command)
{
	guest_pci_write(vd->pci, vd->fn.bus, vd->fn.devfn, PCI_COMMAND, 2, command);
}

static bool interrupt_status(struct guest_virtio *vd)
{
	return guest_pci_read(vd->pci, vd->fn.bus, vd->fn.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
}

/* The device's used->idx of queue @index, as it left it in guest RAM. */
static uint16_t used_idx(struct guest_virtio *vd, uint16_t index)
{
	uint16_t *idx = guest_ram_ptr(vd->ram, vd->queues[index].used_gpa + 2, 2);

	return le16toh(__atomic_load_n(idx, __ATOMIC_ACQUIRE));
}

/*
 * Give the device time to act on what the guest just did: every access
 * waits for the daemon's answer, so a few register reads after a kick
 * come back only once the kick has been handled.
 */
static void settle(struct guest_virtio *vd)
{
	for (int i = 0; i < 4; i++)
		guest_virtio_get_status(vd);
}

/* 3.1.1 with the features a Linux virtio-rng driver takes, one requestq, DRIVER_OK. */
static void rng_init(struct guest_virtio *vd)
{
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
}

/* One rng, reset, then 3.1.1 steps 2-3: ACKNOWLEDGE and DRIVER. */
static struct guest_virtio *start_driver_found(struct fixture *f)
{
	struct guest_virtio *vd;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_reset(vd), 0);
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	return vd;
}

/* A fresh device-writable buffer of @size bytes, put in requestq (not notified). */
static void add_buffer(struct guest_virtio *vd, struct guest_buf *buf, uint32_t size)
{
	*buf = (struct guest_buf){ guest_ram_alloc(vd->ram, size, 4096), size, true };
	assert_int_not_equal(buf->gpa, 0);
	assert_int_equal(guest_virtio_add(vd, REQUESTQ, buf, 1, buf), 0);
}

/* A buffer added and notified now is not served: used idx stays @used, no interrupt. */
static void assert_kick_not_served(struct guest_virtio *vd, struct guest_buf *buf, uint16_t used)
{
	unsigned long seen = guest_virtio_interrupts(vd);

	add_buffer(vd, buf, 4096);
	guest_virtio_notify(vd, REQUESTQ);
	settle(vd);
	assert_int_equal(used_idx(vd, REQUESTQ), used);
	assert_int_equal(guest_virtio_interrupts(vd), seen);
}

/* The guest's interrupt handler until one request completes; returns its token. */
static void *wait_used(struct guest_virtio *vd, uint32_t *len)
{
	for (;;) {
		unsigned long seen = guest_virtio_interrupts(vd);
		void *token = NULL;
		int got = guest_virtio_get_used(vd, REQUESTQ, len, &token);

		assert_true(got >= 0);
		if (got == 1)
			return token;
		assert_int_equal(guest_virtio_wait_interrupt(vd, seen, WAIT_MS), 0);
		guest_virtio_read_isr(vd);
	}
}

static void read_entropy(struct guest_virtio *vd)
{
	struct guest_buf buf;
	uint32_t len;

	add_buffer(vd, &buf, 4096);
	guest_virtio_notify(vd, REQUESTQ);
	assert_ptr_equal(wait_used(vd, &len), &buf);
	assert_in_range(len, 1, 4096);
}

/* ---- PCI Command and Status */

static void test_bus_master_disable_stops_the_queue_until_reenabled(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_buf buf;
	uint16_t command;
	uint32_t len;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	rng_init(vd);

	/* PCI 3.0, 6.2.2: with Bus Master Enable clear the function may not touch memory. */
	command = pci_command(vd);
	assert_true(command & PCI_COMMAND_BUS_MASTER);
	set_pci_command(vd, command & ~PCI_COMMAND_BUS_MASTER);
	assert_false(pci_command(vd) & PCI_COMMAND_BUS_MASTER);

	assert_kick_not_served(vd, &buf, 0);
	assert_false(interrupt_status(vd));
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);

	/* The guest turns bus mastering back on and kicks again: the buffer is served. */
	set_pci_command(vd, command);
	guest_virtio_notify(vd, REQUESTQ);
	assert_ptr_equal(wait_used(vd, &len), &buf);
	assert_in_range(len, 1, 4096);
	assert_int_equal(used_idx(vd, REQUESTQ), 1);
	assert_int_equal(f->pci.errors, 0);
}

static void test_intx_disable_holds_the_line_while_interrupt_status_shows_it(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_buf buf;
	unsigned long seen;
	uint16_t command;
	uint32_t len;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	rng_init(vd);
	command = pci_command(vd);
	set_pci_command(vd, command | PCI_COMMAND_INTX_DISABLE);

	/* A completion: the ISR and Interrupt Status say so (PCI 3.0, 6.2.3), the pin stays quiet. */
	seen = guest_virtio_interrupts(vd);
	add_buffer(vd, &buf, 4096);
	guest_virtio_notify(vd, REQUESTQ);
	settle(vd);
	assert_int_equal(used_idx(vd, REQUESTQ), 1);
	assert_true(interrupt_status(vd));
	assert_int_equal(guest_virtio_interrupts(vd), seen);
	assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 0);

	/* 6.2.2: clearing INTx Disable with the interrupt still pending asserts the pin. */
	set_pci_command(vd, command);
	assert_true(guest_virtio_interrupts(vd) > seen);
	assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 1);

	/* 4.1.4.5.1: reading the ISR clears it and deasserts the interrupt. */
	assert_int_equal(guest_virtio_read_isr(vd) & ISR_QUEUE, ISR_QUEUE);
	assert_false(interrupt_status(vd));
	assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 0);
	assert_int_equal(guest_virtio_read_isr(vd), 0);
	assert_ptr_equal(wait_used(vd, &len), &buf);
	assert_int_equal(f->pci.errors, 0);
}

/* ---- device status (2.1, 3.1.1) */

static void test_buffers_wait_for_driver_ok(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_buf buf;
	unsigned long seen;
	void *token;
	uint32_t len;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);

	/* 3.1.1: the device does not consume buffers before DRIVER_OK. */
	seen = guest_virtio_interrupts(vd);
	add_buffer(vd, &buf, 4096);
	guest_virtio_notify(vd, REQUESTQ);
	settle(vd);
	assert_int_equal(used_idx(vd, REQUESTQ), 0);
	assert_int_equal(guest_virtio_interrupts(vd), seen);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
	guest_virtio_notify(vd, REQUESTQ);
	assert_ptr_equal(wait_used(vd, &len), &buf);
	assert_in_range(len, 1, 4096);
	/* Served once, whether at DRIVER_OK or at the kick after it. */
	assert_int_equal(guest_virtio_get_used(vd, REQUESTQ, &len, &token), 0);
	assert_int_equal(used_idx(vd, REQUESTQ), 1);
}

static void test_device_status_bits_are_cleared_only_by_reset(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 64), 0);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	/* 2.1.2: the driver MUST NOT clear a device status bit; such writes change nothing. */
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	/* 4.1.4.3.1: writing 0 resets the device: status, queues and driver features. */
	guest_virtio_set_status(vd, 0);
	assert_int_equal(guest_virtio_get_status(vd), 0);
	select_queue(vd, REQUESTQ);
	assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 0);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), DEFAULT_QUEUE_SIZE);
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	assert_int_equal(common_read(vd, COMMON_DRIVER_FEATURE, 4), 0);
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 1);
	assert_int_equal(common_read(vd, COMMON_DRIVER_FEATURE, 4), 0);
	assert_int_equal(f->pci.errors, 0);
}

static void test_driver_ok_without_features_ok_needs_reset(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	unsigned long seen;

	vd = start_driver_found(f);

	/* 3.1.1 skipped steps 4-6: a protocol violation, so DEVICE_NEEDS_RESET (2.1.2). */
	seen = guest_virtio_interrupts(vd);
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_DRIVER_OK);
	assert_true(guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(guest_virtio_wait_interrupt(vd, seen, WAIT_MS), 0);
	assert_true(guest_virtio_read_isr(vd) & ISR_CONFIG);
	assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 0);

	/* A reset and a proper initialisation give a working device. */
	rng_init(vd);
	read_entropy(vd);
}

static void test_failed_stops_the_queues_until_reset(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_buf buf;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	rng_init(vd);
	read_entropy(vd);

	/* 2.1: FAILED, the driver has given up on the device: it touches no buffer any more. */
	guest_virtio_set_status(vd, STATUS_ALL_OK | VIRTIO_STATUS_FAILED);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK | VIRTIO_STATUS_FAILED);
	assert_kick_not_served(vd, &buf, 1);

	/* 2.1.1: the driver resets before trying again, and the device works. */
	rng_init(vd);
	read_entropy(vd);
}

static void test_queue_enabled_before_features_ok_needs_reset(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;

	vd = start_driver_found(f);

	/*
	 * 3.1.1: queues are set up (step 7) after the features are final
	 * (steps 4-6). A queue enabled before would run with features the
	 * driver may still change: a protocol violation, so DEVICE_NEEDS_RESET.
	 */
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	assert_true(guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET);

	/* In the right order, with the ring features, it works. */
	rng_init(vd);
	read_entropy(vd);
}

/* ---- features (2.2, 4.1.4.3) */

static void test_feature_windows_and_features_locked_at_features_ok(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	uint32_t low, high;

	vd = start_driver_found(f);

	/* Bits 0-31, 32-63, then 64-95, which no feature uses yet. */
	common_write(vd, COMMON_DEVICE_FEATURE_SELECT, 4, 0);
	low = (uint32_t)common_read(vd, COMMON_DEVICE_FEATURE, 4);
	assert_true(low & 1u << VIRTIO_F_INDIRECT_DESC);
	assert_true(low & 1u << VIRTIO_F_EVENT_IDX);
	common_write(vd, COMMON_DEVICE_FEATURE_SELECT, 4, 1);
	high = (uint32_t)common_read(vd, COMMON_DEVICE_FEATURE, 4);
	assert_true(high & 1u << (VIRTIO_F_VERSION_1 - 32));
	common_write(vd, COMMON_DEVICE_FEATURE_SELECT, 4, 2);
	assert_int_equal(common_read(vd, COMMON_DEVICE_FEATURE, 4), 0);
	assert_int_equal(common_read(vd, COMMON_DEVICE_FEATURE_SELECT, 4), 2);

	/* 3.1.1 step 5: once FEATURES_OK is set the driver features stay as accepted. */
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(vd->driver_features, RNG_FEATURES | 1ULL << VIRTIO_F_VERSION_1);
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	common_write(vd, COMMON_DRIVER_FEATURE, 4, 0);
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 1);
	common_write(vd, COMMON_DRIVER_FEATURE, 4, 0);
	assert_int_equal(common_read(vd, COMMON_DRIVER_FEATURE, 4), 1u << (VIRTIO_F_VERSION_1 - 32));
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	assert_int_equal(common_read(vd, COMMON_DRIVER_FEATURE, 4), (uint32_t)RNG_FEATURES);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
	read_entropy(vd);
}

/* ---- queue configuration (4.1.4.3, 4.1.5.1.3) */

static void test_queue_addresses_take_both_halves_in_any_order(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_virtq *q;
	struct guest_buf buf;
	const uint16_t size = 64;
	uint16_t notify_off;
	uint8_t *bytes;
	uint32_t len;
	bool all_zero = true;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);

	/* The three parts of a split queue (2.7), allocated by the guest above 4 GiB. */
	q = &vd->queues[REQUESTQ];
	memset(q, 0, sizeof(*q));
	q->index = REQUESTQ;
	q->size = size;
	q->desc_gpa = guest_ram_alloc(&f->ram, 16ULL * size, 4096);
	q->avail_gpa = guest_ram_alloc(&f->ram, 6 + 2ULL * size, 4096);
	q->used_gpa = guest_ram_alloc(&f->ram, 6 + 8ULL * size, 4096);
	assert_true(q->desc_gpa >> 32 && q->avail_gpa >> 32 && q->used_gpa >> 32);

	select_queue(vd, REQUESTQ);
	common_write(vd, COMMON_QUEUE_SIZE, 2, size);
	/* queue_desc high half first, queue_driver low half first, queue_device in one access. */
	common_write(vd, COMMON_QUEUE_DESC + 4, 4, q->desc_gpa >> 32);
	common_write(vd, COMMON_QUEUE_DESC, 4, (uint32_t)q->desc_gpa);
	common_write(vd, COMMON_QUEUE_DRIVER, 4, (uint32_t)q->avail_gpa);
	common_write(vd, COMMON_QUEUE_DRIVER + 4, 4, q->avail_gpa >> 32);
	common_write(vd, COMMON_QUEUE_DEVICE, 8, q->used_gpa);

	assert_int_equal(common_read64_halves(vd, COMMON_QUEUE_DESC), q->desc_gpa);
	assert_int_equal(common_read64_halves(vd, COMMON_QUEUE_DRIVER), q->avail_gpa);
	assert_int_equal(common_read64_halves(vd, COMMON_QUEUE_DEVICE), q->used_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DESC, 8), q->desc_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DRIVER, 8), q->avail_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DEVICE, 8), q->used_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), size);

	/* 4.1.4.4: the queue's notification address. */
	notify_off = (uint16_t)common_read(vd, COMMON_QUEUE_NOTIFY_OFF, 2);
	q->notify_gpa = vd->notify_gpa + (uint64_t)notify_off * vd->notify_off_multiplier;
	common_write(vd, COMMON_QUEUE_ENABLE, 2, 1);
	assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 1);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	/* The guest library's free list over the descriptor table, as guest_virtio_setup_queue makes it. */
	for (uint16_t i = 0; i + 1 < size; i++) {
		uint16_t next = htole16(i + 1);

		memcpy(guest_ram_ptr(&f->ram, q->desc_gpa + 16ULL * i + 14, 2), &next, 2);
	}
	q->free_head = 0;
	q->num_free = size;
	q->ready = true;
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);

	add_buffer(vd, &buf, 4096);
	assert_true(buf.gpa >> 32);
	guest_virtio_notify(vd, REQUESTQ);
	assert_ptr_equal(wait_used(vd, &len), &buf);
	assert_in_range(len, 1, 4096);
	bytes = guest_ram_ptr(&f->ram, buf.gpa, len);
	for (uint32_t i = 0; i < len; i++)
		all_zero &= bytes[i] == 0;
	assert_false(all_zero);
	assert_int_equal(f->pci.errors, 0);
}

static void test_msix_vectors_read_no_vector(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	select_queue(vd, REQUESTQ);

	/* 4.1.5.1.2.1: no MSI-X capability, so every mapping fails and reads back NO_VECTOR. */
	assert_int_equal(common_read(vd, COMMON_CONFIG_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(common_read(vd, COMMON_QUEUE_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	common_write(vd, COMMON_CONFIG_MSIX_VECTOR, 2, 0);
	common_write(vd, COMMON_QUEUE_MSIX_VECTOR, 2, 0);
	assert_int_equal(common_read(vd, COMMON_CONFIG_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(common_read(vd, COMMON_QUEUE_MSIX_VECTOR, 2), VIRTIO_MSI_NO_VECTOR);

	/* INTx still reports completions. */
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
	read_entropy(vd);
}

static void test_queue_select_beyond_num_queues_is_an_absent_queue(void **state)
{
	struct fixture *f = *state;
	const uint16_t absent[] = { 1, 2, 0xffff };
	struct guest_virtio *vd;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(common_read(vd, COMMON_NUM_QUEUES, 2), 1);

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		select_queue(vd, absent[i]);
		/* 4.1.4.3.1: queue_size 0 says the queue is unavailable. */
		assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), 0);
		common_write(vd, COMMON_QUEUE_SIZE, 2, 16);
		common_write(vd, COMMON_QUEUE_DESC, 8, f->ram_base);
		common_write(vd, COMMON_QUEUE_DRIVER, 8, f->ram_base + 0x1000);
		common_write(vd, COMMON_QUEUE_DEVICE, 8, f->ram_base + 0x2000);
		common_write(vd, COMMON_QUEUE_ENABLE, 2, 1);
		assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), 0);
		assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 0);
		assert_int_equal(common_read(vd, COMMON_QUEUE_DESC, 8), 0);
		assert_int_equal(common_read(vd, COMMON_QUEUE_DRIVER, 8), 0);
		assert_int_equal(common_read(vd, COMMON_QUEUE_DEVICE, 8), 0);
	}
	assert_int_equal(guest_virtio_get_status(vd), STATUS_FEATURES_DONE);

	/* None of it reached queue 0, which is still untouched and works. */
	select_queue(vd, REQUESTQ);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), DEFAULT_QUEUE_SIZE);
	assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 0);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DESC, 8), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
	read_entropy(vd);
}

static void test_enabled_queue_ignores_reconfiguration(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	struct guest_virtq *q;
	uint64_t elsewhere;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_negotiate(vd, RNG_FEATURES), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	q = &vd->queues[REQUESTQ];

	/*
	 * 4.1.4.3.2: the driver configures a queue before enabling it; without
	 * VIRTIO_F_RING_RESET there is no changing it afterwards, so the device keeps the old values.
	 */
	elsewhere = guest_ram_alloc(&f->ram, 4096, 4096);
	select_queue(vd, REQUESTQ);
	common_write(vd, COMMON_QUEUE_SIZE, 2, 16);
	common_write(vd, COMMON_QUEUE_DESC, 4, (uint32_t)elsewhere);
	common_write(vd, COMMON_QUEUE_DESC + 4, 4, elsewhere >> 32);
	common_write(vd, COMMON_QUEUE_DRIVER, 8, elsewhere);
	common_write(vd, COMMON_QUEUE_DEVICE, 8, elsewhere);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), q->size);
	assert_int_equal(common_read64_halves(vd, COMMON_QUEUE_DESC), q->desc_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DRIVER, 8), q->avail_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_DEVICE, 8), q->used_gpa);
	assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 1);

	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
	read_entropy(vd);
}

/* ---- access paths */

static void test_pci_cfg_window_reaches_the_common_configuration(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;
	uint32_t common;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_not_equal(vd->pci_cfg_cap, 0);
	common = (uint32_t)(vd->common_gpa - vd->bar_gpa);
	assert_int_equal(guest_virtio_reset(vd), 0);

	/* 4.1.4.9: the window reads and writes the same registers the BAR does. */
	assert_int_equal(guest_virtio_pci_cfg_read(vd, common + COMMON_NUM_QUEUES, 2), 1);
	guest_virtio_pci_cfg_write(vd, common + COMMON_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(guest_virtio_get_status(vd), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(guest_virtio_pci_cfg_read(vd, common + COMMON_DEVICE_STATUS, 1),
			 VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(f->pci.errors, 0);
}

static void test_wrong_width_common_accesses_do_nothing(void **state)
{
	struct fixture *f = *state;
	struct guest_virtio *vd;

	start_with_rngs(f, one_rng, 1);
	vd = &f->rng[0];
	assert_int_equal(guest_virtio_reset(vd), 0);
	guest_virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	select_queue(vd, REQUESTQ);

	/*
	 * 4.1.3.1: each field has its natural width. Other accesses cover
	 * neighbouring fields or half of one; they read 0 rather than bytes
	 * stitched together (device_status is 1, num_queues 1 here).
	 */
	assert_int_equal(common_read(vd, COMMON_DEVICE_STATUS, 4), 0);
	assert_int_equal(common_read(vd, COMMON_DEVICE_STATUS - 1, 2), 0);
	assert_int_equal(common_read(vd, COMMON_NUM_QUEUES, 1), 0);
	assert_int_equal(common_read(vd, COMMON_NUM_QUEUES, 4), 0);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SELECT, 4), 0);
	assert_int_equal(common_read(vd, COMMON_DEVICE_FEATURE_SELECT, 8), 0);

	/* And writes of the wrong width change nothing. */
	common_write(vd, COMMON_DEVICE_STATUS, 2, 0x0303);
	common_write(vd, COMMON_DEVICE_STATUS, 4, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	common_write(vd, COMMON_DEVICE_STATUS - 1, 2, 0x0300);
	assert_int_equal(guest_virtio_get_status(vd), VIRTIO_STATUS_ACKNOWLEDGE);
	common_write(vd, COMMON_QUEUE_SELECT, 1, 1);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SELECT, 2), 0);
	common_write(vd, COMMON_QUEUE_SIZE, 4, 16);
	common_write(vd, COMMON_QUEUE_SIZE, 1, 16);
	assert_int_equal(common_read(vd, COMMON_QUEUE_SIZE, 2), DEFAULT_QUEUE_SIZE);
	common_write(vd, COMMON_QUEUE_ENABLE, 4, 1);
	assert_int_equal(common_read(vd, COMMON_QUEUE_ENABLE, 2), 0);
	assert_int_equal(guest_virtio_get_status(vd), VIRTIO_STATUS_ACKNOWLEDGE);

	/* The daemon goes on serving. */
	rng_init(vd);
	read_entropy(vd);
	assert_int_equal(f->pci.errors, 0);
}

/* ---- INTx routing */

/*
 * The guest was destroyed (xl destroy) while its driver had the BARs mapped:
 * Xen removed the server and every range with it, so the stop must not ask
 * Xen to unregister them (found by the boot test: three errors per device).
 */
static void test_stop_after_the_guest_is_gone_with_bars_mapped_is_quiet(void **state)
{
	struct fixture *f = *state;
	const char *log;

	start_with_rngs(f, one_rng, 1);
	sim_hv_destroy_domain(f->hv);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	log = sim_hv_daemon_log(f->hv);
	assert_non_null(strstr(log, "domain 1 is gone"));
	if (strstr(log, "error:"))
		fail_msg("the daemon logged errors for a domain that is simply gone:\n%s", log);
}

static void test_two_rngs_on_different_lines_raise_only_their_own(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng,addr=1", "--device", "rng,addr=2", NULL };
	struct guest_virtio *devs[2];

	start_with_rngs(f, args, 2);
	devs[0] = &f->rng[0];
	devs[1] = &f->rng[1];
	/* Devices 1 and 2, INTA: swizzled to INTB and INTC, SPIs 45 and 46. */
	assert_int_equal(devs[0]->fn.devfn, 1 << 3);
	assert_int_equal(devs[1]->fn.devfn, 2 << 3);
	assert_int_equal(devs[0]->spi, INTX_SPI_BASE + 1);
	assert_int_equal(devs[1]->spi, INTX_SPI_BASE + 2);
	rng_init(devs[0]);
	rng_init(devs[1]);

	for (unsigned int d = 0; d < 2; d++) {
		struct guest_virtio *vd = devs[d], *other = devs[1 - d];
		unsigned long seen = guest_virtio_interrupts(vd);
		unsigned long other_seen = guest_virtio_interrupts(other);
		struct guest_buf buf;
		uint32_t len;

		add_buffer(vd, &buf, 4096);
		guest_virtio_notify(vd, REQUESTQ);
		assert_int_equal(guest_virtio_wait_interrupt(vd, seen, WAIT_MS), 0);
		assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 1);
		assert_int_equal(guest_virtio_interrupts(other), other_seen);
		assert_int_equal(sim_hv_irq_level(f->hv, other->spi), 0);
		assert_int_equal(guest_virtio_read_isr(other), 0);

		assert_int_equal(guest_virtio_read_isr(vd) & ISR_QUEUE, ISR_QUEUE);
		assert_int_equal(sim_hv_irq_level(f->hv, vd->spi), 0);
		assert_ptr_equal(wait_used(vd, &len), &buf);
	}
	assert_int_equal(f->pci.errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bus_master_disable_stops_the_queue_until_reenabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_disable_holds_the_line_while_interrupt_status_shows_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_wait_for_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_status_bits_are_cleared_only_by_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_without_features_ok_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_stops_the_queues_until_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_enabled_before_features_ok_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_windows_and_features_locked_at_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_addresses_take_both_halves_in_any_order, setup_high_ram, teardown),
		cmocka_unit_test_setup_teardown(test_msix_vectors_read_no_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_select_beyond_num_queues_is_an_absent_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enabled_queue_ignores_reconfiguration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window_reaches_the_common_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_width_common_accesses_do_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_rngs_on_different_lines_raise_only_their_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_after_the_guest_is_gone_with_bars_mapped_is_quiet, setup, teardown),
	};

	return cmocka_run_group_tests_name("the virtio-pci transport through the daemon", tests, NULL, NULL);
}
