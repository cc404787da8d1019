// SPDX-License-Identifier: MIT
/* backends/blk_io.c: io_uring with an eventfd for completions. */
#include "backends/blk_io.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"

struct blk_io {
	struct io_uring ring;
	int eventfd;
	struct event *event;
	blk_io_complete_fn complete;
	blk_io_batch_fn batch_done;
	void *opaque;
	unsigned int in_flight;
	unsigned int queued;		/* prepared, not yet submitted */
	struct log_ratelimit log;	/* a guest's requests drive the failing calls */
};

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

int blk_io_create(struct blk_io **out, unsigned int entries, struct event_base *base,
		  blk_io_complete_fn complete, blk_io_batch_fn batch_done, void *opaque)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	int ret;

	if (!io)
		return -ENOMEM;
	io->complete = complete;
	io->batch_done = batch_done;
	io->opaque = opaque;
	ret = io_uring_queue_init(entries, &io->ring, 0);
	if (ret < 0)
		goto free_io;
	io->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->eventfd < 0) {
		ret = -errno;
		goto exit_ring;
	}
	ret = io_uring_register_eventfd(&io->ring, io->eventfd);
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

static struct io_uring_sqe *next_sqe(struct blk_io *io, void *user)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

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
	struct io_uring_sqe *sqe = next_sqe(io, user);

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_readv(sqe, fd, iov, nr, offset);
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_writev(struct blk_io *io, int fd, const struct iovec *iov, unsigned int nr, uint64_t offset,
		  void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, user);

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_writev(sqe, fd, iov, nr, offset);
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_fdatasync(struct blk_io *io, int fd, void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, user);

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, user);
	return 0;
}

int blk_io_fallocate(struct blk_io *io, int fd, int mode, uint64_t offset, uint64_t len, void *user)
{
	struct io_uring_sqe *sqe = next_sqe(io, user);

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fallocate(sqe, fd, mode, (off_t)offset, (off_t)len);
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
	io_uring_unregister_eventfd(&io->ring);
	close(io->eventfd);
	io_uring_queue_exit(&io->ring);
	free(io);
}
