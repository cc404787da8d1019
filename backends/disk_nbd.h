/* SPDX-License-Identifier: MIT */
/*
 * backends/disk_nbd.h: a disk (backends/disk.h) on an NBD export, through
 * libnbd's asynchronous API on the event loop: many commands in flight, no
 * thread per request; a dropped connection is made again.
 */
#ifndef XVP_BACKENDS_DISK_NBD_H
#define XVP_BACKENDS_DISK_NBD_H

#include "backends/disk.h"
#include "backends/nbd_export.h"

/*
 * A disk on @export (connected), which must stay open until the disk is
 * destroyed. When the connection drops, the disk asks export->host for a
 * new one, waiting NBD_LINK_FIRST_BACKOFF_MS doubling to
 * NBD_LINK_MAX_BACKOFF_MS between tries; what the guest asked meanwhile is
 * kept and sent again, until the outage has lasted @timeout_s seconds:
 * then it fails (and what comes until a command succeeds again on a new
 * connection fails at once while there is none).
 */
int disk_nbd_create(struct disk **out, struct nbd_export *export, const char *name,
		    unsigned int timeout_s);

#endif
