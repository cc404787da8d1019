// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_ecam.c: the host bridge as a guest sees it through the
 * ECAM window, and what it asks of the platform: which BARs it routes and
 * when, and which INTx events it reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ecam/ecam.h"
#include "lib/log.h"

/* The default guest layout (GUEST_VPCI_* in Xen's arch-arm.h, docs/configuration.md). */
#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MEM32_BASE	0x23000000ULL
#define MEM32_SIZE	0x10000000ULL
#define MEM64_BASE	0x100000000ULL
#define MEM64_SIZE	0x100000000ULL

#define BAR_SIZE	0x4000ULL
#define BAR_REG(bar)	((uint16_t)(PCI_BASE_ADDRESS_0 + 4 * (bar)))

/* ---- the platform: records what the host bridge asks of it */

enum call_kind { CALL_MAP, CALL_UNMAP, CALL_INTX };

struct call {
	enum call_kind kind;
	struct pci_function *fn;
	unsigned int bar;
	uint64_t base;
	uint64_t size;
	bool asserted;
};

#define MAX_CALLS	64

static struct {
	struct call calls[MAX_CALLS];
	unsigned int nr_calls;
	int map_result;
} platform;

static void record(struct call call)
{
	if (platform.nr_calls < MAX_CALLS)
		platform.calls[platform.nr_calls] = call;
	platform.nr_calls++;
}

static int mock_map_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			uint64_t base, uint64_t size)
{
	assert_ptr_equal(opaque, &platform);
	record((struct call){ .kind = CALL_MAP, .fn = fn, .bar = bar, .base = base, .size = size });
	return platform.map_result;
}

static void mock_unmap_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			   uint64_t base, uint64_t size)
{
	assert_ptr_equal(opaque, &platform);
	record((struct call){ .kind = CALL_UNMAP, .fn = fn, .bar = bar, .base = base, .size = size });
}

static void mock_intx_changed(void *opaque, struct pci_function *fn, bool asserted)
{
	assert_ptr_equal(opaque, &platform);
	record((struct call){ .kind = CALL_INTX, .fn = fn, .asserted = asserted });
}

static const struct ecam_platform_ops platform_ops = {
	.map_bar = mock_map_bar,
	.unmap_bar = mock_unmap_bar,
	.intx_changed = mock_intx_changed,
};

static void forget_calls(void)
{
	platform.nr_calls = 0;
}

static void assert_calls(unsigned int nr)
{
	assert_int_equal(platform.nr_calls, nr);
}

static void assert_bar_call(unsigned int i, enum call_kind kind, struct pci_function *fn,
			    unsigned int bar, uint64_t base)
{
	assert_true(i < platform.nr_calls);
	assert_int_equal(platform.calls[i].kind, kind);
	assert_ptr_equal(platform.calls[i].fn, fn);
	assert_int_equal(platform.calls[i].bar, bar);
	assert_int_equal(platform.calls[i].base, base);
	assert_int_equal(platform.calls[i].size, fn->bars[bar].size);
}

static void assert_intx_call(unsigned int i, struct pci_function *fn, bool asserted)
{
	assert_true(i < platform.nr_calls);
	assert_int_equal(platform.calls[i].kind, CALL_INTX);
	assert_ptr_equal(platform.calls[i].fn, fn);
	assert_int_equal(platform.calls[i].asserted, asserted);
}

/* ---- the bridge and the functions under test */

static struct ecam_host *host;
static struct pci_function fn_a, fn_b;

static const struct ecam_host_config default_config = {
	.ecam = { ECAM_BASE, ECAM_SIZE },
	.bar_windows = { { MEM32_BASE, MEM32_SIZE }, { MEM64_BASE, MEM64_SIZE } },
	.nr_bar_windows = 2,
};

static const struct pci_function_ids test_ids = {
	.vendor_id = 0x1af4,
	.device_id = 0x1041,
	.revision = 1,
	.class_code = 0x020000,
	.interrupt_pin = 1,
};

static struct {
	struct pci_function *fn;
	uint16_t off;
	unsigned int size;
	uint32_t command;	/* Command as the hook saw it */
	unsigned int nr_calls;
} hook;

static void record_config_write(struct pci_function *fn, uint16_t off, unsigned int size)
{
	hook.fn = fn;
	hook.off = off;
	hook.size = size;
	hook.command = pci_config_get16(&fn->config, PCI_COMMAND);
	hook.nr_calls++;
}

static const struct pci_function_ops test_ops = {
	.config_written = record_config_write,
};

