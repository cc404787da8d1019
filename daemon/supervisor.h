/* SPDX-License-Identifier: MIT */
/*
 * daemon/supervisor.h: `xen-virtio-pcid --config FILE`: the dom0 service.
 * It reads the config file (daemon/config_file.h), watches domains come
 * and go (xen/domain_watch.h), and keeps one worker process per configured
 * domain that exists (daemon/workers.h). It never maps guest memory.
 * SIGTERM or SIGINT stops the workers and exits 0; SIGHUP reloads the file
 * and applies the difference. `--check` validates the file and exits.
 */
#ifndef XVP_DAEMON_SUPERVISOR_H
#define XVP_DAEMON_SUPERVISOR_H

#include <stdbool.h>

/* Does this command line ask for the supervisor (--config or --check)? */
bool supervisor_requested(int argc, char **argv);

/* The supervisor's main: its exit status. */
int supervisor_main(int argc, char **argv);

#endif
