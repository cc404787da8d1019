// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_rescan.c: the guest helper's logic (guest/rescan_logic.c,
 * guest/rescan_options.c) against a fake sysfs tree in a temporary
 * directory: bus/pci/rescan and bus/pci/devices/<function>/vendor, as Linux
 * lays them out, and a fake proc/interrupts in Linux's format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/rescan_logic.h"
#include "guest/rescan_options.h"

struct fake_sysfs {
	char root[64];
};

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

static void make(struct fake_sysfs *s, const char *relative)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", s->root, relative);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* A function's directory, with a vendor file unless @vendor is NULL. */
static void add_function(struct fake_sysfs *s, const char *name, const char *vendor)
{
	char path[256];	/* names are short: 0000:00:01.0 */

	snprintf(path, sizeof(path), "bus/pci/devices/%s", name);
	make(s, path);
	if (!vendor)
		return;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vendor", s->root, name);
	write_file(path, vendor);
}

static int setup(void **state)
{
	struct fake_sysfs *s = calloc(1, sizeof(*s));
	char rescan[128];

	strcpy(s->root, "/tmp/xvp-sysfs-XXXXXX");
	assert_non_null(mkdtemp(s->root));
	make(s, "bus");
	make(s, "bus/pci");
	make(s, "bus/pci/devices");
	snprintf(rescan, sizeof(rescan), "%s/bus/pci/rescan", s->root);
	write_file(rescan, "");
	*state = s;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fake_sysfs *s = *state;

	nftw(s->root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(s);
	return 0;
}

static void read_rescan(struct fake_sysfs *s, char *text, size_t size)
{
	char path[128];
	FILE *file;
	size_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/rescan", s->root);
	file = fopen(path, "r");
	assert_non_null(file);
	n = fread(text, 1, size - 1, file);
	text[n] = '\0';
	fclose(file);
}

/* ---- sysfs */

/* What `echo 1 > /sys/bus/pci/rescan` writes. */
static void trigger_writes_1_to_bus_pci_rescan(void **state)
{
	struct fake_sysfs *s = *state;
	char text[16];

	assert_int_equal(rescan_trigger(s->root), 0);
	read_rescan(s, text, sizeof(text));
	assert_string_equal(text, "1\n");
}

/* No PCI in the kernel (or a wrong --sysfs): the error says so, nothing is created. */
static void trigger_without_the_rescan_file_fails(void **state)
{
	struct fake_sysfs *s = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/bus/pci/rescan", s->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rescan_trigger(s->root), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
}

/* Only functions whose vendor reads 0x1af4 count, however the rest look. */
static void count_finds_virtio_functions_only(void **state)
{
	struct fake_sysfs *s = *state;

	assert_int_equal(rescan_count_virtio(s->root), 0);
	add_function(s, "0000:00:00.0", "0x1b36\n");	/* the host bridge */
	assert_int_equal(rescan_count_virtio(s->root), 0);
	add_function(s, "0000:00:01.0", "0x1af4\n");
	add_function(s, "0000:00:02.0", "0x1AF4");
	add_function(s, "0000:00:03.0", NULL);		/* appearing: no vendor yet */
	add_function(s, "0000:00:04.0", "");
	add_function(s, "0000:00:05.0", "0x8086\n");
	assert_int_equal(rescan_count_virtio(s->root), 2);
}

static void count_without_pci_devices_fails(void **state)
{
	(void)state;
	assert_int_equal(rescan_count_virtio("/nonexistent-sysfs"), -ENOENT);
}

/* ---- the xenbus state, from /proc/interrupts */

/*
 * The lines of an arm64 dom0less guest with two vCPUs (Linux 6.12) around
 * the xenstore one: the header, GIC and event-channel interrupts, IPIs
 * (whose names have spaces) and Err.
 */
#define INTERRUPTS_HEAD \
	"           CPU0       CPU1       \n" \
	" 11:       4123       3991     GICv3  27 Level     arch_timer\n" \
	" 12:          0          0     GICv3  33 Level     uart-pl011\n"
#define INTERRUPTS_TAIL \
	" 46:          0          0     GICv3  45 Level     virtio0\n" \
	"IPI0:       213        250       Rescheduling interrupts\n" \
	"IPI1:        17         31       Function call interrupts\n" \
	"IPI2:         0          0       CPU stop interrupts\n" \
	"IPI3:         0          0       CPU stop NMIs\n" \
	"IPI4:         0          0       Timer broadcast interrupts\n" \
	"IPI5:         0          0       IRQ work interrupts\n" \
	"Err:          0\n"
#define LINE_LATE_INIT	"  5:          0          0  xen-dyn    -event     xenstore_late_init\n"
#define LINE_XENBUS	"  5:         12          3  xen-dyn    -event     xenbus\n"

/* @s->root/proc/interrupts holding @text; the proc directory's path in @proc. */
static void write_interrupts(struct fake_sysfs *s, const char *text, char *proc, size_t size)
{
	char path[128];

	snprintf(proc, size, "%s/proc", s->root);
	mkdir(proc, 0755);
	snprintf(path, sizeof(path), "%s/interrupts", proc);
	write_file(path, text);
}

static int xenbus_state_of(struct fake_sysfs *s, const char *text)
{
	char proc[96];

	write_interrupts(s, text, proc, sizeof(proc));
	return rescan_xenbus_state(proc);
}

/* Before dom0 ran init-dom0less: xenstore comes later, nothing may ask it yet. */
static void xenbus_is_late_while_xenstore_late_init_is_listed(void **state)
{
	struct fake_sysfs *s = *state;

	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD LINE_LATE_INIT INTERRUPTS_TAIL),
			 RESCAN_XENBUS_LATE);
}

