/* SPDX-License-Identifier: MIT */
/*
 * backends/blk_io.h: asynchronous disk I/O through io_uring, completions
 * delivered through an eventfd in the libevent loop: the loop never blocks
 * on the disk, and many requests are in flight at once.
 */
#ifndef XVP_BACKENDS_BLK_IO_H
#define XVP_BACKENDS_BLK_IO_H

#include <stdint.h>
#include <sys/uio.h>

struct event_base;
struct blk_io;

/* Called from the loop for each completion: @user as queued, @result as a syscall's (-errno). */
typedef void (*blk_io_complete_fn)(void *opaque, void *user, int result);
/* Called after a batch of completions was delivered. */
typedef void (*blk_io_batch_fn)(void *opaque);

/*
 * A ring of @entries for I/O on @fd only (the image), confined to the
 * operations below (blk_io.c). 0 or -errno (logged).
 */
int blk_io_create(struct blk_io **out, unsigned int entries, int fd, struct event_base *base,
		  blk_io_complete_fn complete, blk_io_batch_fn batch_done, void *opaque);
/* Frees; blk_io_drain() first if anything may be in flight. */
void blk_io_destroy(struct blk_io *io);

/*
 * Queue an operation on the ring's @fd; -EAGAIN when the submission ring is
 * full, -EBADF for another fd. Sent at blk_io_submit().
 */
int blk_io_readv(struct blk_io *io, int fd, const struct iovec *iov, unsigned int nr, uint64_t offset,
		 void *user);
int blk_io_writev(struct blk_io *io, int fd, const struct iovec *iov, unsigned int nr, uint64_t offset,
		  void *user);
int blk_io_fdatasync(struct blk_io *io, int fd, void *user);
int blk_io_fallocate(struct blk_io *io, int fd, int mode, uint64_t offset, uint64_t len, void *user);
/* Hand every queued operation to the kernel in one call. */
void blk_io_submit(struct blk_io *io);

/* Operations queued or in the kernel. */
unsigned int blk_io_in_flight(const struct blk_io *io);
/* Block until everything in flight completed (or @timeout_ms passed): for shutdown only. */
void blk_io_drain(struct blk_io *io, int timeout_ms);

/* The ring itself, for the tests that show what it refuses. */
struct io_uring *blk_io_ring(struct blk_io *io);

#endif
