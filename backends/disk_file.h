/* SPDX-License-Identifier: MIT */
/*
 * backends/disk_file.h: a disk (backends/disk.h) on a raw image file or
 * block device opened by blk_image_open(), with io_uring (backends/blk_io.h).
 */
#ifndef XVP_BACKENDS_DISK_FILE_H
#define XVP_BACKENDS_DISK_FILE_H

#include "backends/blk_image.h"
#include "backends/disk.h"

/* A disk on @image, which must stay open until the disk is destroyed. 0 or -ENOMEM. */
int disk_file_create(struct disk **out, const struct blk_image *image);

#endif
