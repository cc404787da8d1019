// SPDX-License-Identifier: MIT
/*
 * daemon/options.c: command-line parsing and validation. Every refusal names
 * the option and the value at fault; the layout checks are the same function
 * the device-tree generator uses (guest_layout_validate).
 */
#include "daemon/options.h"

#include "daemon/parse.h"
#include "xen/guest_memory.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* DOMID_FIRST_RESERVED in xen/xen.h: IDs from 0x7ff0 up are not domains. */
#define MAX_DOMID 0x7fef

static const char usage_text[] =
	"Usage: xen-virtio-pcid --domain ID [OPTIONS]\n"
	"   or: xen-virtio-pcid --config FILE [--check]   (the supervisor: see\n"
	"       xen-virtio-pcid --config FILE --help)\n"
	"   or: xen-virtio-pcid fdt [OPTIONS] -o FILE   (see xen-virtio-pcid fdt --help)\n"
	"Serve virtio-pci devices behind an emulated pci-host-ecam-generic host bridge\n"
	"to Xen domain ID, as an IOREQ server; or (--config) run one such worker for\n"
	"each guest a config file describes; or (fdt) write the guest's device-tree\n"
	"fragment for the same options.\n"
	"\n"
	"  --domain ID          the guest domain to serve (1..32751); it must exist\n"
	"  --ecam BASE,SIZE     ECAM window (default 0x10000000,0x10000000: 256 buses)\n"
	"  --mmio BASE,SIZE     32-bit BAR window, below 4 GiB (default 0x23000000,0x10000000)\n"
	"  --mmio64 BASE,SIZE   64-bit prefetchable BAR window (default 0x100000000,0x100000000)\n"
	"  --intx-spi FIRST     SPIs for INTA..INTD: FIRST..FIRST+3 (default 44)\n"
	"  --device SPEC        add a device (repeatable); SPEC is TYPE[,KEY=VALUE...]:\n"
	"                         rng[,addr=DEV][,queue-size=N][,rate=BYTES/s]\n"
	"                         blk,path=FILE[,readonly=on][,serial=STR][,direct=on][,queues=N]\n"
	"                            [,queue-size=N][,addr=DEV]\n"
	"                       addr: device number 1..31 on bus 0 (default: the lowest free)\n"
	"                       queue-size: entries per virtqueue, a power of two (default 256)\n"
	"                       rate: rng bytes per second (default: unlimited)\n"
	"  --map-budget SIZE    guest memory kept mapped at most (default 1G, at least 64M)\n"
	"  --uid-base N         once serving, run as uid and gid N + ID (default 1879048192)\n"
	"  --user USER          run as USER instead (a name, or UID[:GID]; root: stay root,\n"
	"                       not recommended); the Xen handles are restricted in any case\n"
	"  -v, --verbose        log debug messages\n"
	"  -h, --help           print this help and exit\n"
	"  -V, --version        print the version and exit\n"
	"\n"
	"Numbers are decimal or 0x-prefixed hexadecimal; sizes may end in K, M or G.\n"
	"The windows must not overlap each other or what Xen puts in every Arm guest\n"
	"(RAM banks, GIC, PL011, grant table, magic pages, ACPI area, virtio-mmio).\n"
	"Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 if serving failed,\n"
	"2 for a bad option or a domain that does not exist.\n";

#define PROGRAM "xen-virtio-pcid"

