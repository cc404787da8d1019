// SPDX-License-Identifier: MIT
/* tests/unit/test_guest_layout.c: which host-bridge layouts are served, and why others are not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ecam/guest_layout.h"

static struct guest_layout layout;
static char why[256];

static int setup(void **state)
{
	(void)state;
	memset(&layout, 0xaa, sizeof(layout));
	guest_layout_default(&layout);
	memset(why, 0, sizeof(why));
	return 0;
}

/* Refused with -EINVAL, and the reason holds @needle1 (and @needle2 if not NULL). */
static void assert_refused(const char *needle1, const char *needle2)
{
	int ret = guest_layout_validate(&layout, why, sizeof(why));

	if (ret != -EINVAL)
		print_error("layout accepted (%d), expected a refusal naming '%s'\n", ret, needle1);
	assert_int_equal(ret, -EINVAL);
	if (!strstr(why, needle1) || (needle2 && !strstr(why, needle2)))
		print_error("reason '%s' lacks '%s' / '%s'\n", why, needle1,
			    needle2 ? needle2 : "");
	assert_non_null(strstr(why, needle1));
	if (needle2)
		assert_non_null(strstr(why, needle2));
}

static void assert_accepted(void)
{
	int ret = guest_layout_validate(&layout, why, sizeof(why));

	if (ret)
		print_error("layout refused: %s\n", why);
	assert_int_equal(ret, 0);
}

/* ---- the default layout */

static void test_default_layout_is_xens_vpci_windows(void **state)
{
	(void)state;
	assert_int_equal(layout.ecam.base, 0x10000000);
	assert_int_equal(layout.ecam.size, 0x10000000);
	assert_int_equal(layout.mmio.base, 0x23000000);
	assert_int_equal(layout.mmio.size, 0x10000000);
	assert_int_equal(layout.mmio64.base, 0x100000000ULL);
	assert_int_equal(layout.mmio64.size, 0x100000000ULL);
	assert_int_equal(layout.intx_spi, 44);
}

static void test_default_layout_validates(void **state)
{
	(void)state;
	assert_accepted();
}

static void test_default_layout_has_256_buses(void **state)
{
	(void)state;
	assert_int_equal(guest_layout_bus_count(&layout), 256);
}

/* ---- the shape of each window */

static void test_zero_size_ecam_is_refused(void **state)
{
	(void)state;
	layout.ecam.size = 0;
	assert_refused("--ecam 0x10000000,0x0", "zero");
}

static void test_zero_size_mmio_is_refused(void **state)
{
	(void)state;
	layout.mmio.size = 0;
	assert_refused("--mmio 0x23000000,0x0", "zero");
}

static void test_zero_size_mmio64_is_refused(void **state)
{
	(void)state;
	layout.mmio64.size = 0;
	assert_refused("--mmio64 0x100000000,0x0", "zero");
}

static void test_mmio_base_not_4k_aligned_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x23000800;
	assert_refused("--mmio 0x23000800,0x10000000", "4 KiB");
}

static void test_mmio_size_not_4k_multiple_is_refused(void **state)
{
	(void)state;
	layout.mmio.size = 0xfffff01;
	assert_refused("--mmio 0x23000000,0xfffff01", "4 KiB");
}

static void test_mmio64_base_not_4k_aligned_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x100000001ULL;
	assert_refused("--mmio64 0x100000001,0x100000000", "4 KiB");
}

static void test_ecam_size_not_4k_multiple_is_refused(void **state)
{
	(void)state;
	layout.ecam.size = 0x800;
	assert_refused("--ecam 0x10000000,0x800", "4 KiB");
}

static void test_ecam_base_not_1m_aligned_is_refused(void **state)
{
	(void)state;
	layout.ecam.base = 0x10080000;
	layout.ecam.size = 0x1000000;
	assert_refused("--ecam 0x10080000,0x1000000", "1 MiB");
}

