// SPDX-License-Identifier: MIT
/* tests/unit/test_ioreq_dispatch.c: how each ioreq_t shape Xen can send is answered. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "xen/ioreq_dispatch.h"
#include "xen/mmio_regions.h"

#define DEVICE_BASE	0x10000000ULL
#define DEVICE_SIZE	0x1000ULL
/* A second device right after the first, for accesses straddling the two. */
#define NEXT_BASE	(DEVICE_BASE + DEVICE_SIZE)

/* What the fake device reads back, whatever the offset. */
#define READ_PATTERN	0xa1b2c3d4e5f60718ULL
/* What req->data holds before dispatch, to see whether it was touched. */
#define UNTOUCHED	0x5a5a5a5a5a5a5a5aULL

struct fake_device {
	unsigned int reads;
	unsigned int writes;
	uint64_t offset;
	unsigned int size;
	uint64_t value;
};

static uint64_t fake_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct fake_device *dev = opaque;

	dev->reads++;
	dev->offset = offset;
	dev->size = size;
	return READ_PATTERN;
}

static void fake_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
	struct fake_device *dev = opaque;

	dev->writes++;
	dev->offset = offset;
	dev->size = size;
	dev->value = value;
}

static const struct xen_mmio_ops fake_ops = {
	.read = fake_read,
	.write = fake_write,
};

static unsigned int invalidations;
static void *invalidate_opaque;
static int dispatcher_cookie;

static void count_invalidate(void *opaque)
{
	invalidations++;
	invalidate_opaque = opaque;
}

static const struct ioreq_dispatch_hooks hooks = {
	.invalidate = count_invalidate,
};

static struct mmio_regions regions;
static struct fake_device device, next_device;
static struct ioreq_dispatcher dispatcher;

static int setup(void **state)
{
	(void)state;
	memset(&device, 0, sizeof(device));
	memset(&next_device, 0, sizeof(next_device));
	invalidations = 0;
	invalidate_opaque = NULL;
	mmio_regions_init(&regions);
	if (mmio_regions_add(&regions, DEVICE_BASE, DEVICE_SIZE, &fake_ops, &device) ||
	    mmio_regions_add(&regions, NEXT_BASE, DEVICE_SIZE, &fake_ops, &next_device))
		return -1;
	memset(&dispatcher, 0, sizeof(dispatcher));
	dispatcher.regions = &regions;
	dispatcher.hooks = &hooks;
	dispatcher.opaque = &dispatcher_cookie;
	/* Refused requests warn; keep the test output quiet unless a test listens. */
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mmio_regions_free(&regions);
	log_set_level(LOG_LEVEL_INFO);
	return 0;
}

static ioreq_t request(uint8_t type, uint8_t dir, uint64_t addr, uint32_t size, uint64_t data)
{
	ioreq_t req;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.dir = dir;
	req.addr = addr;
	req.size = size;
	req.count = 1;
	req.data = data;
	return req;
}

static ioreq_t mmio_read(uint64_t addr, uint32_t size)
{
	return request(IOREQ_TYPE_COPY, IOREQ_READ, addr, size, UNTOUCHED);
}

static ioreq_t mmio_write(uint64_t addr, uint32_t size, uint64_t data)
{
	return request(IOREQ_TYPE_COPY, IOREQ_WRITE, addr, size, data);
}

static void assert_no_device_called(void)
{
	assert_int_equal(device.reads, 0);
	assert_int_equal(device.writes, 0);
	assert_int_equal(next_device.reads, 0);
	assert_int_equal(next_device.writes, 0);
}

/* One request, refused: @expected in data, no handler called, counted as refused. */
static void assert_refused(ioreq_t req, uint64_t expected)
{
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(req.data, expected);
	assert_no_device_called();
	assert_int_equal(invalidations, 0);
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.refused, 1);
	assert_int_equal(dispatcher.unclaimed, 0);
}

/* ---- served MMIO */

