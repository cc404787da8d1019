// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_xl_userdata.c: our options read from a domain's saved
 * libxl configuration (--from-xl): a domain is ours only when its
 * device_model_args name a device and it runs no device model of its own;
 * every token is then checked as the worker will check it, and a file that
 * is not one JSON value of bounded size and depth is refused.
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
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/xl_userdata.h"

/* libxl's JSON as it writes it (libxl_domain_config_gen_json), cut to what matters. */
static char *saved(const char *name, const char *extra, const char *more)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\n    \"c_info\": {\n        \"type\": \"pvh\",\n        \"name\": \"%s\",\n"
		 "        \"uuid\": \"5b3ae6b0-24b1-4c1e-a0c1-5ab4cfa5fc21\"\n    },\n"
		 "    \"b_info\": {\n        \"max_vcpus\": 1,\n        \"extra\": %s%s\n    }\n}\n",
		 name, extra, more ? more : "");
	return buf;
}

static int parse(const char *json, struct config_domain *block, char *why)
{
	return xl_userdata_parse(json, strlen(json), "vm1", block, why, 512);
}

static void assert_refused(const char *json, const char *reason)
{
	struct config_domain block;
	char why[512] = "";

	assert_int_equal(parse(json, &block, why), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("refused with '%s', expected '%s'", why, reason);
	assert_null(block.args);
}

static void test_our_tokens_become_the_workers_options(void **state)
{
	struct config_domain block;
	char why[512];

	(void)state;
	assert_int_equal(parse(saved("vm1", "[ \"--device=rng\", \"--verbose\", \"--fdt=/x.dtb\", "
				     "\"--device=rng,addr=5\" ]",
				     ",\n        \"extra_pv\": [ \"--map-budget=64M\" ]"), &block, why), 0);
	assert_true(block.by_name);
	assert_string_equal(block.name, "vm1");
	assert_int_equal(block.nr_args, 7);
	assert_string_equal(block.args[0], "--device");
	assert_string_equal(block.args[1], "rng");
	assert_string_equal(block.args[2], "--verbose");
	assert_string_equal(block.args[3], "--device");
	assert_string_equal(block.args[4], "rng,addr=5");
	assert_string_equal(block.args[5], "--map-budget");
	assert_string_equal(block.args[6], "64M");
	assert_null(block.args[7]);
	config_domain_free_args(&block);
}

/* QEMU's arguments, no arguments, or a device model of its own: another's domain. */
static void test_a_domain_that_is_not_ours_is_left_alone(void **state)
{
	struct config_domain block;
	char why[512];

	(void)state;
	assert_int_equal(parse(saved("vm1", "[ \"-usb\", \"-device\", \"usb-tablet\" ]", NULL),
			       &block, why), -ENOENT);
	assert_int_equal(parse(saved("vm1", "null", NULL), &block, why), -ENOENT);
	assert_int_equal(parse("{ \"c_info\": { \"name\": \"vm1\" } }", &block, why), -ENOENT);
	assert_int_equal(parse(saved("vm1", "[ \"--device=rng\" ]",
				     ",\n        \"device_model\": \"/usr/lib/xen-virtio-pci/xl-device-model\""),
			       &block, why), -ENOENT);
	assert_null(block.args);
}

static void test_tokens_that_are_not_ours_or_not_valid_are_refused(void **state)
{
	(void)state;
	assert_refused(saved("vm1", "[ \"--device=rng\", \"-usb\" ]", NULL),
		       "'-usb' in device_model_args: not one of our options");
	assert_refused(saved("vm1", "[ \"--device=rng\", \"--user=root\" ]", NULL),
		       "'--user=root' in device_model_args");
	assert_refused(saved("vm1", "[ \"--device=rng\", \"--domain=7\" ]", NULL),
		       "'--domain=7' in device_model_args");
	assert_refused(saved("vm1", "[ \"--device=rng\", \"--ecam\" ]", NULL),
		       "--ecam: give it as one --option=value token");
	assert_refused(saved("vm1", "[ \"--device=nosuch\" ]", NULL), "--device 'nosuch'");
	assert_refused(saved("vm1", "[ \"--device=rng\", \"--ecam=banana\" ]", NULL),
		       "--ecam 'banana'");
	assert_refused(saved("vm1", "[ \"--device=rng\", 7 ]", NULL), "not a string");
	assert_refused(saved("vm1", "[ \"--device=rng\" ]", ",\n        \"extra_pv\": \"x\""),
		       "not a list");
}

static void test_another_domains_configuration_is_refused(void **state)
{
	(void)state;
	assert_refused(saved("vm2", "[ \"--device=rng\" ]", NULL), "of domain 'vm2', not this one");
	assert_refused("{ \"b_info\": { \"extra\": [ \"--device=rng\" ] } }", "(no name)");
}

static void test_what_is_not_one_bounded_json_value_is_refused(void **state)
{
	char *deep = malloc(4096);

	(void)state;
	assert_refused("{ \"c_info\": ", "not one JSON value");
	assert_refused("{ } { }", "not one JSON value");
	assert_refused("{ } trailing", "not one JSON value");
	/* One '\0' at the end is libxl's; anything after it or a second one is not. */
	struct config_domain block;
	char why[512];

	assert_int_equal(xl_userdata_parse("{ }\0{ }", 8, "vm1", &block, why, sizeof(why)), -EINVAL);
	assert_int_equal(xl_userdata_parse("{ }\0\0", 5, "vm1", &block, why, sizeof(why)), -EINVAL);
	memset(deep, '[', 4000);
	deep[4000] = '\0';
	assert_refused(deep, "not one JSON value");	/* deeper than 32 */
	free(deep);
}

/* The file: none (not saved yet), exactly one, or refused. */
static void test_the_saved_file_of_the_domain_is_found_and_bounded(void **state)
{
	char dir[] = "/tmp/xvp-xl-XXXXXX", path[256], other[256], why[4096];
	struct config_domain block;
	const char *json = saved("vm1", "[ \"--device=rng\" ]", NULL);
	FILE *file;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)), -ENOENT);
	snprintf(path, sizeof(path), "%s/userdata-d.3.5b3ae6b0-24b1-4c1e-a0c1-5ab4cfa5fc21.libxl-json", dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(json, file);
	fclose(file);
	assert_int_equal(xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)), 0);
	assert_int_equal(block.nr_args, 2);
	config_domain_free_args(&block);
	/* As libxl stores it: with the string's '\0' (libxl__set_domain_configuration). */
	file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fwrite(json, 1, strlen(json) + 1, file), strlen(json) + 1);
	fclose(file);
	if (xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)))
		fail_msg("libxl's file with its trailing NUL refused: %s", why);
	assert_int_equal(block.nr_args, 2);
	config_domain_free_args(&block);
	/* Another domain ID's file is not this one's. */
	assert_int_equal(xl_userdata_read(dir, 33, "vm1", &block, why, sizeof(why)), -ENOENT);
	/* A stale file of an earlier domain 3 beside it: which one is this domain's is unknown. */
	snprintf(other, sizeof(other), "%s/userdata-d.3.00000000-0000-0000-0000-000000000001.libxl-json", dir);
	assert_int_equal(symlink(path, other), 0);
	assert_int_equal(xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "several files"));
	assert_int_equal(unlink(path), 0);
	/* Left alone: a symbolic link (not followed). */
	assert_int_equal(xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)), -EINVAL);
	unlink(other);
	/* Larger than 1 MiB. */
	assert_int_equal(truncate(path, 0) == 0 || errno == ENOENT, 1);
	file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
	assert_int_equal(truncate(path, XL_USERDATA_MAX + 1), 0);
	assert_int_equal(xl_userdata_read(dir, 3, "vm1", &block, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "at most 1 MiB"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_tokens_become_the_workers_options),
		cmocka_unit_test(test_a_domain_that_is_not_ours_is_left_alone),
		cmocka_unit_test(test_tokens_that_are_not_ours_or_not_valid_are_refused),
		cmocka_unit_test(test_another_domains_configuration_is_refused),
		cmocka_unit_test(test_what_is_not_one_bounded_json_value_is_refused),
		cmocka_unit_test(test_the_saved_file_of_the_domain_is_found_and_bounded),
	};

	return cmocka_run_group_tests_name("xl userdata", tests, NULL, NULL);
}
