// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_worker_peer.c: asks and answers between a worker's end
 * and its supervisor's end of a real SOCK_SEQPACKET pair, on one event
 * loop: descriptors cross, errors and timeouts end an ask exactly once,
 * what a hostile end can make the other hold is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/worker_peer.h"

struct ends {
	struct event_base *base;
	int fds[2];			/* [0] the worker's, [1] the supervisor's */
	struct worker_peer *worker, *supervisor;
	const char *refused;		/* the supervisor's end refused a message: why */
	int refusals;
	int closed;			/* ends told the other closed */
	/* the supervisor's server */
	struct worker_request *held[WORKER_PEER_MAX_SERVED + 4];
	int asked;
	uint64_t last_value;
	int answer_error;
	int answer_fd;			/* handed back with the answer, or -1 */
	bool hold;			/* keep the requests unanswered */
};

struct outcome {
	int calls;
	int error;
	int fd;				/* taken from the answer, or -1 */
};

static void on_message(void *opaque, const struct worker_message *m)
{
	(void)opaque;
	(void)m;
}

static void on_supervisor_end(void *opaque, const char *why)
{
	struct ends *e = opaque;

	if (why) {
		e->refused = why;
		e->refusals++;
	}
	else
		e->closed++;
}

static void on_worker_end(void *opaque, const char *why)
{
	struct ends *e = opaque;

	(void)why;
	e->closed++;
}

static int setup(void **state)
{
	struct ends *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->fds), 0);
	e->worker = worker_peer_create(e->base, e->fds[0], true, on_message, on_worker_end, e);
	e->supervisor = worker_peer_create(e->base, e->fds[1], false, on_message,
					   on_supervisor_end, e);
	assert_non_null(e->worker);
	assert_non_null(e->supervisor);
	e->answer_fd = -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct ends *e = *state;

	worker_peer_destroy(e->worker);
	worker_peer_destroy(e->supervisor);
	for (int i = 0; i < 2; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	event_base_free(e->base);
	free(e);
	return 0;
}

static void serve_connect(void *opaque, struct worker_request *req, struct worker_payload *ask)
{
	struct ends *e = opaque;

	e->last_value = ask->value;
	if (e->hold) {
		e->held[e->asked++] = req;
		return;
	}
	e->asked++;
	worker_request_answer(req, e->answer_error, NULL, 0, &e->answer_fd, e->answer_fd >= 0);
}

static void on_answer(void *opaque, int error, struct worker_payload *answer)
{
	struct outcome *o = opaque;

	o->calls++;
	o->error = error;
	if (answer && answer->nfds) {
		o->fd = answer->fds[0];
		answer->fds[0] = -1;	/* ours now */
	}
}

/* Run the loop until *@counter reaches @at_least or about two seconds pass. */
static void run_until(struct ends *e, const int *counter, int at_least)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		event_base_loop(e->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 2)
			break;
	} while (*counter < at_least);
}

static void run_for_ms(struct ends *e, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(e->base, &tv);
	event_base_dispatch(e->base);
}

/* The supervisor hands a descriptor back: what the worker writes into it arrives. */
static void test_an_ask_is_answered_with_a_working_descriptor(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 };
	int pipe_fds[2];
	char got[6] = { 0 };

	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	e->answer_fd = pipe_fds[1];
	worker_peer_serve(e->supervisor, WORKER_MSG_NBD_CONNECT, serve_connect, e);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 3, NULL, 0, NULL, 0,
					 1000, on_answer, &o), 0);
	assert_int_equal(o.calls, 0);	/* never from within the ask */
	run_until(e, &o.calls, 1);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, 0);
	assert_int_equal(e->last_value, 3);
	assert_true(o.fd >= 0 && o.fd != pipe_fds[1]);
	close(pipe_fds[1]);		/* the answer carried its own copy */
	assert_int_equal(write(o.fd, "hello", 5), 5);
	close(o.fd);
	assert_int_equal(read(pipe_fds[0], got, sizeof(got)), 5);
	assert_string_equal(got, "hello");
	close(pipe_fds[0]);
}

static void test_an_error_answer_and_an_unserved_type_end_the_ask(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 }, unserved = { .fd = -1 };

	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 1, NULL, 0, NULL, 0,
					 1000, on_answer, &unserved), 0);
	run_until(e, &unserved.calls, 1);
	assert_int_equal(unserved.calls, 1);
	assert_int_equal(unserved.error, -EOPNOTSUPP);

	e->answer_error = -ECONNREFUSED;
	worker_peer_serve(e->supervisor, WORKER_MSG_NBD_CONNECT, serve_connect, e);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 1, NULL, 0, NULL, 0,
					 1000, on_answer, &o), 0);
	run_until(e, &o.calls, 1);
	assert_int_equal(o.error, -ECONNREFUSED);
	assert_int_equal(o.fd, -1);
}

/* An ask unanswered in its time ends once; the answer that comes later is dropped. */
static void test_a_late_answer_is_dropped_after_the_timeout(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 };

	e->hold = true;
	worker_peer_serve(e->supervisor, WORKER_MSG_NBD_CONNECT, serve_connect, e);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 1, NULL, 0, NULL, 0,
					 50, on_answer, &o), 0);
	run_until(e, &o.calls, 1);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, -ETIMEDOUT);
	assert_int_equal(e->asked, 1);
	worker_request_answer(e->held[0], 0, NULL, 0, NULL, 0);
	run_for_ms(e, 50);
	assert_int_equal(o.calls, 1);
	assert_null(e->refused);
}