static void test_read_returns_handler_value_masked_to_size(void **state)
{
	static const struct {
		uint32_t size;
		uint64_t expected;
	} cases[] = {
		{ 1, 0x18ULL },
		{ 2, 0x0718ULL },
		{ 4, 0xe5f60718ULL },
		{ 8, READ_PATTERN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ioreq_t req = mmio_read(DEVICE_BASE + 0x40, cases[i].size);

		ioreq_dispatch(&dispatcher, &req);
		assert_int_equal(req.data, cases[i].expected);
		assert_int_equal(device.reads, i + 1);
		assert_int_equal(device.size, cases[i].size);
		assert_int_equal(device.offset, 0x40);
	}
	assert_int_equal(device.writes, 0);
	assert_int_equal(dispatcher.handled, 4);
	assert_int_equal(dispatcher.refused, 0);
	assert_int_equal(dispatcher.unclaimed, 0);
}

static void test_read_passes_offset_from_region_base(void **state)
{
	ioreq_t req;

	(void)state;
	req = mmio_read(DEVICE_BASE, 4);
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(device.offset, 0);

	req = mmio_read(DEVICE_BASE + 0xff8, 8);
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(device.offset, 0xff8);
	assert_int_equal(device.size, 8);
	assert_int_equal(req.data, READ_PATTERN);

	req = mmio_read(NEXT_BASE + 0x10, 2);
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(next_device.reads, 1);
	assert_int_equal(next_device.offset, 0x10);
	assert_int_equal(device.reads, 2);
}

static void test_write_passes_data_masked_to_size(void **state)
{
	static const struct {
		uint32_t size;
		uint64_t expected;
	} cases[] = {
		{ 1, 0x88ULL },
		{ 2, 0x7788ULL },
		{ 4, 0x55667788ULL },
		{ 8, 0x1122334455667788ULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ioreq_t req = mmio_write(DEVICE_BASE + 0x20 + i, cases[i].size,
					 0x1122334455667788ULL);

		ioreq_dispatch(&dispatcher, &req);
		assert_int_equal(device.writes, i + 1);
		assert_int_equal(device.value, cases[i].expected);
		assert_int_equal(device.size, cases[i].size);
		assert_int_equal(device.offset, 0x20 + i);
	}
	assert_int_equal(device.reads, 0);
	assert_int_equal(dispatcher.handled, 4);
	assert_int_equal(dispatcher.refused, 0);
}

/* ---- unclaimed MMIO */

static void test_unclaimed_read_is_all_ones_of_its_size(void **state)
{
	static const struct {
		uint32_t size;
		uint64_t expected;
	} cases[] = {
		{ 1, 0xffULL },
		{ 2, 0xffffULL },
		{ 4, 0xffffffffULL },
		{ 8, ~0ULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ioreq_t req = mmio_read(0x30000000, cases[i].size);

		ioreq_dispatch(&dispatcher, &req);
		assert_int_equal(req.data, cases[i].expected);
	}
	assert_no_device_called();
	assert_int_equal(dispatcher.handled, 4);
	assert_int_equal(dispatcher.unclaimed, 4);
	assert_int_equal(dispatcher.refused, 0);
}

static void test_unclaimed_write_is_dropped(void **state)
{
	ioreq_t req = mmio_write(DEVICE_BASE - 4, 4, 0x12345678);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_no_device_called();
	assert_int_equal(req.data, 0x12345678);
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.unclaimed, 1);
	assert_int_equal(dispatcher.refused, 0);
}

static void test_read_straddling_two_regions_is_unclaimed(void **state)
{
	ioreq_t req = mmio_read(NEXT_BASE - 4, 8);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(req.data, ~0ULL);
	assert_no_device_called();
	assert_int_equal(dispatcher.unclaimed, 1);
	assert_int_equal(dispatcher.refused, 0);
}

static void test_write_straddling_region_end_is_unclaimed(void **state)
{
	ioreq_t req = mmio_write(NEXT_BASE + DEVICE_SIZE - 2, 4, 0xffffffff);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_no_device_called();
	assert_int_equal(dispatcher.unclaimed, 1);
	assert_int_equal(dispatcher.refused, 0);
}

/* ---- shapes we do not serve */

static void test_count_0_read_is_refused(void **state)
{
	ioreq_t req = mmio_read(DEVICE_BASE, 4);

	(void)state;
	req.count = 0;
	assert_refused(req, 0xffffffffULL);
}

static void test_count_2_read_is_refused(void **state)
{
	ioreq_t req = mmio_read(DEVICE_BASE, 2);

	(void)state;
	req.count = 2;
	assert_refused(req, 0xffffULL);
}

static void test_count_2_write_is_refused(void **state)
{
	ioreq_t req = mmio_write(DEVICE_BASE, 4, 0x12345678);

	(void)state;
	req.count = 2;
	assert_refused(req, 0x12345678);
}

static void test_data_is_ptr_read_is_refused_and_leaves_data(void **state)
{
	ioreq_t req = mmio_read(DEVICE_BASE, 4);

	(void)state;
	req.data_is_ptr = 1;
	req.data = 0x40001000;	/* a guest address, not a value */
	assert_refused(req, 0x40001000);
}

static void test_data_is_ptr_write_is_refused(void **state)
{
	ioreq_t req = mmio_write(DEVICE_BASE, 4, 0x40001000);

	(void)state;
	req.data_is_ptr = 1;
	assert_refused(req, 0x40001000);
}

static void test_df_read_is_refused(void **state)
{
	ioreq_t req = mmio_read(DEVICE_BASE, 4);

	(void)state;
	req.df = 1;
	assert_refused(req, 0xffffffffULL);
}

static void test_size_0_read_is_refused(void **state)
{
	(void)state;
	assert_refused(mmio_read(DEVICE_BASE, 0), ~0ULL);
}

static void test_size_3_read_is_refused(void **state)
{
	(void)state;
	assert_refused(mmio_read(DEVICE_BASE, 3), ~0ULL);
}

static void test_size_16_read_is_refused(void **state)
{
	(void)state;
	assert_refused(mmio_read(DEVICE_BASE, 16), ~0ULL);
}

static void test_size_16_write_is_refused(void **state)
{
	(void)state;
	assert_refused(mmio_write(DEVICE_BASE, 16, 0x1234), 0x1234);
}

static void test_port_io_read_is_refused_even_at_a_claimed_address(void **state)
{
	(void)state;
	assert_refused(request(IOREQ_TYPE_PIO, IOREQ_READ, DEVICE_BASE, 4, UNTOUCHED),
		       0xffffffffULL);
}

static void test_port_io_write_is_refused(void **state)
{
	(void)state;
	assert_refused(request(IOREQ_TYPE_PIO, IOREQ_WRITE, DEVICE_BASE, 1, 0xab), 0xab);
}

static void test_pci_config_read_is_refused(void **state)
{
	(void)state;
	assert_refused(request(IOREQ_TYPE_PCI_CONFIG, IOREQ_READ, DEVICE_BASE, 4, UNTOUCHED),
		       0xffffffffULL);
}

static void test_unknown_type_read_is_refused(void **state)
{
	(void)state;
	assert_refused(request(0x42, IOREQ_READ, DEVICE_BASE, 2, UNTOUCHED), 0xffffULL);
}

/* ---- requests that are not accesses */

static void test_invalidate_calls_the_hook_once(void **state)
{
	ioreq_t req = request(IOREQ_TYPE_INVALIDATE, IOREQ_WRITE, 0, 0, 0);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(invalidations, 1);
	assert_ptr_equal(invalidate_opaque, &dispatcher_cookie);
	assert_no_device_called();
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.refused, 0);
	assert_int_equal(dispatcher.unclaimed, 0);
}

static void test_invalidate_at_a_claimed_address_calls_no_handler(void **state)
{
	ioreq_t req = request(IOREQ_TYPE_INVALIDATE, IOREQ_READ, DEVICE_BASE, 4, UNTOUCHED);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(invalidations, 1);
	assert_no_device_called();
}

static void test_invalidate_without_hooks_is_harmless(void **state)
{
	ioreq_t req = request(IOREQ_TYPE_INVALIDATE, IOREQ_WRITE, 0, 0, 0);

	(void)state;
	dispatcher.hooks = NULL;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(invalidations, 0);
	assert_no_device_called();
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.refused, 0);
}

