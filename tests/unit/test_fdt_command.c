// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_fdt_command.c: `xen-virtio-pcid fdt`: the serving options
 * mean the same here, its own options, refusals naming option and value,
 * and the files it writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include "daemon/fdt_command.h"
#include "fdt/guest_fragment.h"

static struct fdt_command_options opts;
static char err_text[4096];
static char dir[64];
static char dtb_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_fdt_command.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dtb_path, sizeof(dtb_path), "%s/guest.dtb", dir);
	return 0;
}

static int teardown(void **state)
{
	char command[160];

	(void)state;
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
	return 0;
}

static enum options_result parse(char **argv)
{
	enum options_result result;
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	int argc = 0;

	assert_non_null(err);
	while (argv[argc])
		argc++;
	memset(&opts, 0xaa, sizeof(opts));
	result = fdt_command_parse(argc, argv, &opts, err);
	fclose(err);
	snprintf(err_text, sizeof(err_text), "%s", text ? text : "");
	free(text);
	return result;
}

static void assert_refused(char **argv, const char *needle)
{
	assert_int_equal(parse(argv), OPTIONS_EXIT_ERROR);
	if (!strstr(err_text, needle))
		print_error("error text '%s' lacks '%s'\n", err_text, needle);
	assert_non_null(strstr(err_text, needle));
	assert_non_null(strstr(err_text, "xen-virtio-pcid fdt"));
}

/* A config file in the test's directory holding @text; its path in @path. */
static void write_config(const char *text, char *path, size_t len)
{
	FILE *file;

	snprintf(path, len, "%s/virtio-pci.cfg", dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

static const char two_blocks[] =
	"[domain \"vm1\"]\necam = \"0x10000000000,16M\"\nintx_spi = 200\n"
	"device = [ \"rng\", \"rng,addr=5\" ]\n"
	"[domain 7]\nmmio = \"0x30000000,0x8000000\"\ndevice = \"rng\"\n";

/* ---- --config FILE [--domain NAME|ID]: the block the supervisor serves */

static void test_config_and_domain_name_give_that_blocks_layout(void **state)
{
	char path[128];
	char *argv[] = { "fdt", "--config", path, "--domain", "vm1", "-o", dtb_path, NULL };

	(void)state;
	write_config(two_blocks, path, sizeof(path));
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.config.layout.ecam.base, 0x10000000000ULL);
	assert_int_equal(opts.config.layout.ecam.size, 0x1000000);
	assert_int_equal(opts.config.layout.intx_spi, 200);
	assert_int_equal(opts.config.nr_devices, 2);
	assert_int_equal(opts.config.devices[1].slot, 5);
}

static void test_config_and_domain_id_give_the_id_block(void **state)
{
	char path[128];
	char *argv[] = { "fdt", "--domain=7", "--config", path, "-o", dtb_path, NULL };

	(void)state;
	write_config(two_blocks, path, sizeof(path));
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.config.layout.mmio.base, 0x30000000);
	assert_int_equal(opts.config.layout.intx_spi, GUEST_LAYOUT_INTX_SPI);
	assert_int_equal(opts.config.nr_devices, 1);
}

static void test_config_with_one_block_needs_no_domain(void **state)
{
	char path[128];
	char *argv[] = { "fdt", "--config", path, "-o", dtb_path, NULL };

	(void)state;
	write_config("[domain 3]\nintx_spi = 100\ndevice = \"rng\"\n", path, sizeof(path));
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.config.layout.intx_spi, 100);
}

static void test_config_refusals_name_what_is_missing(void **state)
{
	char path[128];
	char *several[] = { "fdt", "--config", path, "-o", dtb_path, NULL };
	char *no_name[] = { "fdt", "--config", path, "--domain", "vm2", "-o", dtb_path, NULL };
	char *no_id[] = { "fdt", "--config", path, "--domain", "8", "-o", dtb_path, NULL };
	char *both[] = { "fdt", "--config", path, "--domain", "7", "--intx-spi", "100", "-o",
			 dtb_path, NULL };
	char *name_alone[] = { "fdt", "--domain", "vm1", "-o", dtb_path, NULL };

	(void)state;
	write_config(two_blocks, path, sizeof(path));
	assert_refused(several, "has 2 [domain ...] blocks: choose one with --domain NAME|ID");
	assert_refused(no_name, "--domain 'vm2': ");
	assert_refused(no_name, "has no [domain \"vm2\"] block");
	assert_refused(no_id, "has no [domain 8] block");
	assert_refused(both, "--intx-spi with --config");
	assert_refused(name_alone, "--domain 'vm1': not a number");
}

