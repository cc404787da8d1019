// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_ecam.c: the ECAM host bridge (ecam/ecam.h) against a guest
 * that reads and writes anything anywhere in configuration space, while
 * functions come and go and raise interrupts.
 *
 * The input is a list of operations (run_op). The platform below records
 * what the bridge routes and checks, on every call and after every
 * operation, what ecam.h promises: a routed BAR has Memory Space on and lies
 * wholly in one BAR window, clear of the ECAM window and of every other
 * routed BAR; only what was routed is unrouted; a BAR that may decode does
 * and one that may not does not; a read returns the register or all-ones;
 * INTx follows Interrupt Status and INTx Disable; destroy leaves nothing
 * routed and no pin asserted.
 */
#include <errno.h>

#include "ecam/ecam.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	(2 * ECAM_BUS_SIZE)	/* buses 0 and 1: bus 2 is outside */
/* The 32-bit window contains the ECAM window, so a BAR can be put on top of it. */
#define WIN32_BASE	0x0ff00000ULL
#define WIN32_SIZE	0x04000000ULL
#define WIN64_BASE	0x8000000000ULL
#define WIN64_SIZE	0x100000000ULL

#define NR_FUNCTIONS	4
#define MAX_OPS		4096
#define HOOK_REG	0x60	/* function 1 answers reads starting at 0x60..0x63 itself */
#define BAR_REG(bar)	((uint16_t)(PCI_BASE_ADDRESS_0 + 4 * (bar)))
#define NOWHERE		(-2)	/* located(): no function */
#define BRIDGE		(-1)	/* located(): the host bridge's own function */

struct mapping {
	const struct pci_function *fn;
	unsigned int bar;
	uint64_t base, size;
};

static const struct ecam_host_config config = {
	.ecam = { ECAM_BASE, ECAM_SIZE },
	.bar_windows = { { WIN32_BASE, WIN32_SIZE }, { WIN64_BASE, WIN64_SIZE } },
	.nr_bar_windows = 2,
};

static struct {
	struct ecam_host *host;
	struct pci_function fns[NR_FUNCTIONS];
	uint32_t ids[NR_FUNCTIONS];		/* vendor and device ID as created */
	bool asserted[NR_FUNCTIONS];		/* what intx_changed last said */
	struct mapping maps[NR_FUNCTIONS * PCI_NUM_BARS];
	unsigned int nr_maps;
	unsigned int fail_maps;			/* refuse this many map_bar calls */
	bool map_failed;			/* a BAR that may decode can stay unrouted */
	unsigned int config_written;		/* calls of the hook */
	unsigned int intx_calls;
} s;

static int index_of(const struct pci_function *fn)
{
	for (int i = 0; i < NR_FUNCTIONS; i++)
		if (fn == &s.fns[i])
			return i;
	return -1;
}

static bool overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a <= b + (b_size - 1) && b <= a + (a_size - 1);
}

static bool inside(const struct ecam_window *w, uint64_t base, uint64_t size)
{
	return base >= w->base && base - w->base < w->size && size <= w->size - (base - w->base);
}

static bool memory_on(const struct pci_function *fn)
{
	return pci_config_get16(&fn->config, PCI_COMMAND) & PCI_COMMAND_MEMORY;
}

static bool valid_access(uint64_t off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0;
}

/* ---- the functions' hooks */

static uint32_t hook_value(uint16_t off, unsigned int size)
{
	return (0xc0de0000u | (uint32_t)off << 4 | size) & (uint32_t)ecam_all_ones(size);
}

static void fn_config_written(struct pci_function *fn, uint16_t off, unsigned int size)
{
	FUZZ_CHECK(fn->host == s.host && valid_access(off, size));
	FUZZ_CHECK(off + size <= PCI_CONFIG_SPACE_SIZE);
	s.config_written++;
}

static bool fn_config_read(struct pci_function *fn, uint16_t off, unsigned int size, uint32_t *value)
{
	FUZZ_CHECK(fn->host == s.host && valid_access(off, size));
	FUZZ_CHECK(off + size <= PCI_CONFIG_SPACE_SIZE);
	if (off < HOOK_REG || off >= HOOK_REG + 4)
		return false;
	*value = hook_value(off, size);
	return true;
}

static const struct pci_function_ops hooked_ops = {
	.config_written = fn_config_written,
	.config_read = fn_config_read,
};

static const struct pci_function_ops written_ops = { .config_written = fn_config_written };

static void add_bar(struct pci_function *fn, unsigned int bar, uint64_t size, bool is_64bit,
		    bool prefetchable)
{
	FUZZ_CHECK(pci_function_add_bar(fn, bar, size, is_64bit, prefetchable) == 0);
}