static const struct option long_options[] = {
	OPTIONS_CONFIG_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_window(const char *text, struct guest_window *window)
{
	const char *comma = strchr(text, ',');
	char base_text[64];

	if (!comma || (size_t)(comma - text) >= sizeof(base_text))
		return false;
	memcpy(base_text, text, (size_t)(comma - text));
	base_text[comma - text] = '\0';
	return parse_u64(base_text, &window->base) && parse_u64(comma + 1, &window->size);
}

enum options_result options_bad_value(FILE *err, const char *program, const char *option,
				      const char *value, const char *expected)
{
	fprintf(err, "%s: %s '%s': %s\n", program, option, value, expected);
	fprintf(err, "Try '%s --help'.\n", program);
	return OPTIONS_EXIT_ERROR;
}

static enum options_result add_device(struct daemon_options *opts, const char *arg,
				      const char *program, FILE *err)
{
	char why[256];

	if (opts->nr_devices == DEVICE_MAX) {
		fprintf(err, "%s: --device %s: at most %d devices\n", program, arg, DEVICE_MAX);
		return OPTIONS_EXIT_ERROR;
	}
	if (device_config_parse(arg, &opts->devices[opts->nr_devices], why, sizeof(why))) {
		fprintf(err, "%s: %s\n", program, why);
		return OPTIONS_EXIT_ERROR;
	}
	opts->nr_devices++;
	return OPTIONS_RUN;
}

static enum options_result apply_user(struct daemon_options *opts, const char *arg,
				      const char *program, FILE *err)
{
	char why[256];

	if (privileges_parse_user(arg, &opts->user, why, sizeof(why))) {
		fprintf(err, "%s: %s\n", program, why);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

static enum options_result apply_uid_base(struct daemon_options *opts, const char *arg,
					  const char *program, FILE *err)
{
	char why[256];

	if (privileges_parse_uid_base(arg, &opts->uid_base, why, sizeof(why))) {
		fprintf(err, "%s: %s\n", program, why);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

enum options_result options_apply(int code, const char *arg, struct daemon_options *opts,
				  const char *program, FILE *err)
{
	uint64_t value;

	switch (code) {
	case OPTIONS_DOMAIN:
		if (!parse_u64(arg, &value) || value < 1 || value > MAX_DOMID)
			return options_bad_value(err, program, "--domain", arg,
						 "expected a guest domain ID from 1 to 32751");
		opts->domid = (uint32_t)value;
		return OPTIONS_RUN;
	case OPTIONS_ECAM:
		if (!parse_window(arg, &opts->layout.ecam))
			return options_bad_value(err, program, "--ecam", arg, "expected BASE,SIZE");
		return OPTIONS_RUN;
	case OPTIONS_MMIO:
		if (!parse_window(arg, &opts->layout.mmio))
			return options_bad_value(err, program, "--mmio", arg, "expected BASE,SIZE");
		return OPTIONS_RUN;
	case OPTIONS_MMIO64:
		if (!parse_window(arg, &opts->layout.mmio64))
			return options_bad_value(err, program, "--mmio64", arg, "expected BASE,SIZE");
		return OPTIONS_RUN;
	case OPTIONS_INTX_SPI:
		if (!parse_u64(arg, &value) || value > GUEST_LAYOUT_SPI_MAX)
			return options_bad_value(err, program, "--intx-spi", arg,
						 "expected an SPI number from 32 to 1016");
		opts->layout.intx_spi = (unsigned int)value;
		return OPTIONS_RUN;
	case OPTIONS_DEVICE:
		return add_device(opts, arg, program, err);
	case OPTIONS_MAP_BUDGET:
		if (!parse_u64(arg, &value) || value < GUEST_MEMORY_MIN_BUDGET)
			return options_bad_value(err, program, "--map-budget", arg,
						 "expected a size of at least 64M");
		opts->map_budget = value;
		return OPTIONS_RUN;
	case OPTIONS_USER:
		return apply_user(opts, arg, program, err);
	case OPTIONS_UID_BASE:
		return apply_uid_base(opts, arg, program, err);
	case OPTIONS_SUPERVISOR_PID:
		/* Internal: the supervisor passes its own pid to its workers (workers.c). */
		if (!parse_u64(arg, &value) || value < 1 || value > INT32_MAX)
			return options_bad_value(err, program, "--supervisor-pid", arg, "expected a pid");
		opts->supervisor_pid = (int)value;
		return OPTIONS_RUN;
	case 'v':
		opts->verbose++;
		return OPTIONS_RUN;
	default:
		return OPTIONS_EXIT_ERROR;
	}
}

/* getopt's own messages go to stderr; ours name the option on @err. */
enum options_result options_getopt_error(int code, char **argv, const char *program, FILE *err)
{
	const char *word = argv[optind - 1];

	if (code == ':')
		fprintf(err, "%s: option '%s' needs a value\n", program, word);
	else if (optopt)
		fprintf(err, "%s: unknown option '-%c'\n", program, optopt);
	else
		fprintf(err, "%s: unknown option '%s'\n", program, word);
	fprintf(err, "Try '%s --help'.\n", program);
	return OPTIONS_EXIT_ERROR;
}

void options_init(struct daemon_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	guest_layout_default(&opts->layout);
	opts->map_budget = GUEST_MEMORY_DEFAULT_BUDGET;
	opts->uid_base = PRIVILEGES_DEFAULT_UID_BASE;
}

enum options_result options_check(struct daemon_options *opts, const char *program, FILE *err)
{
	char why[256];

	if (device_configs_finish(opts->devices, opts->nr_devices, why, sizeof(why)) ||
	    guest_layout_validate(&opts->layout, why, sizeof(why))) {
		fprintf(err, "%s: %s\n", program, why);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

enum options_result options_getopt(int argc, char **argv, const char *shortopts,
				   const struct option *longopts, const char *program,
				   options_apply_fn *apply, void *ctx, FILE *err)
{
	int opt;

	/* 0, not 1: glibc then also forgets a half-parsed cluster such as -hv. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		enum options_result result;

		if (opt == '?' || opt == ':')
			return options_getopt_error(opt, argv, program, err);
		result = apply(opt, optarg, ctx, err);
		if (result != OPTIONS_RUN)
			return result;
	}
	if (optind < argc) {
		fprintf(err, "%s: unexpected argument '%s'\n", program, argv[optind]);
		fprintf(err, "Try '%s --help'.\n", program);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

/* -h and -V: only the serving command line's own. */
static enum options_result apply_serving(int code, const char *arg, void *ctx, FILE *err)
{
	struct daemon_options *opts = ctx;

	switch (code) {
	case 'h':
		fputs(usage_text, stdout);
		return OPTIONS_EXIT_OK;
	case 'V':
		printf("xen-virtio-pcid %s\n", XVP_VERSION);
		return OPTIONS_EXIT_OK;
	default:
		return options_apply(code, arg, opts, PROGRAM, err);
	}
}

enum options_result options_parse(int argc, char **argv, struct daemon_options *opts, FILE *err)
{
	enum options_result result;

	options_init(opts);
	result = options_getopt(argc, argv, ":vhV", long_options, PROGRAM, apply_serving, opts, err);
	if (result != OPTIONS_RUN)
		return result;
	/* --domain takes 1..32751, so 0 means it was not given. */
	if (opts->domid == 0) {
		fprintf(err, PROGRAM ": --domain ID is required\n");
		fprintf(err, "Try '" PROGRAM " --help'.\n");
		return OPTIONS_EXIT_ERROR;
	}
	return options_check(opts, PROGRAM, err);
}
