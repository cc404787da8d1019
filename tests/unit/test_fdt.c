// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_fdt.c: the guest's device-tree fragment, read back with
 * libfdt property by property, and its interrupt-map resolved the way Linux
 * resolves a PCI interrupt, against the daemon's own swizzle (intx_spi_of).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "ecam/intx.h"
#include "ecam/pci_function.h"
#include "fdt/boot_config.h"
#include "fdt/guest_fragment.h"
#include "ecam/guest_layout.h"

static uint64_t blob[GUEST_FRAGMENT_MAX_SIZE / sizeof(uint64_t)];
static struct guest_layout layout;
static struct guest_fragment_config config;
static char why[256];

static int setup(void **state)
{
	(void)state;
	memset(blob, 0xaa, sizeof(blob));
	guest_layout_default(&layout);
	config = (struct guest_fragment_config){ &layout, GUEST_FRAGMENT_NO_PCI_DOMAIN };
	memset(why, 0, sizeof(why));
	return 0;
}

/* The custom layout: above 1 TiB, 16 buses, another 32-bit window and SPI base. */
static void use_custom_layout(void)
{
	layout.ecam = (struct guest_window){ 0x10000000000ULL, 16 << 20 };
	layout.mmio = (struct guest_window){ 0x30000000, 0x8000000 };
	layout.mmio64 = (struct guest_window){ 0x10100000000ULL, 0x200000000ULL };
	layout.intx_spi = 200;
	config.pci_domain = 3;
}

static void build(void)
{
	int ret = guest_fragment_build(&config, blob, sizeof(blob), why, sizeof(why));

	if (ret)
		print_error("guest_fragment_build: %d %s\n", ret, why);
	assert_int_equal(ret, 0);
	assert_int_equal(fdt_check_header(blob), 0);
	assert_true(fdt_totalsize(blob) <= sizeof(blob));
}

/* ---- reading the blob back */

struct expected_property {
	const char *name;
	const void *value;
	size_t len;
};

#define CELLS(...) ((const fdt32_t[]){ __VA_ARGS__ })
#define PROP_CELLS(name, ...) { name, CELLS(__VA_ARGS__), sizeof(CELLS(__VA_ARGS__)) }
#define PROP_STRING(name, text) { name, text, sizeof(text) }
#define PROP_EMPTY(name) { name, "", 0 }

static int node_at(const char *path)
{
	int node = fdt_path_offset(blob, path);

	if (node < 0)
		print_error("no node %s: %s\n", path, fdt_strerror(node));
	assert_true(node >= 0);
	return node;
}

/* @path has exactly the properties @expected, each with exactly its value. */
static void assert_properties(const char *path, const struct expected_property *expected, size_t n)
{
	int node = node_at(path), offset;
	size_t seen = 0;

	fdt_for_each_property_offset(offset, blob, node) {
		const char *name;
		int len;
		const void *value = fdt_getprop_by_offset(blob, offset, &name, &len);
		size_t i;

		for (i = 0; i < n && strcmp(expected[i].name, name); i++)
			;
		if (i == n)
			print_error("%s: unexpected property %s\n", path, name);
		assert_true(i < n);
		if ((size_t)len != expected[i].len || memcmp(value, expected[i].value, (size_t)len))
			print_error("%s: property %s differs\n", path, name);
		assert_int_equal(len, expected[i].len);
		assert_memory_equal(value, expected[i].value, expected[i].len);
		seen++;
	}
	assert_int_equal(seen, n);
}

/* @path's subnodes are exactly @names, in this order. */
static void assert_subnodes(const char *path, const char *const *names, size_t n)
{
	int node = node_at(path), child;
	size_t i = 0;

	fdt_for_each_subnode(child, blob, node) {
		assert_true(i < n);
		assert_string_equal(fdt_get_name(blob, child, NULL), names[i]);
		i++;
	}
	assert_int_equal(i, n);
}

