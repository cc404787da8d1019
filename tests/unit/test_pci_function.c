// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_pci_function.c: a function's type 0 header as a guest
 * driver sees it, BAR sizing the way Linux does it, and Interrupt Status of
 * a function on no bus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ecam/pci_function.h"

static const struct pci_function_ids virtio_blk_ids = {
	.vendor_id = 0x1af4,
	.device_id = 0x1042,
	.revision = 1,
	.class_code = 0x018000,
	.subsystem_vendor_id = 0x1af4,
	.subsystem_id = 0x0002,
	.interrupt_pin = 1,
};

static struct pci_function fn;

static int setup(void **state)
{
	(void)state;
	memset(&fn, 0x5a, sizeof(fn));
	pci_function_init(&fn, &virtio_blk_ids, NULL, &fn);
	return 0;
}

static uint32_t guest_read(uint16_t off, unsigned int size)
{
	return pci_config_read(&fn.config, off, size);
}

static void guest_write(uint16_t off, unsigned int size, uint32_t value)
{
	pci_config_write(&fn.config, off, size, value);
}

static void test_header_carries_the_ids(void **state)
{
	(void)state;
	assert_int_equal(guest_read(PCI_VENDOR_ID, 4), 0x10421af4);
	assert_int_equal(guest_read(PCI_REVISION_ID, 4), 0x01800001);
	assert_int_equal(guest_read(PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00021af4);
	assert_int_equal(guest_read(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(guest_read(PCI_CACHE_LINE_SIZE, 4), 0);
	assert_int_equal(guest_read(PCI_COMMAND, 4), 0);
	assert_int_equal(guest_read(PCI_CAPABILITY_LIST, 1), 0);
	assert_null(fn.host);
	assert_false(fn.intx_pending);
	assert_false(fn.intx_asserted);
	assert_ptr_equal(fn.opaque, &fn);
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++)
		assert_int_equal(fn.bars[bar].size, 0);
	/* Everything past the header is absent: 0 (PCIe Base 7.6.3 for the extended space). */
	for (unsigned int off = 0x40; off < PCI_CONFIG_SPACE_SIZE; off += 4)
		assert_int_equal(guest_read((uint16_t)off, 4), 0);
}

static void test_ids_are_read_only(void **state)
{
	(void)state;
	guest_write(PCI_VENDOR_ID, 4, 0xffffffff);
	guest_write(PCI_REVISION_ID, 4, 0xffffffff);
	guest_write(PCI_SUBSYSTEM_VENDOR_ID, 4, 0);
	guest_write(PCI_INTERRUPT_PIN, 1, 4);
	guest_write(PCI_HEADER_TYPE, 1, 0xff);
	guest_write(PCI_BIST, 1, 0xff);
	guest_write(PCI_LATENCY_TIMER, 1, 0xff);
	assert_int_equal(guest_read(PCI_VENDOR_ID, 4), 0x10421af4);
	assert_int_equal(guest_read(PCI_REVISION_ID, 4), 0x01800001);
	assert_int_equal(guest_read(PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00021af4);
	assert_int_equal(guest_read(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(guest_read(PCI_CACHE_LINE_SIZE, 4), 0);
}

static void test_command_takes_only_the_supported_bits(void **state)
{
	(void)state;
	guest_write(PCI_COMMAND, 2, 0xffff);
	/* Memory, Bus Master, Parity, SERR, INTx Disable; never I/O Space. */
	assert_int_equal(guest_read(PCI_COMMAND, 2), 0x0546);
	guest_write(PCI_COMMAND, 1, 0x01);
	assert_int_equal(guest_read(PCI_COMMAND, 2), 0x0500);
	guest_write(PCI_COMMAND, 2, 0);
	assert_int_equal(guest_read(PCI_COMMAND, 2), 0);
}

static void test_status_error_bits_are_write_one_to_clear(void **state)
{
	(void)state;
	pci_config_set16(&fn.config, PCI_STATUS, 0xf918);
	/* A 32-bit write of Command that carries zeros in Status clears nothing. */
	guest_write(PCI_COMMAND, 4, 0x00000002);
	assert_int_equal(guest_read(PCI_STATUS, 2), 0xf918);
	guest_write(PCI_STATUS, 2, 0xffff);
	/* Interrupt Status and Capabilities List are read-only. */
	assert_int_equal(guest_read(PCI_STATUS, 2), 0x0018);
	assert_int_equal(guest_read(PCI_COMMAND, 2), 0x0002);
}

static void test_cache_line_and_interrupt_line_are_writable(void **state)
{
	(void)state;
	guest_write(PCI_CACHE_LINE_SIZE, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_CACHE_LINE_SIZE, 4), 0x000000ff);
	guest_write(PCI_INTERRUPT_LINE, 2, 0xff2c);
	assert_int_equal(guest_read(PCI_INTERRUPT_LINE, 2), 0x012c);
}

static void test_expansion_rom_reads_zero(void **state)
{
	(void)state;
	guest_write(PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_ROM_ADDRESS, 4), 0);
	guest_write(PCI_ROM_ADDRESS, 4, 0xfe000001);
	assert_int_equal(guest_read(PCI_ROM_ADDRESS, 4), 0);
}

static void test_bad_bars_are_refused(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 6, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 5, 0x1000, true, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 0x800, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 0x3000, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 0, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 1ULL << 32, false, false), -EINVAL);

	assert_int_equal(pci_function_add_bar(&fn, 2, 0x4000, true, true), 0);
	/* BAR 3 is BAR 2's upper half; BAR 1 would take BAR 2. */
	assert_int_equal(pci_function_add_bar(&fn, 3, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 1, 0x1000, true, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 2, 0x1000, false, false), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 1, 0x1000, false, false), 0);
	assert_int_equal(pci_function_add_bar(&fn, 4, 1ULL << 40, true, true), 0);
}

