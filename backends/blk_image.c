// SPDX-License-Identifier: MIT
/* backends/blk_image.c: open, size and lock a disk image. */
#include "backends/blk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SECTOR_SIZE 512

static int fail(struct blk_image *image, int error, char *why, size_t why_len, const char *what)
{
	snprintf(why, why_len, "%s: %s", image->path, what ? what : strerror(error));
	if (image->fd >= 0)
		close(image->fd);
	image->fd = -1;
	return -error;
}

/* statx through the kernel's own structure: glibc 2.36 has no DIOALIGN fields. */
static int query(struct blk_image *image)
{
	struct statx stx;

	memset(&stx, 0, sizeof(stx));
	if (syscall(SYS_statx, image->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN, &stx))
		return -errno;
	image->is_block_device = (stx.stx_mode & S_IFMT) == S_IFBLK;
	if ((stx.stx_mode & S_IFMT) != S_IFREG && !image->is_block_device)
		return -EINVAL;
	image->size = stx.stx_size;
	image->dio_offset_align = SECTOR_SIZE;
	image->dio_mem_align = 1;
	if (image->direct) {
		/* Without the kernel's answer, a page is safe for both. */
		image->dio_offset_align = 4096;
		image->dio_mem_align = 4096;
		if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
			image->dio_offset_align = stx.stx_dio_offset_align;
			image->dio_mem_align = stx.stx_dio_mem_align;
		}
		if (image->dio_offset_align < SECTOR_SIZE)
			image->dio_offset_align = SECTOR_SIZE;
	}
	if (image->is_block_device && ioctl(image->fd, BLKGETSIZE64, &image->size))
		return -errno;
	return 0;
}

static int lock(struct blk_image *image)
{
	struct flock lock = {
		.l_type = image->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	/* Open file description locks: tied to this open, not to the process. */
	if (fcntl(image->fd, F_OFD_SETLK, &lock))
		return -errno;
	return 0;
}

int blk_image_open(struct blk_image *image, const char *path, bool readonly, bool direct,
		   char *why, size_t why_len)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0);
	int ret;

	memset(image, 0, sizeof(*image));
	image->fd = -1;
	image->readonly = readonly;
	image->direct = direct;
	if (strlen(path) >= sizeof(image->path)) {
		snprintf(why, why_len, "%.64s...: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(image->path, path);
	/*
	 * O_NONBLOCK: opening a FIFO would wait for its other end for ever
	 * (fifo(7)); with it the open returns and query() refuses the type. It
	 * is cleared before any I/O: io_uring would honour it.
	 */
	image->fd = open(path, flags | O_NONBLOCK | O_NOCTTY);
	if (image->fd < 0)
		return fail(image, errno, why, why_len, NULL);
	ret = query(image);
	if (ret == -EINVAL)
		return fail(image, EINVAL, why, why_len, "not a regular file or block device");
	if (!ret && fcntl(image->fd, F_SETFL, fcntl(image->fd, F_GETFL) & ~O_NONBLOCK))
		ret = -errno;
	if (ret)
		return fail(image, -ret, why, why_len, NULL);
	ret = lock(image);
	if (ret == -EAGAIN || ret == -EACCES)
		return fail(image, EBUSY, why, why_len,
			    "locked: another process (another xen-virtio-pcid?) has it open for writing");
	if (ret)
		return fail(image, -ret, why, why_len, NULL);
	if (image->size < SECTOR_SIZE)
		return fail(image, EINVAL, why, why_len, "smaller than one 512-byte sector");
	return 0;
}

void blk_image_close(struct blk_image *image)
{
	if (image->fd >= 0)
		close(image->fd);
	image->fd = -1;
}