#define BE(x) cpu_to_fdt32(x)
#define HI(x) BE((uint32_t)((uint64_t)(x) >> 32))
#define LO(x) BE((uint32_t)(x))

static void assert_root_gic_and_passthrough(const char *bridge_name)
{
	static const char *const root_nodes[] = { "gic", "passthrough" };
	const char *const bridge[] = { bridge_name };
	const struct expected_property root[] = {
		PROP_CELLS("#address-cells", BE(2)),
		PROP_CELLS("#size-cells", BE(2)),
	};
	const struct expected_property gic[] = {
		PROP_CELLS("#interrupt-cells", BE(3)),
		PROP_CELLS("#address-cells", BE(0)),
		PROP_EMPTY("interrupt-controller"),
		PROP_CELLS("phandle", BE(65000)),
	};
	const struct expected_property passthrough[] = {
		PROP_STRING("compatible", "simple-bus"),
		PROP_EMPTY("ranges"),
		PROP_CELLS("#address-cells", BE(2)),
		PROP_CELLS("#size-cells", BE(2)),
	};

	assert_properties("/", root, sizeof(root) / sizeof(root[0]));
	assert_subnodes("/", root_nodes, 2);
	assert_properties("/gic", gic, sizeof(gic) / sizeof(gic[0]));
	assert_subnodes("/gic", NULL, 0);
	assert_properties("/passthrough", passthrough, sizeof(passthrough) / sizeof(passthrough[0]));
	assert_subnodes("/passthrough", bridge, 1);
	assert_int_equal(fdt_node_offset_by_phandle(blob, 65000), node_at("/gic"));
}

/* interrupt-map for INTx line L of device D: SPI base + (D + pin - 1) % 4, as cells. */
#define MAP(dev, pin, spi) BE((dev) << 11), 0, 0, BE(pin), BE(65000), 0, BE((spi) - 32), BE(4)
#define MAP_DEVICE(dev, s0, s1, s2, s3) \
	MAP(dev, 1, s0), MAP(dev, 2, s1), MAP(dev, 3, s2), MAP(dev, 4, s3)
#define INTERRUPT_MAP(a, b, c, d) \
	PROP_CELLS("interrupt-map", MAP_DEVICE(0, a, b, c, d), MAP_DEVICE(1, b, c, d, a), \
		   MAP_DEVICE(2, c, d, a, b), MAP_DEVICE(3, d, a, b, c))

/* ---- every property, default and custom */

static void test_default_fragment_has_exactly_these_properties(void **state)
{
	const char *const none[] = { NULL };
	const struct expected_property bridge[] = {
		PROP_STRING("compatible", "pci-host-ecam-generic"),
		PROP_STRING("device_type", "pci"),
		PROP_CELLS("reg", 0, BE(0x10000000), 0, BE(0x10000000)),
		PROP_CELLS("bus-range", 0, BE(255)),
		PROP_CELLS("#address-cells", BE(3)),
		PROP_CELLS("#size-cells", BE(2)),
		PROP_CELLS("ranges",
			   BE(0x02000000), 0, BE(0x23000000), 0, BE(0x23000000), 0, BE(0x10000000),
			   BE(0x43000000), BE(1), 0, BE(1), 0, BE(1), 0),
		PROP_CELLS("#interrupt-cells", BE(1)),
		PROP_CELLS("interrupt-map-mask", BE(0x1800), 0, 0, BE(7)),
		INTERRUPT_MAP(44, 45, 46, 47),
		PROP_EMPTY("dma-coherent"),
	};

	(void)state;
	build();
	assert_root_gic_and_passthrough("pcie@10000000");
	assert_properties("/passthrough/pcie@10000000", bridge, sizeof(bridge) / sizeof(bridge[0]));
	assert_subnodes("/passthrough/pcie@10000000", none, 0);
}