static void test_ecam_size_not_1m_multiple_is_refused(void **state)
{
	(void)state;
	layout.ecam.size = 0x1080000;
	assert_refused("--ecam 0x10000000,0x1080000", "1 MiB");
}

static void test_ecam_larger_than_256m_is_refused(void **state)
{
	(void)state;
	layout.ecam.size = 0x10100000;
	assert_refused("--ecam 0x10000000,0x10100000", "256 MiB");
}

static void test_ecam_of_one_bus_is_accepted(void **state)
{
	(void)state;
	layout.ecam.size = 0x100000;
	assert_accepted();
	assert_int_equal(guest_layout_bus_count(&layout), 1);
}

static void test_mmio64_ending_beyond_48_bits_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0xffff00000000ULL;
	layout.mmio64.size = 0x200000000ULL;
	assert_refused("--mmio64 0xffff00000000,0x200000000", "48-bit");
}

static void test_mmio64_ending_exactly_at_2_48_is_accepted(void **state)
{
	(void)state;
	layout.mmio64.base = 0xffff00000000ULL;
	layout.mmio64.size = 0x100000000ULL;
	assert_accepted();
}

static void test_mmio64_starting_above_48_bits_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 1ULL << 48;
	layout.mmio64.size = 0x1000;
	assert_refused("--mmio64 0x1000000000000,0x1000", "48-bit");
}

static void test_mmio64_wrapping_past_2_64_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0xfffffffffffff000ULL;
	layout.mmio64.size = 0x2000;
	assert_refused("--mmio64 0xfffffffffffff000,0x2000", "48-bit");
}

static void test_ecam_wrapping_past_2_64_is_refused(void **state)
{
	(void)state;
	layout.ecam.base = 0xfffffffffff00000ULL;
	layout.ecam.size = 0x10000000;
	assert_refused("--ecam 0xfffffffffff00000,0x10000000", NULL);
}

static void test_mmio_ending_above_4g_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x10000000000ULL;
	layout.mmio.size = 0x10000000;
	layout.mmio64.base = 0x20000000000ULL;
	assert_refused("--mmio 0x10000000000,0x10000000", "4 GiB");
}

/* ---- windows overlapping each other */

static void test_ecam_overlapping_mmio_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x1ffff000;
	layout.mmio.size = 0x1000;
	assert_refused("--ecam 0x10000000,0x10000000 overlaps --mmio 0x1ffff000,0x1000", NULL);
}

static void test_ecam_overlapping_mmio64_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x10000000;
	layout.mmio64.size = 0x1000;
	assert_refused("--ecam 0x10000000,0x10000000 overlaps --mmio64 0x10000000,0x1000", NULL);
}

static void test_mmio_overlapping_mmio64_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x32fff000;
	layout.mmio64.size = 0x2000;
	assert_refused("--mmio 0x23000000,0x10000000 overlaps --mmio64 0x32fff000,0x2000", NULL);
}

static void test_mmio64_containing_mmio_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x22001000;
	layout.mmio64.size = 0x15fff000;
	layout.mmio.base = 0x24000000;
	layout.mmio.size = 0x1000;
	assert_refused("--mmio 0x24000000,0x1000 overlaps --mmio64 0x22001000,0x15fff000", NULL);
}

static void test_identical_ecam_and_mmio_are_refused(void **state)
{
	(void)state;
	layout.mmio = layout.ecam;
	assert_refused("--ecam 0x10000000,0x10000000 overlaps --mmio 0x10000000,0x10000000", NULL);
}

static void test_ecam_ending_at_mmio_base_is_accepted(void **state)
{
	(void)state;
	layout.ecam.base = 0x10000000;
	layout.ecam.size = 0x8000000;
	layout.mmio.base = 0x18000000;
	layout.mmio.size = 0x8000000;
	assert_accepted();
}

static void test_mmio_ending_at_mmio64_base_is_accepted(void **state)
{
	(void)state;
	layout.mmio.base = 0x23000000;
	layout.mmio.size = 0x8000000;
	layout.mmio64.base = 0x2b000000;
	layout.mmio64.size = 0x8000000;
	assert_accepted();
}