static void add_capability(struct pci_function *fn, uint8_t id, unsigned int len, uint32_t rw)
{
	int cap = pci_config_add_capability(&fn->config, id, len);

	FUZZ_CHECK(cap >= 0x40 && cap % 4 == 0);
	if (rw)
		pci_config_set_rw_mask(&fn->config, (uint16_t)(cap + 4), len - 4, rw);
}

static void create_functions(void)
{
	static const struct pci_function_ids ids[NR_FUNCTIONS] = {
		{ .vendor_id = 0x1af4, .device_id = 0x1041, .class_code = 0x020000, .interrupt_pin = 1 },
		{ .vendor_id = 0x1af4, .device_id = 0x1042, .class_code = 0x010000, .interrupt_pin = 2 },
		{ .vendor_id = 0x1b36, .device_id = 0x0001, .class_code = 0xff0000 },
		{ .vendor_id = 0x8086, .device_id = 0x1234, .class_code = 0x030000, .interrupt_pin = 4 },
	};
	static const struct pci_function_ops *const ops[NR_FUNCTIONS] = {
		NULL, &hooked_ops, NULL, &written_ops,
	};

	for (int i = 0; i < NR_FUNCTIONS; i++) {
		pci_function_init(&s.fns[i], &ids[i], ops[i], NULL);
		s.ids[i] = (uint32_t)ids[i].device_id << 16 | ids[i].vendor_id;
	}
	add_bar(&s.fns[0], 0, 0x1000, false, false);
	add_bar(&s.fns[0], 1, 0x10000, false, true);
	add_bar(&s.fns[0], 2, 0x100000, true, true);
	add_bar(&s.fns[0], 4, 0x4000, true, false);
	add_capability(&s.fns[0], 0x09, 16, 0xffffffff);
	add_capability(&s.fns[0], 0x05, 12, 0);
	add_bar(&s.fns[1], 0, 0x2000, true, true);
	add_bar(&s.fns[1], 2, 0x80000000, false, false);
	add_bar(&s.fns[1], 5, 0x1000, false, false);
	add_capability(&s.fns[1], 0x09, 20, 0x0000ffff);
	add_bar(&s.fns[3], 3, 0x1000, false, false);
	add_bar(&s.fns[3], 4, 0x10000, true, true);
}

/* ---- the platform */

static struct mapping *find_mapping(const struct pci_function *fn, unsigned int bar)
{
	for (unsigned int i = 0; i < s.nr_maps; i++)
		if (s.maps[i].fn == fn && s.maps[i].bar == bar)
			return &s.maps[i];
	return NULL;
}

static int platform_map_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			    uint64_t base, uint64_t size)
{
	FUZZ_CHECK(opaque == &s && index_of(fn) >= 0 && fn->host == s.host && bar < PCI_NUM_BARS);
	FUZZ_CHECK(size == fn->bars[bar].size && base == pci_function_bar_address(fn, bar));
	FUZZ_CHECK(memory_on(fn));
	FUZZ_CHECK(inside(&config.bar_windows[0], base, size) ||
		   inside(&config.bar_windows[1], base, size));
	FUZZ_CHECK(!overlap(base, size, ECAM_BASE, ECAM_SIZE));
	FUZZ_CHECK(!find_mapping(fn, bar));
	for (unsigned int i = 0; i < s.nr_maps; i++)
		FUZZ_CHECK(!overlap(base, size, s.maps[i].base, s.maps[i].size));
	if (s.fail_maps) {
		s.fail_maps--;
		s.map_failed = true;
		return -ENOMEM;
	}
	FUZZ_CHECK(s.nr_maps < NR_FUNCTIONS * PCI_NUM_BARS);
	s.maps[s.nr_maps++] = (struct mapping){ fn, bar, base, size };
	return 0;
}

static void platform_unmap_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			       uint64_t base, uint64_t size)
{
	struct mapping *m = find_mapping(fn, bar);

	FUZZ_CHECK(opaque == &s);
	FUZZ_CHECK(m && m->base == base && m->size == size);
	*m = s.maps[--s.nr_maps];
}

static void platform_intx_changed(void *opaque, struct pci_function *fn, bool asserted)
{
	int i = index_of(fn);

	FUZZ_CHECK(opaque == &s && i >= 0);
	FUZZ_CHECK(fn->intx_asserted == s.asserted[i]);
	/* An assert only for a function on the bus that wants it; a deassert only after an assert. */
	if (asserted)
		FUZZ_CHECK(fn->host == s.host && fn->intx_pending);
	else
		FUZZ_CHECK(s.asserted[i]);
	s.asserted[i] = asserted;
	s.intx_calls++;
}

/* ---- the state ecam.h promises, computed here independently */