static void test_custom_fragment_has_exactly_these_properties(void **state)
{
	const struct expected_property bridge[] = {
		PROP_STRING("compatible", "pci-host-ecam-generic"),
		PROP_STRING("device_type", "pci"),
		PROP_CELLS("reg", BE(0x100), 0, 0, BE(0x1000000)),
		PROP_CELLS("bus-range", 0, BE(15)),
		PROP_CELLS("#address-cells", BE(3)),
		PROP_CELLS("#size-cells", BE(2)),
		PROP_CELLS("ranges",
			   BE(0x02000000), 0, BE(0x30000000), 0, BE(0x30000000), 0, BE(0x8000000),
			   BE(0x43000000), BE(0x101), 0, BE(0x101), 0, BE(2), 0),
		PROP_CELLS("#interrupt-cells", BE(1)),
		PROP_CELLS("interrupt-map-mask", BE(0x1800), 0, 0, BE(7)),
		INTERRUPT_MAP(200, 201, 202, 203),
		PROP_EMPTY("dma-coherent"),
		PROP_CELLS("linux,pci-domain", BE(3)),
	};

	(void)state;
	use_custom_layout();
	build();
	assert_root_gic_and_passthrough("pcie@10000000000");
	assert_properties("/passthrough/pcie@10000000000", bridge, sizeof(bridge) / sizeof(bridge[0]));
}

static void test_pci_domain_0_is_written(void **state)
{
	const fdt32_t *domain;
	int len;

	(void)state;
	config.pci_domain = 0;
	build();
	domain = fdt_getprop(blob, node_at("/passthrough/pcie@10000000"), "linux,pci-domain", &len);
	assert_non_null(domain);
	assert_int_equal(len, 4);
	assert_int_equal(fdt32_to_cpu(*domain), 0);
}

static void test_one_bus_ecam_has_bus_range_0_0(void **state)
{
	const fdt32_t *range;
	int len;

	(void)state;
	layout.ecam.size = 1 << 20;
	build();
	range = fdt_getprop(blob, node_at("/passthrough/pcie@10000000"), "bus-range", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_to_cpu(range[0]), 0);
	assert_int_equal(fdt32_to_cpu(range[1]), 0);
}

/* ---- the interrupt-map means what the daemon does */

static uint32_t cell_of(int node, const char *name, uint32_t fallback)
{
	int len;
	const fdt32_t *value = fdt_getprop(blob, node, name, &len);

	if (!value)
		return fallback;
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*value);
}

/*
 * What Linux does for a function without a node of its own (of_irq_parse_pci,
 * of_irq_parse_raw): the child unit address is <bus << 16 | devfn << 8, 0, 0>;
 * address and pin are masked and looked up in interrupt-map, whose entries
 * are sized by the parent's #address-cells (0 if absent) and #interrupt-cells.
 * Returns the GIC interrupt ID of the SPI.
 */
static unsigned int resolve_intx(int bridge, unsigned int bus, unsigned int devfn, unsigned int pin)
{
	int mask_len, map_len;
	const fdt32_t *mask = fdt_getprop(blob, bridge, "interrupt-map-mask", &mask_len);
	const fdt32_t *map = fdt_getprop(blob, bridge, "interrupt-map", &map_len);
	const uint32_t child[4] = { bus << 16 | devfn << 8, 0, 0, pin };
	int cells, i = 0;

	assert_int_equal(mask_len, 16);
	assert_non_null(map);
	cells = map_len / 4;
	while (i < cells) {
		int parent = fdt_node_offset_by_phandle(blob, fdt32_to_cpu(map[i + 4]));
		uint32_t address_cells, interrupt_cells;
		bool match = true;

		assert_true(parent >= 0);
		address_cells = cell_of(parent, "#address-cells", 0);
		interrupt_cells = cell_of(parent, "#interrupt-cells", 0);
		assert_int_equal(interrupt_cells, 3);
		for (int k = 0; k < 4; k++)
			match &= fdt32_to_cpu(map[i + k]) == (child[k] & fdt32_to_cpu(mask[k]));
		if (match) {
			const fdt32_t *spec = &map[i + 5 + address_cells];

			assert_int_equal(fdt32_to_cpu(spec[0]), 0);	/* GIC_SPI */
			assert_int_equal(fdt32_to_cpu(spec[2]), 4);	/* level high */
			return fdt32_to_cpu(spec[1]) + 32;
		}
		i += 5 + (int)address_cells + (int)interrupt_cells;
	}
	assert_int_equal(i, cells);
	print_error("no interrupt-map entry for %02x:%02x.%x pin %u\n", bus, devfn >> 3, devfn & 7, pin);
	fail();
	return 0;
}

