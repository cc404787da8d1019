// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_config_file.c: the supervisor's config file as an
 * administrator writes it, the worker options each block becomes, and how
 * a wrong file is refused: one "FILE:LINE: ..." message naming the key and
 * the value at fault, never the command line's "Try '... --help'".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config_file.h"

#define CFG "virtio-pci.cfg"

static const char example[] =
	"# /etc/xen/virtio-pci.cfg\n"
	"[domain \"domU1\"]            # matched by name; dom0less guests without a name: [domain 1]\n"
	"ecam   = \"0x10000000,0x10000000\"\n"
	"intx_spi = 44\n"
	"device = [ \"blk,path=/srv/domU1.img,serial=root\", \"rng\" ]\n"
	"\n"
	"[domain \"builder\"]\n"
	"device = [ \"blk,path=/dev/vg0/builder,direct=on\" ]\n";

static struct config_file config;
/* What the last parse() or load() wrote to its @err stream. */
static char *err_text;

static int teardown(void **state)
{
	(void)state;
	config_file_free(&config);
	free(err_text);
	err_text = NULL;
	return 0;
}

/* Run @load or parse @text into config, collecting the @err text. */
static int run(const char *path, const char *text)
{
	size_t len = 0;
	FILE *err;
	int ret;

	config_file_free(&config);
	free(err_text);
	err_text = NULL;
	err = open_memstream(&err_text, &len);
	assert_non_null(err);
	memset(&config, 0xaa, sizeof(config));
	ret = text ? config_file_parse(path, text, &config, err) : config_file_load(path, &config, err);
	fclose(err);
	return ret;
}

static int parse(const char *text)
{
	return run(CFG, text);
}

static int load(const char *path)
{
	return run(path, NULL);
}

static void assert_config_empty(void)
{
	assert_int_equal(config.nr_domains, 0);
	assert_null(config.domains);
	assert_null(config.path);
}

/*
 * The lines of err_text that are not "FILE:LINE: warning: ..." (images the
 * examples name do not exist here); their number in @warnings.
 */
static const char *errors_only(unsigned int *warnings)
{
	static char errors[8192];
	size_t used = 0;

	*warnings = 0;
	errors[0] = '\0';
	for (const char *line = err_text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);

		if (memmem(line, len, ": warning: ", 11))
			(*warnings)++;
		else if (used + len < sizeof(errors))
			used += (size_t)snprintf(errors + used, sizeof(errors) - used, "%.*s", (int)len, line);
		line += len;
	}
	return errors;
}

/* @text is refused with exactly @message (one line, newline added), and nothing is kept. */
static void assert_refused(const char *text, const char *message)
{
	char expected[8192];
	unsigned int warnings;

	snprintf(expected, sizeof(expected), "%s\n", message);
	assert_int_equal(parse(text), -EINVAL);
	assert_string_equal(errors_only(&warnings), expected);
	assert_config_empty();
}

/* @domain's args are the NULL-terminated @expected. */
static void assert_args(const struct config_domain *domain, const char *const *expected)
{
	unsigned int count = 0;

	while (expected[count])
		count++;
	assert_int_equal(domain->nr_args, count);
	for (unsigned int i = 0; i < count; i++)
		assert_string_equal(domain->args[i], expected[i]);
	assert_null(domain->args[count]);
}

static const struct config_domain *accepted(const char *text, unsigned int nr_domains)
{
	int ret = parse(text);

	unsigned int warnings;

	if (ret)
		fail_msg("refused (%d): %s", ret, err_text);
	assert_string_equal(errors_only(&warnings), "");
	assert_int_equal(config.nr_warnings, warnings);
	assert_int_equal(config.nr_domains, nr_domains);
	return config.domains;
}

/* ---- what a valid file becomes */

static void test_the_documented_example_gives_two_workers(void **state)
{
	const char *const domu1[] = { "--ecam", "0x10000000,0x10000000", "--intx-spi", "44",
				      "--device", "blk,path=/srv/domU1.img,serial=root",
				      "--device", "rng", NULL };
	const char *const builder[] = { "--device", "blk,path=/dev/vg0/builder,direct=on", NULL };
	const struct config_domain *domains = accepted(example, 2);

	(void)state;
	assert_string_equal(config.path, CFG);
	assert_true(domains[0].by_name);
	assert_string_equal(domains[0].name, "domU1");
	assert_int_equal(domains[0].line, 2);
	assert_args(&domains[0], domu1);
	assert_true(domains[1].by_name);
	assert_string_equal(domains[1].name, "builder");
	assert_int_equal(domains[1].line, 7);
	assert_args(&domains[1], builder);
}

