/* SPDX-License-Identifier: MIT */
/*
 * backends/disk_nbd.h: a disk (backends/disk.h) on an NBD export, through
 * libnbd's asynchronous API on the event loop: many commands in flight, no
 * thread per request.
 */
#ifndef XVP_BACKENDS_DISK_NBD_H
#define XVP_BACKENDS_DISK_NBD_H

#include "backends/disk.h"
#include "backends/nbd_export.h"

/* A disk on @export (connected), which must stay open until the disk is destroyed. */
int disk_nbd_create(struct disk **out, struct nbd_export *export, const char *name);

#endif