/* BAR 0: 32-bit, 16 KiB; BAR 2: 64-bit prefetchable, 16 KiB (as a virtio-pci function). */
static void init_function(struct pci_function *fn)
{
	pci_function_init(fn, &test_ids, &test_ops, NULL);
	assert_int_equal(pci_function_add_bar(fn, 0, BAR_SIZE, false, false), 0);
	assert_int_equal(pci_function_add_bar(fn, 2, BAR_SIZE, true, true), 0);
}

static int create_host(const struct ecam_host_config *config)
{
	memset(&platform, 0, sizeof(platform));
	memset(&hook, 0, sizeof(hook));
	init_function(&fn_a);
	init_function(&fn_b);
	return ecam_host_create(&host, config, &platform_ops, &platform);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(create_host(&default_config), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ecam_host_destroy(host);
	host = NULL;
	return 0;
}

static uint64_t ecam_offset(uint8_t bus, uint8_t devfn, uint16_t reg)
{
	return (uint64_t)bus << 20 | (uint64_t)devfn << 12 | reg;
}

static uint64_t cfg_read(uint8_t bus, uint8_t devfn, uint16_t reg, unsigned int size)
{
	return ecam_host_read(host, ecam_offset(bus, devfn, reg), size);
}

static void cfg_write(uint8_t bus, uint8_t devfn, uint16_t reg, unsigned int size, uint64_t value)
{
	ecam_host_write(host, ecam_offset(bus, devfn, reg), size, value);
}

static void fn_write(struct pci_function *fn, uint16_t reg, unsigned int size, uint64_t value)
{
	cfg_write(fn->bus, fn->devfn, reg, size, value);
}

/* Program a BAR the way a guest does: low dword, then (64-bit) high dword. */
static void set_bar(struct pci_function *fn, unsigned int bar, uint64_t address)
{
	fn_write(fn, BAR_REG(bar), 4, (uint32_t)address);
	if (fn->bars[bar].is_64bit)
		fn_write(fn, BAR_REG(bar + 1), 4, address >> 32);
}

static void set_memory(struct pci_function *fn, bool enable)
{
	fn_write(fn, PCI_COMMAND, 2, enable ? PCI_COMMAND_MEMORY : 0);
}

/* A function at @devfn on bus 0, BAR 0 at @bar0 and BAR 2 at @bar2, decoding. */
static void add_enabled(struct pci_function *fn, uint8_t devfn, uint64_t bar0, uint64_t bar2)
{
	assert_int_equal(ecam_host_add_function(host, fn, 0, devfn), 0);
	set_bar(fn, 0, bar0);
	set_bar(fn, 2, bar2);
	set_memory(fn, true);
}

/* ---- logging: must run first, before other tests use up the rate limit */

static unsigned int count_lines(FILE *log, const char *needle)
{
	char line[1024];
	unsigned int count = 0;

	rewind(log);
	while (fgets(line, sizeof(line), log))
		count += strstr(line, needle) != NULL;
	return count;
}

static void test_refused_bar_is_logged_once(void **state)
{
	FILE *log = tmpfile();
	int saved_stderr = dup(STDERR_FILENO);

	(void)state;
	assert_non_null(log);
	assert_true(saved_stderr >= 0);
	log_set_level(LOG_LEVEL_WARN);
	assert_true(dup2(fileno(log), STDERR_FILENO) >= 0);

	add_enabled(&fn_a, PCI_DEVFN(3, 0), 0x40000000, MEM64_BASE);
	/* Every further re-evaluation sees the same refusal. */
	for (int i = 0; i < 5; i++) {
		ecam_host_update_bars(host);
		fn_write(&fn_a, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	}
	set_bar(&fn_a, 0, 0x50000000);

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	log_set_level(LOG_LEVEL_ERROR);
	assert_int_equal(count_lines(log, "00:03.0: BAR 0 at 0x40000000 size 0x4000 not routed"), 1);
	assert_int_equal(count_lines(log, "00:03.0: BAR 0 at 0x50000000 size 0x4000 not routed"), 1);
	assert_int_equal(count_lines(log, "BAR 2"), 0);
	fclose(log);
}

/* ---- ECAM decode */

static void test_bridge_config_space_every_size_every_offset(void **state)
{
	uint8_t expected[PCI_CONFIG_SPACE_SIZE] = {
		[0x00] = 0x36, [0x01] = 0x1b,		/* vendor 0x1b36 */
		[0x02] = 0x08, [0x03] = 0x00,		/* device 0x0008 */
		[0x0b] = 0x06,				/* class 0x060000 */
	};

	(void)state;
	for (unsigned int size = 1; size <= 8; size++) {
		for (unsigned int off = 0; off < PCI_CONFIG_SPACE_SIZE; off++) {
			bool valid = (size == 1 || size == 2 || size == 4) && off % size == 0;
			uint64_t want = 0;

			if (!valid)
				want = ecam_all_ones(size);
			for (unsigned int i = 0; valid && i < size; i++)
				want |= (uint64_t)expected[off + i] << (8 * i);
			assert_int_equal(ecam_host_read(host, off, size), want);
		}
	}
}

static void test_bridge_takes_only_its_writable_bits(void **state)
{
	(void)state;
	for (unsigned int off = 0; off < PCI_CONFIG_SPACE_SIZE; off += 4)
		ecam_host_write(host, off, 4, 0xffffffff);
	assert_int_equal(cfg_read(0, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	/* Status error bits W1C (nothing to clear), Command takes its writable bits. */
	assert_int_equal(cfg_read(0, 0, PCI_COMMAND, 4), 0x00000546);
	assert_int_equal(cfg_read(0, 0, PCI_REVISION_ID, 4), 0x06000000);
	assert_int_equal(cfg_read(0, 0, PCI_CACHE_LINE_SIZE, 4), 0x000000ff);
	assert_int_equal(cfg_read(0, 0, PCI_INTERRUPT_LINE, 4), 0x000000ff);
	for (uint16_t off = PCI_BASE_ADDRESS_0; off < PCI_CACHE_LINE_SIZE + 0x30; off += 4)
		if (off != PCI_INTERRUPT_LINE)
			assert_int_equal(cfg_read(0, 0, off, 4), 0);
	for (uint16_t off = 0x40; off < PCI_CONFIG_SPACE_SIZE; off += 4)
		assert_int_equal(cfg_read(0, 0, off, 4), 0);
	assert_calls(0);
}

static void test_enumeration_finds_only_the_bridge(void **state)
{
	(void)state;
	for (unsigned int devfn = 0; devfn < 256; devfn++) {
		uint64_t id = cfg_read(0, (uint8_t)devfn, PCI_VENDOR_ID, 4);

		assert_int_equal(id, devfn == 0 ? 0x00081b36 : 0xffffffff);
	}
	/* No other bus has anything either. */
	for (unsigned int bus = 1; bus < 256; bus++)
		assert_int_equal(cfg_read((uint8_t)bus, 0, PCI_VENDOR_ID, 2), 0xffff);
	assert_string_equal(ecam_host_find_function(host, 0, 0)->name, "00:00.0");
	assert_null(ecam_host_find_function(host, 0, 1));
	assert_null(ecam_host_find_function(host, 255, 255));
}

static void test_absent_function_reads_all_ones(void **state)
{
	(void)state;
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_VENDOR_ID, 1), 0xff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_COMMAND, 2), 0xffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), 0xffc, 4), 0xffffffff);
	cfg_write(0, PCI_DEVFN(3, 0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(4, PCI_DEVFN(31, 7), PCI_COMMAND, 4, 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_COMMAND, 2), 0xffff);
	assert_calls(0);
}

