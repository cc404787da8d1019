// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_pci_config.c: the configuration-space register file: what
 * a guest write does to read-only, read-write and write-1-to-clear bits, and
 * how capabilities are chained.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ecam/pci_config.h"

static struct pci_config cfg;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0xaa, sizeof(cfg));
	pci_config_init(&cfg);
	return 0;
}

static void test_init_is_all_zero_and_read_only(void **state)
{
	(void)state;
	for (unsigned int off = 0; off < PCI_CONFIG_SPACE_SIZE; off += 4) {
		assert_int_equal(pci_config_read(&cfg, (uint16_t)off, 4), 0);
		pci_config_write(&cfg, (uint16_t)off, 4, 0xffffffff);
		assert_int_equal(pci_config_read(&cfg, (uint16_t)off, 4), 0);
	}
	assert_int_equal(cfg.cap_tail, PCI_CAPABILITY_LIST);
	assert_int_equal(cfg.cap_free, 0x40);
}

static void test_read_only_write_changes_nothing(void **state)
{
	(void)state;
	pci_config_set32(&cfg, 0x40, 0x12345678);
	pci_config_write(&cfg, 0x40, 4, 0xffffffff);
	pci_config_write(&cfg, 0x40, 4, 0);
	pci_config_write(&cfg, 0x42, 2, 0xdead);
	pci_config_write(&cfg, 0x43, 1, 0x00);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0x12345678);
}

static void test_read_write_takes_the_value(void **state)
{
	(void)state;
	pci_config_set_rw_mask(&cfg, 0x40, 4, 0xffffffff);
	pci_config_write(&cfg, 0x40, 4, 0xcafef00d);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0xcafef00d);
	pci_config_write(&cfg, 0x41, 1, 0x12);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0xcafe120d);
	pci_config_write(&cfg, 0x42, 2, 0x3456);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0x3456120d);
}

static void test_partial_rw_mask_keeps_read_only_bits(void **state)
{
	(void)state;
	pci_config_set16(&cfg, 0x40, 0xa5a5);
	pci_config_set_rw_mask(&cfg, 0x40, 2, 0x0ff0);
	pci_config_write(&cfg, 0x40, 2, 0x1234);
	assert_int_equal(pci_config_read(&cfg, 0x40, 2), 0xa235);
	pci_config_write(&cfg, 0x40, 2, 0xffff);
	assert_int_equal(pci_config_read(&cfg, 0x40, 2), 0xaff5);
}

static void test_write_one_to_clear_clears_only_written_ones(void **state)
{
	(void)state;
	pci_config_set16(&cfg, 0x40, 0xf918);
	pci_config_set_w1c_mask(&cfg, 0x40, 2, 0xf900);
	/* Zeros do nothing to W1C bits; ones to read-only bits do nothing either. */
	pci_config_write(&cfg, 0x40, 2, 0x00ff);
	assert_int_equal(pci_config_read(&cfg, 0x40, 2), 0xf918);
	pci_config_write(&cfg, 0x40, 2, 0x8100);
	assert_int_equal(pci_config_read(&cfg, 0x40, 2), 0x7818);
	/* Writing 1 to an already clear W1C bit leaves it clear. */
	pci_config_write(&cfg, 0x41, 1, 0xff);
	assert_int_equal(pci_config_read(&cfg, 0x40, 2), 0x0018);
}

static void test_mixed_masks_in_one_byte(void **state)
{
	(void)state;
	/* Bits 0-1 RW, bits 2-3 RO, bits 4-7 W1C. */
	pci_config_set8(&cfg, 0x50, 0xa5);
	pci_config_set_rw_mask(&cfg, 0x50, 1, 0x03);
	pci_config_set_w1c_mask(&cfg, 0x50, 1, 0xf0);
	pci_config_write(&cfg, 0x50, 1, 0x3e);
	/* RW 01 -> 10, RO 01 stays, W1C 1010 & ~0011 = 1000. */
	assert_int_equal(pci_config_read(&cfg, 0x50, 1), 0x86);
}

static void test_little_endian_accessors(void **state)
{
	(void)state;
	pci_config_set32(&cfg, 0x60, 0x44332211);
	assert_int_equal(pci_config_get8(&cfg, 0x60), 0x11);
	assert_int_equal(pci_config_get8(&cfg, 0x63), 0x44);
	assert_int_equal(pci_config_get16(&cfg, 0x62), 0x4433);
	assert_int_equal(pci_config_read(&cfg, 0x61, 1), 0x22);
	assert_int_equal(pci_config_read(&cfg, 0x60, 2), 0x2211);
	pci_config_set16(&cfg, 0x62, 0xbeef);
	pci_config_set8(&cfg, 0x60, 0x01);
	assert_int_equal(pci_config_get32(&cfg, 0x60), 0xbeef2201);
	/* Extended space is as much a part of the file as the header. */
	pci_config_set32(&cfg, 0xffc, 0x01020304);
	assert_int_equal(pci_config_read(&cfg, 0xffc, 4), 0x01020304);
}

