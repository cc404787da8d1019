// SPDX-License-Identifier: MIT
/*
 * backends/console_port.c: one port of virtio-console (virtio 1.2, 5.3.6):
 * its receiveq and transmitq and the dom0 side they join.
 *
 * Neither side can hold the other up. Guest output is taken as soon as the
 * guest gives it (Linux spins on the console port until its buffer comes
 * back): what the dom0 side cannot take yet waits in a bounded ring; while
 * no one is there to read it (a socket without a client, a pty no one
 * may have open) the oldest bytes make room and are counted. Only a reader
 * that is there but slow (a socket's client) holds the transmitq until the
 * ring has room for the next chain; a file takes every chain at once. Input
 * is read from the dom0 side only into buffers the guest gave and only
 * while the guest has the port open: otherwise it stays in the socket or
 * pty, not here.
 */
#include "backends/console_device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "backends/queue_loop.h"

/* One receive chain takes at most this much: the used length and one pass stay bounded. */
#define CONSOLE_READ_MAX	(64 * 1024)

/* A socket's client is there: its output is held, not dropped, while it is slow. */
static bool has_reader(const struct console_port *port)
{
	return port->kind == CONSOLE_SOCKET && port->fd >= 0;
}

bool console_port_guest_open(struct console_port *port)
{
	if (!console_multiport(port->console))
		return port->id == 0;
	return port->guest_open;
}

static void resume_accepting(struct console *console);

static void free_event(struct event **event)
{
	if (*event)
		event_free(*event);
	*event = NULL;
}

static void client_gone(struct console_port *port)
{
	log_info("%s: port %u: socket client gone", port->console->name, port->id);
	free_event(&port->readable);
	free_event(&port->writable);
	close(port->fd);
	port->fd = -1;
	port->host_open = false;
	port->tx_written = 0;
	event_add(port->acceptable, NULL);
	resume_accepting(port->console);
	console_control_send(port->console, port, CONSOLE_SEND_OPEN);
	/* Output is dropped, no longer held, from here: a stalled transmitq goes on. */
	if (port->tx_stalled) {
		port->tx_stalled = false;
		queue_service_run(&port->tx);
	}
}

/* Write out what the ring holds: false if the dom0 side went away. */
static bool flush(struct console_port *port)
{
	struct iovec iov[2];
	unsigned int nr;
	ssize_t n;

	while ((nr = console_ring_peek(&port->out, iov))) {
		n = writev(port->fd, iov, (int)nr);
		if (n > 0) {
			console_ring_consume(&port->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(port->writable, NULL);
			return true;
		}
		if (port->kind == CONSOLE_SOCKET) {
			client_gone(port);
			return false;
		}
		/* A file that cannot be written (a full disk): the output is lost, and said so. */
		log_ratelimited(&port->log, LOG_LEVEL_ERROR, "%s: port %u: write: %s: %zu bytes lost",
				port->console->name, port->id, strerror(errno), port->out.used);
		port->out.dropped += port->out.used;
		console_ring_consume(&port->out, port->out.used);
	}
	return true;
}

/*
 * The chain's bytes from tx_written on, straight to the dom0 side (the ring
 * is empty), until it would block: false if the dom0 side failed (a client
 * gone: EPIPE, ECONNRESET; a full disk), with errno.
 */
static bool write_direct(struct console_port *port, const struct virtq_chain *chain)
{
	uint64_t skip = port->tx_written;

	for (unsigned int i = 0; i < chain->nr_out; i++) {
		const struct iovec *seg = &chain->out[i];
		ssize_t n;

		if (skip >= seg->iov_len) {
			skip -= seg->iov_len;
			continue;
		}
		do
			n = write(port->fd, (const uint8_t *)seg->iov_base + skip, seg->iov_len - skip);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		port->tx_written += (uint64_t)n;
		if ((uint64_t)n < seg->iov_len - skip)
			return true;
		skip = 0;
	}
	return true;
}

/* A file takes everything at once; what it refuses (a full disk) is lost, and said so. */
static void append_to_file(struct console_port *port, const struct virtq_chain *chain)
{
	uint64_t lost;

	flush(port);
	write_direct(port, chain);
	lost = chain->out_bytes - port->tx_written;
	port->tx_written = 0;
	if (!lost)
		return;
	port->out.dropped += lost;
	log_ratelimited(&port->log, LOG_LEVEL_ERROR, "%s: port %u: write: %s: %llu bytes lost",
			port->console->name, port->id, strerror(errno), (unsigned long long)lost);
}

/*
 * Take @chain's output: false (the chain given back, the ring full) when
 * a reader that is there must catch up first.
 */
static bool take_output(struct console_port *port, const struct virtq_chain *chain)
{
	uint64_t left;

	if (port->kind == CONSOLE_NULL)
		return true;
	if (port->kind == CONSOLE_FILE) {
		append_to_file(port, chain);
		return true;
	}
	if (port->fd >= 0 && flush(port) && !port->out.used && has_reader(port) &&
	    !write_direct(port, chain))
		client_gone(port);	/* what it did not take is now kept for the next one */
	left = chain->out_bytes - port->tx_written;
	if (has_reader(port) && left > console_ring_room(&port->out)) {
		port->tx_stalled = true;
		event_add(port->writable, NULL);
		return false;
	}
	console_ring_append(&port->out, chain->out, chain->nr_out, port->tx_written, left);
	port->tx_written = 0;
	if (port->fd >= 0)
		flush(port);
	return true;
}

static bool tx_has_room(struct queue_service *qs)
{
	struct console_port *port = qs->opaque;

	return !port->tx_stalled;
}

static bool tx_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct console_port *port = qs->opaque;
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	uint64_t dropped = port->out.dropped;

	/* 5.3.6.1: the driver MUST NOT put a device-writable buffer in a transmitq. */
	if (chain->nr_in) {
		virtq_chain_release(vq, chain);
		virtio_device_needs_reset(qs->vdev, "device-writable buffer in a transmitq (5.3.6.1)");
		return false;
	}
	if (!take_output(port, chain)) {
		virtq_unpop(vq);
		virtq_chain_release(vq, chain);
		return false;
	}
	port->bytes_out += chain->out_bytes;
	queue_service_push(qs, chain->head, 0);
	virtq_chain_release(vq, chain);
	if (port->out.dropped != dropped && port->kind != CONSOLE_FILE)
		log_ratelimited(&port->log, LOG_LEVEL_WARN, "%s: port %u: no reader: %llu bytes of "
				"output dropped so far", port->console->name, port->id,
				(unsigned long long)port->out.dropped);
	return true;
}