static void test_offsets_beyond_the_window_read_all_ones(void **state)
{
	const struct ecam_host_config one_bus = {
		.ecam = { ECAM_BASE, ECAM_BUS_SIZE },
		.bar_windows = { { MEM32_BASE, MEM32_SIZE } },
		.nr_bar_windows = 1,
	};

	(void)state;
	ecam_host_destroy(host);
	assert_int_equal(create_host(&one_bus), 0);
	assert_int_equal(ecam_host_read(host, 0, 4), 0x00081b36);
	assert_int_equal(ecam_host_read(host, ECAM_BUS_SIZE, 4), 0xffffffff);
	assert_int_equal(ecam_host_read(host, ECAM_BUS_SIZE, 1), 0xff);
	assert_int_equal(ecam_host_read(host, ECAM_SIZE, 2), 0xffff);
	assert_int_equal(ecam_host_read(host, UINT64_MAX - 3, 4), 0xffffffff);
	assert_int_equal(ecam_host_read(host, UINT64_MAX, 1), 0xff);
	assert_int_equal(ecam_host_read(host, 1ULL << 63, 8), UINT64_MAX);
	ecam_host_write(host, ECAM_BUS_SIZE + PCI_COMMAND, 2, 0xffff);
	ecam_host_write(host, UINT64_MAX - 1, 2, 0xffff);
	assert_int_equal(ecam_host_read(host, PCI_COMMAND, 2), 0);
	/* Bus 1 is not in a one-bus window. */
	assert_int_equal(ecam_host_add_function(host, &fn_a, 1, 0), -EINVAL);
	assert_null(ecam_host_find_function(host, 1, 0));
}

