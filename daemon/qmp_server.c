// SPDX-License-Identifier: MIT
/*
 * daemon/qmp_server.c: accepting QMP clients and framing their lines
 * (libevent's evconnlistener and bufferevents), each line answered by its
 * session.
 */
#include "daemon/qmp_server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "daemon/qmp_session.h"
#include "lib/log.h"

struct qmp_client {
	struct qmp_server *server;
	struct bufferevent *bev;
	struct qmp_session session;
	bool closing;		/* the last answer is being flushed, then close */
	bool quitting;		/* quit was answered: tell the owner once it is flushed */
	bool quit_told;		/* ... which was done: the client stays until it hangs up */
	unsigned int logged;	/* requests logged (log_request) */
};

#define QMP_SERVER_LOGGED_REQUESTS 8

struct qmp_server {
	struct evconnlistener *listener;
	struct qmp_client *clients[QMP_SERVER_MAX_CLIENTS];
	qmp_server_quit_fn *quit;
	void *opaque;
};

int qmp_server_listen_path(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) && errno != ENOENT)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, QMP_SERVER_MAX_CLIENTS))
		goto fail;
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static void client_free(struct qmp_client *client)
{
	struct qmp_server *server = client->server;
	bool quitting = client->quitting && !client->quit_told;

	for (int i = 0; i < QMP_SERVER_MAX_CLIENTS; i++)
		if (server->clients[i] == client)
			server->clients[i] = NULL;
	/*
	 * Now, not when libevent closes it: from a callback of its own it
	 * frees later, and a quit may have ended the loop by then.
	 */
	shutdown(bufferevent_getfd(client->bev), SHUT_RDWR);
	bufferevent_free(client->bev);
	free(client);
	/* Last: the owner may stop the server from its callback. */
	if (quitting)
		server->quit(server->opaque);
}

/* Queue @line (consumed); false if it cannot be (out of memory, or too much unread). */
static bool send_line(struct qmp_client *client, char *line)
{
	struct evbuffer *out = bufferevent_get_output(client->bev);
	bool ok = line && evbuffer_get_length(out) + strlen(line) <= QMP_SERVER_MAX_PENDING &&
		  !evbuffer_add(out, line, strlen(line));

	free(line);
	return ok;
}

/* Flush what is queued, then close (on_written). */
static void close_after_flush(struct qmp_client *client)
{
	client->closing = true;
	bufferevent_disable(client->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(client->bev)) == 0)
		client_free(client);
}

/*
 * What libxl asked, in its device model's log: three lines per start, so
 * the first few requests of each client, then one line saying so.
 */
static void log_request(struct qmp_client *client)
{
	if (client->logged < QMP_SERVER_LOGGED_REQUESTS)
		log_info("QMP: %.64s answered", client->session.command[0] ?
			 client->session.command : "(a malformed request)");
	else if (client->logged == QMP_SERVER_LOGGED_REQUESTS)
		log_info("QMP: this client's further requests are answered, not logged");
	if (client->logged <= QMP_SERVER_LOGGED_REQUESTS)
		client->logged++;
}

/* Every complete line in the input, answered in order. */
static void answer_lines(struct qmp_client *client)
{
	struct evbuffer *in = bufferevent_get_input(client->bev);
	size_t len;
	char *line;

	/* After quit nothing more is answered (QEMU is shutting down); the client may hang up. */
	if (client->quitting) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		char *reply = NULL;
		enum qmp_action action;

		action = qmp_session_line(&client->session, line, len, &reply);
		free(line);
		log_request(client);
		if (!send_line(client, reply)) {
			log_warn("QMP client: answers not read or out of memory: closing it");
			client_free(client);
			return;
		}
		if (action == QMP_QUIT) {
			/*
			 * libxl's probe waits for quit's answer, then sends SIGHUP.
			 * The connection stays open until libxl closes it or the
			 * process ends, as QEMU's does while it shuts down: closing
			 * it with the answer made libxl see the hang-up first
			 * ("received POLLHUP|POLLERR from QMP socket", Xen 4.22).
			 */
			client->quitting = true;
			return;
		}
	}
	/* No end of line within the bound: refuse the line and the client. */
	if (evbuffer_get_length(in) > QMP_LINE_MAX) {
		log_warn("QMP client: a line longer than %d bytes: closing it", QMP_LINE_MAX);
		send_line(client, qmp_session_line_too_long());
		close_after_flush(client);
	}
}

static void on_readable(struct bufferevent *bev, void *arg)
{
	(void)bev;
	answer_lines(arg);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	struct qmp_client *client = arg;

	(void)bev;
	if (client->closing) {
		client_free(client);
	} else if (client->quitting && !client->quit_told) {
		client->quit_told = true;
		/* Last: the owner may stop the server, and free this client, from its callback. */
		client->server->quit(client->server->opaque);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	/* EOF or an error: the client is gone; nothing of it is kept. */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_free(arg);	/* a quit asked for stands */
}

static int free_slot(struct qmp_server *server)
{
	for (int i = 0; i < QMP_SERVER_MAX_CLIENTS; i++)
		if (!server->clients[i])
			return i;
	return -1;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
		      int addr_len, void *arg)
{
	struct qmp_server *server = arg;
	struct event_base *base = evconnlistener_get_base(listener);
	int slot = free_slot(server);
	struct qmp_client *client;

	(void)addr, (void)addr_len;
	client = slot < 0 ? NULL : calloc(1, sizeof(*client));
	if (!client) {
		log_warn("QMP: %s: connection refused", slot < 0 ? "too many clients" :
			 "out of memory");
		close(fd);
		return;
	}
	client->server = server;
	qmp_session_init(&client->session);
	client->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!client->bev) {
		close(fd);
		free(client);
		return;
	}
	server->clients[slot] = client;
	/* Read at most one line's worth past the bound before answering. */
	bufferevent_setwatermark(client->bev, EV_READ, 0, QMP_LINE_MAX + 2);
	bufferevent_setcb(client->bev, on_readable, on_written, on_event, client);
	if (bufferevent_enable(client->bev, EV_READ) || !send_line(client, qmp_session_greeting()))
		client_free(client);
}

struct qmp_server *qmp_server_start(struct event_base *base, int listen_fd,
				    qmp_server_quit_fn *quit, void *opaque)
{
	struct qmp_server *server = calloc(1, sizeof(*server));

	if (server) {
		server->quit = quit;
		server->opaque = opaque;
		evutil_make_socket_nonblocking(listen_fd);
		server->listener = evconnlistener_new(base, on_accept, server,
						      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
						      0, listen_fd);
	}
	if (!server || !server->listener) {
		log_error("QMP: cannot serve the monitor socket: out of memory");
		close(listen_fd);
		free(server);
		return NULL;
	}
	return server;
}

void qmp_server_stop(struct qmp_server *server)
{
	if (!server)
		return;
	for (int i = 0; i < QMP_SERVER_MAX_CLIENTS; i++) {
		if (server->clients[i]) {
			server->clients[i]->quitting = false;
			client_free(server->clients[i]);
		}
	}
	evconnlistener_free(server->listener);
	free(server);
}