/* ---- windows overlapping what Xen puts in every Arm guest */

static void test_mmio_over_ram_bank_0_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x40000000;
	layout.mmio.size = 0x1000000;
	assert_refused("--mmio 0x40000000,0x1000000", "RAM bank 0");
	assert_non_null(strstr(why, "0x40000000-0xffffffff"));
}

static void test_mmio_reaching_into_ram_bank_0_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x3a000000;
	layout.mmio.size = 0x6001000;
	assert_refused("--mmio 0x3a000000,0x6001000", "RAM bank 0");
}

static void test_mmio64_at_top_of_ram_bank_0_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0xfffff000;
	layout.mmio64.size = 0x1000;
	assert_refused("--mmio64 0xfffff000,0x1000", "RAM bank 0");
}

static void test_mmio64_over_ram_bank_1_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x200000000ULL;
	layout.mmio64.size = 0x100000000ULL;
	assert_refused("--mmio64 0x200000000,0x100000000", "RAM bank 1");
	assert_non_null(strstr(why, "0x200000000-0xffffffffff"));
}

static void test_mmio64_reaching_into_ram_bank_1_is_refused(void **state)
{
	(void)state;
	layout.mmio64.size = 0x100001000ULL;
	assert_refused("--mmio64 0x100000000,0x100001000", "RAM bank 1");
}

static void test_mmio64_at_end_of_ram_bank_1_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0xfffffff000ULL;
	layout.mmio64.size = 0x2000;
	assert_refused("--mmio64 0xfffffff000,0x2000", "RAM bank 1");
}

static void test_mmio_over_gic_distributor_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x03000000;
	layout.mmio.size = 0x2000;
	assert_refused("--mmio 0x3000000,0x2000", "GIC distributor");
}

static void test_mmio_over_gic_redistributors_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x04000000;
	layout.mmio.size = 0x1000000;
	assert_refused("--mmio 0x4000000,0x1000000", "GIC redistributors");
}

static void test_mmio_over_pl011_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x22000000;
	layout.mmio.size = 0x1000;
	assert_refused("--mmio 0x22000000,0x1000", "PL011");
}

static void test_mmio_over_grant_table_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x30000000;
	layout.mmio.size = 0x8001000;
	assert_refused("--mmio 0x30000000,0x8001000", "grant-table");
}

static void test_mmio_over_magic_pages_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x39fff000;
	layout.mmio.size = 0x1000;
	assert_refused("--mmio 0x39fff000,0x1000", "magic pages");
}

static void test_mmio_over_acpi_area_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x21fff000;
	layout.mmio.size = 0x1000;
	assert_refused("--mmio 0x21fff000,0x1000", "ACPI");
}

static void test_mmio_over_virtio_mmio_window_is_refused(void **state)
{
	(void)state;
	layout.mmio.base = 0x02000000;
	layout.mmio.size = 0x100000;
	assert_refused("--mmio 0x2000000,0x100000", "virtio-mmio");
}

static void test_ecam_over_virtio_mmio_window_is_refused(void **state)
{
	(void)state;
	layout.ecam.base = 0x0;
	layout.ecam.size = 0x10000000;
	assert_refused("--ecam 0x0,0x10000000", "virtio-mmio");
}

static void test_ecam_over_acpi_area_is_refused(void **state)
{
	(void)state;
	layout.ecam.base = 0x18000000;
	layout.ecam.size = 0x10000000;
	layout.mmio.base = 0x3a000000;
	layout.mmio.size = 0x1000000;
	assert_refused("--ecam 0x18000000,0x10000000", "ACPI");
}

static void test_mmio64_over_grant_table_is_refused(void **state)
{
	(void)state;
	layout.mmio64.base = 0x38800000;
	layout.mmio64.size = 0x1000;
	assert_refused("--mmio64 0x38800000,0x1000", "grant-table");
}