static void test_bad_windows_are_refused(void **state)
{
	struct ecam_host_config config = default_config;
	struct ecam_host *other = NULL;

	(void)state;
	config.ecam.size = ECAM_BUS_SIZE + 0x1000;
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	config.ecam.size = 257 * ECAM_BUS_SIZE;
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	config.ecam.size = 0;
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	config.ecam = (struct ecam_window){ UINT64_MAX - ECAM_BUS_SIZE + 2, ECAM_BUS_SIZE };
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	config = default_config;
	config.nr_bar_windows = ECAM_MAX_BAR_WINDOWS + 1;
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	config = default_config;
	config.bar_windows[1].size = 0;
	assert_int_equal(ecam_host_create(&other, &config, &platform_ops, &platform), -EINVAL);
	assert_int_equal(ecam_host_create(&other, &default_config, NULL, &platform), -EINVAL);
	assert_null(other);
}

static void test_wide_and_misaligned_accesses_read_all_ones(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 8), UINT64_MAX);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID + 1, 2), 0xffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID + 2, 4), 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 3), 0xffffff);
	assert_int_equal(ecam_host_read(host, 0, 0), UINT64_MAX);
	assert_int_equal(ecam_host_read(host, 0, 9), UINT64_MAX);
	cfg_write(0, PCI_DEVFN(1, 0), PCI_COMMAND, 8, 0xffffffffffffffffULL);
	cfg_write(0, PCI_DEVFN(1, 0), PCI_COMMAND + 1, 2, 0xffff);
	cfg_write(0, PCI_DEVFN(1, 0), PCI_COMMAND - 2, 4, 0xffffffff);
	cfg_write(0, PCI_DEVFN(1, 0), PCI_COMMAND, 0, 0xffffffff);
	cfg_write(0, PCI_DEVFN(1, 0), PCI_COMMAND, 16, 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_COMMAND, 2), 0);
	assert_int_equal(hook.nr_calls, 0);
}

/* ---- BAR sizing and routing */

static void test_bar_sizing_through_ecam(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	fn_write(&fn_a, BAR_REG(0), 4, 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(0), 4), 0xffffc000);
	fn_write(&fn_a, BAR_REG(2), 4, 0xffffffff);
	fn_write(&fn_a, BAR_REG(3), 4, 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(2), 4), 0xffffc00c);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(3), 4), 0xffffffff);
	for (unsigned int bar = 4; bar < PCI_NUM_BARS; bar++) {
		fn_write(&fn_a, BAR_REG(bar), 4, 0xffffffff);
		assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(bar), 4), 0);
	}
	fn_write(&fn_a, BAR_REG(1), 4, 0xffffffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(1), 4), 0);
	/* Memory Space is off: sizing routes nothing. */
	assert_calls(0);
}

static void test_memory_enable_maps_bars(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	set_bar(&fn_a, 0, MEM32_BASE);
	set_bar(&fn_a, 2, MEM64_BASE + 0x10000);
	/* Programmed but not enabled: nothing decodes. */
	assert_calls(0);
	set_memory(&fn_a, true);
	assert_calls(2);
	assert_bar_call(0, CALL_MAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_MAP, &fn_a, 2, MEM64_BASE + 0x10000);
	assert_true(fn_a.bars[0].mapped);
	assert_int_equal(fn_a.bars[0].mapped_base, MEM32_BASE);
	assert_true(fn_a.bars[2].mapped);
	assert_int_equal(fn_a.bars[2].mapped_base, MEM64_BASE + 0x10000);
	/* Writes that change nothing route nothing again. */
	forget_calls();
	fn_write(&fn_a, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	set_bar(&fn_a, 0, MEM32_BASE);
	ecam_host_update_bars(host);
	assert_calls(0);
}

static void test_moving_a_bar_unmaps_then_maps(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	forget_calls();
	set_bar(&fn_a, 0, MEM32_BASE + 0x8000);
	assert_calls(2);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_MAP, &fn_a, 0, MEM32_BASE + 0x8000);
	assert_int_equal(fn_a.bars[0].mapped_base, MEM32_BASE + 0x8000);
	/* A 64-bit BAR moves with either dword. */
	forget_calls();
	fn_write(&fn_a, BAR_REG(2), 4, 0x80000000);
	assert_calls(2);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 2, MEM64_BASE);
	assert_bar_call(1, CALL_MAP, &fn_a, 2, 0x180000000ULL);
	assert_int_equal(fn_a.bars[2].mapped_base, 0x180000000ULL);
	forget_calls();
	fn_write(&fn_a, BAR_REG(3), 4, 0x2);
	assert_calls(1);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 2, 0x180000000ULL);
	assert_false(fn_a.bars[2].mapped);
}

static void test_memory_disable_unmaps(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	forget_calls();
	/* A byte write to Command counts as well as a word write. */
	fn_write(&fn_a, PCI_COMMAND, 1, 0);
	assert_calls(2);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_UNMAP, &fn_a, 2, MEM64_BASE);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_a.bars[2].mapped);
}

