// SPDX-License-Identifier: MIT
/*
 * backends/disk_file.c: a raw image file or block device as a disk. Every
 * operation is one io_uring request on the image's fd; discards and zeroing
 * are fallocate(2) modes.
 */
#include "backends/disk_file.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>

#include "backends/blk_io.h"

struct disk_file {
	struct disk disk;
	const struct blk_image *image;
	struct blk_io *io;
};

static struct disk_file *file_of(struct disk *disk)
{
	return (struct disk_file *)disk;
}

static int file_start(struct disk *disk, unsigned int entries, struct event_base *base,
		      disk_complete_fn complete, disk_batch_fn batch_done, void *opaque)
{
	struct disk_file *file = file_of(disk);

	return blk_io_create(&file->io, entries, file->image->fd, base, complete, batch_done, opaque);
}

static int file_readv(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		      void *user)
{
	struct disk_file *file = file_of(disk);

	return blk_io_readv(file->io, file->image->fd, iov, nr, offset, user);
}

static int file_writev(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		       void *user)
{
	struct disk_file *file = file_of(disk);

	return blk_io_writev(file->io, file->image->fd, iov, nr, offset, user);
}

static int file_flush(struct disk *disk, void *user)
{
	struct disk_file *file = file_of(disk);

	return blk_io_fdatasync(file->io, file->image->fd, user);
}

/* A punched hole reads back as zeroes, on every file system that has them. */
static int file_discard(struct disk *disk, uint64_t offset, uint64_t len, void *user)
{
	struct disk_file *file = file_of(disk);

	return blk_io_fallocate(file->io, file->image->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				offset, len, user);
}

static int file_write_zeroes(struct disk *disk, uint64_t offset, uint64_t len, bool unmap, void *user)
{
	struct disk_file *file = file_of(disk);

	if (unmap)
		return file_discard(disk, offset, len, user);
	/* ZERO_RANGE keeps the blocks allocated; -EOPNOTSUPP where the file system lacks it. */
	return blk_io_fallocate(file->io, file->image->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				offset, len, user);
}

static void file_submit(struct disk *disk)
{
	blk_io_submit(file_of(disk)->io);
}

static unsigned int file_in_flight(const struct disk *disk)
{
	const struct disk_file *file = (const struct disk_file *)disk;

	return file->io ? blk_io_in_flight(file->io) : 0;
}

static void file_drain(struct disk *disk, int timeout_ms)
{
	struct disk_file *file = file_of(disk);

	if (file->io)
		blk_io_drain(file->io, timeout_ms);
}

static void file_destroy(struct disk *disk)
{
	struct disk_file *file = file_of(disk);

	if (file->io)
		blk_io_destroy(file->io);
	free(file);
}

static const struct disk_ops file_ops = {
	.start = file_start,
	.readv = file_readv,
	.writev = file_writev,
	.flush = file_flush,
	.discard = file_discard,
	.write_zeroes = file_write_zeroes,
	.submit = file_submit,
	.in_flight = file_in_flight,
	.drain = file_drain,
	.destroy = file_destroy,
};

int disk_file_create(struct disk **out, const struct blk_image *image)
{
	struct disk_file *file = calloc(1, sizeof(*file));

	if (!file)
		return -ENOMEM;
	file->disk.ops = &file_ops;
	file->disk.geometry = (struct disk_geometry){
		.size = image->size,
		.readonly = image->readonly,
		.direct = image->direct,
		.offset_align = image->dio_offset_align,
		.mem_align = image->dio_mem_align,
		/* fallocate(2): what the file system lacks answers EOPNOTSUPP, handled per request. */
		.discard = !image->readonly,
		.write_zeroes = !image->readonly,
	};
	file->image = image;
	*out = &file->disk;
	return 0;
}