/* The kernel connected: "xenbus" replaced "xenstore_late_init" (same in an xl guest). */
static void xenbus_is_ready_once_xenbus_is_listed(void **state)
{
	struct fake_sysfs *s = *state;

	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD LINE_XENBUS INTERRUPTS_TAIL),
			 RESCAN_XENBUS_READY);
	/* Both at once (not seen, but "xenbus" is what says the kernel connected). */
	assert_int_equal(xenbus_state_of(s, LINE_LATE_INIT INTERRUPTS_HEAD LINE_XENBUS),
			 RESCAN_XENBUS_READY);
}

/* xen,enhanced = "no-xenstore", a guest without xenbus, or no Xen at all. */
static void xenbus_is_absent_when_neither_is_listed(void **state)
{
	struct fake_sysfs *s = *state;

	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD INTERRUPTS_TAIL), RESCAN_XENBUS_ABSENT);
	assert_int_equal(xenbus_state_of(s, ""), RESCAN_XENBUS_ABSENT);
}

/* Only a whole last field is a name: longer names and words in the middle are not. */
static void xenbus_names_match_whole_last_fields_only(void **state)
{
	struct fake_sysfs *s = *state;

	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD
		"  6:          0          0  xen-dyn    -event     xenbus_frontend\n"
		"  7:          0          0  xen-dyn    -event     my-xenbus\n"
		"  8:          0          0  xen-dyn    -event     xenstore_late_init_old\n"
		"IPI6:         0          0       xenbus interrupts\n"
		"IPI7:         0          0       xenstore_late_init interrupts\n"
		"  9:          0          0  xenbus    -event     virtio1\n"
		INTERRUPTS_TAIL), RESCAN_XENBUS_ABSENT);
	/* Trailing blanks, tabs, no final newline: still the name. */
	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD "  5:\t12\t3\txen-dyn\t-event\txenbus \t"),
			 RESCAN_XENBUS_READY);
	assert_int_equal(xenbus_state_of(s, INTERRUPTS_HEAD "  5:   0   0  xen-dyn  -event  xenstore_late_init  \n"),
			 RESCAN_XENBUS_LATE);
}

/* A machine with many CPUs has lines longer than any fixed buffer. */
static void xenbus_state_reads_lines_of_any_length(void **state)
{
	struct fake_sysfs *s = *state;
	size_t size = 256 * 11 + 128, len;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, "  5:");
	for (int cpu = 0; cpu < 256; cpu++)
		len += (size_t)snprintf(text + len, size - len, " %10d", cpu);
	snprintf(text + len, size - len, "  xen-dyn    -event     xenbus\n");
	assert_true(strlen(text) > 2048);
	assert_int_equal(xenbus_state_of(s, text), RESCAN_XENBUS_READY);
	free(text);
}

/* No procfs mounted (or a wrong --proc): the error, for the caller to report. */
static void xenbus_state_without_interrupts_fails(void **state)
{
	(void)state;
	assert_int_equal(rescan_xenbus_state("/nonexistent-proc"), -ENOENT);
}

/* ---- backoff */

static void backoff_doubles_up_to_its_maximum(void **state)
{
	static const double expected[] = { 1, 2, 4, 8, 16, 32, 60, 60 };
	struct rescan_backoff backoff;

	(void)state;
	rescan_backoff_init(&backoff, 1, 60);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		assert_true(rescan_backoff_next(&backoff) == expected[i]);
}