static void test_mask_longer_than_four_bytes_repeats(void **state)
{
	(void)state;
	pci_config_set_rw_mask(&cfg, 0x40, 8, 0x00ff00ff);
	pci_config_write(&cfg, 0x40, 4, 0xffffffff);
	pci_config_write(&cfg, 0x44, 4, 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0x00ff00ff);
	assert_int_equal(pci_config_read(&cfg, 0x44, 4), 0x00ff00ff);
	assert_int_equal(pci_config_read(&cfg, 0x48, 4), 0);
}

static void test_out_of_range_access_is_refused(void **state)
{
	(void)state;
	pci_config_set_rw_mask(&cfg, 0xffc, 4, 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0xffe, 4), 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0x1000, 1), 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0, 3), 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0, 0), 0xffffffff);
	pci_config_write(&cfg, 0xffe, 4, 0xffffffff);
	pci_config_write(&cfg, 0xffc, 8, 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0xffc, 4), 0);
	/* Device-side accessors ignore what lies outside as well. */
	pci_config_set32(&cfg, 0xffe, 0xffffffff);
	pci_config_set_rw_mask(&cfg, 0xfff, 2, 0xffff);
	assert_int_equal(pci_config_get32(&cfg, 0xffe), 0);
	assert_int_equal(pci_config_get8(&cfg, 0xffff), 0);
}

static void test_capabilities_are_chained_from_0x40(void **state)
{
	int first, second, third;

	(void)state;
	first = pci_config_add_capability(&cfg, 0x09, 5);
	second = pci_config_add_capability(&cfg, 0x10, 20);
	third = pci_config_add_capability(&cfg, 0x05, 2);
	assert_int_equal(first, 0x40);
	/* 5 bytes rounded up to the next DWORD. */
	assert_int_equal(second, 0x48);
	assert_int_equal(third, 0x5c);

	assert_true(pci_config_get16(&cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_config_get8(&cfg, PCI_CAPABILITY_LIST), 0x40);
	assert_int_equal(pci_config_get16(&cfg, 0x40), 0x4809);
	assert_int_equal(pci_config_get16(&cfg, 0x48), 0x5c10);
	assert_int_equal(pci_config_get16(&cfg, 0x5c), 0x0005);
}

static void test_capability_bytes_are_read_only(void **state)
{
	int off;

	(void)state;
	off = pci_config_add_capability(&cfg, 0x09, 8);
	assert_int_equal(off, 0x40);
	pci_config_write(&cfg, 0x40, 4, 0xffffffff);
	pci_config_write(&cfg, 0x44, 4, 0xffffffff);
	assert_int_equal(pci_config_read(&cfg, 0x40, 4), 0x00000009);
	assert_int_equal(pci_config_read(&cfg, 0x44, 4), 0);
	pci_config_write(&cfg, PCI_CAPABILITY_LIST, 1, 0x80);
	assert_int_equal(pci_config_read(&cfg, PCI_CAPABILITY_LIST, 1), 0x40);
}

static void test_capability_that_does_not_fit_is_refused(void **state)
{
	(void)state;
	assert_int_equal(pci_config_add_capability(&cfg, 0x09, 0x100), -ENOSPC);
	assert_int_equal(pci_config_add_capability(&cfg, 0x09, 0xffffffffu), -ENOSPC);
	assert_int_equal(pci_config_add_capability(&cfg, 0x09, 1), -EINVAL);
	/* A refused capability leaves the list empty. */
	assert_int_equal(pci_config_get8(&cfg, PCI_CAPABILITY_LIST), 0);
	assert_false(pci_config_get16(&cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST);

	/* Exactly up to the end of the legacy space fits; one byte more does not. */
	assert_int_equal(pci_config_add_capability(&cfg, 0x09, 0xb0), 0x40);
	assert_int_equal(pci_config_add_capability(&cfg, 0x0a, 0x11), -ENOSPC);
	assert_int_equal(pci_config_add_capability(&cfg, 0x0a, 0x10), 0xf0);
	assert_int_equal(pci_config_add_capability(&cfg, 0x0b, 2), -ENOSPC);
	assert_int_equal(pci_config_get8(&cfg, 0x41), 0xf0);
	assert_int_equal(pci_config_get8(&cfg, 0xf1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_is_all_zero_and_read_only, setup),
		cmocka_unit_test_setup(test_read_only_write_changes_nothing, setup),
		cmocka_unit_test_setup(test_read_write_takes_the_value, setup),
		cmocka_unit_test_setup(test_partial_rw_mask_keeps_read_only_bits, setup),
		cmocka_unit_test_setup(test_write_one_to_clear_clears_only_written_ones, setup),
		cmocka_unit_test_setup(test_mixed_masks_in_one_byte, setup),
		cmocka_unit_test_setup(test_little_endian_accessors, setup),
		cmocka_unit_test_setup(test_mask_longer_than_four_bytes_repeats, setup),
		cmocka_unit_test_setup(test_out_of_range_access_is_refused, setup),
		cmocka_unit_test_setup(test_capabilities_are_chained_from_0x40, setup),
		cmocka_unit_test_setup(test_capability_bytes_are_read_only, setup),
		cmocka_unit_test_setup(test_capability_that_does_not_fit_is_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
