// SPDX-License-Identifier: MIT
/*
 * backends/console_host.c: the dom0 side of every console port, opened
 * before anything is registered with Xen and before privileges drop, so
 * that the worker serving the guest needs no file system: the pty (its
 * slave held open too, so the master never reads a hangup while no one
 * has it open), the listening unix socket, the file guest output is
 * appended to.
 */
#include "backends/console.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/parse.h"

/* What a terminal shows before anyone sets the size (the size VT100s had). */
#define PTY_COLS	80
#define PTY_ROWS	24

/* The reason in @why, errno-style @err (> 0) returned negated. */
__attribute__((format(printf, 4, 5)))
static int fail(int err, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -err;
}

static int apply_owner_mode(const struct console_options *options, int fd, const char *path)
{
	if (options->has_owner &&
	    (fd >= 0 ? fchown(fd, options->uid, options->gid) : chown(path, options->uid, options->gid)))
		return -errno;
	if (options->has_mode &&
	    (fd >= 0 ? fchmod(fd, options->mode) : chmod(path, options->mode)))
		return -errno;
	return 0;
}

/*
 * Raw: guest output is not turned into input by the slave's echo, and
 * bytes pass unchanged both ways (the guest's own tty does the processing).
 */
static int open_pty(const struct console_options *options, struct console_port_options *port,
		    char *why, size_t why_len)
{
	struct winsize size = { .ws_row = PTY_ROWS, .ws_col = PTY_COLS };
	struct termios raw;
	int ret;

	port->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (port->fd < 0 || grantpt(port->fd) || unlockpt(port->fd) ||
	    ptsname_r(port->fd, port->pty_path, sizeof(port->pty_path)))
		return fail(errno, why, why_len, "cannot make a pty: %s", strerror(errno));
	port->pty_slave = open(port->pty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (port->pty_slave < 0 || tcgetattr(port->pty_slave, &raw))
		return fail(errno, why, why_len, "%s: %s", port->pty_path, strerror(errno));
	cfmakeraw(&raw);
	if (tcsetattr(port->pty_slave, TCSANOW, &raw) || ioctl(port->fd, TIOCSWINSZ, &size))
		return fail(errno, why, why_len, "%s: %s", port->pty_path, strerror(errno));
	ret = apply_owner_mode(options, port->pty_slave, NULL);
	if (ret)
		return fail(-ret, why, why_len, "%s: owner or mode: %s", port->pty_path,
			    strerror(-ret));
	return 0;
}

static int open_file(const struct console_options *options, struct console_port_options *port,
		     char *why, size_t why_len)
{
	const char *path = console_string(options, port->path);
	int ret;

	port->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);
	if (port->fd < 0)
		return fail(errno, why, why_len, "file=%.*s%s: %s", PARSE_SHOWN(path),
			    strerror(errno));
	ret = apply_owner_mode(options, port->fd, NULL);
	if (ret)
		return fail(-ret, why, why_len, "file=%.*s%s: owner or mode: %s", PARSE_SHOWN(path),
			    strerror(-ret));
	return 0;
}

/*
 * A socket file left by an earlier run (a worker that stopped) is in the
 * way of bind(): remove it, but only when no server answers there.
 */
static int clear_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int probe, connected;

	if (lstat(addr->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	connected = !connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	close(probe);
	if (connected)
		return -EADDRINUSE;
	return unlink(addr->sun_path) ? -errno : 0;
}

static int open_socket(const struct console_options *options, struct console_port_options *port,
		       char *why, size_t why_len)
{
	const char *path = console_string(options, port->path);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	ret = clear_stale_socket(&addr);
	if (ret)
		return fail(-ret, why, why_len, "socket=%.*s%s: %s", PARSE_SHOWN(path),
			    ret == -EEXIST ? "exists and is not a socket" :
			    ret == -EADDRINUSE ? "another server listens there" : strerror(-ret));
	port->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (port->listen_fd < 0)
		return fail(errno, why, why_len, "socket: %s", strerror(errno));
	/* Only the owner may connect until mode= says otherwise. */
	old_mask = umask(0177);
	ret = bind(port->listen_fd, (const struct sockaddr *)&addr, sizeof(addr)) ? -errno : 0;
	umask(old_mask);
	if (!ret)
		ret = apply_owner_mode(options, -1, path);
	if (!ret && listen(port->listen_fd, 1))
		ret = -errno;
	if (ret)
		return fail(-ret, why, why_len, "socket=%.*s%s: %s", PARSE_SHOWN(path),
			    strerror(-ret));
	return 0;
}

int console_host_open(struct console_options *options, char *why, size_t why_len)
{
	for (unsigned int i = 0; i < options->nr_ports; i++) {
		struct console_port_options *port = &options->ports[i];
		int ret = 0;

		if (port->kind == CONSOLE_PTY)
			ret = open_pty(options, port, why, why_len);
		else if (port->kind == CONSOLE_FILE)
			ret = open_file(options, port, why, why_len);
		else if (port->kind == CONSOLE_SOCKET)
			ret = open_socket(options, port, why, why_len);
		if (ret)
			return ret;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void console_host_close(struct console_options *options)
{
	for (unsigned int i = 0; i < options->nr_ports; i++) {
		close_fd(&options->ports[i].fd);
		close_fd(&options->ports[i].listen_fd);
		close_fd(&options->ports[i].pty_slave);
	}
}