static void test_a_bad_config_file_is_refused_with_file_and_line(void **state)
{
	char path[128], expected[192];
	char *argv[] = { "fdt", "--config", path, "-o", dtb_path, NULL };

	(void)state;
	write_config("[domain 3]\ndevice = \"rng\"\nintx_spi = 060\n", path, sizeof(path));
	assert_int_equal(parse(argv), OPTIONS_EXIT_ERROR);
	snprintf(expected, sizeof(expected), "%s:3: intx_spi '060': a leading 0", path);
	if (!strstr(err_text, expected))
		fail_msg("'%s' lacks '%s'", err_text, expected);
}

/* ---- parsing */

static void test_output_alone_gives_the_default_layout_and_a_dtb(void **state)
{
	char *argv[] = { "fdt", "-o", "x.dtb", NULL };
	struct guest_layout expected;

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	guest_layout_default(&expected);
	assert_memory_equal(&opts.config.layout.ecam, &expected.ecam, sizeof(expected.ecam));
	assert_memory_equal(&opts.config.layout.mmio, &expected.mmio, sizeof(expected.mmio));
	assert_memory_equal(&opts.config.layout.mmio64, &expected.mmio64, sizeof(expected.mmio64));
	assert_int_equal(opts.config.layout.intx_spi, expected.intx_spi);
	assert_string_equal(opts.output, "x.dtb");
	assert_int_equal(opts.format, FDT_FORMAT_DTB);
	assert_int_equal(opts.pci_domain, GUEST_FRAGMENT_NO_PCI_DOMAIN);
	assert_null(opts.xl_path);
	assert_null(opts.dom0less_path);
	assert_string_equal(err_text, "");
}

static void test_serving_options_mean_the_same(void **state)
{
	char *argv[] = { "fdt", "--domain", "5", "--ecam", "0x10000000,16M", "--mmio",
			 "0x30000000,128M", "--mmio64", "0x10100000000,8G", "--intx-spi", "200",
			 "--device", "rng", "--device", "blk,path=/nonexistent.img,addr=5",
			 "--map-budget", "2G", "-v", "--output=y.dtb", "--format", "dts",
			 "--pci-domain", "0x10", NULL };

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	assert_int_equal(opts.config.layout.ecam.size, 16 << 20);
	assert_int_equal(opts.config.layout.mmio.base, 0x30000000);
	assert_int_equal(opts.config.layout.mmio64.base, 0x10100000000ULL);
	assert_int_equal(opts.config.layout.intx_spi, 200);
	/* device_configs_finish() ran: slots given, names set; no image opened. */
	assert_int_equal(opts.config.nr_devices, 2);
	assert_int_equal(opts.config.devices[0].slot, 1);
	assert_string_equal(opts.config.devices[1].name, "blk0");
	assert_int_equal(opts.format, FDT_FORMAT_DTS);
	assert_int_equal(opts.pci_domain, 16);
}

static void test_missing_output_is_refused(void **state)
{
	char *argv[] = { "fdt", "--intx-spi", "50", NULL };

	(void)state;
	assert_refused(argv, "-o FILE is required");
}

static void test_unknown_format_is_refused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--format", "yaml", NULL };

	(void)state;
	assert_refused(argv, "--format 'yaml': expected dtb or dts");
}

static void test_pci_domain_65536_is_refused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--pci-domain", "65536", NULL };

	(void)state;
	assert_refused(argv, "--pci-domain '65536'");
}

static void test_xl_lines_with_dts_are_refused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--format", "dts", "--xl", "x.cfg", NULL };

	(void)state;
	assert_refused(argv, "--xl and --dom0less describe a dtb");
}

static void test_bad_window_is_refused_as_serving_would(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--ecam", "0x10000000", NULL };

	(void)state;
	assert_refused(argv, "--ecam '0x10000000': expected BASE,SIZE");
	assert_non_null(strstr(err_text, "Try 'xen-virtio-pcid fdt --help'."));
}

static void test_overlapping_windows_are_refused_by_layout_validation(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--mmio", "0x18000000,16M", NULL };

	(void)state;
	assert_refused(argv, "--ecam 0x10000000,0x10000000 overlaps --mmio 0x18000000,0x1000000");
}

static void test_two_devices_on_one_slot_are_refused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--device", "rng,addr=3", "--device", "rng,addr=3", NULL };

	(void)state;
	assert_refused(argv, "two devices at addr=3");
}

