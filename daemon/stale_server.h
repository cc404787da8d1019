/* SPDX-License-Identifier: MIT */
/*
 * daemon/stale_server.h: before serving a domain, remove the IOREQ server
 * an earlier daemon left behind (it was killed: Xen keeps the server, and
 * allows only a few per domain), as recorded in dom0's xenstore
 * (xen/xenstore.h); refuse if that daemon still runs.
 */
#ifndef XVP_DAEMON_STALE_SERVER_H
#define XVP_DAEMON_STALE_SERVER_H

#include <stdint.h>

#include "xen/xenstore.h"

/* How long the record may take to read, or to write, before serving goes on without it. */
#define STALE_SERVER_READ_MS 2000

/*
 * 0 when there is no earlier server (or it is destroyed now, or xenstore
 * cannot tell), -EBUSY when the process that recorded it still runs this
 * program (logged: two daemons must not serve one domain).
 */
int stale_server_clear(struct xen_xenstore *xs, uint32_t domid);

#endif
