// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_device_config.c: --device TYPE[,KEY=VALUE...] values as a
 * user writes them, what they become, and how a wrong one is refused (one
 * message naming the key and the value at fault).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/blk.h"
#include "backends/console.h"
#include "backends/rng.h"
#include "daemon/device_config.h"
#include "virtio/virtio_pci_private.h"

static char why[1024];

/* The type's own keys, as its backend parsed them. */
#define RNG_OPTIONS(config) ((struct rng_options *)(void *)(config).options)
#define BLK_OPTIONS(config) ((struct blk_options *)(void *)(config).options)
#define CONSOLE_OPTIONS(config) ((struct console_options *)(void *)(config).options)

static int parse(const char *text, struct device_config *config)
{
	memset(config, 0xaa, sizeof(*config));
	why[0] = '\0';
	return device_config_parse(text, config, why, sizeof(why));
}

static void assert_why_mentions(const char *needle)
{
	if (!strstr(why, needle))
		fail_msg("message '%s' lacks '%s'", why, needle);
}

/* @text is refused with a message naming @key_and_value (and @also, if not NULL). */
static void assert_refused(const char *text, const char *key_and_value, const char *also)
{
	struct device_config config;

	if (parse(text, &config) != -EINVAL)
		fail_msg("'%s' was not refused", text);
	assert_int_not_equal(why[0], '\0');
	assert_why_mentions(key_and_value);
	if (also)
		assert_why_mentions(also);
}

static void assert_rate(const char *text, uint64_t rate)
{
	struct device_config config;

	if (parse(text, &config))
		fail_msg("'%s' refused: %s", text, why);
	assert_int_equal(RNG_OPTIONS(config)->rate, rate);
}

/* ---- device_config_parse */

static void test_plain_rng_takes_the_defaults(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("rng", &config), 0);
	assert_int_equal((uintptr_t)config.type, (uintptr_t)&rng_backend);
	assert_int_equal(config.slot, DEVICE_SLOT_AUTO);
	assert_int_equal(config.queue_size, 256);
	assert_int_equal(RNG_OPTIONS(config)->rate, 0);
}

static void test_rng_with_every_key(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("rng,addr=3,queue-size=64,rate=64K", &config), 0);
	assert_int_equal((uintptr_t)config.type, (uintptr_t)&rng_backend);
	assert_int_equal(config.slot, 3);
	assert_int_equal(config.queue_size, 64);
	assert_int_equal(RNG_OPTIONS(config)->rate, 65536);
}

static void test_slot_and_queue_size_limits_are_accepted(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("rng,addr=1,queue-size=1", &config), 0);
	assert_int_equal(config.slot, 1);
	assert_int_equal(config.queue_size, 1);
	assert_int_equal(parse("rng,addr=31,queue-size=32768", &config), 0);
	assert_int_equal(config.slot, 31);
	assert_int_equal(config.queue_size, 32768);
	assert_int_equal(parse("rng,addr=0x1f", &config), 0);
	assert_int_equal(config.slot, 31);
}

static void test_rate_may_be_written_in_bytes_per_second(void **state)
{
	(void)state;
	assert_rate("rng,rate=1024/s", 1024);
	assert_rate("rng,rate=1024", 1024);
	assert_rate("rng,rate=64K/s", 65536);
	assert_rate("rng,rate=1M", 1048576);
}

static void test_unknown_type_is_refused(void **state)
{
	(void)state;
	assert_refused("bogus", "bogus", NULL);
	assert_refused("bogus,addr=1", "bogus", NULL);
	assert_refused("rngx", "rngx", NULL);
}

static void test_unknown_key_is_refused(void **state)
{
	(void)state;
	assert_refused("rng,colour=red", "colour", NULL);
	assert_refused("rng,addr=2,colour=red", "colour", NULL);
}

static void test_addr_outside_1_to_31_is_refused(void **state)
{
	(void)state;
	/* Device 0 is the host bridge; bus 0 has 32 devices. */
	assert_refused("rng,addr=0", "addr=0", NULL);
	assert_refused("rng,addr=32", "addr=32", NULL);
	assert_refused("rng,addr=-1", "addr=-1", NULL);
}

