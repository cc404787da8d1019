// SPDX-License-Identifier: MIT
/* tests/unit/test_options.c: the daemon's command line, and how a bad one is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/options.h"
#include "ecam/guest_layout.h"

static struct daemon_options opts;
/* What options_parse() wrote to its @err stream in the last parse(). */
static char err_text[4096];

/* Parse a NULL-terminated argv, collecting the @err text in err_text. */
static enum options_result parse(char **argv)
{
	enum options_result result;
	char *text = NULL;
	size_t len = 0;
	FILE *err;
	int argc = 0;

	while (argv[argc])
		argc++;
	err = open_memstream(&text, &len);
	assert_non_null(err);
	memset(&opts, 0xaa, sizeof(opts));
	result = options_parse(argc, argv, &opts, err);
	fclose(err);
	snprintf(err_text, sizeof(err_text), "%s", text ? text : "");
	free(text);
	return result;
}

static void assert_err_mentions(const char *needle)
{
	if (!strstr(err_text, needle))
		print_error("error text '%s' lacks '%s'\n", err_text, needle);
	assert_non_null(strstr(err_text, needle));
}

/* Refused with a message naming @needle (and @needle2 if not NULL). */
static void assert_refused(char **argv, const char *needle, const char *needle2)
{
	assert_int_equal(parse(argv), OPTIONS_EXIT_ERROR);
	assert_err_mentions(needle);
	if (needle2)
		assert_err_mentions(needle2);
}

static void assert_layout_is_default(const struct guest_layout *layout)
{
	struct guest_layout expected;

	guest_layout_default(&expected);
	assert_int_equal(layout->ecam.base, expected.ecam.base);
	assert_int_equal(layout->ecam.size, expected.ecam.size);
	assert_int_equal(layout->mmio.base, expected.mmio.base);
	assert_int_equal(layout->mmio.size, expected.mmio.size);
	assert_int_equal(layout->mmio64.base, expected.mmio64.base);
	assert_int_equal(layout->mmio64.size, expected.mmio64.size);
	assert_int_equal(layout->intx_spi, expected.intx_spi);
}

/*
 * Run @argv with stdout sent to a temporary file; its text lands in @out.
 * Only parse() runs while stdout is redirected.
 */
static enum options_result parse_capturing_stdout(char **argv, char *out, size_t out_len)
{
	FILE *out_file = tmpfile();
	enum options_result result;
	int saved_stdout;
	size_t n;

	assert_non_null(out_file);
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	assert_true(saved_stdout >= 0);
	assert_true(dup2(fileno(out_file), STDOUT_FILENO) >= 0);
	result = parse(argv);
	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	rewind(out_file);
	n = fread(out, 1, out_len - 1, out_file);
	out[n] = '\0';
	fclose(out_file);
	return result;
}

/* ---- --domain */

static void test_domain_alone_runs_with_the_default_layout(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.domid, 5);
	assert_int_equal(opts.verbose, 0);
	assert_layout_is_default(&opts.layout);
	/* Legitimate once devices can be hot-added; a warning today. */
	assert_string_equal(err_text, "xen-virtio-pcid: warning: --domain 5 with no --device: the "
			    "guest gets a host bridge and nothing behind it\n");
}

static void test_domain_with_equals_sign_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain=7", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.domid, 7);
}

static void test_domain_in_hex_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "0x10", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.domid, 16);
}

static void test_highest_domain_32751_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "32751", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.domid, 32751);
}

static void test_missing_domain_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", NULL };

	(void)state;
	assert_refused(argv, "--domain ID is required", "--help");
}

static void test_missing_domain_with_other_options_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--intx-spi", "44", "-v", NULL };

	(void)state;
	assert_refused(argv, "--domain ID is required", NULL);
}

static void test_domain_0_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "0", NULL };

	(void)state;
	assert_refused(argv, "--domain '0'", "1 to 32751");
}

static void test_domain_32752_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "32752", NULL };

	(void)state;
	assert_refused(argv, "--domain '32752'", "1 to 32751");
}