static void test_bar_outside_windows_is_not_mapped(void **state)
{
	(void)state;
	/* RAM, not a BAR window; BAR 2 at 0 below every window. */
	add_enabled(&fn_a, PCI_DEVFN(1, 0), 0x40000000, 0);
	assert_calls(0);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_a.bars[2].mapped);
}

static void test_bar_straddling_a_window_edge_is_not_mapped(void **state)
{
	/* Windows not aligned to the BAR size, so that a BAR can straddle their edges. */
	const struct ecam_host_config config = {
		.ecam = { ECAM_BASE, ECAM_SIZE },
		.bar_windows = { { MEM32_BASE + 0x2000, 2 * BAR_SIZE },
				 { MEM64_BASE + 0x2000, 2 * BAR_SIZE } },
		.nr_bar_windows = 2,
	};

	(void)state;
	ecam_host_destroy(host);
	assert_int_equal(create_host(&config), 0);
	/* BAR 0 over the first window's start, BAR 2 over the second's end. */
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE + 2 * BAR_SIZE);
	assert_calls(0);
	/* Over the first window's end is no better. */
	set_bar(&fn_a, 0, MEM32_BASE + 2 * BAR_SIZE);
	assert_calls(0);
	set_bar(&fn_a, 0, MEM32_BASE + BAR_SIZE);
	set_bar(&fn_a, 2, MEM64_BASE + BAR_SIZE);
	assert_calls(2);
	assert_bar_call(0, CALL_MAP, &fn_a, 0, MEM32_BASE + BAR_SIZE);
	assert_bar_call(1, CALL_MAP, &fn_a, 2, MEM64_BASE + BAR_SIZE);
}

static void test_bar_over_the_ecam_window_is_not_mapped(void **state)
{
	/* A (bad) window that covers ECAM: BARs in it must still not shadow ECAM. */
	const struct ecam_host_config config = {
		.ecam = { ECAM_BASE, ECAM_SIZE },
		.bar_windows = { { 0, 0x40000000 } },
		.nr_bar_windows = 1,
	};

	(void)state;
	ecam_host_destroy(host);
	assert_int_equal(create_host(&config), 0);
	add_enabled(&fn_a, PCI_DEVFN(1, 0), ECAM_BASE + ECAM_SIZE - BAR_SIZE, ECAM_BASE + ECAM_SIZE);
	assert_calls(1);
	assert_bar_call(0, CALL_MAP, &fn_a, 2, ECAM_BASE + ECAM_SIZE);
	assert_false(fn_a.bars[0].mapped);
}

static void test_overlapping_bars_are_neither_mapped(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	add_enabled(&fn_b, PCI_DEVFN(2, 0), MEM32_BASE + 0x10000, MEM64_BASE + 0x10000);
	assert_true(fn_a.bars[0].mapped && fn_b.bars[0].mapped);
	forget_calls();

	/* fn_b's BAR 0 onto fn_a's: both go, whichever was first. */
	set_bar(&fn_b, 0, MEM32_BASE + BAR_SIZE / 2);
	assert_calls(2);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_UNMAP, &fn_b, 0, MEM32_BASE + 0x10000);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_b.bars[0].mapped);
	assert_true(fn_a.bars[2].mapped && fn_b.bars[2].mapped);

	/* A 32-bit and a 64-bit BAR of the same function may collide too. */
	forget_calls();
	set_bar(&fn_a, 2, MEM32_BASE + 0x100000);
	set_bar(&fn_b, 2, MEM32_BASE + 0x100000);
	assert_false(fn_a.bars[2].mapped);
	assert_false(fn_b.bars[2].mapped);
	set_bar(&fn_b, 2, MEM64_BASE);

	/* Moving one away lets both decode. */
	forget_calls();
	set_bar(&fn_b, 0, MEM32_BASE + 0x20000);
	assert_calls(2);
	assert_bar_call(0, CALL_MAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_MAP, &fn_b, 0, MEM32_BASE + 0x20000);
	assert_true(fn_a.bars[2].mapped && fn_b.bars[2].mapped);
}

static void test_disabled_bar_does_not_block_another(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(2, 0)), 0);
	set_bar(&fn_b, 0, MEM32_BASE);
	/* fn_b does not decode, so fn_a keeps its range. */
	assert_true(fn_a.bars[0].mapped);
	forget_calls();
	set_memory(&fn_b, true);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_b.bars[0].mapped);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 0, MEM32_BASE);
}