static void test_domain_by_id_in_decimal_and_hex(void **state)
{
	const char *const rng[] = { "--device", "rng", NULL };
	const struct config_domain *domains =
		accepted("[domain 1]\ndevice = \"rng\"\n[domain 0x10]\ndevice = \"rng\"\n"
			 "[domain 32751]\ndevice = \"rng\"\n", 3);

	(void)state;
	assert_false(domains[0].by_name);
	assert_int_equal(domains[0].domid, 1);
	assert_args(&domains[0], rng);
	assert_false(domains[1].by_name);
	assert_int_equal(domains[1].domid, 16);
	assert_int_equal(domains[1].line, 3);
	assert_int_equal(domains[2].domid, 32751);
}

static void test_list_over_lines_with_comments_and_trailing_comma(void **state)
{
	const char *const args[] = { "--device", "rng,addr=4", "--device", "blk,path=/srv/a b.img",
				     "--device", "rng", NULL };
	const struct config_domain *domains =
		accepted("[domain \"web-1.example_2\"]\n"
			 "device = [\n"
			 "\t\"rng,addr=4\",   # the entropy source\n"
			 "\t# a comment line inside the list\n"
			 "\n"
			 "\t'blk,path=/srv/a b.img' ,\"rng\",\n"
			 "] # after the list\n", 1);

	(void)state;
	assert_string_equal(domains[0].name, "web-1.example_2");
	assert_args(&domains[0], args);
}

static void test_single_quotes_hold_double_quotes_and_hash(void **state)
{
	const char *const args[] = { "--device", "blk,path=/srv/\"odd\"#1.img", NULL };
	const struct config_domain *domains =
		accepted("[domain 'q']  # single quotes in the header too\n"
			 "device = 'blk,path=/srv/\"odd\"#1.img'  # a comment\n", 1);

	(void)state;
	assert_string_equal(domains[0].name, "q");
	assert_args(&domains[0], args);
}

static void test_every_key_becomes_its_option_in_file_order(void **state)
{
	const char *const args[] = { "--verbose", "--map-budget", "256M", "--mmio64",
				     "0x10000000000,4G", "--mmio", "0x23000000,16M", "--intx-spi",
				     "0x30", "--ecam", "0x10000000,16M", "--device", "rng", NULL };
	const struct config_domain *domains =
		accepted("[domain 7]\n"
			 "verbose = 1\n"
			 "map_budget = \"256M\"\n"
			 "mmio64 = \"0x10000000000,4G\"\n"
			 "mmio = \"0x23000000,16M\"\n"
			 "intx_spi = \"0x30\"\n"
			 "ecam = \"0x10000000,16M\"\n"
			 "device = \"rng\"\n", 1);

	(void)state;
	assert_args(&domains[0], args);
}

static void test_numbers_as_integers_and_verbose_0(void **state)
{
	const char *const args[] = { "--map-budget", "268435456", "--intx-spi", "100",
				     "--device", "rng", NULL };
	const struct config_domain *domains =
		accepted("[domain \"a\"]\nmap_budget = 268435456\nintx_spi=100\nverbose = 0\n"
			 "device=\"rng\"", 1);

	(void)state;
	assert_args(&domains[0], args);
}

static void test_crlf_line_endings_are_accepted(void **state)
{
	const char *const args[] = { "--device", "rng", NULL };
	const struct config_domain *domains = accepted("[domain \"a\"]\r\ndevice = \"rng\"\r\n", 1);

	(void)state;
	assert_args(&domains[0], args);
}

static void test_a_file_without_blocks_is_refused(void **state)
{
	(void)state;
	assert_refused("", CFG ": no [domain ...] block: nothing to serve");
	assert_refused("# nothing to serve yet\n\n   \n", CFG ": no [domain ...] block: nothing to serve");
}

static void test_256_blocks_are_accepted_and_257_refused(void **state)
{
	size_t size = 258 * 32, len = 0, before_last = 0;
	char *text = malloc(size);

	(void)state;
	assert_non_null(text);
	for (unsigned int id = 1; id <= 257; id++) {
		before_last = len;
		len += (size_t)snprintf(text + len, size - len, "[domain %u]\ndevice = \"rng\"\n", id);
	}
	text[before_last] = '\0';
	accepted(text, 256);
	text[before_last] = '[';
	assert_refused(text, CFG ":513: more than 256 [domain ...] blocks");
	free(text);
}