static void test_invalidate_without_invalidate_hook_is_harmless(void **state)
{
	static const struct ioreq_dispatch_hooks no_hooks;
	ioreq_t req = request(IOREQ_TYPE_INVALIDATE, IOREQ_WRITE, 0, 0, 0);

	(void)state;
	dispatcher.hooks = &no_hooks;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(invalidations, 0);
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.refused, 0);
}

static void test_time_offset_is_ignored(void **state)
{
	ioreq_t req = request(IOREQ_TYPE_TIMEOFFSET, IOREQ_WRITE, DEVICE_BASE, 8, 0x1234);

	(void)state;
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(req.data, 0x1234);
	assert_no_device_called();
	assert_int_equal(invalidations, 0);
	assert_int_equal(dispatcher.handled, 1);
	assert_int_equal(dispatcher.refused, 0);
	assert_int_equal(dispatcher.unclaimed, 0);
}

static void test_handled_counts_every_request(void **state)
{
	ioreq_t reqs[] = {
		mmio_read(DEVICE_BASE, 4),
		mmio_write(DEVICE_BASE, 4, 1),
		mmio_read(0x30000000, 4),
		mmio_read(DEVICE_BASE, 3),
		request(IOREQ_TYPE_PIO, IOREQ_READ, 0x3f8, 1, 0),
		request(IOREQ_TYPE_INVALIDATE, IOREQ_WRITE, 0, 0, 0),
		request(IOREQ_TYPE_TIMEOFFSET, IOREQ_WRITE, 0, 8, 0),
		request(0x42, IOREQ_WRITE, 0, 4, 0),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ioreq_dispatch(&dispatcher, &reqs[i]);
	assert_int_equal(dispatcher.handled, 8);
	assert_int_equal(dispatcher.refused, 3);
	assert_int_equal(dispatcher.unclaimed, 1);
	assert_int_equal(invalidations, 1);
	assert_int_equal(device.reads, 1);
	assert_int_equal(device.writes, 1);
}

/* ---- the refusal log */

/*
 * Run @count copies of @req through the dispatcher at LOG_LEVEL_WARN with
 * stderr sent to a temporary file; its text (NUL-terminated) lands in @out.
 * Nothing is asserted while stderr is redirected.
 */
static int capture_refusal_log(ioreq_t req, unsigned int count, char *out, size_t out_len,
			       time_t *elapsed)
{
	FILE *log_file = tmpfile();
	int saved_stderr;
	time_t start;
	size_t n;

	if (!log_file)
		return -1;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	if (saved_stderr < 0 || dup2(fileno(log_file), STDERR_FILENO) < 0) {
		fclose(log_file);
		return -1;
	}
	log_set_level(LOG_LEVEL_WARN);
	start = time(NULL);
	for (unsigned int i = 0; i < count; i++) {
		ioreq_t copy = req;

		ioreq_dispatch(&dispatcher, &copy);
	}
	*elapsed = time(NULL) - start;
	log_set_level(LOG_LEVEL_ERROR);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(log_file);
	n = fread(out, 1, out_len - 1, log_file);
	out[n] = '\0';
	fclose(log_file);
	return 0;
}

static unsigned int count_lines(const char *text)
{
	unsigned int lines = 0;

	for (; *text; text++)
		lines += *text == '\n';
	return lines;
}

static unsigned int count_lines_with(const char *text, const char *needle)
{
	unsigned int lines = 0;

	for (const char *line = text; *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, needle, strlen(needle)))
			lines++;
		line += len + (end ? 1 : 0);
	}
	return lines;
}