static void test_domain_abc_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "abc", NULL };

	(void)state;
	assert_refused(argv, "--domain 'abc'", NULL);
}

static void test_domain_minus_1_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "-1", NULL };

	(void)state;
	assert_refused(argv, "--domain '-1'", NULL);
}

static void test_domain_5x_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5x", NULL };

	(void)state;
	assert_refused(argv, "--domain '5x'", NULL);
}

static void test_empty_domain_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "", NULL };

	(void)state;
	assert_refused(argv, "--domain ''", NULL);
}

static void test_domain_beyond_64_bits_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "18446744073709551621", NULL };

	(void)state;
	assert_refused(argv, "--domain '18446744073709551621'", NULL);
}

static void test_domain_given_twice_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--domain=6", NULL };

	(void)state;
	assert_refused(argv, "--domain '6': given twice (first '5')", NULL);
}

/* Decimal or 0x, as documented: strtoull's base 0 served domain 8 for "010". */
static void test_numbers_are_decimal_or_hex_never_octal(void **state)
{
	char *octal[] = { "xen-virtio-pcid", "--domain", "010", NULL };
	char *spi[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "060", NULL };
	char *suffix[] = { "xen-virtio-pcid", "--domain", "1K", NULL };
	char *budget[] = { "xen-virtio-pcid", "--domain", "5", "--map-budget",
			   "99999999999999999999", NULL };
	char *ten[] = { "xen-virtio-pcid", "--domain", "10", "--device", "rng", NULL };

	(void)state;
	assert_refused(octal, "--domain '010': a leading 0", NULL);
	assert_refused(spi, "--intx-spi '060': a leading 0", NULL);
	assert_refused(suffix, "--domain '1K': K, M and G are for sizes", NULL);
	assert_refused(budget, "--map-budget '99999999999999999999': out of range", NULL);
	assert_int_equal(parse(ten), OPTIONS_RUN);
	assert_int_equal(opts.domid, 10);
}

static void test_an_ambiguous_abbreviation_is_named_so(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--d", "5", NULL };
	char *exact[] = { "xen-virtio-pcid", "--dom", "5", "--dev", "rng", "--mmio", "0x30000000,16M", NULL };

	(void)state;
	assert_refused(argv, "option '--d' is ambiguous: --domain, --device", NULL);
	/* Unambiguous abbreviations, and an exact name that begins another (--mmio64). */
	assert_int_equal(parse(exact), OPTIONS_RUN);
	assert_int_equal(opts.layout.mmio.base, 0x30000000);
}

static void test_windows_too_small_for_the_bars_are_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio", "0x30000000,0x4000",
			 "--mmio64", "0x100000000,0x1000", "--device", "rng", "--device", "rng", NULL };

	(void)state;
	assert_refused(argv, "too small for the BARs of 2 devices", NULL);
	argv[9] = NULL;		/* one device: one 16 KiB BAR fits the 32-bit window */
	assert_int_equal(parse(argv), OPTIONS_RUN);
}

/* ---- windows */

static void test_ecam_with_m_suffix_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--ecam", "0x10000000,256M", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.ecam.base, 0x10000000);
	assert_int_equal(opts.layout.ecam.size, 0x10000000);
	assert_int_equal(guest_layout_bus_count(&opts.layout), 256);
}

static void test_small_ecam_gives_fewer_buses(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--ecam", "0x10000000,16m", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.ecam.size, 0x1000000);
	assert_int_equal(guest_layout_bus_count(&opts.layout), 16);
}

static void test_windows_with_k_and_g_suffixes_are_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5",
			 "--mmio", "0x23000000,4096K",
			 "--mmio64", "0x10000000000,4G", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.mmio.base, 0x23000000);
	assert_int_equal(opts.layout.mmio.size, 0x400000);
	assert_int_equal(opts.layout.mmio64.base, 0x10000000000ULL);
	assert_int_equal(opts.layout.mmio64.size, 0x100000000ULL);
	assert_int_equal(opts.layout.ecam.base, GUEST_LAYOUT_ECAM_BASE);
}

