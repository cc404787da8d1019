// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_backend_types.c: the daemon's table of device types, and
 * what every descriptor must give for daemon/ to serve it without knowing
 * it (backends/backend.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/backend_types.h"
#include "daemon/device_config.h"

static void test_every_type_is_complete(void **state)
{
	const struct backend_type *type;
	size_t count = 0;

	(void)state;
	for (size_t i = 0; (type = backend_type_at(i)); i++, count++) {
		assert_non_null(type->name);
		assert_non_null(type->keys);
		assert_non_null(strstr(type->keys, "addr"));
		assert_non_null(strstr(type->keys, "queue-size"));
		assert_non_null(type->usage);
		assert_int_equal(strncmp(type->usage, type->name, strlen(type->name)), 0);
		assert_non_null(type->help);
		assert_true(type->config_size <= BACKEND_CONFIG_MAX);
		assert_non_null(type->defaults);
		assert_non_null(type->set_key);
		assert_non_null(type->create);
		assert_non_null(type->destroy);
		/* What is opened is closed. */
		assert_true(!type->open == !type->close);
		assert_ptr_equal(backend_type_find(type->name, strlen(type->name)), type);
		assert_non_null(strstr(backend_type_names(), type->name));
	}
	assert_true(count >= 2);
}

/* A type refuses a key it does not have with -ENOENT (the daemon words the message). */
static void test_an_unknown_key_is_enoent_for_every_type(void **state)
{
	const struct backend_type *type;
	char why[256];

	(void)state;
	for (size_t i = 0; (type = backend_type_at(i)); i++) {
		_Alignas(max_align_t) unsigned char options[BACKEND_CONFIG_MAX];

		type->defaults(options);
		assert_int_equal(type->set_key(options, "no-such-key", "1", why, sizeof(why)), -ENOENT);
	}
}

static void test_a_name_is_found_only_whole(void **state)
{
	(void)state;
	assert_null(backend_type_find("bl", 2));
	assert_null(backend_type_find("blkx", 4));
	assert_non_null(backend_type_find("blk,path=/a", 3));
	assert_null(backend_type_at(1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_is_complete),
		cmocka_unit_test(test_an_unknown_key_is_enoent_for_every_type),
		cmocka_unit_test(test_a_name_is_found_only_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