static void test_refusals_are_logged_at_a_limited_rate(void **state)
{
	static char log_text[64 * 1024];
	ioreq_t req = mmio_read(DEVICE_BASE, 4);
	time_t elapsed;

	(void)state;
	req.count = 2;
	assert_int_equal(capture_refusal_log(req, 1000, log_text, sizeof(log_text), &elapsed), 0);
	assert_int_equal(dispatcher.refused, 1000);
	assert_int_equal(dispatcher.handled, 1000);
	assert_no_device_called();
	if (elapsed < LOG_RATELIMIT_INTERVAL - 1) {
		/* All 1000 fell in one rate-limit window. */
		assert_int_equal(count_lines(log_text), LOG_RATELIMIT_BURST);
		assert_int_equal(count_lines_with(log_text, "refused read"), LOG_RATELIMIT_BURST);
	} else {
		assert_true(count_lines_with(log_text, "refused") <= 2 * LOG_RATELIMIT_BURST);
	}
	assert_non_null(strstr(log_text, "warning"));
	assert_non_null(strstr(log_text, "addr 0x10000000 size 4 count 2"));
	assert_non_null(strstr(log_text, "repeated"));

	/* The dispatcher still serves a well-formed request. */
	req = mmio_read(DEVICE_BASE + 8, 4);
	ioreq_dispatch(&dispatcher, &req);
	assert_int_equal(req.data, 0xe5f60718ULL);
	assert_int_equal(device.reads, 1);
	assert_int_equal(device.offset, 8);
	assert_int_equal(dispatcher.refused, 1000);
	assert_int_equal(dispatcher.handled, 1001);
}

