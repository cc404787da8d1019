// SPDX-License-Identifier: MIT
/*
 * backends/blk_io.c: io_uring with an eventfd for completions, confined.
 *
 * seccomp sees io_uring_enter(), not the operations in the ring, so the
 * ring confines itself (Linux io_uring/register.c, IORING_REGISTER_RESTRICTIONS):
 * it is created disabled, given the image as its only (fixed) file, and
 * restricted to the four operations virtio-blk needs on it before it is
 * enabled. From then on any other operation (openat, connect, ...), any
 * other file, and every further io_uring_register() call (new files, new
 * buffers, other restrictions) but one fails with EACCES. That one is
 * IORING_UNREGISTER_FILES, which only gives the image up: the ring's own
 * teardown is asynchronous (io_ring_exit_work), and a file still
 * registered there would keep the image's lock after the worker exited,
 * refusing the next worker.
 */
#include "backends/blk_io.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"

struct blk_io {
	struct io_uring ring;
	int fd;			/* the only file: fixed file 0 */
	int eventfd;
	struct event *event;
	blk_io_complete_fn complete;
	blk_io_batch_fn batch_done;
	void *opaque;
	unsigned int in_flight;
	unsigned int queued;		/* prepared, not yet submitted */
	struct log_ratelimit log;	/* a guest's requests drive the failing calls */
};

/* The index of the image among the ring's registered files. */
#define FIXED_IMAGE 0

static void reap(struct blk_io *io)
{
	struct io_uring_cqe *cqe;
	unsigned int seen = 0;

	while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
		void *user = io_uring_cqe_get_data(cqe);
		int result = cqe->res;

		io_uring_cqe_seen(&io->ring, cqe);
		io->in_flight--;
		seen++;
		io->complete(io->opaque, user, result);
	}
	if (seen)
		io->batch_done(io->opaque);
}

static void on_eventfd(evutil_socket_t fd, short what, void *arg)
{
	struct blk_io *io = arg;
	uint64_t count;

	(void)what;
	/* Nonblocking: the count itself does not matter, the CQ does. */
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_ratelimited(&io->log, LOG_LEVEL_ERROR, "blk: eventfd: %s", strerror(errno));
	reap(io);
}

/*
 * io_uring_register(2) itself: Debian 12's liburing 2.3 declares
 * io_uring_register_restrictions() and io_uring_enable_rings() but its
 * shared library does not export them. -errno like liburing's calls.
 */
static int ring_register(struct io_uring *ring, unsigned int op, const void *arg, unsigned int nr)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr);

	return ret < 0 ? -errno : 0;
}

/* The operations of blk_io_readv/_writev/_fdatasync/_fallocate, on fixed files only. */
static int restrict_ring(struct io_uring *ring)
{
	static const uint8_t ops[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				       IORING_OP_FALLOCATE };
	struct io_uring_restriction res[sizeof(ops) + 2];
	unsigned int n = 0;

	memset(res, 0, sizeof(res));
	for (; n < sizeof(ops); n++)
		res[n] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_OP,
							.sqe_op = ops[n] };
	res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
						  .sqe_flags = IOSQE_FIXED_FILE };
	res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_REGISTER_OP,
						  .register_op = IORING_UNREGISTER_FILES };
	return ring_register(ring, IORING_REGISTER_RESTRICTIONS, res, n);
}