static bool rx_has_room(struct queue_service *qs)
{
	struct console_port *port = qs->opaque;

	return port->fd >= 0 && port->kind != CONSOLE_FILE && console_port_guest_open(port);
}

/* Keep at most CONSOLE_READ_MAX bytes of the chain's buffers: how many of them. */
static int bound_buffers(struct virtq_chain *chain)
{
	uint64_t room = CONSOLE_READ_MAX;
	unsigned int i;

	for (i = 0; i < chain->nr_in && room; i++) {
		if (chain->in[i].iov_len > room)
			chain->in[i].iov_len = room;
		room -= chain->in[i].iov_len;
	}
	return (int)i;
}

/* A pty's size is read as its input comes: someone typing has the terminal it sized. */
static void check_size(struct console_port *port)
{
	struct winsize size;

	if (port->kind != CONSOLE_PTY || port->id || ioctl(port->fd, TIOCGWINSZ, &size))
		return;
	if (size.ws_col == port->cols && size.ws_row == port->rows)
		return;
	port->cols = size.ws_col;
	port->rows = size.ws_row;
	console_size_changed(port->console);
}

static bool rx_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct console_port *port = qs->opaque;
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	ssize_t n;

	/* 5.3.6.1: the driver MUST NOT put a device-readable buffer in a receiveq. */
	if (chain->nr_out) {
		virtq_chain_release(vq, chain);
		virtio_device_needs_reset(qs->vdev, "device-readable buffer in a receiveq (5.3.6.1)");
		return false;
	}
	do
		n = readv(port->fd, chain->in, bound_buffers(chain));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		queue_service_push(qs, chain->head, (uint32_t)n);
		virtq_chain_release(vq, chain);
		port->bytes_in += (uint64_t)n;
		check_size(port);
		return true;
	}
	virtq_unpop(vq);
	virtq_chain_release(vq, chain);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		event_add(port->readable, NULL);
	else if (port->kind == CONSOLE_SOCKET)
		client_gone(port);
	else
		log_ratelimited(&port->log, LOG_LEVEL_ERROR, "%s: port %u: read: %s", port->console->name,
				port->id, n ? strerror(errno) : "end of input");
	return false;
}

static const struct queue_service_ops rx_ops = { .has_room = rx_has_room, .serve = rx_serve };
static const struct queue_service_ops tx_ops = { .has_room = tx_has_room, .serve = tx_serve };

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct console_port *port = arg;

	(void)fd;
	(void)what;
	queue_service_run(&port->rx);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct console_port *port = arg;

	(void)fd;
	(void)what;
	if (!flush(port) || !port->tx_stalled)
		return;
	port->tx_stalled = false;
	queue_service_run(&port->tx);
}

static int watch_fd(struct console_port *port)
{
	struct event_base *base = port->console->base;

	port->readable = event_new(base, port->fd, EV_READ, on_readable, port);
	port->writable = event_new(base, port->fd, EV_WRITE, on_writable, port);
	return port->readable && port->writable ? 0 : -ENOMEM;
}

