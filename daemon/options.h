/* SPDX-License-Identifier: MIT */
/* daemon/options.h: the command line of xen-virtio-pcid. */
#ifndef XVP_DAEMON_OPTIONS_H
#define XVP_DAEMON_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/device_config.h"
#include "daemon/privileges.h"
#include "ecam/guest_layout.h"

/* Exit status for a configuration error (bad option, bad value, no such domain). */
#define EXIT_CONFIG_ERROR 2

/* The longest domain name a worker is told (its devices derive stable identities from it). */
#define OPTIONS_DOMAIN_NAME_MAX 64

struct daemon_options {
	uint32_t domid;
	struct guest_layout layout;
	uint64_t map_budget;	/* bytes of guest memory kept mapped at most */
	struct device_config devices[DEVICE_MAX];
	unsigned int nr_devices;
	struct privileges_user user;	/* --user: run as this once serving */
	uint32_t uid_base;		/* else as uid_base + domid (--uid-base) */
	int supervisor_pid;		/* --supervisor-pid: stop when it dies; 0: by hand */
	char domain_name[OPTIONS_DOMAIN_NAME_MAX + 1];	/* --guest-name: "" when unknown */
	int verbose;
};

enum options_result {
	OPTIONS_RUN,		/* serve with the parsed options */
	OPTIONS_EXIT_OK,	/* --help or --version was printed */
	OPTIONS_EXIT_ERROR,	/* a message was printed; exit EXIT_CONFIG_ERROR */
};

/* Parse argv; messages go to @err (help and version to stdout). */
enum options_result options_parse(int argc, char **argv, struct daemon_options *opts, FILE *err);

/*
 * The pieces options_parse() is made of, shared with the subcommands that
 * take the same configuration (`xen-virtio-pcid fdt`), so that one command
 * line means the same thing everywhere. @program prefixes every message
 * ("xen-virtio-pcid fdt") and names the --help to try.
 */
enum {
	OPTIONS_DOMAIN = 256, OPTIONS_ECAM, OPTIONS_MMIO, OPTIONS_MMIO64, OPTIONS_INTX_SPI,
	OPTIONS_DEVICE, OPTIONS_MAP_BUDGET, OPTIONS_USER, OPTIONS_UID_BASE, OPTIONS_SUPERVISOR_PID,
	OPTIONS_DOMAIN_NAME,
	OPTIONS_FIRST_FREE,	/* subcommands number their own options from here */
};

/* getopt_long entries of the configuration options (not -h, -V). */
#define OPTIONS_CONFIG_LONG_OPTIONS \
	{ "domain", required_argument, NULL, OPTIONS_DOMAIN }, \
	{ "ecam", required_argument, NULL, OPTIONS_ECAM }, \
	{ "mmio", required_argument, NULL, OPTIONS_MMIO }, \
	{ "mmio64", required_argument, NULL, OPTIONS_MMIO64 }, \
	{ "intx-spi", required_argument, NULL, OPTIONS_INTX_SPI }, \
	{ "device", required_argument, NULL, OPTIONS_DEVICE }, \
	{ "map-budget", required_argument, NULL, OPTIONS_MAP_BUDGET }, \
	{ "user", required_argument, NULL, OPTIONS_USER }, \
	{ "uid-base", required_argument, NULL, OPTIONS_UID_BASE }, \
	{ "supervisor-pid", required_argument, NULL, OPTIONS_SUPERVISOR_PID }, \
	{ "guest-name", required_argument, NULL, OPTIONS_DOMAIN_NAME }, \
	{ "verbose", no_argument, NULL, 'v' }

/* Defaults: no domain (domid 0), Xen's GUEST_VPCI_* windows, no devices. */
void options_init(struct daemon_options *opts);

/*
 * Set configuration option @code (an OPTIONS_* value or 'v') from @arg: 0,
 * or -EINVAL with the reason in @why, without the option and the value
 * ("out of range: expected a guest domain ID from 1 to 32751"), so that the
 * command line and the config file each name them their own way. Any other
 * @code is a programming error: -EINVAL.
 */
int options_set(int code, const char *arg, struct daemon_options *opts, char *why, size_t why_len);

/*
 * options_set() for a command line: OPTIONS_RUN, or OPTIONS_EXIT_ERROR after
 * "PROGRAM: --OPTION 'VALUE': WHY" and the --help hint on @err.
 */
enum options_result options_apply(int code, const char *arg, struct daemon_options *opts,
				  const char *program, FILE *err);

/* The command-line name of configuration option @code: "--intx-spi", "--verbose". */
const char *options_name(int code);
/* The reverse: the code of "--intx-spi", or -1. */
int options_code(const char *name);

/*
 * The getopt_long loop every command line of this program shares: each
 * option goes to @apply (with @ctx), and no argument may be left over.
 * An option with a value may be given once (but --device, which adds one
 * device each time); an ambiguous abbreviation is named as such.
 * OPTIONS_RUN, or what @apply returned, or OPTIONS_EXIT_ERROR after a
 * message on @err naming the option or argument at fault.
 */
typedef enum options_result options_apply_fn(int code, const char *arg, void *ctx, FILE *err);
enum options_result options_getopt(int argc, char **argv, const char *shortopts,
				   const struct option *longopts, const char *program,
				   options_apply_fn *apply, void *ctx, FILE *err);

/* "PROGRAM: OPTION 'VALUE': EXPECTED" and the --help hint, on @err. */
enum options_result options_bad_value(FILE *err, const char *program, const char *option,
				      const char *value, const char *expected);

/*
 * The checks made once every option is known: device slots, names and
 * images (device_configs_finish), the layout (guest_layout_validate, the one
 * function fdt/ also uses) and room in the windows for every device's BAR.
 * 0, or -EINVAL with the reason in @why; options_check() prints it.
 */
int options_validate(struct daemon_options *opts, char *why, size_t why_len);
enum options_result options_check(struct daemon_options *opts, const char *program, FILE *err);

/* Room for any one message of options_set() or options_validate(). */
#define OPTIONS_WHY_MAX 1024

#endif
