/* SPDX-License-Identifier: MIT */
/*
 * backends/blk_image.h: the file or block device behind a virtio-blk disk,
 * opened, sized and locked before anything is registered with Xen, so that a
 * bad image is a start-up error and not a guest-visible failure.
 */
#ifndef XVP_BACKENDS_BLK_IMAGE_H
#define XVP_BACKENDS_BLK_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_image {
	int fd;			/* -1 when closed */
	char path[PATH_MAX];
	bool readonly;
	bool direct;		/* opened O_DIRECT */
	bool is_block_device;
	uint64_t size;		/* bytes */
	uint32_t dio_offset_align;	/* O_DIRECT: file offsets and lengths (else 512) */
	uint32_t dio_mem_align;		/* O_DIRECT: memory buffers (else 1) */
};

/*
 * Open @path, read-only or read-write, with O_DIRECT if @direct, and take an
 * open-file-description lock on it (shared if read-only, exclusive
 * otherwise), so that two daemons never write one image. 0, or -errno with a
 * one-line reason in @why naming the path.
 */
int blk_image_open(struct blk_image *image, const char *path, bool readonly, bool direct,
		   char *why, size_t why_len);
void blk_image_close(struct blk_image *image);

#endif