/* ---- the grammar refused */

static void test_key_before_any_block_is_refused(void **state)
{
	(void)state;
	assert_refused("# global\necam = \"0x10000000,0x10000000\"\n[domain 1]\ndevice = \"rng\"\n",
		       CFG ":2: ecam: a key before any [domain ...] block (the file has no global section)");
}

static void test_unknown_key_is_named_with_the_known_ones(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"rng\"\nintx-spi = 44\n",
		       CFG ":3: unknown key 'intx-spi' (known: ecam, mmio, mmio64, intx_spi, device, "
		       "map_budget, verbose, user, uid_base)");
}

static void test_user_and_uid_base_become_worker_options(void **state)
{
	static const char *const expected[] = { "--device", "rng", "--user", "1000:1000", NULL };
	static const char *const root[] = { "--device", "rng", "--user", "root", NULL };
	static const char *const base[] = { "--device", "rng", "--uid-base", "200000", NULL };

	(void)state;
	assert_int_equal(parse("[domain 1]\ndevice = \"rng\"\nuser = \"1000:1000\"\n"), 0);
	assert_args(&config.domains[0], expected);
	config_file_free(&config);
	/* Root is allowed, by saying so (the worker warns). */
	assert_int_equal(parse("[domain 1]\ndevice = \"rng\"\nuser = \"root\"\n"), 0);
	assert_args(&config.domains[0], root);
	config_file_free(&config);
	assert_int_equal(parse("[domain 1]\ndevice = \"rng\"\nuid_base = 200000\n"), 0);
	assert_args(&config.domains[0], base);
	config_file_free(&config);
	assert_refused("[domain 1]\ndevice = \"rng\"\nuid_base = 0\n",
		       CFG ":3: uid_base '0': expected a number from 1 to 4294934542");
	assert_refused("[domain 1]\ndevice = \"rng\"\nuser = \"no-such-user-xvp\"\n",
		       CFG ":3: user 'no-such-user-xvp': no such user");
}

static void test_key_given_twice_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"rng\"\nintx_spi = 44\n\ndevice = [ \"rng\" ]\n",
		       CFG ":5: device: given twice in this block (first on line 2)");
}

static void test_the_same_name_twice_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain \"a\"]\ndevice = \"rng\"\n[domain \"b\"]\ndevice = \"rng\"\n"
		       "[domain 'a']\ndevice = \"rng\"\n",
		       CFG ":5: [domain \"a\"] again (first on line 1)");
}

static void test_the_same_id_twice_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 16]\ndevice = \"rng\"\n[domain 0x10]\ndevice = \"rng\"\n",
		       CFG ":3: [domain 16] again (first on line 1)");
}

static void test_a_block_without_device_is_refused_at_its_header(void **state)
{
	(void)state;
	assert_refused("[domain \"a\"]\nintx_spi = 44\n\n[domain \"b\"]\ndevice = \"rng\"\n",
		       CFG ":1: [domain \"a\"]: no device (add device = [ \"...\" ])");
	assert_refused("[domain 3]\ndevice = \"rng\"\n[domain 4]\n",
		       CFG ":3: [domain 4]: no device (add device = [ \"...\" ])");
}

static void test_an_empty_device_list_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = [\n]\n", CFG ":2: device []: an empty list");
}

static void test_bad_domain_names_are_refused(void **state)
{
	char name[65], text[128], message[256];

	(void)state;
	assert_refused("[domain \"a b\"]\n",
		       CFG ":1: domain name 'a b': expected 1 to 63 characters from A-Z a-z 0-9 _ . -");
	assert_refused("[domain \"dom/U1\"]\n",
		       CFG ":1: domain name 'dom/U1': expected 1 to 63 characters from A-Z a-z 0-9 _ . -");
	assert_refused("[domain \"\"]\n",
		       CFG ":1: domain name '': expected 1 to 63 characters from A-Z a-z 0-9 _ . -");
	assert_refused("[domain \"12\"]\n",
		       CFG ":1: domain name '12': all digits, which xl reads as a domain ID "
		       "(write [domain 12] to match the ID)");
	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text), "[domain \"%s\"]\ndevice = \"rng\"\n", name);
	snprintf(message, sizeof(message),
		 CFG ":1: domain name '%s': expected 1 to 63 characters from A-Z a-z 0-9 _ . -", name);
	assert_refused(text, message);
	/* 63 is the most. */
	name[63] = '\0';
	snprintf(text, sizeof(text), "[domain \"%s\"]\ndevice = \"rng\"\n", name);
	accepted(text, 1);
	assert_string_equal(config.domains[0].name, name);
}