static void test_decimal_window_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio", "587202560,1048576", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.mmio.base, 0x23000000);
	assert_int_equal(opts.layout.mmio.size, 0x100000);
}

static void test_ecam_without_comma_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--ecam", "0x10000000", NULL };

	(void)state;
	assert_refused(argv, "--ecam '0x10000000'", "BASE,SIZE");
}

static void test_mmio_with_three_numbers_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio", "1,2,3", NULL };

	(void)state;
	assert_refused(argv, "--mmio '1,2,3'", "BASE,SIZE");
}

static void test_mmio64_with_empty_size_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio64", "0x10000000000,", NULL };

	(void)state;
	assert_refused(argv, "--mmio64 '0x10000000000,'", NULL);
}

static void test_window_with_unknown_suffix_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio", "0x23000000,1T", NULL };

	(void)state;
	assert_refused(argv, "--mmio '0x23000000,1T'", NULL);
}

static void test_window_with_negative_size_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--mmio", "0x23000000,-4096", NULL };

	(void)state;
	assert_refused(argv, "--mmio '0x23000000,-4096'", NULL);
}

static void test_window_whose_suffix_overflows_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5",
			 "--mmio64", "0x10000000000,0x400000000G", NULL };

	(void)state;
	assert_refused(argv, "--mmio64 '0x10000000000,0x400000000G'", NULL);
}

static void test_mmio_over_ram_bank_0_is_refused_by_layout_validation(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5",
			 "--mmio", "0x40000000,0x1000000", NULL };

	(void)state;
	assert_refused(argv, "--mmio 0x40000000,0x1000000", "RAM bank 0");
}

static void test_ecam_over_mmio_is_refused_by_layout_validation(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--ecam", "0x23000000,1M", NULL };

	(void)state;
	assert_refused(argv, "--ecam 0x23000000,0x100000 overlaps --mmio", NULL);
}

static void test_ecam_of_512m_is_refused_by_layout_validation(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--ecam", "0x10000000,512M", NULL };

	(void)state;
	assert_refused(argv, "--ecam 0x10000000,0x20000000", "256 MiB");
}

/* ---- --intx-spi */

static void test_intx_spi_44_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "44", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.intx_spi, 44);
}

static void test_intx_spi_1016_is_accepted(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "1016", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.layout.intx_spi, 1016);
}

static void test_intx_spi_20_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "20", NULL };

	(void)state;
	assert_refused(argv, "--intx-spi '20': out of range", "must lie in 32..1019");
}

static void test_intx_spi_40_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "40", NULL };

	(void)state;
	assert_refused(argv, "--intx-spi 40", "PL011");
}

static void test_intx_spi_1017_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "1017", NULL };

	(void)state;
	assert_refused(argv, "--intx-spi 1017", NULL);
}

static void test_intx_spi_2000_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "2000", NULL };

	(void)state;
	assert_refused(argv, "--intx-spi '2000'", NULL);
}

static void test_intx_spi_4294967296_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--intx-spi", "4294967296", NULL };

	(void)state;
	assert_refused(argv, "--intx-spi '4294967296'", NULL);
}

/* ---- everything else */

static void test_unknown_option_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--bogus", NULL };

	(void)state;
	assert_refused(argv, "--help", NULL);
}

static void test_unknown_option_is_named_on_the_error_stream(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "--bogus", NULL };

	(void)state;
	/* options.h: "messages go to @err", so the option at fault must be named there. */
	assert_refused(argv, "bogus", NULL);
}

static void test_option_missing_its_value_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", NULL };

	(void)state;
	assert_refused(argv, "--help", NULL);
}

static void test_stray_positional_argument_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "--domain", "5", "extra", NULL };

	(void)state;
	assert_refused(argv, "unexpected argument 'extra'", NULL);
}