/*
 * Out of descriptors: the pending client stays in the backlog, and the
 * listening socket, still readable, is not watched (it would wake the loop
 * at once, again and again) until a client of this device leaves.
 */
static void pause_accepting(struct console_port *port)
{
	log_ratelimited(&port->log, LOG_LEVEL_ERROR, "%s: port %u: accept: %s: the client waits",
			port->console->name, port->id, strerror(errno));
	event_del(port->acceptable);
	port->accept_paused = true;
}

static void resume_accepting(struct console *console)
{
	for (unsigned int i = 0; i < console->nr_ports; i++) {
		struct console_port *port = &console->ports[i];

		if (port->accept_paused) {
			port->accept_paused = false;
			event_add(port->acceptable, NULL);
		}
	}
}

/* One client at a time: the next waits in the backlog until this one leaves. */
static void on_acceptable(evutil_socket_t fd, short what, void *arg)
{
	struct console_port *port = arg;

	(void)what;
	port->fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (port->fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(port);
		return;		/* else gone before we took it: the next one */
	}
	if (watch_fd(port)) {
		free_event(&port->readable);
		free_event(&port->writable);
		close(port->fd);
		port->fd = -1;
		return;
	}
	event_del(port->acceptable);
	log_info("%s: port %u: socket client connected", port->console->name, port->id);
	port->host_open = true;
	console_control_send(port->console, port, CONSOLE_SEND_OPEN);
	if (flush(port))
		queue_service_run(&port->rx);
}

void console_port_set_guest_open(struct console_port *port, bool open)
{
	port->guest_open = open;
	if (open)
		queue_service_run(&port->rx);
}

void console_port_emergency(struct console_port *port, uint8_t byte)
{
	struct iovec iov = { &byte, 1 };

	if (port->kind == CONSOLE_NULL)
		return;
	console_ring_append(&port->out, &iov, 1, 0, 1);
	if (port->fd >= 0)
		flush(port);
}

void console_port_reset(struct console_port *port)
{
	queue_service_cancel(&port->rx);
	queue_service_cancel(&port->tx);
	port->guest_open = port->added = port->ready = false;
	port->tx_stalled = false;
	port->tx_written = 0;
	port->pending = 0;
}

static int watch_host(struct console_port *port, const struct console_port_options *options)
{
	struct event_base *base = port->console->base;

	port->listen_fd = options->listen_fd;
	if (port->kind == CONSOLE_SOCKET) {
		port->acceptable = event_new(base, port->listen_fd, EV_READ | EV_PERSIST,
					     on_acceptable, port);
		return port->acceptable && !event_add(port->acceptable, NULL) ? 0 : -ENOMEM;
	}
	port->host_open = true;		/* a pty, a file, nothing: always there */
	port->fd = options->fd;
	return port->fd >= 0 ? watch_fd(port) : 0;
}

int console_port_init(struct console_port *port, struct console *console, unsigned int id,
		      const struct console_options *options, size_t buffer)
{
	const struct console_port_options *port_options = &options->ports[id];
	struct winsize size;
	int ret;

	port->console = console;
	port->id = id;
	port->kind = port_options->kind;
	port->name = console_string(options, port_options->name);
	port->fd = port->listen_fd = -1;
	log_ratelimit_init(&port->log, console->name);
	if (port->kind == CONSOLE_PTY && !ioctl(port_options->fd, TIOCGWINSZ, &size)) {
		port->cols = size.ws_col;
		port->rows = size.ws_row;
	}
	ret = console_ring_init(&port->out, buffer);
	if (!ret)
		ret = watch_host(port, port_options);
	queue_service_init(&port->rx, console->vdev, console_rxq(id), &rx_ops, port, &console->chain);
	queue_service_init(&port->tx, console->vdev, console_txq(id), &tx_ops, port, &console->chain);
	if (!ret)
		ret = queue_loop_attach(&port->rx, console->base);
	if (!ret)
		ret = queue_loop_attach(&port->tx, console->base);
	return ret;
}

void console_port_fini(struct console_port *port)
{
	if (port->console)	/* else never set up (an earlier port failed) */
		log_info("%s: port %u: %llu bytes to the guest, %llu from it (%llu dropped); open in the "
			 "guest: %s, in dom0: %s", port->console->name, port->id,
			 (unsigned long long)port->bytes_in, (unsigned long long)port->bytes_out,
			 (unsigned long long)port->out.dropped, console_port_guest_open(port) ? "yes" : "no",
			 port->host_open ? "yes" : "no");
	queue_loop_detach(&port->rx);
	queue_loop_detach(&port->tx);
	free_event(&port->readable);
	free_event(&port->writable);
	free_event(&port->acceptable);
	/* A socket's client is ours; the pty and the file stay the options' (console_host_close). */
	if (port->kind == CONSOLE_SOCKET && port->fd >= 0)
		close(port->fd);
	log_ratelimit_flush(&port->log);
	console_ring_free(&port->out);
}