static void test_32bit_bar_sizing(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 0, 0x4000, false, false), 0);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0, 4), 0);
	guest_write(PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0, 4), 0xffffc000);
	guest_write(PCI_BASE_ADDRESS_0, 4, 0x23004000);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0, 4), 0x23004000);
	assert_int_equal(pci_function_bar_address(&fn, 0), 0x23004000);
	/* A misaligned address keeps only the bits above the size. */
	guest_write(PCI_BASE_ADDRESS_0, 4, 0x23005678);
	assert_int_equal(pci_function_bar_address(&fn, 0), 0x23004000);
}

static void test_64bit_prefetchable_bar_sizing(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 2, 0x4000, true, true), 0);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 8, 4), 0x0000000c);
	guest_write(PCI_BASE_ADDRESS_0 + 8, 4, 0xffffffff);
	guest_write(PCI_BASE_ADDRESS_0 + 12, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 8, 4), 0xffffc00c);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 12, 4), 0xffffffff);
	guest_write(PCI_BASE_ADDRESS_0 + 8, 4, 0x00010000);
	guest_write(PCI_BASE_ADDRESS_0 + 12, 4, 0x00000001);
	assert_int_equal(pci_function_bar_address(&fn, 2), 0x100010000ULL);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 8, 4), 0x0001000c);
}

static void test_large_64bit_bar_sizes_in_the_upper_dword(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 0, 8ULL << 30, true, true), 0);
	guest_write(PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	guest_write(PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0, 4), 0x0000000c);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 4, 4), 0xfffffffe);
	assert_int_equal(pci_function_bar_address(&fn, 0), 0xfffffffe00000000ULL);
}

static void test_32bit_prefetchable_bar_flags(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 1, 0x1000, false, true), 0);
	guest_write(PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	assert_int_equal(guest_read(PCI_BASE_ADDRESS_0 + 4, 4), 0xfffff008);
}

static void test_unimplemented_bars_read_zero(void **state)
{
	(void)state;
	assert_int_equal(pci_function_add_bar(&fn, 2, 0x4000, true, true), 0);
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint16_t off = (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * bar);

		if (bar == 2 || bar == 3)
			continue;
		guest_write(off, 4, 0xffffffff);
		assert_int_equal(guest_read(off, 4), 0);
		assert_int_equal(pci_function_bar_address(&fn, bar), 0);
	}
	assert_int_equal(pci_function_bar_address(&fn, 6), 0);
	assert_int_equal(pci_function_bar_address(&fn, 1000), 0);
}

static void test_interrupt_status_off_the_bus(void **state)
{
	(void)state;
	pci_function_set_intx(&fn, true);
	assert_true(fn.intx_pending);
	assert_false(fn.intx_asserted);
	assert_int_equal(guest_read(PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	/* The guest cannot clear it: it is the device's to clear. */
	guest_write(PCI_STATUS, 2, 0xffff);
	assert_int_equal(guest_read(PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	pci_function_set_intx(&fn, false);
	assert_false(fn.intx_pending);
	assert_int_equal(guest_read(PCI_STATUS, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_header_carries_the_ids, setup),
		cmocka_unit_test_setup(test_ids_are_read_only, setup),
		cmocka_unit_test_setup(test_command_takes_only_the_supported_bits, setup),
		cmocka_unit_test_setup(test_status_error_bits_are_write_one_to_clear, setup),
		cmocka_unit_test_setup(test_cache_line_and_interrupt_line_are_writable, setup),
		cmocka_unit_test_setup(test_expansion_rom_reads_zero, setup),
		cmocka_unit_test_setup(test_bad_bars_are_refused, setup),
		cmocka_unit_test_setup(test_32bit_bar_sizing, setup),
		cmocka_unit_test_setup(test_64bit_prefetchable_bar_sizing, setup),
		cmocka_unit_test_setup(test_large_64bit_bar_sizes_in_the_upper_dword, setup),
		cmocka_unit_test_setup(test_32bit_prefetchable_bar_flags, setup),
		cmocka_unit_test_setup(test_unimplemented_bars_read_zero, setup),
		cmocka_unit_test_setup(test_interrupt_status_off_the_bus, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