static void test_ecam_ending_at_acpi_base_is_accepted(void **state)
{
	(void)state;
	/* The default ECAM ends exactly where the ACPI area starts. */
	assert_int_equal(layout.ecam.base + layout.ecam.size, 0x20000000);
	assert_accepted();
}

static void test_mmio64_ending_at_ram_bank_1_base_is_accepted(void **state)
{
	(void)state;
	/* The default 64-bit window ends exactly where RAM bank 1 starts. */
	assert_int_equal(layout.mmio64.base + layout.mmio64.size, 0x200000000ULL);
	assert_accepted();
}

static void test_mmio_between_pl011_and_grant_table_is_accepted(void **state)
{
	(void)state;
	layout.mmio.base = 0x22001000;
	layout.mmio.size = 0x15fff000;
	assert_accepted();
}

static void test_mmio_between_magic_pages_and_ram_bank_0_is_accepted(void **state)
{
	(void)state;
	layout.mmio.base = 0x3a000000;
	layout.mmio.size = 0x6000000;
	assert_accepted();
}

static void test_mmio_between_virtio_mmio_and_gic_distributor_is_accepted(void **state)
{
	(void)state;
	layout.mmio.base = 0x02100000;
	layout.mmio.size = 0xf01000;
	assert_accepted();
}

static void test_mmio64_starting_at_end_of_ram_bank_1_is_accepted(void **state)
{
	(void)state;
	layout.mmio64.base = 0x10000000000ULL;
	layout.mmio64.size = 0x1000;
	assert_accepted();
}

static void test_mmio64_between_gic_redistributors_and_ecam_is_accepted(void **state)
{
	(void)state;
	layout.mmio64.base = 0x04020000;
	layout.mmio64.size = 0xbfe0000;
	assert_accepted();
}

/* ---- INTx SPIs */

static void test_intx_spi_44_is_accepted(void **state)
{
	(void)state;
	layout.intx_spi = 44;
	assert_accepted();
}

static void test_intx_spi_31_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 31;
	assert_refused("--intx-spi 31", "32..1019");
}

static void test_intx_spi_0_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 0;
	assert_refused("--intx-spi 0", NULL);
}

static void test_intx_spi_1016_is_accepted(void **state)
{
	(void)state;
	layout.intx_spi = 1016;
	assert_accepted();
}

static void test_intx_spi_1017_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 1017;
	assert_refused("--intx-spi 1017", "1017..1020");
}

static void test_intx_spi_40_overlapping_pl011_and_virtio_mmio_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 40;
	assert_refused("--intx-spi 40", "32..43");
}

static void test_intx_spi_32_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 32;
	assert_refused("--intx-spi 32", "32..43");
}

static void test_intx_spi_43_is_refused(void **state)
{
	(void)state;
	layout.intx_spi = 43;
	assert_refused("--intx-spi 43", "PL011");
}

static void test_intx_spi_near_uint_max_is_refused(void **state)
{
	(void)state;
	/* first + 3 wraps to 0 here: the four lines are not in 32..1019 either way. */
	layout.intx_spi = 0xfffffffd;
	assert_refused("--intx-spi 4294967293", NULL);
}

/* ---- a custom layout */

static void test_custom_layout_is_accepted_with_16_buses(void **state)
{
	(void)state;
	layout.ecam.base = 0x10000000;
	layout.ecam.size = 0x1000000;
	layout.mmio64.base = 0x10000000000ULL;
	layout.mmio64.size = 0x100000000ULL;
	layout.intx_spi = 100;
	assert_accepted();
	assert_int_equal(guest_layout_bus_count(&layout), 16);
}