static void test_bad_domain_ids_are_refused_as_domain_is(void **state)
{
	(void)state;
	assert_refused("[domain 0]\n",
		       CFG ":1: domain '0': out of range: expected a guest domain ID from 1 to 32751");
	assert_refused("[domain 32752]\n",
		       CFG ":1: domain '32752': out of range: expected a guest domain ID from 1 to 32751");
	assert_refused("[domain 010]\n",
		       CFG ":1: domain '010': a leading 0 (octal is not taken: write decimal without "
		       "it, or 0x for hexadecimal): expected a guest domain ID from 1 to 32751");
	assert_refused("[domain -1]\n", CFG ":1: unexpected character '-'");
}

static void test_bad_headers_are_refused(void **state)
{
	(void)state;
	assert_refused("[guest \"a\"]\n", CFG ":1: expected [domain \"NAME\"] or [domain ID], found 'guest'");
	assert_refused("[domain domU1]\n",
		       CFG ":1: expected a name in quotes or a domain ID after '[domain', found 'domU1'");
	assert_refused("[domain \"a\"\ndevice = \"rng\"\n",
		       CFG ":1: expected ']' to end the [domain ...] header, found the end of the line");
	assert_refused("[domain \"a\"] device = \"rng\"\n",
		       CFG ":1: expected the end of the line after the [domain ...] header, found 'device'");
}

static void test_unterminated_string_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"blk,path=/srv/a.img\n",
		       CFG ":2: device: the string \"blk,path=/srv/a.img has no closing \" on its line");
	assert_refused("[domain 1]\ndevice = [ 'rng\", \"rng\" ]\n",
		       CFG ":2: device: the string 'rng\", \"rng\" ] has no closing ' on its line");
}

static void test_unterminated_list_is_refused_at_its_start(void **state)
{
	(void)state;
	assert_refused("[domain 1]\nintx_spi = 44\ndevice = [ \"rng\",\n  \"rng\"\n",
		       CFG ":3: device: the list begun here is not closed with ']'");
	assert_refused("[domain 1]\ndevice = [ \"rng\",\n[domain 2]\ndevice = \"rng\"\n",
		       CFG ":3: device: a list holds strings in quotes, found '['");
}

static void test_bad_list_elements_are_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = [ \"rng\", 3 ]\n",
		       CFG ":2: device: a list holds strings in quotes, found '3'");
	assert_refused("[domain 1]\ndevice = [ \"rng\"\n \"rng\" ]\n",
		       CFG ":3: device: expected ',' or ']' in the list, found \"rng\"");
	assert_refused("[domain 1]\ndevice = [ , \"rng\" ]\n",
		       CFG ":2: device: a list holds strings in quotes, found ','");
}

static void test_a_backslash_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"blk,path=/srv/a\\\\b.img\"\n",
		       CFG ":2: device: a backslash in \"blk,path=/srv/a\\\\b.img\": "
		       "escapes are not supported");
}

static void test_values_of_the_wrong_type_are_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\necam = 268435456\n",
		       CFG ":2: ecam '268435456': expected a string \"BASE,SIZE\"");
	assert_refused("[domain 1]\nintx_spi = [ \"44\" ]\n",
		       CFG ":2: intx_spi [ ... ]: expected a number");
	assert_refused("[domain 1]\ndevice = 3\n",
		       CFG ":2: device '3': expected a string or a list of strings");
	assert_refused("[domain 1]\nverbose = \"1\"\n", CFG ":2: verbose \"1\": expected 0 or 1");
	assert_refused("[domain 1]\nverbose = 2\n", CFG ":2: verbose '2': expected 0 or 1");
}

static void test_malformed_settings_are_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\necam \"x\"\n", CFG ":2: ecam: expected '=' after the key, found \"x\"");
	assert_refused("[domain 1]\necam =\n",
		       CFG ":2: ecam: expected a value after '=', found the end of the line");
	assert_refused("[domain 1]\nintx_spi = 44 45\n",
		       CFG ":2: intx_spi: expected the end of the line after the value "
		       "(one KEY = VALUE a line), found '45'");
	assert_refused("[domain 1]\nintx_spi = 44x\n",
		       CFG ":2: intx_spi: '44x' is not a number (decimal or 0x hexadecimal; "
		       "write \"44x\" for a string)");
	assert_refused("[domain 1]\nmap_budget = 256M\n",
		       CFG ":2: map_budget: '256M' is not a number (decimal or 0x hexadecimal; "
		       "write \"256M\" for a string)");
	assert_refused("[domain 1]\necam = @\n", CFG ":2: ecam: unexpected character '@'");
	assert_refused("= 5\n", CFG ":1: expected a [domain ...] header or KEY = VALUE, found '='");
}