static void test_stray_positional_argument_before_options_is_refused(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "stray", "--domain", "5", NULL };

	(void)state;
	assert_refused(argv, "unexpected argument 'stray'", NULL);
}

static void test_v_sets_verbose(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "-v", "--domain", "5", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.verbose, 1);
	assert_int_equal(opts.domid, 5);
}

static void test_verbose_counts_each_time(void **state)
{
	char *argv[] = { "xen-virtio-pcid", "-vv", "--verbose", "--domain", "5", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.verbose, 3);
}

static void test_help_exits_ok_and_prints_usage(void **state)
{
	static char out[8192];
	char *argv[] = { "xen-virtio-pcid", "--help", NULL };

	(void)state;
	assert_int_equal(parse_capturing_stdout(argv, out, sizeof(out)), OPTIONS_EXIT_OK);
	assert_non_null(strstr(out, "Usage: xen-virtio-pcid --domain ID"));
	assert_non_null(strstr(out, "--intx-spi"));
	assert_string_equal(err_text, "");
}

static void test_help_without_domain_exits_ok(void **state)
{
	static char out[8192];
	char *argv[] = { "xen-virtio-pcid", "-h", NULL };

	(void)state;
	assert_int_equal(parse_capturing_stdout(argv, out, sizeof(out)), OPTIONS_EXIT_OK);
	assert_non_null(strstr(out, "Usage:"));
}

static void test_version_exits_ok_and_prints_the_version(void **state)
{
	static char out[256];
	char *argv[] = { "xen-virtio-pcid", "--version", NULL };

	(void)state;
	assert_int_equal(parse_capturing_stdout(argv, out, sizeof(out)), OPTIONS_EXIT_OK);
	assert_string_equal(out, "xen-virtio-pcid " XVP_VERSION "\n");
	assert_string_equal(err_text, "");
}

/* ---- parsing more than once in one process */

static void test_second_parse_starts_afresh(void **state)
{
	char *first[] = { "xen-virtio-pcid", "--domain", "5", "-v", "--intx-spi", "100", NULL };
	char *second[] = { "xen-virtio-pcid", "--domain", "6", NULL };

	(void)state;
	assert_int_equal(parse(first), OPTIONS_RUN);
	assert_int_equal(opts.layout.intx_spi, 100);
	assert_int_equal(parse(second), OPTIONS_RUN);
	assert_int_equal(opts.domid, 6);
	assert_int_equal(opts.verbose, 0);
	assert_layout_is_default(&opts.layout);
}

static void test_parse_after_a_refused_parse_starts_afresh(void **state)
{
	char *bad[] = { "xen-virtio-pcid", "--domain", "abc", "--intx-spi", "100", NULL };
	char *good[] = { "xen-virtio-pcid", "--domain", "6", NULL };

	(void)state;
	assert_int_equal(parse(bad), OPTIONS_EXIT_ERROR);
	assert_int_equal(parse(good), OPTIONS_RUN);
	assert_int_equal(opts.domid, 6);
	assert_layout_is_default(&opts.layout);
}

