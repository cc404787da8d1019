// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_qmp_server.c: the QMP socket as libxl meets it: the
 * greeting on connect, CRLF-framed answers, quit answered before the device
 * model is told to stop; and its bounds: a line that never ends, a client
 * that never reads its answers, more clients than allowed. Each misbehaving
 * client loses its connection only: a new one is served after it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/qmp_server.h"
#include "daemon/qmp_session.h"

/* A guard against a hang only (no test depends on how long anything takes). */
#define GUARD_SECONDS 20

struct fixture {
	char dir[64];
	char path[128];
	struct event_base *base;
	struct qmp_server *server;
	pthread_t loop;
	bool joined;
	int quits;
};

static void on_quit(void *opaque)
{
	struct fixture *f = opaque;

	f->quits++;
	event_base_loopbreak(f->base);
}

static void *run_loop(void *arg)
{
	struct fixture *f = arg;

	event_base_dispatch(f->base);
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xvp-qmp-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/qmp-libxl-7", f->dir);
	/* A stale socket file from an earlier device model is replaced. */
	fd = qmp_server_listen_path(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	fd = qmp_server_listen_path(f->path);
	f->base = event_base_new();
	if (fd < 0 || !f->base)
		return -1;
	f->server = qmp_server_start(f->base, fd, on_quit, f);
	if (!f->server || pthread_create(&f->loop, NULL, run_loop, f))
		return -1;
	*state = f;
	return 0;
}

/* The loop ended (a quit broke it): only then is what it counted safe to read. */
static void join_loop(struct fixture *f)
{
	if (!f->joined)
		assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->joined = true;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	join_loop(f);
	qmp_server_stop(f->server);
	event_base_free(f->base);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int connect_client(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval guard = { GUARD_SECONDS, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(addr.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard)), 0);
	return fd;
}

/* One CRLF-terminated line from @fd into @buf, CRLF kept; "" at EOF or reset. */
static void read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, 1);

		assert_true(n >= 0 || errno == ECONNRESET);
		if (n <= 0)
			break;
		len++;
		if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
}

static void send_text(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Send @request, expect @answer (a whole line, CRLF included). */
static void exchange(int fd, const char *request, const char *answer)
{
	char line[512];

	send_text(fd, request);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, answer);
}

static void expect_greeting(int fd)
{
	char line[512];

	read_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "{ \"QMP\": { \"version\": "));
	assert_memory_equal(line + strlen(line) - 2, "\r\n", 2);
}

static void expect_closed(int fd)
{
	char byte;
	ssize_t n = read(fd, &byte, 1);

	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

/*
 * After quit's answer the server keeps the connection (QEMU does while it
 * shuts down; libxl hangs up first): nothing more comes, no hang-up.
 */
static void expect_kept_open(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 200), 0);
}

/* A new client is served: greeted, negotiated, answered; then it quits (the loop ends). */
static void assert_still_served_then_quit(struct fixture *f)
{
	int fd = connect_client(f);

	expect_greeting(fd);
	exchange(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n",
		 "{ \"return\": { }, \"id\": 1 }\r\n");
	exchange(fd, "{\"execute\":\"quit\",\"id\":2}\r\n", "{ \"return\": { }, \"id\": 2 }\r\n");
	expect_kept_open(fd);
	close(fd);
}

/* libxl after "running": greeting, qmp_capabilities, query-chardev, query-vnc. */
static void test_libxl_conversation_over_the_socket(void **state)
{
	struct fixture *f = *state;
	int fd = connect_client(f);

	expect_greeting(fd);
	exchange(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n",
		 "{ \"return\": { }, \"id\": 1 }\r\n");
	exchange(fd, "{\"execute\":\"query-chardev\",\"id\":2}\r\n",
		 "{ \"return\": [ ], \"id\": 2 }\r\n");
	exchange(fd, "{\"execute\":\"query-vnc\",\"id\":3}\r\n",
		 "{ \"return\": { \"enabled\": false }, \"id\": 3 }\r\n");
	/* libxl disconnects; nothing stops. */
	close(fd);
	assert_still_served_then_quit(f);
	/* One quit, told once the answer was flushed (the client saw it first). */
	join_loop(f);
	assert_int_equal(f->quits, 1);
}

/* Two requests in one write, and one split over two writes: framing is by line. */
static void test_lines_are_framed_whatever_the_writes(void **state)
{
	struct fixture *f = *state;
	char line[512];
	int fd = connect_client(f);

	expect_greeting(fd);
	send_text(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}\n{\"execute\":\"query-chardev\","
		  "\"id\":\"two\"}\r\n{\"execute\":\"query-");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "{ \"return\": { }, \"id\": 1 }\r\n");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "{ \"return\": [ ], \"id\": \"two\" }\r\n");
	exchange(fd, "vnc\",\"id\":3}\r\n", "{ \"return\": { \"enabled\": false }, \"id\": 3 }\r\n");
	close(fd);
	assert_still_served_then_quit(f);
}

static void test_line_without_end_closes_that_client(void **state)
{
	struct fixture *f = *state;
	char *blob = malloc(QMP_LINE_MAX * 4 + 1), line[512];
	int fd = connect_client(f);

	assert_non_null(blob);
	memset(blob, 'x', QMP_LINE_MAX * 4);
	blob[QMP_LINE_MAX * 4] = '\0';
	expect_greeting(fd);
	/* The server stops reading past the bound: the write may be cut short. */
	(void)!send(fd, blob, QMP_LINE_MAX * 4, MSG_NOSIGNAL);
	read_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "line too long"));
	expect_closed(fd);
	close(fd);
	free(blob);
	assert_still_served_then_quit(f);
}

static void test_client_that_never_reads_is_closed(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "{\"execute\":\"query-chardev\",\"id\":12345}\n";
	int fd = connect_client(f);
	size_t sent = 0;

	expect_greeting(fd);
	/* Answers pile up unread until the server's bound closes the connection. */
	for (int i = 0; i < 200000; i++) {
		ssize_t n = send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL);

		if (n < 0) {
			assert_true(errno == EPIPE || errno == ECONNRESET);
			break;
		}
		sent += (size_t)n;
	}
	assert_true(sent < 200000 * (sizeof(request) - 1));
	close(fd);
	assert_still_served_then_quit(f);
}

static void test_clients_past_the_bound_are_refused(void **state)
{
	struct fixture *f = *state;
	int fds[QMP_SERVER_MAX_CLIENTS + 1];

	for (int i = 0; i < QMP_SERVER_MAX_CLIENTS; i++) {
		fds[i] = connect_client(f);
		expect_greeting(fds[i]);
	}
	fds[QMP_SERVER_MAX_CLIENTS] = connect_client(f);
	expect_closed(fds[QMP_SERVER_MAX_CLIENTS]);
	/* Those let in are served all the same. */
	exchange(fds[0], "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n",
		 "{ \"return\": { }, \"id\": 1 }\r\n");
	exchange(fds[0], "{\"execute\":\"quit\"}\r\n", "{ \"return\": { } }\r\n");
	expect_kept_open(fds[0]);
	for (int i = 0; i <= QMP_SERVER_MAX_CLIENTS; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_libxl_conversation_over_the_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lines_are_framed_whatever_the_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_without_end_closes_that_client, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_that_never_reads_is_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clients_past_the_bound_are_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
