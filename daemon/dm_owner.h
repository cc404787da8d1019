/* SPDX-License-Identifier: MIT */
/*
 * daemon/dm_owner.h: does a domain have a device model of ours, started by
 * libxl (daemon/device_model.h)? Then the dom0 service leaves it alone:
 * two workers must not serve one domain, and the device model's is the one
 * libxl waits for and stops.
 *
 * Found by its process (this program, run as `-xen-domid ID ...`), not by
 * libxl's /local/domain/ID/image/device-model-pid: libxl writes that once
 * the process runs, and on Xen 4.20+ it first names the probe there, so a
 * look at the processes covers the whole life of the device model. What
 * it cannot cover is the moment before libxl starts it (the domain is
 * being built): a service that starts a worker then is the first to
 * serve, and the device model refuses to start, naming the worker's
 * process (stale_server_clear()), so that `xl create` fails cleanly.
 */
#ifndef XVP_DAEMON_DM_OWNER_H
#define XVP_DAEMON_DM_OWNER_H

#include <stdint.h>
#include <sys/types.h>

/* The pid of domain @domid's device model of ours, or 0 if it has none. */
pid_t dm_owner_find(uint32_t domid);

#endif
