/* SPDX-License-Identifier: MIT */
/*
 * backends/disk.h: what virtio-blk needs of the storage behind it, whatever
 * it is: asynchronous reads, writes, flushes, discards and zeroing, with
 * completions delivered on the event loop. A raw image file or block device
 * is one implementation (backends/disk_file.h); a network disk is another,
 * beside it. The device never learns which.
 */
#ifndef XVP_BACKENDS_DISK_H
#define XVP_BACKENDS_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct event_base;
struct disk;

/* What the guest may be told of the disk (5.2.4), fixed for its life. */
struct disk_geometry {
	uint64_t size;			/* bytes */
	bool readonly;
	bool direct;			/* offsets, lengths and buffers must be aligned */
	uint32_t offset_align;		/* offsets and lengths of reads and writes (>= 512) */
	uint32_t mem_align;		/* direct: memory buffers */
	bool discard;			/* discard() does something */
	bool write_zeroes;		/* write_zeroes() can */
};

/* For each completion: @user as queued, @result as a syscall's (bytes, or -errno). */
typedef void (*disk_complete_fn)(void *opaque, void *user, int result);
/* After a batch of completions was delivered. */
typedef void (*disk_batch_fn)(void *opaque);

struct disk_ops {
	/* Room for @entries operations at once, completions on @base. 0 or -errno (logged). */
	int (*start)(struct disk *disk, unsigned int entries, struct event_base *base,
		     disk_complete_fn complete, disk_batch_fn batch_done, void *opaque);
	/* Queue one operation (sent at submit()); -EAGAIN when no room is left. */
	int (*readv)(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		     void *user);
	int (*writev)(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		      void *user);
	int (*flush)(struct disk *disk, void *user);
	/* A hint: the range may be deallocated, its contents are then unspecified. */
	int (*discard)(struct disk *disk, uint64_t offset, uint64_t len, void *user);
	/*
	 * The range reads back as zeroes; @unmap: it may be deallocated to get
	 * there. Completes with -EOPNOTSUPP if the disk cannot do it without
	 * @unmap (the caller may ask again with it).
	 */
	int (*write_zeroes)(struct disk *disk, uint64_t offset, uint64_t len, bool unmap, void *user);
	/* Hand what is queued to the storage in one go. */
	void (*submit)(struct disk *disk);
	unsigned int (*in_flight)(const struct disk *disk);
	/* Wait until nothing is in flight, at most @timeout_ms: for shutdown only. */
	void (*drain)(struct disk *disk, int timeout_ms);
	/* Free (after drain); what the disk was opened from stays its opener's. */
	void (*destroy)(struct disk *disk);
};

/* Each implementation embeds this first. */
struct disk {
	const struct disk_ops *ops;
	struct disk_geometry geometry;
};

#endif