static void test_only_the_first_error_is_reported(void **state)
{
	(void)state;
	assert_refused("[domain 1]\nfoo = 1\nbar = 2\n",
		       CFG ":2: unknown key 'foo' (known: ecam, mmio, mmio64, intx_spi, device, "
		       "map_budget, verbose, user, uid_base)");
}

/* ---- what the command line refuses, the file refuses */

static void test_value_refused_by_options_apply_names_key_and_value(void **state)
{
	(void)state;
	assert_refused("[domain \"domU1\"]\ndevice = \"rng\"\n\nintx_spi = 1020\n",
		       CFG ":4: intx_spi '1020': out of range: expected the first of four INTx SPIs, "
		       "which must lie in 32..1019");
	assert_refused("[domain \"domU1\"]\necam = \"x\"\n", CFG ":2: ecam 'x': expected BASE,SIZE");
	assert_refused("[domain 1]\nmap_budget = \"1M\"\n",
		       CFG ":2: map_budget '1M': out of range: expected a size of at least 64M");
}

static void test_device_refused_by_its_parser_at_its_own_line(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = [\n  \"rng\",\n  \"blk,path=/x,bogus=1\",\n]\n",
		       CFG ":4: device 'blk,path=/x,bogus=1': unknown key 'bogus' (known: path, "
		       "readonly, serial, direct, queues, queue-size, addr, bounce-budget, nbd, timeout, poll-max-ns)");
	assert_refused("[domain 1]\ndevice = \"blk\"\n", CFG ":2: device 'blk': path=FILE is required (or nbd=URI, a network disk)");
	assert_refused("[domain 1]\ndevice = \"\"\n",
		       CFG ":2: device '': unknown device type '' (known: rng, blk, net, console)");
}

static void test_two_devices_on_one_slot_are_refused_at_the_header(void **state)
{
	(void)state;
	assert_refused("# two on one slot\n[domain \"domU1\"]\ndevice = [ \"rng,addr=3\",\n"
		       "  \"blk,path=/srv/a.img,addr=3\" ]\n",
		       CFG ":2: device: two devices at addr=3");
}

static void test_layout_refused_by_options_check_speaks_of_keys(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"rng\"\necam = \"0x23000000,1M\"\n",
		       CFG ":1: ecam 0x23000000,0x100000 overlaps mmio 0x23000000,0x10000000");
	assert_refused("[domain 1]\ndevice = \"rng\"\nintx_spi = 40\n",
		       CFG ":1: intx_spi 40: SPIs 40..43 overlap 32..43, which Xen gives the guest's "
		       "PL011 and virtio-mmio devices");
}

/* ---- limits */

static void test_a_line_of_4096_bytes_is_accepted_and_4097_refused(void **state)
{
	size_t size = 4200;
	char *text = malloc(size);

	(void)state;
	assert_non_null(text);
	memset(text, ' ', size);
	memcpy(text, "[domain 1]\ndevice = \"rng\" #", 27);
	strcpy(text + 11 + 4096, "\n# next\n");
	accepted(text, 1);
	text[11 + 4096] = ' ';
	strcpy(text + 11 + 4097, "\n");
	assert_refused(text, CFG ":2: line longer than 4096 bytes");
	free(text);
}

static void test_a_text_larger_than_1_mib_is_refused(void **state)
{
	size_t size = 1024 * 1024 + 1;
	char *text = malloc(size + 1);

	(void)state;
	assert_non_null(text);
	memset(text, '\n', size);
	text[size] = '\0';
	assert_refused(text, CFG ": larger than 1 MiB (1048576 bytes)");
	text[size - 1] = '\0';
	assert_refused(text, CFG ": no [domain ...] block: nothing to serve");
	free(text);
}

/* ---- reading the file */

static char dir[] = "/tmp/test_config_file.XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	return rmdir(dir);
}