static void backoff_maximum_below_first_means_fixed_waits(void **state)
{
	struct rescan_backoff backoff;

	(void)state;
	rescan_backoff_init(&backoff, 0.5, 0.1);
	assert_true(rescan_backoff_next(&backoff) == 0.5);
	assert_true(rescan_backoff_next(&backoff) == 0.5);
}

/* ---- the generation rule of interface version 1 */

static void generation_rescans_on_each_new_value_only(void **state)
{
	struct rescan_generation generation = { 0 };

	(void)state;
	assert_false(rescan_generation_changed(&generation, NULL));	/* no daemon yet */
	assert_true(rescan_generation_changed(&generation, "1"));
	assert_false(rescan_generation_changed(&generation, "1"));	/* a spurious watch */
	assert_true(rescan_generation_changed(&generation, "2"));
	assert_true(rescan_generation_changed(&generation, "7"));	/* raises may be merged */
	assert_false(rescan_generation_changed(&generation, "7"));
}

/* A daemon that stops removes the key; the next one may start at "1" again. */
static void generation_after_removal_rescans_whatever_the_value(void **state)
{
	struct rescan_generation generation = { 0 };

	(void)state;
	assert_true(rescan_generation_changed(&generation, "1"));
	assert_false(rescan_generation_changed(&generation, NULL));
	assert_true(rescan_generation_changed(&generation, "1"));
}

/* ---- options */

static struct rescan_options opts;
static char err_text[1024];
static char out_text[4096];

/* Parse @argv; what it printed on its output and error streams is kept. */
static enum rescan_options_result parse(char **argv)
{
	enum rescan_options_result result;
	char *text = NULL, *printed = NULL;
	size_t len = 0, printed_len = 0;
	FILE *err = open_memstream(&text, &len);
	FILE *out = open_memstream(&printed, &printed_len);
	int argc = 0;

	assert_non_null(err);
	assert_non_null(out);
	while (argv[argc])
		argc++;
	result = rescan_options_parse(argc, argv, &opts, out, err);
	fclose(err);
	fclose(out);
	snprintf(err_text, sizeof(err_text), "%s", text ? text : "");
	snprintf(out_text, sizeof(out_text), "%s", printed ? printed : "");
	free(text);
	free(printed);
	return result;
}

static void options_defaults(void **state)
{
	char *argv[] = { "xen-virtio-pci-rescan", NULL };

	(void)state;
	assert_int_equal(parse(argv), RESCAN_RUN);
	assert_string_equal(opts.sysfs, "/sys");
	assert_string_equal(opts.proc, "/proc");
	assert_false(opts.once);
	assert_false(opts.verbose);
	assert_true(opts.timeout == 600);
	assert_true(opts.poll_first == 1 && opts.poll_max == 60);
}

static void options_all_given(void **state)
{
	char *argv[] = { "xen-virtio-pci-rescan", "--sysfs", "/tmp/fake", "--proc", "/tmp/proc",
			 "--once", "--timeout", "2.5", "--poll", "0.05,0.4", "-v", NULL };

	(void)state;
	assert_int_equal(parse(argv), RESCAN_RUN);
	assert_string_equal(opts.sysfs, "/tmp/fake");
	assert_string_equal(opts.proc, "/tmp/proc");
	assert_true(opts.once && opts.verbose);
	assert_true(opts.timeout == 2.5);
	assert_true(opts.poll_first == 0.05 && opts.poll_max == 0.4);
}

/* --poll FIRST alone keeps the default maximum, or raises it to FIRST. */
static void options_poll_first_only(void **state)
{
	char *small[] = { "xen-virtio-pci-rescan", "--poll", "5", NULL };
	char *large[] = { "xen-virtio-pci-rescan", "--poll", "90", NULL };

	(void)state;
	assert_int_equal(parse(small), RESCAN_RUN);
	assert_true(opts.poll_first == 5 && opts.poll_max == 60);
	assert_int_equal(parse(large), RESCAN_RUN);
	assert_true(opts.poll_first == 90 && opts.poll_max == 90);
}

/* --version (and -V) print the program and the project's version, and exit 0. */
static void options_version_prints_the_version(void **state)
{
	char *long_form[] = { "xen-virtio-pci-rescan", "--version", NULL };
	char *short_form[] = { "xen-virtio-pci-rescan", "-V", "--once", NULL };

	(void)state;
	assert_int_equal(parse(long_form), RESCAN_EXIT_OK);
	assert_string_equal(out_text, "xen-virtio-pci-rescan " XVP_VERSION "\n");
	assert_string_equal(err_text, "");
	assert_int_equal(parse(short_form), RESCAN_EXIT_OK);
	assert_string_equal(out_text, "xen-virtio-pci-rescan " XVP_VERSION "\n");
}