static void test_refusal_log_names_the_request_type(void **state)
{
	static char log_text[4096];
	ioreq_t req = request(0x42, IOREQ_WRITE, 0x1000, 4, 0);
	time_t elapsed;

	(void)state;
	assert_int_equal(capture_refusal_log(req, 1, log_text, sizeof(log_text), &elapsed), 0);
	assert_non_null(strstr(log_text, "refused write unknown request"));

	req = request(IOREQ_TYPE_PIO, IOREQ_READ, 0x3f8, 1, 0);
	assert_int_equal(capture_refusal_log(req, 1, log_text, sizeof(log_text), &elapsed), 0);
	assert_non_null(strstr(log_text, "refused read port I/O request"));

	req = request(IOREQ_TYPE_PCI_CONFIG, IOREQ_READ, 0x3f8, 4, 0);
	assert_int_equal(capture_refusal_log(req, 1, log_text, sizeof(log_text), &elapsed), 0);
	assert_non_null(strstr(log_text, "refused read PCI config request"));
}

static void test_refused_mmio_request_is_not_logged_as_unknown_type(void **state)
{
	static char log_text[4096];
	ioreq_t req = mmio_read(DEVICE_BASE, 4);
	time_t elapsed;

	(void)state;
	req.df = 1;
	assert_int_equal(capture_refusal_log(req, 1, log_text, sizeof(log_text), &elapsed), 0);
	assert_non_null(strstr(log_text, "direction flag"));
	/* An MMIO (IOREQ_TYPE_COPY) request has a known type; only its shape is refused. */
	if (strstr(log_text, "unknown"))
		print_error("log line: %s", log_text);
	assert_null(strstr(log_text, "unknown"));
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_read_returns_handler_value_masked_to_size),
		TEST(test_read_passes_offset_from_region_base),
		TEST(test_write_passes_data_masked_to_size),
		TEST(test_unclaimed_read_is_all_ones_of_its_size),
		TEST(test_unclaimed_write_is_dropped),
		TEST(test_read_straddling_two_regions_is_unclaimed),
		TEST(test_write_straddling_region_end_is_unclaimed),
		TEST(test_count_0_read_is_refused),
		TEST(test_count_2_read_is_refused),
		TEST(test_count_2_write_is_refused),
		TEST(test_data_is_ptr_read_is_refused_and_leaves_data),
		TEST(test_data_is_ptr_write_is_refused),
		TEST(test_df_read_is_refused),
		TEST(test_size_0_read_is_refused),
		TEST(test_size_3_read_is_refused),
		TEST(test_size_16_read_is_refused),
		TEST(test_size_16_write_is_refused),
		TEST(test_port_io_read_is_refused_even_at_a_claimed_address),
		TEST(test_port_io_write_is_refused),
		TEST(test_pci_config_read_is_refused),
		TEST(test_unknown_type_read_is_refused),
		TEST(test_invalidate_calls_the_hook_once),
		TEST(test_invalidate_at_a_claimed_address_calls_no_handler),
		TEST(test_invalidate_without_hooks_is_harmless),
		TEST(test_invalidate_without_invalidate_hook_is_harmless),
		TEST(test_time_offset_is_ignored),
		TEST(test_handled_counts_every_request),
		TEST(test_refusals_are_logged_at_a_limited_rate),
		TEST(test_refusal_log_names_the_request_type),
		TEST(test_refused_mmio_request_is_not_logged_as_unknown_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