/* Files, eventfd and restrictions go in while the ring is disabled; then it may run. */
static int confine_ring(struct blk_io *io)
{
	int ret = io_uring_register_files(&io->ring, &io->fd, 1);

	if (!ret)
		ret = io_uring_register_eventfd(&io->ring, io->eventfd);
	if (!ret)
		ret = restrict_ring(&io->ring);
	if (!ret)
		ret = ring_register(&io->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0)
		log_error("blk: cannot confine the io_uring ring: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

int blk_io_create(struct blk_io **out, unsigned int entries, int fd, struct event_base *base,
		  blk_io_complete_fn complete, blk_io_batch_fn batch_done, void *opaque)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	int ret;

	if (!io)
		return -ENOMEM;
	io->fd = fd;
	io->complete = complete;
	io->batch_done = batch_done;
	io->opaque = opaque;
	ret = io_uring_queue_init(entries, &io->ring, IORING_SETUP_R_DISABLED);
	if (ret < 0)
		goto free_io;
	io->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->eventfd < 0) {
		ret = -errno;
		goto exit_ring;
	}
	ret = confine_ring(io);
	if (ret < 0)
		goto close_eventfd;
	io->event = event_new(base, io->eventfd, EV_READ | EV_PERSIST, on_eventfd, io);
	if (!io->event || event_add(io->event, NULL)) {
		ret = -ENOMEM;
		goto free_event;
	}
	*out = io;
	return 0;

free_event:
	if (io->event)
		event_free(io->event);
close_eventfd:
	close(io->eventfd);
exit_ring:
	io_uring_queue_exit(&io->ring);
free_io:
	free(io);
	return ret;
}

static struct io_uring_sqe *next_sqe(struct blk_io *io, int fd, void *user)
{
	struct io_uring_sqe *sqe;

	if (fd != io->fd)
		return NULL;	/* the ring reaches its image only */
	sqe = io_uring_get_sqe(&io->ring);
	if (!sqe)
		return NULL;
	io->queued++;
	io->in_flight++;
	io_uring_sqe_set_data(sqe, user);
	return sqe;
}

int blk_io_readv(struct blk_io *io, int fd, const struct iovec *iov, unsigned int nr, uint64_t offset,
		 void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, fd, user);

	if (!sqe)
		return fd != io->fd ? -EBADF : -EAGAIN;
	io_uring_prep_readv(sqe, FIXED_IMAGE, iov, nr, offset);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_writev(struct blk_io *io, int fd, const struct iovec *iov, unsigned int nr, uint64_t offset,
		  void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, fd, user);

	if (!sqe)
		return fd != io->fd ? -EBADF : -EAGAIN;
	io_uring_prep_writev(sqe, FIXED_IMAGE, iov, nr, offset);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_fdatasync(struct blk_io *io, int fd, void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, fd, user);

	if (!sqe)
		return fd != io->fd ? -EBADF : -EAGAIN;
	io_uring_prep_fsync(sqe, FIXED_IMAGE, IORING_FSYNC_DATASYNC);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_fallocate(struct blk_io *io, int fd, int mode, uint64_t offset, uint64_t len, void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, fd, user);

	if (!sqe)
		return fd != io->fd ? -EBADF : -EAGAIN;
	io_uring_prep_fallocate(sqe, FIXED_IMAGE, mode, (off_t)offset, (off_t)len);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

void blk_io_submit(struct blk_io *io)
{
	int ret;

	if (!io->queued)
		return;
	ret = io_uring_submit(&io->ring);
	if (ret < 0)
		log_ratelimited(&io->log, LOG_LEVEL_ERROR, "blk: io_uring_submit: %s", strerror(-ret));
	else
		io->queued -= (unsigned int)ret < io->queued ? (unsigned int)ret : io->queued;
}

unsigned int blk_io_in_flight(const struct blk_io *io)
{
	return io->in_flight;
}

void blk_io_drain(struct blk_io *io, int timeout_ms)
{
	struct __kernel_timespec timeout = { timeout_ms / 1000, (long long)(timeout_ms % 1000) * 1000000 };

	blk_io_submit(io);
	while (io->in_flight) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&io->ring, &cqe, &timeout) < 0) {
			log_error("blk: %u requests still in flight after %d ms", io->in_flight, timeout_ms);
			return;
		}
		reap(io);
	}
}

void blk_io_destroy(struct blk_io *io)
{
	if (!io)
		return;
	event_free(io->event);
	/* The image's last reference (and its lock) goes now, not with the ring's exit work. */
	ring_register(&io->ring, IORING_UNREGISTER_FILES, NULL, 0);
	/* No io_uring_unregister_eventfd(): the ring refuses it; closing it is enough. */
	io_uring_queue_exit(&io->ring);
	close(io->eventfd);
	free(io);
}

struct io_uring *blk_io_ring(struct blk_io *io)
{
	return &io->ring;
}