static void test_sizing_while_enabled_unmaps(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	forget_calls();
	fn_write(&fn_a, BAR_REG(0), 4, 0xffffffff);
	assert_calls(1);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 0, MEM32_BASE);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), BAR_REG(0), 4), 0xffffc000);
	/*
	 * The low dword alone moves BAR 2 to 0x1_ffffc000, still inside the
	 * 64-bit window, so it may decode there until the high dword follows.
	 */
	fn_write(&fn_a, BAR_REG(2), 4, 0xffffffff);
	fn_write(&fn_a, BAR_REG(3), 4, 0xffffffff);
	assert_bar_call(1, CALL_UNMAP, &fn_a, 2, MEM64_BASE);
	assert_int_equal(platform.calls[platform.nr_calls - 1].kind, CALL_UNMAP);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_a.bars[2].mapped);
	/* Restored, they decode again. */
	forget_calls();
	set_bar(&fn_a, 0, MEM32_BASE);
	set_bar(&fn_a, 2, MEM64_BASE);
	assert_calls(2);
	assert_bar_call(0, CALL_MAP, &fn_a, 0, MEM32_BASE);
	assert_bar_call(1, CALL_MAP, &fn_a, 2, MEM64_BASE);
}

static void test_remove_function_unmaps_its_bars(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	add_enabled(&fn_b, PCI_DEVFN(2, 0), MEM32_BASE, MEM64_BASE + 0x10000);
	assert_false(fn_a.bars[0].mapped || fn_b.bars[0].mapped);
	forget_calls();
	ecam_host_remove_function(host, &fn_a);
	/* fn_a's BAR 2 goes; fn_b's BAR 0 no longer collides with anything. */
	assert_calls(2);
	assert_bar_call(0, CALL_UNMAP, &fn_a, 2, MEM64_BASE);
	assert_bar_call(1, CALL_MAP, &fn_b, 0, MEM32_BASE);
	assert_false(fn_a.bars[2].mapped);
	assert_null(fn_a.host);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 4), 0xffffffff);
}

static void test_destroy_unmaps_everything(void **state)
{
	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	add_enabled(&fn_b, PCI_DEVFN(2, 0), MEM32_BASE + 0x10000, MEM64_BASE + 0x10000);
	forget_calls();
	ecam_host_destroy(host);
	host = NULL;
	assert_calls(4);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(platform.calls[i].kind, CALL_UNMAP);
	assert_false(fn_a.bars[0].mapped || fn_a.bars[2].mapped);
	assert_false(fn_b.bars[0].mapped || fn_b.bars[2].mapped);
	assert_null(fn_a.host);
	assert_null(fn_b.host);
}

static void test_failed_map_leaves_bar_unmapped(void **state)
{
	(void)state;
	platform.map_result = -ENOMEM;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	assert_calls(2);
	assert_false(fn_a.bars[0].mapped);
	assert_false(fn_a.bars[2].mapped);
	/* Nothing to unmap when disabled; re-evaluating retries. */
	platform.map_result = 0;
	forget_calls();
	ecam_host_update_bars(host);
	assert_calls(2);
	assert_true(fn_a.bars[0].mapped && fn_a.bars[2].mapped);
}

/* ---- INTx */

static void test_intx_events_are_reported_each_time(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	pci_function_set_intx(&fn_a, true);
	pci_function_set_intx(&fn_a, true);
	assert_calls(2);
	assert_intx_call(0, &fn_a, true);
	assert_intx_call(1, &fn_a, true);
	assert_true(fn_a.intx_asserted);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	/* The guest cannot clear Interrupt Status, nor does writing it report anything. */
	cfg_write(0, PCI_DEVFN(1, 0), PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	pci_function_set_intx(&fn_a, false);
	pci_function_set_intx(&fn_a, false);
	assert_calls(3);
	assert_intx_call(2, &fn_a, false);
	assert_false(fn_a.intx_asserted);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_STATUS, 2), 0);
}