/* Every device 0..31, functions 0 and 7, pins INTA..INTD, first and last bus. */
static void assert_map_matches_the_daemon(const char *bridge_path)
{
	int bridge = node_at(bridge_path);
	const struct pci_function_ops ops = { 0 };
	struct intx_router router;
	unsigned int last_bus = guest_layout_bus_count(&layout) - 1;

	intx_router_init(&router, NULL, NULL, layout.intx_spi);
	for (unsigned int pin = 1; pin <= 4; pin++) {
		const struct pci_function_ids ids = { .vendor_id = 0x1af4, .interrupt_pin = (uint8_t)pin };
		struct pci_function fn;

		pci_function_init(&fn, &ids, &ops, NULL);
		for (unsigned int device = 0; device < 32; device++) {
			for (unsigned int function = 0; function < 8; function += 7) {
				unsigned int daemon_spi;

				fn.devfn = PCI_DEVFN(device, function);
				daemon_spi = intx_spi_of(&router, &fn);
				assert_int_equal(daemon_spi, layout.intx_spi + (device + pin - 1) % 4);
				assert_int_equal(resolve_intx(bridge, 0, fn.devfn, pin), daemon_spi);
				assert_int_equal(resolve_intx(bridge, last_bus, fn.devfn, pin), daemon_spi);
			}
		}
	}
}

/*
 * Xen 4.22's dom0less builder refuses a partial device tree whose phandles
 * reach GUEST_PHANDLE_GIC (it allocates the guest's own above the
 * fragment's highest one) and panics; 4.17 takes any /gic phandle. So the
 * dom0less fragment's GIC stand-in is phandle 1, and the interrupt-map
 * follows it.
 */
static void test_dom0less_fragment_has_every_phandle_below_65000(void **state)
{
	int node, depth = 0, bridge;

	(void)state;
	config.target = GUEST_FRAGMENT_FOR_DOM0LESS;
	build();
	assert_int_equal(fdt_get_phandle(blob, node_at("/gic")), 1);
	for (node = fdt_next_node(blob, -1, &depth); node >= 0; node = fdt_next_node(blob, node, &depth))
		assert_true(fdt_get_phandle(blob, node) < 65000);
	assert_int_equal(fdt_node_offset_by_phandle(blob, 65000), -FDT_ERR_NOTFOUND);
	bridge = node_at("/passthrough/pcie@10000000");
	for (unsigned int dev = 0; dev < 32; dev++)
		for (unsigned int pin = 1; pin <= 4; pin++)
			assert_int_equal(resolve_intx(bridge, 0, PCI_DEVFN(dev, 0), pin),
					 44 + (dev + pin - 1) % 4);
}

static void test_xl_fragment_keeps_guest_phandle_gic(void **state)
{
	(void)state;
	config.target = GUEST_FRAGMENT_FOR_XL;
	build();
	assert_int_equal(fdt_get_phandle(blob, node_at("/gic")), 65000);
}

static void test_default_interrupt_map_routes_every_device_like_the_daemon(void **state)
{
	(void)state;
	build();
	assert_map_matches_the_daemon("/passthrough/pcie@10000000");
}

static void test_custom_interrupt_map_routes_every_device_like_the_daemon(void **state)
{
	(void)state;
	use_custom_layout();
	build();
	assert_map_matches_the_daemon("/passthrough/pcie@10000000000");
}

/* ---- refusals: the reason is guest_layout_validate()'s, and nothing is written */