static void test_bad_domain_is_refused_even_though_unused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "--domain", "0", NULL };

	(void)state;
	assert_refused(argv, "--domain '0'");
}

static void test_stray_argument_is_refused(void **state)
{
	char *argv[] = { "fdt", "-o", "x", "guest.dtb", NULL };

	(void)state;
	assert_refused(argv, "unexpected argument 'guest.dtb'");
}

/* ---- running */

static char *run_capturing(int *status)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	FILE *err = tmpfile();

	assert_non_null(out);
	assert_non_null(err);
	*status = fdt_command_run(&opts, out, err);
	fclose(out);
	fclose(err);
	return text;
}

static void test_run_writes_the_fragment_and_prints_both_sets_of_lines(void **state)
{
	char *argv[] = { "fdt", "-o", dtb_path, NULL };
	static uint64_t expected[GUEST_FRAGMENT_MAX_SIZE / 8], written[GUEST_FRAGMENT_MAX_SIZE / 8];
	const struct guest_fragment_config config = { &opts.config.layout,
						      GUEST_FRAGMENT_NO_PCI_DOMAIN };
	char why[256], needle[200], *text;
	FILE *file;
	size_t len;
	int status;

	(void)state;
	assert_int_equal(parse(argv), OPTIONS_RUN);
	text = run_capturing(&status);
	assert_int_equal(status, 0);
	assert_int_equal(guest_fragment_build(&config, expected, sizeof(expected), why, sizeof(why)), 0);
	file = fopen(dtb_path, "rb");
	assert_non_null(file);
	len = fread(written, 1, sizeof(written), file);
	fclose(file);
	assert_int_equal(len, fdt_totalsize(expected));
	assert_memory_equal(written, expected, len);
	snprintf(needle, sizeof(needle), "\ndevice_tree = \"%s\"\n", dtb_path);
	assert_non_null(strstr(text, needle));
	assert_non_null(strstr(text, "\tnr_spis = <16>;\n"));
	free(text);
}

static void test_run_writes_the_lines_to_their_files(void **state)
{
	char xl[160], dom0less[160], *text;
	char *argv[] = { "fdt", "-o", dtb_path, "--xl", xl, "--dom0less", dom0less, NULL };
	char line[256];
	FILE *file;
	int status;

	(void)state;
	snprintf(xl, sizeof(xl), "%s/guest.cfg", dir);
	snprintf(dom0less, sizeof(dom0less), "%s/domU.dtsi", dir);
	assert_int_equal(parse(argv), OPTIONS_RUN);
	text = run_capturing(&status);
	assert_int_equal(status, 0);
	assert_true(!text || !*text);	/* nothing on stdout */
	free(text);
	file = fopen(xl, "r");
	assert_non_null(file);
	while (fgets(line, sizeof(line), file) && strcmp(line, "nr_spis = 16\n"))
		;
	assert_string_equal(line, "nr_spis = 16\n");
	fclose(file);
	file = fopen(dom0less, "r");
	assert_non_null(file);
	assert_non_null(fgets(line, sizeof(line), file));
	assert_string_equal(line, "/*\n");
	fclose(file);
}

static void test_unwritable_output_exits_1(void **state)
{
	char path[160], *text;
	char *argv[] = { "fdt", "-o", path, NULL };
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/no/such/dir/guest.dtb", dir);
	assert_int_equal(parse(argv), OPTIONS_RUN);
	text = run_capturing(&status);
	assert_int_equal(status, 1);
	free(text);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_config_and_domain_name_give_that_blocks_layout),
		TEST(test_config_and_domain_id_give_the_id_block),
		TEST(test_config_with_one_block_needs_no_domain),
		TEST(test_config_refusals_name_what_is_missing),
		TEST(test_a_bad_config_file_is_refused_with_file_and_line),
		TEST(test_output_alone_gives_the_default_layout_and_a_dtb),
		TEST(test_serving_options_mean_the_same),
		TEST(test_missing_output_is_refused),
		TEST(test_unknown_format_is_refused),
		TEST(test_pci_domain_65536_is_refused),
		TEST(test_xl_lines_with_dts_are_refused),
		TEST(test_bad_window_is_refused_as_serving_would),
		TEST(test_overlapping_windows_are_refused_by_layout_validation),
		TEST(test_two_devices_on_one_slot_are_refused),
		TEST(test_bad_domain_is_refused_even_though_unused),
		TEST(test_stray_argument_is_refused),
		TEST(test_run_writes_the_fragment_and_prints_both_sets_of_lines),
		TEST(test_run_writes_the_lines_to_their_files),
		TEST(test_unwritable_output_exits_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