static bool may_decode(const struct pci_function *fn, unsigned int bar, uint64_t *base)
{
	uint64_t size = fn->bars[bar].size;

	if (fn->host != s.host || !size || !memory_on(fn))
		return false;
	*base = pci_function_bar_address(fn, bar);
	return (inside(&config.bar_windows[0], *base, size) ||
		inside(&config.bar_windows[1], *base, size)) &&
	       !overlap(*base, size, ECAM_BASE, ECAM_SIZE);
}

static bool should_decode(const struct pci_function *fn, unsigned int bar, uint64_t *base)
{
	uint64_t other;

	if (!may_decode(fn, bar, base))
		return false;
	for (int i = 0; i < NR_FUNCTIONS; i++)
		for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
			if ((&s.fns[i] != fn || b != bar) && may_decode(&s.fns[i], b, &other) &&
			    overlap(*base, fn->bars[bar].size, other, s.fns[i].bars[b].size))
				return false;
	return true;
}

/* Which function answers at @bus:@devfn: NOWHERE, BRIDGE or an index. */
static int located(unsigned int bus, unsigned int devfn)
{
	if (bus == 0 && devfn == 0)
		return BRIDGE;
	for (int i = 0; i < NR_FUNCTIONS; i++)
		if (s.fns[i].host == s.host && s.fns[i].bus == bus && s.fns[i].devfn == devfn)
			return i;
	return NOWHERE;
}

static bool has_siblings(unsigned int bus, unsigned int devfn)
{
	for (unsigned int func = 1; func < 8; func++)
		if (located(bus, PCI_DEVFN(PCI_SLOT(devfn), func)) != NOWHERE)
			return true;
	return false;
}

static void check_function(int i)
{
	struct pci_function *fn = &s.fns[i];
	bool on = fn->host == s.host;
	uint16_t command = pci_config_get16(&fn->config, PCI_COMMAND);
	bool level = on && fn->intx_pending && !(command & PCI_COMMAND_INTX_DISABLE);
	bool multi = pci_config_get8(&fn->config, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MULTI_FUNCTION;

	FUZZ_CHECK(on || !fn->host);
	FUZZ_CHECK(!on || ecam_host_find_function(s.host, fn->bus, fn->devfn) == fn);
	FUZZ_CHECK(s.asserted[i] == level && fn->intx_asserted == level);
	FUZZ_CHECK(pci_config_get32(&fn->config, PCI_VENDOR_ID) == s.ids[i]);
	/* PCI 3.0, 6.2.1: function 0 says multi-function while a sibling is on the bus. */
	FUZZ_CHECK(multi == (on && PCI_FUNC(fn->devfn) == 0 && has_siblings(fn->bus, fn->devfn)));
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		struct mapping *m = find_mapping(fn, bar);
		uint64_t base = 0;
		bool decodes = should_decode(fn, bar, &base);

		FUZZ_CHECK(fn->bars[bar].mapped == (m != NULL));
		if (m)
			FUZZ_CHECK(fn->bars[bar].mapped_base == m->base && decodes && base == m->base);
		else if (!s.map_failed)
			FUZZ_CHECK(!decodes);
	}
}

static void check_state(void)
{
	bool bridge_multi = ecam_host_read(s.host, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTI_FUNCTION;

	for (int i = 0; i < NR_FUNCTIONS; i++)
		check_function(i);
	FUZZ_CHECK(bridge_multi == has_siblings(0, 0));
}

/* ---- the operations */

static uint64_t ecam_offset(const struct pci_function *fn, uint16_t reg)
{
	return (uint64_t)fn->bus << 20 | (uint64_t)fn->devfn << 12 | reg;
}

/* Mostly where a function is (or was), so that registers are hit; sometimes anywhere. */
static uint64_t pick_offset(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);
	unsigned int which = how % (NR_FUNCTIONS + 1);
	uint16_t reg;

	if (how & 0x80)
		return fuzz_u32(in) % (ECAM_SIZE + ECAM_BUS_SIZE);
	reg = fuzz_u16(in) % PCI_CONFIG_SPACE_SIZE;
	if (how & 0x40)
		reg %= 0x40;	/* the header */
	if (which == NR_FUNCTIONS)
		return reg;	/* the host bridge */
	return ecam_offset(&s.fns[which], reg);
}

static int target_of(uint64_t off, unsigned int size)
{
	if (!valid_access(off, size) || off >= ECAM_SIZE)
		return NOWHERE;
	return located((unsigned int)(off >> 20), (unsigned int)(off >> 12) & 0xff);
}

static void op_read(struct fuzz_input *in)
{
	uint64_t off = pick_offset(in);
	unsigned int size = 1 + fuzz_u8(in) % 8;
	uint64_t got = ecam_host_read(s.host, off, size);
	int target = target_of(off, size);
	uint16_t reg = off & 0xfff;

	if (target == NOWHERE)
		FUZZ_CHECK(got == ecam_all_ones(size));
	else if (target == 1 && reg >= HOOK_REG && reg < HOOK_REG + 4)
		FUZZ_CHECK(got == hook_value(reg, size));
	else if (target >= 0)
		FUZZ_CHECK(got == pci_config_read(&s.fns[target].config, reg, size));
}