static void assert_refused_as_serving_would(const char *needle1, const char *needle2)
{
	char serving_why[256];
	int ret;

	assert_int_equal(guest_layout_validate(&layout, serving_why, sizeof(serving_why)), -EINVAL);
	ret = guest_fragment_build(&config, blob, sizeof(blob), why, sizeof(why));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(why, serving_why);
	if (!strstr(why, needle1) || !strstr(why, needle2))
		print_error("reason '%s' lacks '%s' / '%s'\n", why, needle1, needle2);
	assert_non_null(strstr(why, needle1));
	assert_non_null(strstr(why, needle2));
	assert_int_equal(((unsigned char *)blob)[0], 0xaa);
}

static void test_overlapping_windows_are_refused(void **state)
{
	(void)state;
	layout.mmio = (struct guest_window){ 0x18000000, 0x1000000 };
	assert_refused_as_serving_would("--ecam 0x10000000,0x10000000 overlaps --mmio", "0x18000000");
}

static void test_ecam_of_one_and_a_half_mib_is_refused(void **state)
{
	(void)state;
	layout.ecam.size = 0x180000;
	assert_refused_as_serving_would("--ecam 0x10000000,0x180000", "multiples of 1 MiB");
}

static void test_spis_beyond_the_guest_gic_are_refused(void **state)
{
	(void)state;
	layout.intx_spi = 1017;
	assert_refused_as_serving_would("--intx-spi 1017", "1017..1020");
}

static void test_spis_of_pl011_and_virtio_mmio_are_refused(void **state)
{
	(void)state;
	layout.intx_spi = 40;
	assert_refused_as_serving_would("--intx-spi 40", "PL011");
}

static void test_window_over_guest_ram_is_refused(void **state)
{
	(void)state;
	layout.mmio64 = (struct guest_window){ 0x200000000ULL, 0x100000000ULL };
	assert_refused_as_serving_would("--mmio64 0x200000000,0x100000000", "RAM bank 1");
}