static void test_queue_size_not_a_power_of_two_up_to_32768_is_refused(void **state)
{
	(void)state;
	/* Virtio 1.2, 2.7: a split queue's size is a power of 2, at most 32768. */
	assert_refused("rng,queue-size=0", "queue-size=0", NULL);
	assert_refused("rng,queue-size=3", "queue-size=3", NULL);
	assert_refused("rng,queue-size=65536", "queue-size=65536", NULL);
}

static void test_malformed_key_value_is_refused(void **state)
{
	(void)state;
	assert_refused("rng,addr", "addr", NULL);
	assert_refused("rng,addr=x", "addr=x", NULL);
	assert_refused("rng,addr=", "addr=", NULL);
	assert_refused("rng,rate=fast", "rate=fast", NULL);
	assert_refused("rng,rate=/s", "rate=/s", NULL);
	assert_refused("rng,queue-size=64/s", "queue-size=64/s", NULL);
}

/* Decimal or 0x only: strtoull's base 0 read 010 as 8, and sizes took K on IDs. */
static void test_numbers_are_decimal_or_hex_never_octal(void **state)
{
	struct device_config config;

	(void)state;
	assert_refused("rng,addr=010", "addr=010: a leading 0", NULL);
	assert_refused("rng,addr=08", "addr=08: a leading 0", NULL);
	assert_refused("rng,queue-size=0256", "queue-size=0256: a leading 0", NULL);
	assert_refused("rng,addr=1K", "addr=1K: K, M and G are for sizes", NULL);
	assert_refused("rng,rate=99999999999999999999", "rate=99999999999999999999: out of range", NULL);
	assert_int_equal(parse("rng,addr=0x10", &config), 0);
	assert_int_equal(config.slot, 16);
	assert_int_equal(parse("rng,addr=10", &config), 0);
	assert_int_equal(config.slot, 10);
}

static void test_empty_items_and_keys_given_twice_are_refused(void **state)
{
	(void)state;
	assert_refused("rng,", "an empty item", NULL);
	assert_refused("rng,,addr=3", "an empty item", NULL);
	assert_refused("blk,path=/a,,readonly=on", "an empty item", NULL);
	assert_refused("blk,path=/a,path=/b", "path=/b: 'path' given twice", NULL);
	assert_refused("rng,addr=3,addr=3", "'addr' given twice", NULL);
}

/* port= is the one repeatable key: a port each time, in order; every other key still once. */
static void test_console_ports_repeat_and_other_keys_do_not(void **state)
{
	struct device_config config;
	const struct console_options *options;

	(void)state;
	assert_int_equal(parse("console,port=org.qemu.guest_agent.0:socket=/run/qga.sock,"
			       "port=log:file=/var/log/x.log,port=spare:null,addr=5", &config), 0);
	options = CONSOLE_OPTIONS(config);
	assert_int_equal(config.slot, 5);
	assert_int_equal(options->nr_ports, 4);
	assert_int_equal(options->ports[0].kind, CONSOLE_PTY);
	assert_string_equal(console_string(options, options->ports[1].name), "org.qemu.guest_agent.0");
	assert_int_equal(options->ports[1].kind, CONSOLE_SOCKET);
	assert_string_equal(console_string(options, options->ports[1].path), "/run/qga.sock");
	assert_string_equal(console_string(options, options->ports[2].name), "log");
	assert_int_equal(options->ports[2].kind, CONSOLE_FILE);
	assert_string_equal(console_string(options, options->ports[2].path), "/var/log/x.log");
	assert_int_equal(options->ports[3].kind, CONSOLE_NULL);
	assert_int_equal(options->buffer, CONSOLE_BUFFER_DEFAULT);
	assert_refused("console,console=null,console=pty", "'console' given twice", NULL);
	assert_refused("console,port=a:null,buffer=4K,buffer=8K", "'buffer' given twice", NULL);
	assert_refused("console,port=a:null,addr=3,addr=4", "'addr' given twice", NULL);
	assert_refused("console,port=a:null,port=a:null", "a second port named 'a'", NULL);
}