static void test_intx_disable_masks_the_pin(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	pci_function_set_intx(&fn_a, true);
	forget_calls();
	/* PCI 3.0, 6.2.2: INTx Disable deasserts a pending interrupt... */
	fn_write(&fn_a, PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);
	assert_calls(1);
	assert_intx_call(0, &fn_a, false);
	assert_false(fn_a.intx_asserted);
	/* ...new events while disabled are not reported, but Interrupt Status shows them... */
	pci_function_set_intx(&fn_a, true);
	assert_calls(1);
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	/* ...and clearing it asserts the pin again. */
	fn_write(&fn_a, PCI_COMMAND, 4, 0);
	assert_calls(2);
	assert_intx_call(1, &fn_a, true);
	/* Disable and re-enable while nothing is pending: silence. */
	pci_function_set_intx(&fn_a, false);
	fn_write(&fn_a, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	fn_write(&fn_a, PCI_COMMAND, 2, 0);
	assert_calls(3);
	assert_intx_call(2, &fn_a, false);
}

static void test_intx_of_a_function_off_the_bus(void **state)
{
	(void)state;
	pci_function_set_intx(&fn_a, true);
	assert_calls(0);
	/* Pending when it arrives: the pin goes up with it. */
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	assert_calls(1);
	assert_intx_call(0, &fn_a, true);
	/* Removed while asserted: deasserted once. */
	ecam_host_remove_function(host, &fn_a);
	assert_calls(2);
	assert_intx_call(1, &fn_a, false);
	assert_false(fn_a.intx_asserted);
	pci_function_set_intx(&fn_a, true);
	pci_function_set_intx(&fn_a, false);
	assert_calls(2);
}

/* ---- the registry */

static void test_add_remove_and_add_again(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(3, 0)), 0);
	assert_string_equal(fn_a.name, "00:03.0");
	assert_ptr_equal(fn_a.host, host);
	assert_ptr_equal(ecam_host_find_function(host, 0, PCI_DEVFN(3, 0)), &fn_a);
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_VENDOR_ID, 4), 0x10411af4);

	ecam_host_remove_function(host, &fn_a);
	assert_null(ecam_host_find_function(host, 0, PCI_DEVFN(3, 0)));
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_VENDOR_ID, 4), 0xffffffff);
	/* Removing it again, or a function never added, changes nothing. */
	ecam_host_remove_function(host, &fn_a);
	ecam_host_remove_function(host, &fn_b);
	assert_null(fn_b.host);
	assert_non_null(ecam_host_find_function(host, 0, 0));

	assert_int_equal(ecam_host_add_function(host, &fn_a, 0x1a, PCI_DEVFN(0x1f, 7)), 0);
	assert_string_equal(fn_a.name, "1a:1f.7");
	assert_int_equal(cfg_read(0x1a, PCI_DEVFN(0x1f, 7), PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(3, 0)), 0);
	assert_int_equal(cfg_read(0, PCI_DEVFN(3, 0), PCI_VENDOR_ID, 2), 0x1af4);
}

static void test_add_errors(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(3, 0)), 0);
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(3, 0)), -EEXIST);
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(0, 0)), -EEXIST);
	/* One function, one place. */
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(4, 0)), -EBUSY);
	assert_int_equal(ecam_host_add_function(host, NULL, 0, PCI_DEVFN(4, 0)), -EINVAL);
	assert_int_equal(ecam_host_add_function(NULL, &fn_b, 0, PCI_DEVFN(4, 0)), -EINVAL);
	assert_ptr_equal(ecam_host_find_function(host, 0, PCI_DEVFN(3, 0)), &fn_a);
	assert_null(ecam_host_find_function(host, 0, PCI_DEVFN(4, 0)));
	assert_null(fn_b.host);
}

static uint8_t header_type(uint8_t devfn)
{
	return (uint8_t)cfg_read(0, devfn, PCI_HEADER_TYPE, 1);
}

static void test_function_0_says_multi_function(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(4, 1)), 0);
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(4, 0)), 0);
	assert_int_equal(header_type(PCI_DEVFN(4, 0)), PCI_HEADER_TYPE_MULTI_FUNCTION);
	assert_int_equal(header_type(PCI_DEVFN(4, 1)), 0);
	/* The guest cannot change it. */
	cfg_write(0, PCI_DEVFN(4, 0), PCI_HEADER_TYPE, 1, 0);
	assert_int_equal(header_type(PCI_DEVFN(4, 0)), PCI_HEADER_TYPE_MULTI_FUNCTION);

	ecam_host_remove_function(host, &fn_b);
	assert_int_equal(header_type(PCI_DEVFN(4, 0)), 0);
	assert_int_equal(ecam_host_add_function(host, &fn_b, 0, PCI_DEVFN(4, 7)), 0);
	assert_int_equal(header_type(PCI_DEVFN(4, 0)), PCI_HEADER_TYPE_MULTI_FUNCTION);
	/* Another device's functions are not siblings; the bridge stays single. */
	assert_int_equal(header_type(PCI_DEVFN(0, 0)), 0);

	/* Function 0 taken away and put elsewhere carries no stale bit. */
	ecam_host_remove_function(host, &fn_a);
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(5, 0)), 0);
	assert_int_equal(header_type(PCI_DEVFN(5, 0)), 0);
}