static void test_parse_after_help_inside_an_option_cluster_starts_afresh(void **state)
{
	static char out[8192];
	char *help[] = { "xen-virtio-pcid", "-hv", NULL };
	char *good[] = { "xen-virtio-pcid", "--domain", "6", NULL };
	enum options_result help_result, good_result;
	char good_err[sizeof(err_text)];
	uint32_t domid;
	int verbose;

	(void)state;
	/*
	 * --help returns in the middle of "-hv": getopt still points at the
	 * "v". The next parse must not pick it up from the old argv.
	 */
	help_result = parse_capturing_stdout(help, out, sizeof(out));
	good_result = parse(good);
	domid = opts.domid;
	verbose = opts.verbose;
	memcpy(good_err, err_text, sizeof(good_err));
	/* Leave getopt clean for the tests after this one, whatever happened. */
	parse(good);
	parse(good);

	assert_int_equal(help_result, OPTIONS_EXIT_OK);
	if (good_result != OPTIONS_RUN)
		print_error("second parse: %s", good_err);
	assert_int_equal(good_result, OPTIONS_RUN);
	assert_int_equal(domid, 6);
	assert_int_equal(verbose, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_alone_runs_with_the_default_layout),
		cmocka_unit_test(test_domain_with_equals_sign_is_accepted),
		cmocka_unit_test(test_domain_in_hex_is_accepted),
		cmocka_unit_test(test_highest_domain_32751_is_accepted),
		cmocka_unit_test(test_missing_domain_is_refused),
		cmocka_unit_test(test_missing_domain_with_other_options_is_refused),
		cmocka_unit_test(test_domain_0_is_refused),
		cmocka_unit_test(test_domain_32752_is_refused),
		cmocka_unit_test(test_domain_abc_is_refused),
		cmocka_unit_test(test_domain_minus_1_is_refused),
		cmocka_unit_test(test_domain_5x_is_refused),
		cmocka_unit_test(test_empty_domain_is_refused),
		cmocka_unit_test(test_domain_beyond_64_bits_is_refused),
		cmocka_unit_test(test_domain_given_twice_is_refused),
		cmocka_unit_test(test_numbers_are_decimal_or_hex_never_octal),
		cmocka_unit_test(test_an_ambiguous_abbreviation_is_named_so),
		cmocka_unit_test(test_windows_too_small_for_the_bars_are_refused),
		cmocka_unit_test(test_ecam_with_m_suffix_is_accepted),
		cmocka_unit_test(test_small_ecam_gives_fewer_buses),
		cmocka_unit_test(test_windows_with_k_and_g_suffixes_are_accepted),
		cmocka_unit_test(test_decimal_window_is_accepted),
		cmocka_unit_test(test_ecam_without_comma_is_refused),
		cmocka_unit_test(test_mmio_with_three_numbers_is_refused),
		cmocka_unit_test(test_mmio64_with_empty_size_is_refused),
		cmocka_unit_test(test_window_with_unknown_suffix_is_refused),
		cmocka_unit_test(test_window_with_negative_size_is_refused),
		cmocka_unit_test(test_window_whose_suffix_overflows_is_refused),
		cmocka_unit_test(test_mmio_over_ram_bank_0_is_refused_by_layout_validation),
		cmocka_unit_test(test_ecam_over_mmio_is_refused_by_layout_validation),
		cmocka_unit_test(test_ecam_of_512m_is_refused_by_layout_validation),
		cmocka_unit_test(test_intx_spi_44_is_accepted),
		cmocka_unit_test(test_intx_spi_1016_is_accepted),
		cmocka_unit_test(test_intx_spi_20_is_refused),
		cmocka_unit_test(test_intx_spi_40_is_refused),
		cmocka_unit_test(test_intx_spi_1017_is_refused),
		cmocka_unit_test(test_intx_spi_2000_is_refused),
		cmocka_unit_test(test_intx_spi_4294967296_is_refused),
		cmocka_unit_test(test_unknown_option_is_refused),
		cmocka_unit_test(test_unknown_option_is_named_on_the_error_stream),
		cmocka_unit_test(test_option_missing_its_value_is_refused),
		cmocka_unit_test(test_stray_positional_argument_is_refused),
		cmocka_unit_test(test_stray_positional_argument_before_options_is_refused),
		cmocka_unit_test(test_v_sets_verbose),
		cmocka_unit_test(test_verbose_counts_each_time),
		cmocka_unit_test(test_help_exits_ok_and_prints_usage),
		cmocka_unit_test(test_help_without_domain_exits_ok),
		cmocka_unit_test(test_version_exits_ok_and_prints_the_version),
		cmocka_unit_test(test_second_parse_starts_afresh),
		cmocka_unit_test(test_parse_after_a_refused_parse_starts_afresh),
		cmocka_unit_test(test_parse_after_help_inside_an_option_cluster_starts_afresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
