/* SPDX-License-Identifier: MIT */
/*
 * daemon/stale_server.h: before a worker serves a domain, its supervisor
 * removes the IOREQ server an earlier worker left behind (it was killed:
 * Xen keeps the server, and allows only a few per domain), as recorded in
 * dom0's xenstore (xen/xenstore.h); it refuses if that process still runs.
 * The supervisor does it: it holds unrestricted Xen handles, and the
 * worker, restricted to its domain from the start, holds no xenstore.
 */
#ifndef XVP_DAEMON_STALE_SERVER_H
#define XVP_DAEMON_STALE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "xen/xenstore.h"

/* How long a worker waits for the supervisor's answers about the record (xenstore may hang). */
#define STALE_SERVER_READ_MS 2000

/*
 * @record is what domain @domid's record says: 0 when there is no earlier
 * server (or it is destroyed now), -EBUSY when the process that recorded it
 * still runs this program (logged: two workers must not serve one domain).
 */
int stale_server_clear(uint32_t domid, const struct xen_xenstore_record *record);

/*
 * Does @pid run this program (by name: an upgraded or relocated binary is
 * still this program)? One we may not inspect does.
 */
bool stale_server_runs_this_program(long pid);

#endif
