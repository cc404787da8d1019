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
#include <stdint.h>

/* Does this command line ask for the supervisor (--config or --check)? */
bool supervisor_requested(int argc, char **argv);

/* The supervisor's main: its exit status. */
int supervisor_main(int argc, char **argv);

/*
 * By hand, `xen-virtio-pcid --domain ID ...` (@argv, already checked, for
 * domain @domid): a supervisor of one domain. It runs one worker with the
 * same command line, which serves the domain, writes its xenstore keys for
 * it, passes SIGTERM, SIGINT and SIGHUP on as a stop, and exits with the
 * worker's exit status (1 if a signal ended it); no restarts.
 */
int supervisor_one_domain_main(int argc, char **argv, uint32_t domid, bool verbose);

#endif