/* Write @len bytes of @text to @name in the test's directory; its path in @path. */
static void write_file(const char *name, const void *text, size_t len, char *path, size_t path_len)
{
	int fd;

	snprintf(path, path_len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_load_reads_a_real_file(void **state)
{
	unsigned int warnings;
	char path[256];

	(void)state;
	write_file("virtio-pci.cfg", example, strlen(example), path, sizeof(path));
	assert_int_equal(load(path), 0);
	/* The example's images are not on this machine: warnings, not errors. */
	assert_string_equal(errors_only(&warnings), "");
	assert_int_equal(config.nr_warnings, 2);
	assert_int_equal(warnings, 2);
	assert_string_equal(config.path, path);
	assert_int_equal(config.nr_domains, 2);
	assert_string_equal(config.domains[1].name, "builder");
	assert_string_equal(config.domains[1].args[1], "blk,path=/dev/vg0/builder,direct=on");
	unlink(path);
}

static void test_load_reports_a_missing_file(void **state)
{
	char path[256], expected[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.cfg", dir);
	snprintf(expected, sizeof(expected), "%s: cannot read: %s\n", path, strerror(ENOENT));
	assert_int_equal(load(path), -ENOENT);
	assert_string_equal(err_text, expected);
	assert_config_empty();
}

static void test_load_reports_a_directory(void **state)
{
	char expected[512];

	(void)state;
	snprintf(expected, sizeof(expected), "%s: not a regular file\n", dir);
	assert_int_equal(load(dir), -EINVAL);
	assert_string_equal(err_text, expected);
	assert_config_empty();
}

static void on_alarm(int signum)
{
	(void)signum;
	fail_msg("reading the FIFO hung");
}

/* open() of a FIFO waits for a writer for ever; so did --check and ExecStartPre. */
static void test_load_refuses_a_fifo_without_hanging(void **state)
{
	char path[256], expected[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo.cfg", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	assert_int_equal(load(path), -EINVAL);
	alarm(0);
	snprintf(expected, sizeof(expected), "%s: not a regular file\n", path);
	assert_string_equal(err_text, expected);
	unlink(path);
}

static void test_a_byte_order_mark_is_named(void **state)
{
	(void)state;
	assert_refused("\xef\xbb\xbf[domain 1]\ndevice = \"rng\"\n",
		       CFG ":1: a UTF-8 byte-order mark (bytes EF BB BF) starts the file: save it "
		       "without one");
}

static void test_a_block_for_domain_0_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain \"Domain-0\"]\ndevice = \"rng\"\n",
		       CFG ":1: [domain \"Domain-0\"] is dom0, the domain this daemon runs in: it "
		       "serves guests only");
}

/* The service runs in /: "disk.img" would be /disk.img there, and elsewhere by hand. */
static void test_a_relative_image_path_is_refused(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"blk,path=disk.img\"\n",
		       CFG ":2: device 'blk,path=disk.img': path=disk.img is relative: the service "
		       "runs in /, write the absolute path");
}

static void test_a_missing_image_is_a_warning(void **state)
{
	char expected[512];

	(void)state;
	accepted("[domain 1]\ndevice = \"blk,path=/nonexistent/later.img\"\n", 1);
	assert_int_equal(config.nr_warnings, 1);
	snprintf(expected, sizeof(expected), CFG ":2: warning: device 'blk,path=/nonexistent/later.img': "
		 "path=/nonexistent/later.img: %s: its worker cannot start until it can open it\n",
		 strerror(ENOENT));
	assert_string_equal(err_text, expected);
}

static void test_an_image_that_is_not_a_file_is_refused(void **state)
{
	char text[512], expected[512];

	(void)state;
	snprintf(text, sizeof(text), "[domain 1]\ndevice = \"blk,path=%s\"\n", dir);
	snprintf(expected, sizeof(expected), CFG ":2: device 'blk,path=%s': path=%s: not a regular "
		 "file or block device", dir, dir);
	assert_refused(text, expected);
}

/* Two guests writing one disk destroy it; in one block, two devices would. */
static void test_one_writable_image_in_two_devices_is_refused_at_the_second(void **state)
{
	char image[256], link_path[256], text[1024], expected[1024];
	int fd;

	(void)state;
	snprintf(image, sizeof(image), "%s/disk.img", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.img", dir);
	fd = open(image, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(image, link_path), 0);
	snprintf(text, sizeof(text), "[domain 1]\ndevice = \"blk,path=%s\"\n\n[domain 2]\n"
		 "device = [ \"rng\", \"blk,path=%s,readonly=on\" ]\n", image, link_path);
	snprintf(expected, sizeof(expected), CFG ":5: device 'blk,path=%s,readonly=on': path=%s is "
		 "the same image as %s on line 2: one writable image, one device (readonly=on on "
		 "both to share it)", link_path, link_path, image);
	assert_refused(text, expected);
	snprintf(text, sizeof(text), "[domain 1]\ndevice = [ \"blk,path=%s\",\n\"blk,path=%s\" ]\n",
		 image, image);
	snprintf(expected, sizeof(expected), CFG ":3: device 'blk,path=%s': path=%s is the same "
		 "image as %s on line 2: one writable image, one device (readonly=on on both to "
		 "share it)", image, image, image);
	assert_refused(text, expected);
	/* Read-only everywhere: shared. */
	snprintf(text, sizeof(text), "[domain 1]\ndevice = \"blk,path=%s,readonly=on\"\n"
		 "[domain 2]\ndevice = \"blk,path=%s,readonly=on\"\n", image, link_path);
	accepted(text, 2);
	unlink(link_path);
	unlink(image);
}

static void test_numbers_with_a_leading_0_are_refused_not_octal(void **state)
{
	(void)state;
	assert_refused("[domain 1]\ndevice = \"rng\"\nintx_spi = 060\n",
		       CFG ":3: intx_spi '060': a leading 0 (octal is not taken: write decimal without "
		       "it, or 0x for hexadecimal): expected the first of four INTx SPIs, which must lie "
		       "in 32..1019");
	assert_refused("[domain 1]\ndevice = \"rng,addr=010\"\n",
		       CFG ":2: device 'rng,addr=010': addr=010: a leading 0 (octal is not taken: write "
		       "decimal without it, or 0x for hexadecimal): expected a device number from 1 to "
		       "31 (0 is the host bridge)");
}

static void test_load_refuses_a_nul_byte(void **state)
{
	static const char text[] = "[domain 1]\ndevice = \"rng\0\"\n";
	char path[256], expected[512];

	(void)state;
	write_file("nul.cfg", text, sizeof(text) - 1, path, sizeof(path));
	snprintf(expected, sizeof(expected), "%s:2: a NUL byte: not a text file\n", path);
	assert_int_equal(load(path), -EINVAL);
	assert_string_equal(err_text, expected);
	assert_config_empty();
	unlink(path);
}

static void test_load_refuses_a_file_larger_than_1_mib(void **state)
{
	size_t size = 2 * 1024 * 1024;
	char *text = malloc(size);
	char path[256], expected[512];

	(void)state;
	assert_non_null(text);
	memset(text, '\n', size);
	write_file("big.cfg", text, size, path, sizeof(path));
	free(text);
	snprintf(expected, sizeof(expected), "%s: larger than 1 MiB (1048576 bytes)\n", path);
	assert_int_equal(load(path), -EINVAL);
	assert_string_equal(err_text, expected);
	assert_config_empty();
	unlink(path);
}

/* ---- using the result */

static void test_domains_equal_only_with_same_match_and_args(void **state)
{
	struct config_file first;

	(void)state;
	/* Read-only: one image may serve several guests. */
	accepted("[domain \"a\"]\ndevice = [ \"rng\", \"blk,path=/x,readonly=on\" ]\n"
		 "[domain 5]\ndevice = [ \"rng\", \"blk,path=/x,readonly=on\" ]\n", 2);
	first = config;
	memset(&config, 0, sizeof(config));
	/* The same, written otherwise: another comment, quotes, spacing, line. */
	accepted("# edited\n\n[domain 'a']\ndevice=['rng',\n'blk,path=/x,readonly=on',]\n"
		 "[domain 6]\ndevice = [ \"rng\", \"blk,path=/x,readonly=on\" ]\n"
		 "[domain \"b\"]\ndevice = [ \"blk,path=/x,readonly=on\", \"rng\" ]\n"
		 "[domain \"c\"]\ndevice = [ \"rng\", \"blk,path=/x,readonly=on\" ]\nverbose = 1\n", 4);
	assert_true(config_domain_equal(&first.domains[0], &config.domains[0]));
	assert_true(config_domain_equal(&first.domains[1], &first.domains[1]));
	/* Another ID, the same args. */
	assert_false(config_domain_equal(&first.domains[1], &config.domains[1]));
	/* By name against by ID. */
	assert_false(config_domain_equal(&first.domains[0], &first.domains[1]));
	/* Another name and another order. */
	assert_false(config_domain_equal(&first.domains[0], &config.domains[2]));
	/* One arg more. */
	assert_false(config_domain_equal(&first.domains[0], &config.domains[3]));
	config_file_free(&first);
}

static void test_match_by_name_or_by_id_name_first(void **state)
{
	const struct config_domain *domains;

	(void)state;
	domains = accepted("[domain 5]\ndevice = \"rng\"\n[domain \"web\"]\ndevice = \"rng\"\n"
			   "[domain \"db\"]\ndevice = \"rng\"\n", 3);
	assert_ptr_equal(config_file_match(&config, "web", 9), &domains[1]);
	assert_ptr_equal(config_file_match(&config, "db", 2), &domains[2]);
	assert_ptr_equal(config_file_match(&config, NULL, 5), &domains[0]);
	assert_ptr_equal(config_file_match(&config, "other", 5), &domains[0]);
	/* A guest named web that got ID 5: its name block, not the ID's. */
	assert_ptr_equal(config_file_match(&config, "web", 5), &domains[1]);
	assert_null(config_file_match(&config, "other", 6));
	assert_null(config_file_match(&config, NULL, 6));
	assert_null(config_file_match(&config, "Web", 6));
}

static void test_free_twice_and_free_after_failure_are_harmless(void **state)
{
	(void)state;
	assert_int_equal(parse("[domain 1]\ndevice = \"rng\"\n[domain 1]\n"), -EINVAL);
	config_file_free(&config);
	config_file_free(&config);
	assert_config_empty();
}

#define TEST(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_the_documented_example_gives_two_workers),
		TEST(test_domain_by_id_in_decimal_and_hex),
		TEST(test_list_over_lines_with_comments_and_trailing_comma),
		TEST(test_single_quotes_hold_double_quotes_and_hash),
		TEST(test_every_key_becomes_its_option_in_file_order),
		TEST(test_numbers_as_integers_and_verbose_0),
		TEST(test_crlf_line_endings_are_accepted),
		TEST(test_a_file_without_blocks_is_refused),
		TEST(test_256_blocks_are_accepted_and_257_refused),
		TEST(test_key_before_any_block_is_refused),
		TEST(test_unknown_key_is_named_with_the_known_ones),
		TEST(test_key_given_twice_is_refused),
		TEST(test_user_and_uid_base_become_worker_options),
		TEST(test_the_same_name_twice_is_refused),
		TEST(test_the_same_id_twice_is_refused),
		TEST(test_a_block_without_device_is_refused_at_its_header),
		TEST(test_an_empty_device_list_is_refused),
		TEST(test_bad_domain_names_are_refused),
		TEST(test_bad_domain_ids_are_refused_as_domain_is),
		TEST(test_bad_headers_are_refused),
		TEST(test_unterminated_string_is_refused),
		TEST(test_unterminated_list_is_refused_at_its_start),
		TEST(test_bad_list_elements_are_refused),
		TEST(test_a_backslash_is_refused),
		TEST(test_values_of_the_wrong_type_are_refused),
		TEST(test_malformed_settings_are_refused),
		TEST(test_only_the_first_error_is_reported),
		TEST(test_value_refused_by_options_apply_names_key_and_value),
		TEST(test_device_refused_by_its_parser_at_its_own_line),
		TEST(test_two_devices_on_one_slot_are_refused_at_the_header),
		TEST(test_layout_refused_by_options_check_speaks_of_keys),
		TEST(test_a_line_of_4096_bytes_is_accepted_and_4097_refused),
		TEST(test_a_text_larger_than_1_mib_is_refused),
		TEST(test_load_reads_a_real_file),
		TEST(test_load_reports_a_missing_file),
		TEST(test_load_reports_a_directory),
		TEST(test_load_refuses_a_nul_byte),
		TEST(test_load_refuses_a_fifo_without_hanging),
		TEST(test_a_byte_order_mark_is_named),
		TEST(test_a_block_for_domain_0_is_refused),
		TEST(test_a_relative_image_path_is_refused),
		TEST(test_a_missing_image_is_a_warning),
		TEST(test_an_image_that_is_not_a_file_is_refused),
		TEST(test_one_writable_image_in_two_devices_is_refused_at_the_second),
		TEST(test_numbers_with_a_leading_0_are_refused_not_octal),
		TEST(test_load_refuses_a_file_larger_than_1_mib),
		TEST(test_domains_equal_only_with_same_match_and_args),
		TEST(test_match_by_name_or_by_id_name_first),
		TEST(test_free_twice_and_free_after_failure_are_harmless),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
