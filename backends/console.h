/* SPDX-License-Identifier: MIT */
/*
 * backends/console.h: virtio-console (virtio 1.2, 5.3): the console port
 * (an hvc in the guest) and, with MULTIPORT, named ports (/dev/vportNpM),
 * each joined to a dom0 pty, unix socket, file or nothing.
 */
#ifndef XVP_BACKENDS_CONSOLE_H
#define XVP_BACKENDS_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/backend.h"
#include "virtio/device.h"

struct event_base;

/*
 * 5.3.2: port 0 uses queues 0 and 1, the control queues are 2 and 3 and
 * port N has 2N+2 and 2N+3: 31 ports fill VIRTIO_MAX_QUEUES (64) queues.
 */
#define CONSOLE_MAX_PORTS	(VIRTIO_MAX_QUEUES / 2 - 1)
#define CONSOLE_NAME_MAX	127		/* a port's name, in bytes */
#define CONSOLE_STRINGS		8192		/* every name and path of one device */
#define CONSOLE_BUFFER_DEFAULT	(64 * 1024)
#define CONSOLE_BUFFER_MIN	4096
#define CONSOLE_BUFFER_MAX	(16 * 1024 * 1024)

/* The dom0 side of a port: BACKEND of console=BACKEND and port=NAME:BACKEND. */
enum console_kind { CONSOLE_NULL, CONSOLE_PTY, CONSOLE_SOCKET, CONSOLE_FILE };

struct console_port_options {
	enum console_kind kind;
	uint16_t name;		/* offset of the name in strings; 0: none (the console port) */
	uint16_t path;		/* offset of socket= and file='s path */
	/* Set by open(): what the worker serves with. */
	int fd;			/* the pty's master, the file; -1 */
	int listen_fd;		/* the socket's; -1 */
	int pty_slave;		/* held open: the master never reads a hangup; -1 */
	char pty_path[32];	/* "/dev/pts/3" */
};

/* What --device console,... sets beyond addr and queue-size (memcpy-safe until open). */
struct console_options {
	unsigned int nr_ports;		/* port 0 (the console) and one per port= */
	uint64_t buffer;		/* buffer=: bytes of each port's output ring */
	bool has_owner, has_mode;
	uid_t uid;			/* owner=: of sockets, ptys and files */
	gid_t gid;
	unsigned int mode;		/* mode=: their permission bits */
	uint16_t strings_used;		/* offset 0 is "" */
	char strings[CONSOLE_STRINGS];
	struct console_port_options ports[CONSOLE_MAX_PORTS];
};

/* The console type for the daemon's table (backends/console_backend.c). */
extern const struct backend_type console_backend;

static inline const char *console_string(const struct console_options *options, uint16_t off)
{
	return options->strings + off;
}

/* backends/console_host.c: the dom0 side opened and closed (before privileges drop). */
int console_host_open(struct console_options *options, char *why, size_t why_len);
void console_host_close(struct console_options *options);

/*
 * On @transport; the ports' fds are watched on @base. The fds of @options stay
 * theirs (console_host_close() closes them); a socket's clients are the device's.
 */
int console_create(struct virtio_device **out, const char *name, uint16_t queue_size,
		   const struct console_options *options, const struct virtio_mem *mem,
		   struct event_base *base, const struct virtio_transport *transport);
void console_destroy(struct virtio_device *vdev);

#endif
