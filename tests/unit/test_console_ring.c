// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_console_ring.c: a console port's output ring keeps the
 * newest bytes, in order, and counts what it dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backends/console_ring.h"

/* Everything the ring holds, oldest first, as a string. */
static void contents(const struct console_ring *ring, char *out)
{
	struct iovec iov[2];
	unsigned int nr = console_ring_peek(ring, iov);
	size_t len = 0;

	for (unsigned int i = 0; i < nr; i++) {
		memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	out[len] = '\0';
}

static void append(struct console_ring *ring, const char *text, uint64_t skip)
{
	struct iovec iov = { (void *)text, strlen(text) };

	console_ring_append(ring, &iov, 1, skip, strlen(text) - skip);
}

static void test_the_newest_bytes_stay_and_the_rest_is_counted(void **state)
{
	struct console_ring ring;
	char out[16];

	(void)state;
	assert_int_equal(console_ring_init(&ring, 8), 0);
	append(&ring, "abcde", 0);
	contents(&ring, out);
	assert_string_equal(out, "abcde");
	append(&ring, "fghij", 0);	/* wraps: "ab" dropped */
	contents(&ring, out);
	assert_string_equal(out, "cdefghij");
	assert_int_equal(ring.dropped, 2);
	console_ring_consume(&ring, 3);
	contents(&ring, out);
	assert_string_equal(out, "fghij");
	append(&ring, "0123456789AB", 0);	/* more than it holds: only the last 8 */
	contents(&ring, out);
	assert_string_equal(out, "456789AB");
	assert_int_equal(ring.dropped, 2 + 5 + 4);
	console_ring_free(&ring);
}

static void test_append_skips_what_was_written_already(void **state)
{
	struct console_ring ring;
	struct iovec iov[3] = { { "ab", 2 }, { "cde", 3 }, { "f", 1 } };
	char out[16];

	(void)state;
	assert_int_equal(console_ring_init(&ring, 8), 0);
	console_ring_append(&ring, iov, 3, 3, 3);
	contents(&ring, out);
	assert_string_equal(out, "def");
	assert_int_equal(ring.dropped, 0);
	append(&ring, "xyz", 1);
	contents(&ring, out);
	assert_string_equal(out, "defyz");
	console_ring_free(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_newest_bytes_stay_and_the_rest_is_counted),
		cmocka_unit_test(test_append_skips_what_was_written_already),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