/* owner= takes names or numbers; mode= octal bits. */
static void test_console_owner_and_mode(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("console,owner=root:0,mode=0660", &config), 0);
	assert_true(CONSOLE_OPTIONS(config)->has_owner);
	assert_int_equal(CONSOLE_OPTIONS(config)->uid, 0);
	assert_int_equal(CONSOLE_OPTIONS(config)->gid, 0);
	assert_int_equal(CONSOLE_OPTIONS(config)->mode, 0660);
	assert_int_equal(parse("console,owner=1000", &config), 0);
	assert_int_equal(CONSOLE_OPTIONS(config)->uid, 1000);
	assert_int_equal(parse("console,owner=root", &config), 0);
	assert_int_equal(CONSOLE_OPTIONS(config)->gid, 0);
	/* Beyond 32 bits, or (uid_t)-1 ("unchanged" to chown): not an id, and no such name. */
	assert_refused("console,owner=4294967296", "no user '4294967296'", NULL);
	assert_refused("console,owner=4294967295", "no user '4294967295'", NULL);
	assert_refused("console,mode=660x", "mode=660x: expected octal", NULL);
	assert_refused("console,mode=01777", "mode=01777: expected octal", NULL);
	assert_refused("console,owner=root:no-such-group-xvp", "no group 'no-such-group-xvp'", NULL);
}

static void test_rate_0_is_refused(void **state)
{
	(void)state;
	assert_refused("rng,rate=0", "rate=0: ", "leave rate out for no limit");
	assert_refused("rng,rate=0/s", "rate=0/s: ", NULL);
}

/* Whatever the value looks like: "cache=none" was "not a number" on rng. */
static void test_unknown_key_is_named_whatever_its_value(void **state)
{
	(void)state;
	assert_refused("rng,cache=none", "unknown key 'cache'", NULL);
	assert_refused("rng,cache=5", "unknown key 'cache'", NULL);
	assert_refused("rng,path=/a", "unknown key 'path'", NULL);
	assert_refused("blk,path=/a,rate=5", "unknown key 'rate'", NULL);
	assert_refused("blk,path=/a,cache=writeback", "unknown key 'cache'", NULL);
	assert_refused("rng,bounce-budget=1M", "unknown key 'bounce-budget'", NULL);
}

static void test_bounce_budget_is_a_size_from_64k_to_1g(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("blk,path=/a,direct=on,bounce-budget=4M", &config), 0);
	assert_int_equal(BLK_OPTIONS(config)->bounce_budget, 4 << 20);
	assert_refused("blk,path=/a,bounce-budget=010M", "bounce-budget=010M: a leading 0", NULL);
	assert_refused("blk,path=/a,bounce-budget=2G", "bounce-budget=2G: out of range", NULL);
	assert_refused("blk,path=/a,bounce-budget=1M,bounce-budget=2M", "'bounce-budget' given twice", NULL);
}

/* The spec once went through a 256-byte copy: a long one lost its reason. */
/* nbd=: a URI as libnbd reads it; timeout= bounds an outage, for NBD disks only. */
static void test_nbd_uri_and_timeout(void **state)
{
	struct device_config config;

	(void)state;
	assert_int_equal(parse("blk,nbd=nbd+unix:///x?socket=/run/s.sock", &config), 0);
	assert_true(BLK_OPTIONS(config)->nbd);
	assert_int_equal(BLK_OPTIONS(config)->timeout, BLK_NBD_TIMEOUT_DEFAULT);
	assert_int_equal(parse("blk,nbd=nbd://h/x,timeout=0", &config), 0);
	assert_int_equal(BLK_OPTIONS(config)->timeout, 0);
	assert_int_equal(parse("blk,nbd=nbd://h/x,timeout=3600", &config), 0);
	assert_int_equal(BLK_OPTIONS(config)->timeout, 3600);
	assert_refused("blk,nbd=nbd://h/x,timeout=3601", "timeout=3601: out of range", NULL);
	assert_refused("blk,path=/a,timeout=5", "timeout=5: for an nbd= disk", NULL);
	assert_refused("blk,nbd=nbd+unix:///x", "nbd=nbd+unix:///x: socket=PATH", NULL);
	assert_refused("blk,nbd=nbd://h/x?tls=on", "unknown query parameter 'tls'", NULL);
}