static void test_config_written_hook(void **state)
{
	(void)state;
	assert_int_equal(ecam_host_add_function(host, &fn_a, 0, PCI_DEVFN(1, 0)), 0);
	fn_write(&fn_a, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(hook.nr_calls, 1);
	assert_ptr_equal(hook.fn, &fn_a);
	assert_int_equal(hook.off, PCI_COMMAND);
	assert_int_equal(hook.size, 2);
	/* The hook runs after the register file took the value. */
	assert_int_equal(hook.command, PCI_COMMAND_MASTER);
	fn_write(&fn_a, 0x1fc, 4, 0xffffffff);
	assert_int_equal(hook.nr_calls, 2);
	assert_int_equal(hook.off, 0x1fc);
	assert_int_equal(hook.size, 4);
	/* Rejected accesses and absent functions do not reach it. */
	fn_write(&fn_a, PCI_COMMAND + 1, 2, 0);
	cfg_write(0, PCI_DEVFN(2, 0), PCI_COMMAND, 2, 0);
	assert_int_equal(hook.nr_calls, 2);
}

/* ---- hostile guest */

static uint64_t next_random(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return *seed >> 11;
}

static void test_random_accesses_stay_in_bounds(void **state)
{
	uint64_t seed = 1;

	(void)state;
	add_enabled(&fn_a, PCI_DEVFN(1, 0), MEM32_BASE, MEM64_BASE);
	add_enabled(&fn_b, PCI_DEVFN(1, 1), MEM32_BASE + 0x10000, MEM64_BASE + 0x10000);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next_random(&seed);
		unsigned int size = 1 + (unsigned int)(r % 8);
		uint64_t offset;
		uint64_t value = next_random(&seed) | next_random(&seed) << 53;

		/* Mostly the populated device's header, sometimes anywhere at all. */
		if (r & 0x100)
			offset = ecam_offset(0, PCI_DEVFN(1, r >> 20 & 1), (uint16_t)(r >> 24 & 0x3f));
		else if (r & 0x200)
			offset = next_random(&seed) % (ECAM_SIZE + 0x10000);
		else
			offset = next_random(&seed) << 11 ^ next_random(&seed);
		if (r & 0x400) {
			ecam_host_write(host, offset, size, value);
		} else {
			uint64_t got = ecam_host_read(host, offset, size);

			assert_int_equal(got & ~ecam_all_ones(size), 0);
		}
		if (r % 97 == 0)
			pci_function_set_intx(&fn_a, r & 0x800);
	}
	/* Whatever happened, the header's read-only fields are intact... */
	assert_int_equal(cfg_read(0, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 4), 0x10411af4);
	assert_int_equal(cfg_read(0, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	/* ...and every routed BAR is where its function decodes it. */
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		if (fn_a.bars[bar].mapped)
			assert_int_equal(fn_a.bars[bar].mapped_base, pci_function_bar_address(&fn_a, bar));
		if (fn_b.bars[bar].mapped)
			assert_int_equal(fn_b.bars[bar].mapped_base, pci_function_bar_address(&fn_b, bar));
	}
}

static int group_setup(void **state)
{
	(void)state;
	/* Refusal warnings are expected here; the first test turns them on to count them. */
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

#define ECAM_TEST(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ECAM_TEST(test_refused_bar_is_logged_once),
		ECAM_TEST(test_bridge_config_space_every_size_every_offset),
		ECAM_TEST(test_bridge_takes_only_its_writable_bits),
		ECAM_TEST(test_enumeration_finds_only_the_bridge),
		ECAM_TEST(test_absent_function_reads_all_ones),
		ECAM_TEST(test_offsets_beyond_the_window_read_all_ones),
		ECAM_TEST(test_bad_windows_are_refused),
		ECAM_TEST(test_wide_and_misaligned_accesses_read_all_ones),
		ECAM_TEST(test_bar_sizing_through_ecam),
		ECAM_TEST(test_memory_enable_maps_bars),
		ECAM_TEST(test_moving_a_bar_unmaps_then_maps),
		ECAM_TEST(test_memory_disable_unmaps),
		ECAM_TEST(test_bar_outside_windows_is_not_mapped),
		ECAM_TEST(test_bar_straddling_a_window_edge_is_not_mapped),
		ECAM_TEST(test_bar_over_the_ecam_window_is_not_mapped),
		ECAM_TEST(test_overlapping_bars_are_neither_mapped),
		ECAM_TEST(test_disabled_bar_does_not_block_another),
		ECAM_TEST(test_sizing_while_enabled_unmaps),
		ECAM_TEST(test_remove_function_unmaps_its_bars),
		ECAM_TEST(test_destroy_unmaps_everything),
		ECAM_TEST(test_failed_map_leaves_bar_unmapped),
		ECAM_TEST(test_intx_events_are_reported_each_time),
		ECAM_TEST(test_intx_disable_masks_the_pin),
		ECAM_TEST(test_intx_of_a_function_off_the_bus),
		ECAM_TEST(test_add_remove_and_add_again),
		ECAM_TEST(test_add_errors),
		ECAM_TEST(test_function_0_says_multi_function),
		ECAM_TEST(test_config_written_hook),
		ECAM_TEST(test_random_accesses_stay_in_bounds),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