/* --help's synopsis names every option (the man page's SYNOPSIS follows it). */
static void options_help_synopsis_names_every_option(void **state)
{
	static const char *const options[] = { "--once", "--timeout", "--poll", "--no-watch",
						"--sysfs", "--proc", "--verbose", "--help",
						"--version" };
	char *help[] = { "xen-virtio-pci-rescan", "--help", NULL };
	char synopsis[1024];
	size_t i;

	(void)state;
	assert_int_equal(parse(help), RESCAN_EXIT_OK);
	/* The synopsis: the Usage lines, before the description. */
	assert_non_null(strstr(out_text, "\nIn a Xen guest"));
	snprintf(synopsis, sizeof(synopsis), "%.*s",
		 (int)(strstr(out_text, "\nIn a Xen guest") - out_text), out_text);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!strstr(synopsis, options[i]))
			print_error("the synopsis lacks %s:\n%s\n", options[i], synopsis);
		assert_non_null(strstr(synopsis, options[i]));
	}
}

/* --no-watch is taken. */
static void options_no_watch(void **state)
{
	char *argv[] = { "xen-virtio-pci-rescan", "--no-watch", NULL };
	char *plain[] = { "xen-virtio-pci-rescan", NULL };

	(void)state;
	assert_int_equal(parse(plain), RESCAN_RUN);
	assert_false(opts.no_watch);
	assert_int_equal(parse(argv), RESCAN_RUN);
	assert_true(opts.no_watch);
}

static void assert_refused(char **argv, const char *needle)
{
	assert_int_equal(parse(argv), RESCAN_EXIT_ERROR);
	if (!strstr(err_text, needle))
		print_error("error text '%s' lacks '%s'\n", err_text, needle);
	assert_non_null(strstr(err_text, needle));
}

static void options_bad_ones_are_refused_by_name(void **state)
{
	char *zero[] = { "p", "--timeout", "0", NULL };
	char *word[] = { "p", "--timeout", "soon", NULL };
	char *order[] = { "p", "--poll", "2,1", NULL };
	char *trailing[] = { "p", "--poll", "1,", NULL };
	char *missing[] = { "p", "--sysfs", NULL };
	char *empty[] = { "p", "--sysfs", "", NULL };
	char *no_proc[] = { "p", "--proc", NULL };
	char *empty_proc[] = { "p", "--proc", "", NULL };
	char *unknown[] = { "p", "--rescan-now", NULL };
	char *extra[] = { "p", "now", NULL };

	(void)state;
	assert_refused(zero, "--timeout '0'");
	assert_refused(word, "--timeout 'soon'");
	assert_refused(order, "--poll '2,1'");
	assert_refused(trailing, "--poll '1,'");
	assert_refused(missing, "--sysfs: needs a value");
	assert_refused(empty, "--sysfs ''");
	assert_refused(no_proc, "--proc: needs a value");
	assert_refused(empty_proc, "--proc ''");
	assert_refused(unknown, "--rescan-now: unknown option");
	assert_refused(extra, "unexpected argument 'now'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(trigger_writes_1_to_bus_pci_rescan, setup, teardown),
		cmocka_unit_test_setup_teardown(trigger_without_the_rescan_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(count_finds_virtio_functions_only, setup, teardown),
		cmocka_unit_test(count_without_pci_devices_fails),
		cmocka_unit_test_setup_teardown(xenbus_is_late_while_xenstore_late_init_is_listed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(xenbus_is_ready_once_xenbus_is_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(xenbus_is_absent_when_neither_is_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(xenbus_names_match_whole_last_fields_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(xenbus_state_reads_lines_of_any_length, setup, teardown),
		cmocka_unit_test(xenbus_state_without_interrupts_fails),
		cmocka_unit_test(backoff_doubles_up_to_its_maximum),
		cmocka_unit_test(backoff_maximum_below_first_means_fixed_waits),
		cmocka_unit_test(generation_rescans_on_each_new_value_only),
		cmocka_unit_test(generation_after_removal_rescans_whatever_the_value),
		cmocka_unit_test(options_defaults),
		cmocka_unit_test(options_all_given),
		cmocka_unit_test(options_poll_first_only),
		cmocka_unit_test(options_bad_ones_are_refused_by_name),
		cmocka_unit_test(options_version_prints_the_version),
		cmocka_unit_test(options_help_synopsis_names_every_option),
		cmocka_unit_test(options_no_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