static void test_pci_domain_beyond_16_bits_is_refused(void **state)
{
	(void)state;
	config.pci_domain = 0x10000;
	assert_int_equal(guest_fragment_build(&config, blob, sizeof(blob), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--pci-domain 65536"));
	config.pci_domain = -2;
	assert_int_equal(guest_fragment_build(&config, blob, sizeof(blob), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--pci-domain -2"));
}

static void test_too_small_a_buffer_is_enospc(void **state)
{
	(void)state;
	assert_int_equal(guest_fragment_build(&config, blob, 256, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "256 bytes"));
}

/* ---- nr_spis and the lines for xl and dom0less */

static void test_nr_spis_counts_from_spi_32_to_the_last_intx_spi(void **state)
{
	(void)state;
	assert_int_equal(guest_fragment_nr_spis(&layout), 16);	/* SPIs 32..47 */
	layout.intx_spi = 200;
	assert_int_equal(guest_fragment_nr_spis(&layout), 172);	/* 32..203 */
	layout.intx_spi = 1016;
	assert_int_equal(guest_fragment_nr_spis(&layout), 988);	/* 32..1019 */
}

static bool lines_for_dom0less;

static char *written_by(int (*writer)(FILE *, const struct boot_config *))
{
	const struct boot_config boot = { &layout, "/srv/guest-pci.dtb", 1239, lines_for_dom0less };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(writer(out, &boot), 0);
	fclose(out);
	return text;
}

static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		print_error("'%s' lacks '%s'\n", text, needle);
	assert_non_null(strstr(text, needle));
}

static void test_xl_lines_name_the_fragment_and_the_spis(void **state)
{
	char *text;

	(void)state;
	text = written_by(boot_config_write_xl);
	assert_has(text, "\ndevice_tree = \"/srv/guest-pci.dtb\"\n");
	assert_has(text, "# Xen 4.19+: the guest's SPIs 32..47");
	assert_has(text, "\nnr_spis = 16\n");
	assert_has(text, "\n#vuart = \"sbsa_uart\"\n");
	assert_has(text, "# Xen 4.21+");
	assert_has(text, "\ntrap_unmapped_accesses = 0\n");
	free(text);
}

static void test_xl_lines_say_vuart_cannot_reach_spi_above_63(void **state)
{
	char *text;

	(void)state;
	layout.intx_spi = 61;
	text = written_by(boot_config_write_xl);
	assert_has(text, "\nnr_spis = 33\n");
	assert_has(text, "SPI 64 needs Xen 4.19+");
	assert_null(strstr(text, "#vuart"));
	free(text);
}

static void test_dom0less_lines_have_nr_spis_trap_and_module(void **state)
{
	char *text;

	(void)state;
	text = written_by(boot_config_write_dom0less);
	assert_has(text, "/* Xen 4.17+: the guest's SPIs 32..47");
	assert_has(text, "\tnr_spis = <16>;\n");
	assert_has(text, "Xen 4.21+");
	assert_has(text, "\ttrap-unmapped-accesses = <0>;\n");
	assert_has(text, "compatible = \"multiboot,device-tree\", \"multiboot,module\";");
	/*
	 * Two cells of address and two of size, as ImageBuilder's
	 * scripts/uboot-script-gen sets them in the domain node (Xen reads a
	 * module's reg with the node's #address-cells and #size-cells).
	 */
	assert_has(text, "reg = <0x0 LOAD_ADDRESS 0x0 0x4d7>;");
	assert_has(text, "#address-cells = <2> and #size-cells = <2>");
	assert_has(text, "/srv/guest-pci.dtb (1239 bytes)");
	free(text);
}

/* @writer's lines for a fragment --for dom0less or not: @warning in them, or no WARNING at all. */
static void assert_warning(int (*writer)(FILE *, const struct boot_config *), bool for_dom0less,
			   const char *warning)
{
	char *text;

	lines_for_dom0less = for_dom0less;
	text = written_by(writer);
	lines_for_dom0less = false;
	if (warning)
		assert_has(text, warning);
	else
		assert_null(strstr(text, "WARNING"));
	free(text);
}

/* Lines that name a fragment written for the other kind of guest say so. */
static void test_lines_warn_about_a_fragment_for_the_other_kind_of_guest(void **state)
{
	(void)state;
	assert_warning(boot_config_write_dom0less, false, "WARNING: that fragment is for xl");
	assert_warning(boot_config_write_xl, false, NULL);
	assert_warning(boot_config_write_xl, true, "WARNING: that fragment is for dom0less");
	assert_warning(boot_config_write_dom0less, true, NULL);
}

#define TEST(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_default_fragment_has_exactly_these_properties),
		TEST(test_custom_fragment_has_exactly_these_properties),
		TEST(test_pci_domain_0_is_written),
		TEST(test_one_bus_ecam_has_bus_range_0_0),
		TEST(test_dom0less_fragment_has_every_phandle_below_65000),
		TEST(test_xl_fragment_keeps_guest_phandle_gic),
		TEST(test_default_interrupt_map_routes_every_device_like_the_daemon),
		TEST(test_custom_interrupt_map_routes_every_device_like_the_daemon),
		TEST(test_overlapping_windows_are_refused),
		TEST(test_ecam_of_one_and_a_half_mib_is_refused),
		TEST(test_spis_beyond_the_guest_gic_are_refused),
		TEST(test_spis_of_pl011_and_virtio_mmio_are_refused),
		TEST(test_window_over_guest_ram_is_refused),
		TEST(test_pci_domain_beyond_16_bits_is_refused),
		TEST(test_too_small_a_buffer_is_enospc),
		TEST(test_nr_spis_counts_from_spi_32_to_the_last_intx_spi),
		TEST(test_xl_lines_name_the_fragment_and_the_spis),
		TEST(test_xl_lines_say_vuart_cannot_reach_spi_above_63),
		TEST(test_dom0less_lines_have_nr_spis_trap_and_module),
		TEST(test_lines_warn_about_a_fragment_for_the_other_kind_of_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