static void test_a_long_spec_keeps_its_reason_and_paths_reach_path_max(void **state)
{
	size_t len = PATH_MAX - 1;
	char *path = malloc(len + 1), *text = malloc(len + 64);
	struct device_config config;

	(void)state;
	assert_non_null(path);
	assert_non_null(text);
	memset(path, 'a', len);
	path[0] = '/';
	path[len] = '\0';
	snprintf(text, len + 64, "blk,path=%.300s,cache=none", path);
	assert_refused(text, "unknown key 'cache'", NULL);
	snprintf(text, len + 64, "blk,path=%s,readonly=on", path);
	if (parse(text, &config))
		fail_msg("a path of PATH_MAX - 1 bytes refused: %s", why);
	assert_string_equal(BLK_OPTIONS(config)->path, path);
	assert_true(BLK_OPTIONS(config)->readonly);
	snprintf(text, len + 64, "blk,path=%sb", path);
	assert_refused(text, "the path is longer than 4095 bytes", NULL);
	free(text);
	free(path);
}

/* ---- device_configs_finish */

static void parse_all(const char *const texts[], struct device_config *configs, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		if (parse(texts[i], &configs[i]))
			fail_msg("'%s' refused: %s", texts[i], why);
}

static void test_auto_slots_fill_the_gaps_around_explicit_ones(void **state)
{
	const char *const texts[] = { "rng,addr=1", "rng", "rng,addr=2", "rng" };
	const int slots[] = { 1, 3, 2, 4 };
	struct device_config configs[4];
	char name[16];

	(void)state;
	parse_all(texts, configs, 4);
	assert_int_equal(device_configs_finish(configs, 4, why, sizeof(why)), 0);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(configs[i].slot, slots[i]);
		snprintf(name, sizeof(name), "rng%u", i);
		assert_string_equal(configs[i].name, name);
	}
}

static void test_auto_slots_start_at_1(void **state)
{
	const char *const texts[] = { "rng", "rng,addr=5", "rng" };
	const int slots[] = { 1, 5, 2 };
	struct device_config configs[3];

	(void)state;
	parse_all(texts, configs, 3);
	assert_int_equal(device_configs_finish(configs, 3, why, sizeof(why)), 0);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(configs[i].slot, slots[i]);
}

static void test_all_31_slots_can_be_filled(void **state)
{
	struct device_config configs[DEVICE_MAX];

	(void)state;
	for (unsigned int i = 0; i < DEVICE_MAX; i++)
		assert_int_equal(parse(i == 0 ? "rng,addr=31" : "rng", &configs[i]), 0);
	assert_int_equal(device_configs_finish(configs, DEVICE_MAX, why, sizeof(why)), 0);
	assert_int_equal(configs[0].slot, 31);
	for (unsigned int i = 1; i < DEVICE_MAX; i++)
		assert_int_equal(configs[i].slot, (int)i);
	assert_string_equal(configs[DEVICE_MAX - 1].name, "rng30");
}

static void test_two_devices_at_one_addr_are_refused(void **state)
{
	const char *const texts[] = { "rng,addr=2", "rng", "rng,addr=2" };
	struct device_config configs[3];

	(void)state;
	parse_all(texts, configs, 3);
	why[0] = '\0';
	assert_int_equal(device_configs_finish(configs, 3, why, sizeof(why)), -EINVAL);
	assert_why_mentions("addr=2");
}

