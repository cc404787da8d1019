// SPDX-License-Identifier: MIT
/* guest/rescan_options.c: parse the command line of xen-virtio-pci-rescan. */
#include "guest/rescan_options.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "xen-virtio-pci-rescan"

static const char usage_text[] =
	"Usage: " PROGRAM " [--once] [--timeout S] [--poll FIRST[,MAX]] [--no-watch]\n"
	"         [--sysfs DIR] [--proc DIR] [-v|--verbose]\n"
	"   or: " PROGRAM " -h|--help | -V|--version\n"
	"In a Xen guest: rescan PCI when xen-virtio-pcid's functions appear.\n"
	"With xenstore, rescans whenever data/virtio-pci/generation changes; without,\n"
	"rescans with growing waits until a virtio function appears. While the kernel\n"
	"waits for dom0's init-dom0less (xenstore_late_init in /proc/interrupts), it\n"
	"leaves xenstore alone and rescans with growing waits until xenbus is up.\n"
	"  --sysfs DIR          where sysfs is (default /sys)\n"
	"  --proc DIR           where procfs is (default /proc)\n"
	"  --once               exit 0 after the first rescan that finds a virtio function\n"
	"  --timeout S          give up (exit 1) after S seconds without one: always\n"
	"                       without xenstore, with --once otherwise (default 600)\n"
	"  --poll FIRST[,MAX]   without xenstore or before xenbus is up: seconds\n"
	"                       between rescans, doubling from FIRST up to MAX\n"
	"                       (default 1,60)\n"
	"  --no-watch           with xenstore: read the key every FIRST seconds instead of\n"
	"                       watching it (always so in the -static build, whose\n"
	"                       libxenstore cannot watch reliably)\n"
	"  -v, --verbose        say what happens\n"
	"  -h, --help           this text\n"
	"  -V, --version        print the version and exit\n";

enum { OPT_SYSFS = 256, OPT_PROC, OPT_ONCE, OPT_TIMEOUT, OPT_POLL, OPT_NO_WATCH };

static const struct option long_options[] = {
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "proc", required_argument, NULL, OPT_PROC },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "no-watch", no_argument, NULL, OPT_NO_WATCH },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static enum rescan_options_result bad_value(FILE *err, const char *option, const char *value,
					    const char *expected)
{
	fprintf(err, PROGRAM ": %s '%s': %s\nTry '" PROGRAM " --help'.\n", option, value, expected);
	return RESCAN_EXIT_ERROR;
}

/* A positive number of seconds ("0.5", "10") at @text; *end is where it stops. */
static bool parse_seconds(const char *text, const char **end, double *seconds)
{
	char *stop;
	double value = strtod(text, &stop);

	*end = stop;
	if (stop == text || !isfinite(value) || value <= 0 || value > 1e6)
		return false;
	*seconds = value;
	return true;
}

static bool parse_whole_seconds(const char *text, double *seconds)
{
	const char *end;

	return parse_seconds(text, &end, seconds) && *end == '\0';
}

static bool parse_poll(const char *text, struct rescan_options *opts)
{
	const char *comma;

	if (!parse_seconds(text, &comma, &opts->poll_first))
		return false;
	if (*comma == '\0') {
		if (opts->poll_max < opts->poll_first)
			opts->poll_max = opts->poll_first;
		return true;
	}
	return *comma == ',' && parse_whole_seconds(comma + 1, &opts->poll_max) &&
	       opts->poll_max >= opts->poll_first;
}

static enum rescan_options_result apply(int code, const char *arg, struct rescan_options *opts,
					FILE *err)
{
	switch (code) {
	case OPT_SYSFS:
		if (!*arg)
			return bad_value(err, "--sysfs", arg, "expected a directory");
		opts->sysfs = arg;
		break;
	case OPT_PROC:
		if (!*arg)
			return bad_value(err, "--proc", arg, "expected a directory");
		opts->proc = arg;
		break;
	case OPT_ONCE:
		opts->once = true;
		break;
	case OPT_TIMEOUT:
		if (!parse_whole_seconds(arg, &opts->timeout))
			return bad_value(err, "--timeout", arg, "expected seconds (> 0)");
		break;
	case OPT_POLL:
		if (!parse_poll(arg, opts))
			return bad_value(err, "--poll", arg, "expected FIRST[,MAX] seconds, FIRST <= MAX");
		break;
	case OPT_NO_WATCH:
		opts->no_watch = true;
		break;
	case 'v':
		opts->verbose = true;
		break;
	default:
		return RESCAN_EXIT_ERROR;
	}
	return RESCAN_RUN;
}

/* getopt_long returned ':' (a value is missing) or '?' (unknown option). */
static enum rescan_options_result getopt_error(int code, char **argv, FILE *err)
{
	fprintf(err, PROGRAM ": %s: %s\nTry '" PROGRAM " --help'.\n", argv[optind - 1],
		code == ':' ? "needs a value" : "unknown option");
	return RESCAN_EXIT_ERROR;
}

enum rescan_options_result rescan_options_parse(int argc, char **argv, struct rescan_options *opts,
						FILE *out, FILE *err)
{
	int code;

	*opts = (struct rescan_options){ .sysfs = "/sys", .proc = "/proc", .timeout = 600,
					 .poll_first = 1, .poll_max = 60 };
	optind = 1;
	opterr = 0;
	while ((code = getopt_long(argc, argv, ":vhV", long_options, NULL)) != -1) {
		enum rescan_options_result result;

		if (code == 'h') {
			fputs(usage_text, out);
			return RESCAN_EXIT_OK;
		}
		if (code == 'V') {
			/* XVP_VERSION: the Makefile's VERSION, as for xen-virtio-pcid. */
			fputs(PROGRAM " " XVP_VERSION "\n", out);
			return RESCAN_EXIT_OK;
		}
		if (code == '?' || code == ':')
			return getopt_error(code, argv, err);
		result = apply(code, optarg, opts, err);
		if (result != RESCAN_RUN)
			return result;
	}
	if (optind < argc) {
		fprintf(err, PROGRAM ": unexpected argument '%s'\nTry '" PROGRAM " --help'.\n",
			argv[optind]);
		return RESCAN_EXIT_ERROR;
	}
	return RESCAN_RUN;
}