static void op_write(struct fuzz_input *in)
{
	uint64_t off = pick_offset(in);
	unsigned int size = 1 + fuzz_u8(in) % 8;
	uint64_t value = fuzz_u64(in);
	int target = target_of(off, size);
	unsigned int before = s.config_written;
	bool hooked = target >= 0 && s.fns[target].ops;

	ecam_host_write(s.host, off, size, value);
	FUZZ_CHECK(s.config_written - before == (hooked ? 1u : 0u));
}

static void op_add(struct fuzz_input *in)
{
	struct pci_function *fn = &s.fns[fuzz_u8(in) % NR_FUNCTIONS];
	uint8_t bus = fuzz_u8(in) % 3;
	uint8_t devfn = fuzz_u8(in);
	int want = 0;

	/* Mostly slots 0 and 1, so that functions share a device. */
	if (!(devfn & 0x80))
		devfn &= 0x0f;
	if (bus >= ECAM_SIZE / ECAM_BUS_SIZE)
		want = -EINVAL;
	else if (located(bus, devfn) != NOWHERE)
		want = -EEXIST;
	else if (fn->host)
		want = -EBUSY;
	FUZZ_CHECK(ecam_host_add_function(s.host, fn, bus, devfn) == want);
}

static void op_intx(struct fuzz_input *in)
{
	int i = fuzz_u8(in) % NR_FUNCTIONS;
	struct pci_function *fn = &s.fns[i];
	bool pending = fuzz_u8(in) & 1;
	bool disabled = pci_config_get16(&fn->config, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	bool was = s.asserted[i];
	unsigned int before = s.intx_calls;
	unsigned int want = 0;

	pci_function_set_intx(fn, pending);
	/* Each new event while the pin may be asserted is reported, even if it already is. */
	if (fn->host == s.host && ((pending && !disabled) || was))
		want = 1;
	FUZZ_CHECK(s.intx_calls - before == want);
}

/* What a driver does: put a BAR at an aligned address in a window, turn Memory Space on. */
static void op_program_bar(struct fuzz_input *in)
{
	struct pci_function *fn = &s.fns[fuzz_u8(in) % NR_FUNCTIONS];
	unsigned int bar = fuzz_u8(in) % PCI_NUM_BARS;
	const struct ecam_window *w = &config.bar_windows[fuzz_u8(in) & 1];
	uint64_t slot = fuzz_u16(in), size = fn->bars[bar].size, address;
	uint32_t command;

	if (!size || fn->host != s.host)
		return;
	address = w->base + (slot * size) % w->size;
	ecam_host_write(s.host, ecam_offset(fn, BAR_REG(bar)), 4, (uint32_t)address);
	if (fn->bars[bar].is_64bit)
		ecam_host_write(s.host, ecam_offset(fn, BAR_REG(bar + 1)), 4, address >> 32);
	command = (uint32_t)ecam_host_read(s.host, ecam_offset(fn, PCI_COMMAND), 2);
	ecam_host_write(s.host, ecam_offset(fn, PCI_COMMAND), 2, command | PCI_COMMAND_MEMORY);
}

static void run_op(struct fuzz_input *in)
{
	switch (fuzz_u8(in) % 8) {
	case 0:
		op_write(in);
		break;
	case 1:
		op_read(in);
		break;
	case 2:
		op_add(in);
		break;
	case 3:
		ecam_host_remove_function(s.host, &s.fns[fuzz_u8(in) % NR_FUNCTIONS]);
		break;
	case 4:
		op_intx(in);
		break;
	case 5:
		op_program_bar(in);
		break;
	case 6:
		s.fail_maps = fuzz_u8(in) % 4;
		break;
	default:
		ecam_host_update_bars(s.host);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ecam_platform_ops ops = {
		.map_bar = platform_map_bar,
		.unmap_bar = platform_unmap_bar,
		.intx_changed = platform_intx_changed,
	};
	struct fuzz_input in = { .data = data, .size = size };

	memset(&s, 0, sizeof(s));
	create_functions();
	FUZZ_CHECK(ecam_host_create(&s.host, &config, &ops, &s) == 0);
	check_state();
	for (unsigned int n = 0; n < MAX_OPS && !fuzz_done(&in); n++) {
		run_op(&in);
		check_state();
	}
	ecam_host_destroy(s.host);
	FUZZ_CHECK(s.nr_maps == 0);
	for (int i = 0; i < NR_FUNCTIONS; i++)
		FUZZ_CHECK(!s.asserted[i] && !s.fns[i].host && !s.fns[i].intx_asserted);
	return 0;
}