static void test_why_is_truncated_to_its_length(void **state)
{
	char small[16];

	(void)state;
	memset(small, 'x', sizeof(small));
	layout.mmio.size = 0;
	assert_int_equal(guest_layout_validate(&layout, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "--mmio 0x230000", sizeof(small));
}

#define TEST(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_default_layout_is_xens_vpci_windows),
		TEST(test_default_layout_validates),
		TEST(test_default_layout_has_256_buses),
		TEST(test_zero_size_ecam_is_refused),
		TEST(test_zero_size_mmio_is_refused),
		TEST(test_zero_size_mmio64_is_refused),
		TEST(test_mmio_base_not_4k_aligned_is_refused),
		TEST(test_mmio_size_not_4k_multiple_is_refused),
		TEST(test_mmio64_base_not_4k_aligned_is_refused),
		TEST(test_ecam_size_not_4k_multiple_is_refused),
		TEST(test_ecam_base_not_1m_aligned_is_refused),
		TEST(test_ecam_size_not_1m_multiple_is_refused),
		TEST(test_ecam_larger_than_256m_is_refused),
		TEST(test_ecam_of_one_bus_is_accepted),
		TEST(test_mmio64_ending_beyond_48_bits_is_refused),
		TEST(test_mmio64_ending_exactly_at_2_48_is_accepted),
		TEST(test_mmio64_starting_above_48_bits_is_refused),
		TEST(test_mmio64_wrapping_past_2_64_is_refused),
		TEST(test_ecam_wrapping_past_2_64_is_refused),
		TEST(test_mmio_ending_above_4g_is_refused),
		TEST(test_ecam_overlapping_mmio_is_refused),
		TEST(test_ecam_overlapping_mmio64_is_refused),
		TEST(test_mmio_overlapping_mmio64_is_refused),
		TEST(test_mmio64_containing_mmio_is_refused),
		TEST(test_identical_ecam_and_mmio_are_refused),
		TEST(test_ecam_ending_at_mmio_base_is_accepted),
		TEST(test_mmio_ending_at_mmio64_base_is_accepted),
		TEST(test_mmio_over_ram_bank_0_is_refused),
		TEST(test_mmio_reaching_into_ram_bank_0_is_refused),
		TEST(test_mmio64_at_top_of_ram_bank_0_is_refused),
		TEST(test_mmio64_over_ram_bank_1_is_refused),
		TEST(test_mmio64_reaching_into_ram_bank_1_is_refused),
		TEST(test_mmio64_at_end_of_ram_bank_1_is_refused),
		TEST(test_mmio_over_gic_distributor_is_refused),
		TEST(test_mmio_over_gic_redistributors_is_refused),
		TEST(test_mmio_over_pl011_is_refused),
		TEST(test_mmio_over_grant_table_is_refused),
		TEST(test_mmio_over_magic_pages_is_refused),
		TEST(test_mmio_over_acpi_area_is_refused),
		TEST(test_mmio_over_virtio_mmio_window_is_refused),
		TEST(test_ecam_over_virtio_mmio_window_is_refused),
		TEST(test_ecam_over_acpi_area_is_refused),
		TEST(test_mmio64_over_grant_table_is_refused),
		TEST(test_ecam_ending_at_acpi_base_is_accepted),
		TEST(test_mmio64_ending_at_ram_bank_1_base_is_accepted),
		TEST(test_mmio_between_pl011_and_grant_table_is_accepted),
		TEST(test_mmio_between_magic_pages_and_ram_bank_0_is_accepted),
		TEST(test_mmio_between_virtio_mmio_and_gic_distributor_is_accepted),
		TEST(test_mmio64_starting_at_end_of_ram_bank_1_is_accepted),
		TEST(test_mmio64_between_gic_redistributors_and_ecam_is_accepted),
		TEST(test_intx_spi_44_is_accepted),
		TEST(test_intx_spi_31_is_refused),
		TEST(test_intx_spi_0_is_refused),
		TEST(test_intx_spi_1016_is_accepted),
		TEST(test_intx_spi_1017_is_refused),
		TEST(test_intx_spi_40_overlapping_pl011_and_virtio_mmio_is_refused),
		TEST(test_intx_spi_32_is_refused),
		TEST(test_intx_spi_43_is_refused),
		TEST(test_intx_spi_near_uint_max_is_refused),
		TEST(test_custom_layout_is_accepted_with_16_buses),
		TEST(test_why_is_truncated_to_its_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
