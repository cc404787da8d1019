/* SPDX-License-Identifier: MIT */
/*
 * daemon/qmp_server.h: the QMP monitor sockets of the device-model mode,
 * on the caller's libevent loop: each accepted connection is one
 * daemon/qmp_session.h conversation.
 *
 * Bounded: at most QMP_SERVER_MAX_CLIENTS connections at once (more are
 * closed at accept), a line longer than QMP_LINE_MAX gets a parse error and
 * the connection is closed, and so is one that leaves more than
 * QMP_SERVER_MAX_PENDING bytes of answers unread. A client that misbehaves
 * loses its connection only; the device model goes on.
 */
#ifndef XVP_DAEMON_QMP_SERVER_H
#define XVP_DAEMON_QMP_SERVER_H

struct event_base;
struct qmp_server;

#define QMP_SERVER_MAX_CLIENTS	8
#define QMP_SERVER_MAX_PENDING	65536

/* A client asked to "quit" (answered first): the device model stops. */
typedef void qmp_server_quit_fn(void *opaque);

/*
 * A listening socket at @path (a stale file there is replaced, as libxl
 * and QEMU do): its fd, or -errno.
 */
int qmp_server_listen_path(const char *path);

/*
 * Serve QMP on the listening socket @listen_fd (the server owns it from
 * here, even on failure) on @base: NULL if out of memory (logged).
 */
struct qmp_server *qmp_server_start(struct event_base *base, int listen_fd,
				    qmp_server_quit_fn *quit, void *opaque);

/* Close every connection and the listening socket. NULL is ignored. */
void qmp_server_stop(struct qmp_server *server);

#endif
