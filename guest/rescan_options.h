/* SPDX-License-Identifier: MIT */
/* guest/rescan_options.h: the command line of xen-virtio-pci-rescan (and of its sh twin). */
#ifndef XVP_GUEST_RESCAN_OPTIONS_H
#define XVP_GUEST_RESCAN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#define RESCAN_EXIT_USAGE 2

struct rescan_options {
	const char *sysfs;	/* default /sys */
	const char *proc;	/* default /proc: its interrupts tell the xenbus state */
	bool once;		/* exit after the first rescan that finds a virtio function */
	double timeout;		/* seconds without a virtio function before giving up (600) */
	double poll_first;	/* without xenstore: first wait between rescans (1 s) */
	double poll_max;	/* ... doubling up to (60 s) */
	bool no_watch;		/* read the key every poll_first seconds instead of watching */
	bool verbose;
};

enum rescan_options_result {
	RESCAN_RUN,
	RESCAN_EXIT_OK,		/* --help or --version was printed */
	RESCAN_EXIT_ERROR,	/* a message was printed on @err; exit RESCAN_EXIT_USAGE */
};

/* Parse argv into @opts (defaults first); --help and --version on @out, messages on @err. */
enum rescan_options_result rescan_options_parse(int argc, char **argv, struct rescan_options *opts,
						FILE *out, FILE *err);

#endif