/* The lock would refuse the second with "another process": it is this one. */
static void test_one_writable_image_behind_two_devices_is_refused(void **state)
{
	char dir[] = "/tmp/test_device_config.XXXXXX", image[64], link_path[64];
	const char *texts[2];
	char text_a[128], text_b[128];
	struct device_config configs[2];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(image, sizeof(image), "%s/disk.img", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.img", dir);
	assert_int_equal(close(open(image, O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(symlink(image, link_path), 0);
	texts[0] = text_a;
	texts[1] = text_b;
	snprintf(text_a, sizeof(text_a), "blk,path=%s", image);
	snprintf(text_b, sizeof(text_b), "blk,path=%s", image);
	parse_all(texts, configs, 2);
	assert_int_equal(device_configs_finish(configs, 2, why, sizeof(why)), -EINVAL);
	assert_why_mentions("blk1");
	assert_why_mentions("same image as blk0");
	/* Through a symbolic link, and one of the two read-only: still one writer too many. */
	snprintf(text_b, sizeof(text_b), "blk,path=%s,readonly=on", link_path);
	parse_all(texts, configs, 2);
	assert_int_equal(device_configs_finish(configs, 2, why, sizeof(why)), -EINVAL);
	assert_why_mentions("same image as blk0");
	/* Read-only on both: shared, harmless. */
	snprintf(text_a, sizeof(text_a), "blk,path=%s,readonly=on", image);
	parse_all(texts, configs, 2);
	assert_int_equal(device_configs_finish(configs, 2, why, sizeof(why)), 0);
	unlink(link_path);
	unlink(image);
	rmdir(dir);
}

/* options_check() counts room for BARs of this size: the transport's own. */
static void test_the_bar_size_is_the_transports(void **state)
{
	(void)state;
	assert_int_equal(DEVICE_BAR_BYTES, VIRTIO_BAR_SIZE);
}

static void on_alarm(int signum)
{
	(void)signum;
	fail_msg("opening the FIFO hung");
}

/* open() on a FIFO waits for a writer for ever: the image is refused instead. */
static void test_a_fifo_image_is_refused_without_hanging(void **state)
{
	char dir[] = "/tmp/test_device_config.XXXXXX", fifo[64], text[128];
	struct device_config config;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(text, sizeof(text), "blk,path=%s,readonly=on", fifo);
	assert_int_equal(parse(text, &config), 0);
	assert_int_equal(device_configs_finish(&config, 1, why, sizeof(why)), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	assert_int_equal(device_configs_open(&config, 1, NULL, why, sizeof(why)), -EINVAL);
	alarm(0);
	assert_why_mentions("not a regular file or block device");
	assert_int_equal(BLK_OPTIONS(config)->image.fd, -1);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_rng_takes_the_defaults),
		cmocka_unit_test(test_rng_with_every_key),
		cmocka_unit_test(test_slot_and_queue_size_limits_are_accepted),
		cmocka_unit_test(test_rate_may_be_written_in_bytes_per_second),
		cmocka_unit_test(test_unknown_type_is_refused),
		cmocka_unit_test(test_unknown_key_is_refused),
		cmocka_unit_test(test_addr_outside_1_to_31_is_refused),
		cmocka_unit_test(test_queue_size_not_a_power_of_two_up_to_32768_is_refused),
		cmocka_unit_test(test_malformed_key_value_is_refused),
		cmocka_unit_test(test_auto_slots_fill_the_gaps_around_explicit_ones),
		cmocka_unit_test(test_auto_slots_start_at_1),
		cmocka_unit_test(test_all_31_slots_can_be_filled),
		cmocka_unit_test(test_two_devices_at_one_addr_are_refused),
		cmocka_unit_test(test_numbers_are_decimal_or_hex_never_octal),
		cmocka_unit_test(test_empty_items_and_keys_given_twice_are_refused),
		cmocka_unit_test(test_console_ports_repeat_and_other_keys_do_not),
		cmocka_unit_test(test_console_owner_and_mode),
		cmocka_unit_test(test_rate_0_is_refused),
		cmocka_unit_test(test_unknown_key_is_named_whatever_its_value),
		cmocka_unit_test(test_a_long_spec_keeps_its_reason_and_paths_reach_path_max),
		cmocka_unit_test(test_one_writable_image_behind_two_devices_is_refused),
		cmocka_unit_test(test_a_fifo_image_is_refused_without_hanging),
		cmocka_unit_test(test_the_bar_size_is_the_transports),
		cmocka_unit_test(test_bounce_budget_is_a_size_from_64k_to_1g),
		cmocka_unit_test(test_nbd_uri_and_timeout),
	};

	return cmocka_run_group_tests_name("--device values", tests, NULL, NULL);
}
