// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_blk_io.c: blk's io_uring ring is confined (backends/blk_io.c):
 * reads and writes of its image work; any other operation, any file but the
 * image, and registering anything new are refused by the kernel, whatever
 * a hijacked worker puts in the ring itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backends/blk_io.h"

struct fixture {
	char path[64];
	int fd;
	struct event_base *base;
	struct blk_io *io;
	int completions;
	int last_result;
};

static void on_complete(void *opaque, void *user, int result)
{
	struct fixture *f = opaque;

	(void)user;
	f->completions++;
	f->last_result = result;
}

static void on_batch(void *opaque)
{
	(void)opaque;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->path, "/tmp/xvp-blk-io-XXXXXX");
	f->fd = mkstemp(f->path);
	f->base = event_base_new();
	if (f->fd < 0 || !f->base || ftruncate(f->fd, 1 << 20) ||
	    blk_io_create(&f->io, 8, f->fd, f->base, on_complete, on_batch, f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	blk_io_destroy(f->io);
	event_base_free(f->base);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* Submit what is queued and wait for one completion through the loop, as blk does. */
static int complete_one(struct fixture *f)
{
	int before = f->completions;

	blk_io_submit(f->io);
	while (f->completions == before)
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	return f->last_result;
}

/* The result of one SQE put straight into the ring, as a hijacked worker could. */
static int raw_result(struct fixture *f, void (*prep)(struct io_uring_sqe *sqe, void *arg),
		      void *arg)
{
	struct io_uring *ring = blk_io_ring(f->io);
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int result;

	assert_non_null(sqe);
	prep(sqe, arg);
	assert_int_equal(io_uring_submit(ring), 1);
	assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
	result = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return result;
}

static void test_reads_and_writes_of_the_image_work(void **state)
{
	struct fixture *f = *state;
	char out[512], in[512];
	struct iovec wiov = { out, sizeof(out) }, riov = { in, sizeof(in) };

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(blk_io_writev(f->io, f->fd, &wiov, 1, 4096, NULL), 0);
	assert_int_equal(complete_one(f), (int)sizeof(out));
	assert_int_equal(blk_io_fdatasync(f->io, f->fd, NULL), 0);
	assert_int_equal(complete_one(f), 0);
	assert_int_equal(blk_io_readv(f->io, f->fd, &riov, 1, 4096, NULL), 0);
	assert_int_equal(complete_one(f), (int)sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	/* Another fd through the interface: refused before the ring. */
	assert_int_equal(blk_io_readv(f->io, STDIN_FILENO, &riov, 1, 0, NULL), -EBADF);
}

static void prep_openat(struct io_uring_sqe *sqe, void *arg)
{
	(void)arg;
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
}

static void prep_nop(struct io_uring_sqe *sqe, void *arg)
{
	(void)arg;
	io_uring_prep_nop(sqe);
}

/* A read of a file that is not the ring's fixed image (here: a plain fd). */
static void prep_read_plain_fd(struct io_uring_sqe *sqe, void *arg)
{
	static char buf[16];

	io_uring_prep_read(sqe, *(int *)arg, buf, sizeof(buf), 0);
}

static void prep_readv_plain_fd(struct io_uring_sqe *sqe, void *arg)
{
	static char buf[16];
	static struct iovec iov = { buf, sizeof(buf) };

	io_uring_prep_readv(sqe, *(int *)arg, &iov, 1, 0);
}

static void test_other_operations_and_files_are_refused(void **state)
{
	struct fixture *f = *state;
	int fd = f->fd;

	assert_int_equal(raw_result(f, prep_openat, NULL), -EACCES);
	assert_int_equal(raw_result(f, prep_nop, NULL), -EACCES);
	assert_int_equal(raw_result(f, prep_read_plain_fd, &fd), -EACCES);
	/* An allowed operation, on the image itself, but not as the fixed file. */
	assert_int_equal(raw_result(f, prep_readv_plain_fd, &fd), -EACCES);
}

static void test_nothing_new_can_be_registered(void **state)
{
	struct fixture *f = *state;
	struct io_uring *ring = blk_io_ring(f->io);
	char buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	int fds[1] = { f->fd };

	assert_int_equal(io_uring_register_buffers(ring, &iov, 1), -EACCES);
	assert_int_equal(io_uring_register_files_update(ring, 0, fds, 1), -EACCES);
	assert_int_equal(io_uring_register_eventfd(ring, STDIN_FILENO), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_and_writes_of_the_image_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_operations_and_files_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_new_can_be_registered, setup, teardown),
	};

	return cmocka_run_group_tests_name("blk's confined io_uring ring", tests, NULL, NULL);
}
