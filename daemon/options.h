/* SPDX-License-Identifier: MIT */
/* daemon/options.h: the command line of xen-virtio-pcid. */
#ifndef XVP_DAEMON_OPTIONS_H
#define XVP_DAEMON_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "daemon/device_config.h"
#include "xen/guest_layout.h"

/* Exit status for a configuration error (bad option, bad value, no such domain). */
#define EXIT_CONFIG_ERROR 2

struct daemon_options {
	uint32_t domid;
	struct guest_layout layout;
	uint64_t map_budget;	/* bytes of guest memory kept mapped at most */
	struct device_config devices[DEVICE_MAX];
	unsigned int nr_devices;
	int verbose;
};

enum options_result {
	OPTIONS_RUN,		/* serve with the parsed options */
	OPTIONS_EXIT_OK,	/* --help or --version was printed */
	OPTIONS_EXIT_ERROR,	/* a message was printed; exit EXIT_CONFIG_ERROR */
};

/* Parse argv; messages go to @err (help and version to stdout). */
enum options_result options_parse(int argc, char **argv, struct daemon_options *opts, FILE *err);

#endif