/* A worker that asks and never reads its answers holds at most WORKER_PEER_MAX_SERVED of the supervisor's requests. */
static void test_asks_beyond_the_served_bound_are_answered_busy(void **state)
{
	struct ends *e = *state;
	struct outcome o[WORKER_PEER_MAX_SERVED + 2];
	int busy = 0;

	memset(o, 0, sizeof(o));
	e->hold = true;
	worker_peer_serve(e->supervisor, WORKER_MSG_NBD_CONNECT, serve_connect, e);
	for (unsigned int i = 0; i < WORKER_PEER_MAX_SERVED + 2; i++)
		assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, i, NULL, 0,
						 NULL, 0, 2000, on_answer, &o[i]), 0);
	run_for_ms(e, 100);
	assert_int_equal(e->asked, WORKER_PEER_MAX_SERVED);
	for (unsigned int i = 0; i < WORKER_PEER_MAX_SERVED + 2; i++)
		busy += o[i].calls == 1 && o[i].error == -EBUSY;
	assert_int_equal(busy, 2);
	for (int i = 0; i < e->asked; i++)
		worker_request_answer(e->held[i], 0, NULL, 0, NULL, 0);
	run_for_ms(e, 50);
	for (unsigned int i = 0; i < WORKER_PEER_MAX_SERVED + 2; i++)
		assert_int_equal(o[i].calls, 1);
}

static void test_our_own_asks_are_bounded_and_checked(void **state)
{
	struct ends *e = *state;
	static struct outcome o[WORKER_PEER_MAX_ASKS + 1];
	int two[2] = { 0, 1 };

	/* Not an ask; an ask of the other side; one the other side would refuse. */
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_STOPPING, 0, NULL, 0, NULL, 0, 100,
					 on_answer, &o[0]), -EINVAL);
	assert_int_equal(worker_peer_ask(e->supervisor, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, NULL,
					 0, 100, on_answer, &o[0]), -EINVAL);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, two, 2,
					 100, on_answer, &o[0]), -EINVAL);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 256, NULL, 0, NULL, 0,
					 100, on_answer, &o[0]), -EINVAL);
	for (unsigned int i = 0; i < WORKER_PEER_MAX_ASKS; i++)
		assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0,
						 NULL, 0, 1000, on_answer, &o[i]), 0);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, NULL, 0,
					 1000, on_answer, &o[WORKER_PEER_MAX_ASKS]), -EBUSY);
	assert_int_equal(o[0].calls, 0);
}

/* The supervisor's end closes: every ask waiting ends with -EPIPE, and the worker's end is told. */
static void test_a_closed_channel_ends_every_ask(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 };

	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, NULL, 0,
					 5000, on_answer, &o), 0);
	worker_peer_destroy(e->supervisor);
	e->supervisor = NULL;
	close(e->fds[1]);
	e->fds[1] = -1;
	run_until(e, &o.calls, 1);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, -EPIPE);
	assert_int_equal(e->closed, 1);
}

static void test_destroying_a_peer_cancels_its_asks(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 };

	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, NULL, 0,
					 5000, on_answer, &o), 0);
	worker_peer_destroy(e->worker);
	e->worker = NULL;
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, -ECANCELED);
}

/* A request being served when the supervisor drops the worker: its late answer goes nowhere. */
static void test_an_answer_after_the_peer_is_gone_sends_nothing(void **state)
{
	struct ends *e = *state;
	struct outcome o = { .fd = -1 };

	e->hold = true;
	worker_peer_serve(e->supervisor, WORKER_MSG_NBD_CONNECT, serve_connect, e);
	assert_int_equal(worker_peer_ask(e->worker, WORKER_MSG_NBD_CONNECT, 0, NULL, 0, NULL, 0,
					 5000, on_answer, &o), 0);
	run_until(e, &e->asked, 1);
	worker_peer_destroy(e->supervisor);
	e->supervisor = NULL;
	worker_request_answer(e->held[0], 0, NULL, 0, NULL, 0);	/* freed, nothing sent */
	run_for_ms(e, 50);
	assert_int_equal(o.calls, 0);
	worker_peer_destroy(e->worker);	/* before @o goes */
	e->worker = NULL;
	assert_int_equal(o.error, -ECANCELED);
}

/* What a worker may not send, with descriptors attached: refused with the reason, none kept open. */
static void test_a_hostile_message_is_refused_and_its_descriptors_closed(void **state)
{
	struct ends *e = *state;
	struct worker_message m = worker_message_make(WORKER_MSG_ANSWER, WORKER_MSG_NBD_CONNECT, 0);
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int pipe_fds[2];
	char byte;

	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	m.seq = 1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pipe_fds[1], sizeof(int));
	assert_int_equal(sendmsg(e->fds[0], &msg, 0), (ssize_t)sizeof(m));
	close(pipe_fds[1]);
	run_until(e, &e->refusals, 1);
	assert_non_null(e->refused);
	assert_string_equal(e->refused, "an answer to nothing that is answered");
	/* The write end the supervisor received was closed: the pipe reads end of file. */
	assert_int_equal(read(pipe_fds[0], &byte, 1), 0);
	close(pipe_fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_an_ask_is_answered_with_a_working_descriptor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_error_answer_and_an_unserved_type_end_the_ask,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_late_answer_is_dropped_after_the_timeout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_asks_beyond_the_served_bound_are_answered_busy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_our_own_asks_are_bounded_and_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_closed_channel_ends_every_ask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroying_a_peer_cancels_its_asks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_answer_after_the_peer_is_gone_sends_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_hostile_message_is_refused_and_its_descriptors_closed, setup, teardown),
	};

	return cmocka_run_group_tests_name("worker peer", tests, NULL, NULL);
}
