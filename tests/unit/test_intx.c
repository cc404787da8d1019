// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_intx.c: the INTx swizzle and the lines' router, against a
 * recorder of the levels it sets: raised for every event (Xen's vGIC takes a
 * raised SPI as an edge), lowered only when the line's last source clears.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ecam/intx.h"

#define FIRST_SPI	44

static const struct pci_function_ids ids = {
	.vendor_id = 0x1af4, .device_id = 0x1044, .class_code = 0xff0000, .interrupt_pin = 1,
};

static struct pci_function fn_a, fn_b;
static struct intx_router router;
static unsigned int calls, last_spi, last_level;
static int fail_with;

static int record_level(void *ctx, unsigned int spi, unsigned int level)
{
	assert_ptr_equal(ctx, &router);
	calls++;
	last_spi = spi;
	last_level = level;
	return fail_with;
}

static const struct intx_router_ops recorder = { .set_level = record_level, .einval_hint = " (hint)" };

static int setup(void **state)
{
	(void)state;
	pci_function_init(&fn_a, &ids, NULL, NULL);
	pci_function_init(&fn_b, &ids, NULL, NULL);
	intx_router_init(&router, &recorder, &router, FIRST_SPI);
	calls = last_spi = last_level = 0;
	fail_with = 0;
	return 0;
}

/* PCI-to-PCI Bridge 1.2, 9.1: line = (device + pin - 1) mod 4; pin 0 and pins above 4: none. */
static void test_swizzle_follows_the_bridge_spec(void **state)
{
	(void)state;
	assert_int_equal(pci_intx_line(0, 1), 0);
	assert_int_equal(pci_intx_line(1, 1), 1);
	assert_int_equal(pci_intx_line(3, 2), 0);
	assert_int_equal(pci_intx_line(31, 4), 2);
	assert_int_equal(pci_intx_line(5, 0), -1);
	assert_int_equal(pci_intx_line(5, 5), -1);
}

static void test_spi_of_a_function_is_its_swizzled_line(void **state)
{
	(void)state;
	fn_a.devfn = PCI_DEVFN(2, 0);
	assert_int_equal(intx_spi_of(&router, &fn_a), FIRST_SPI + 2);
}

static void test_lower_all_lowers_four_lines(void **state)
{
	(void)state;
	intx_router_lower_all(&router);
	assert_int_equal(calls, 4);
	assert_int_equal(last_spi, FIRST_SPI + 3);
	assert_int_equal(last_level, 0);
}

/* Two functions on one line: each event raises it again; it falls when the last one clears. */
static void test_shared_line_is_raised_per_event_and_lowered_by_the_last(void **state)
{
	(void)state;
	fn_a.devfn = PCI_DEVFN(1, 0);
	fn_b.devfn = PCI_DEVFN(5, 0);		/* (5 + 1 - 1) mod 4 = 1, as device 1 */
	intx_router_update(&router, &fn_a, true);
	fn_a.intx_asserted = true;
	assert_int_equal(calls, 1);
	assert_int_equal(last_level, 1);
	intx_router_update(&router, &fn_b, true);
	fn_b.intx_asserted = true;
	assert_int_equal(calls, 2);
	assert_int_equal(last_spi, FIRST_SPI + 1);
	assert_int_equal(last_level, 1);
	intx_router_update(&router, &fn_a, false);
	fn_a.intx_asserted = false;
	assert_int_equal(calls, 2);		/* fn_b still pending: the line stays up */
	intx_router_update(&router, &fn_b, false);
	assert_int_equal(calls, 3);
	assert_int_equal(last_level, 0);
}

/* A function with no pin changes no line. */
static void test_function_without_pin_sets_nothing(void **state)
{
	(void)state;
	pci_config_set8(&fn_a.config, PCI_INTERRUPT_PIN, 0);
	intx_router_update(&router, &fn_a, true);
	assert_int_equal(calls, 0);
	assert_int_equal(intx_spi_of(&router, &fn_a), 0);
}

/* The platform refusing a level is logged, not fatal; the count stays right. */
static void test_refused_level_keeps_the_count(void **state)
{
	(void)state;
	fail_with = -EINVAL;
	intx_router_update(&router, &fn_a, true);
	fn_a.intx_asserted = true;
	fail_with = 0;
	intx_router_update(&router, &fn_a, false);
	assert_int_equal(calls, 2);
	assert_int_equal(last_level, 0);
}

#define TEST(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_swizzle_follows_the_bridge_spec),
		TEST(test_spi_of_a_function_is_its_swizzled_line),
		TEST(test_lower_all_lowers_four_lines),
		TEST(test_shared_line_is_raised_per_event_and_lowered_by_the_last),
		TEST(test_function_without_pin_sets_nothing),
		TEST(test_refused_level_keeps_the_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
