/* SPDX-License-Identifier: MIT */
/*
 * daemon/fdt_command.h: `xen-virtio-pcid fdt`: the guest's device-tree
 * fragment (and the matching xl.cfg and dom0less lines) for the same
 * options the daemon serves with.
 */
#ifndef XVP_DAEMON_FDT_COMMAND_H
#define XVP_DAEMON_FDT_COMMAND_H

#include <stdio.h>

#include "daemon/options.h"
#include "fdt/guest_fragment.h"

enum fdt_format {
	FDT_FORMAT_DTB,
	FDT_FORMAT_DTS,		/* through dtc -I dtb -O dts */
};

struct fdt_command_options {
	struct daemon_options config;	/* the serving options: layout, devices */
	const char *config_path;	/* --config FILE: the options of one of its blocks */
	const char *domain;		/* --domain NAME|ID as given: which block */
	const char *serving_option;	/* the first serving option given (not --domain) */
	long pci_domain;		/* GUEST_FRAGMENT_NO_PCI_DOMAIN if not given */
	const char *output;		/* -o FILE */
	enum fdt_format format;
	enum guest_fragment_target target;	/* --for xl|dom0less */
	const char *xl_path;		/* --xl FILE, or NULL: xl lines to stdout */
	const char *dom0less_path;	/* --dom0less FILE, or NULL: to stdout */
};

/*
 * Parse `fdt` and its options (@argv[0] is "fdt"), with the same checks as
 * serving (options_check). With --config FILE the serving options are those
 * of the block the supervisor would give its worker: [domain "NAME"] for
 * --domain NAME, [domain ID] for --domain ID, the only block without
 * --domain. Messages on @err, --help on stdout.
 */
enum options_result fdt_command_parse(int argc, char **argv, struct fdt_command_options *opts,
				      FILE *err);

/*
 * Write the fragment and the xl/dom0less lines (to their files, or to @out).
 * Returns the exit status: 0, EXIT_CONFIG_ERROR for a layout the daemon
 * would refuse, 1 if a file cannot be written or dtc cannot run.
 */
int fdt_command_run(const struct fdt_command_options *opts, FILE *out, FILE *err);

/* main() of `xen-virtio-pcid fdt ...`; @argv[0] is "fdt". Returns the exit status. */
int fdt_command_main(int argc, char **argv);

#endif
