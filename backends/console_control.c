// SPDX-License-Identifier: MIT
/*
 * backends/console_control.c: the MULTIPORT control queues of
 * virtio-console (virtio 1.2, 5.3.6.2).
 *
 * The driver says DEVICE_READY; the device adds each port (DEVICE_ADD);
 * the driver answers PORT_READY per port; the device then says which is
 * the console (CONSOLE_PORT, with its size: RESIZE), the port's name
 * (PORT_NAME) and whether dom0's side is open (PORT_OPEN, again whenever a
 * socket's client comes or goes); the driver says PORT_OPEN when a guest
 * program opens or closes the port.
 *
 * What the device owes is a few bits per port, not a queue of messages: a
 * guest that gives no control buffers costs nothing, and a PORT_OPEN sent
 * late says the state of then. A message the driver may not send, an id
 * beyond the ports, a port not yet added or ready, a value that is neither
 * 0 nor 1, a message that is not the 8 bytes of struct
 * virtio_console_control: the driver broke the protocol, the device needs
 * a reset.
 */
#include "backends/console_device.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "backends/queue_loop.h"

/* 5.3.6.2 */
#define VIRTIO_CONSOLE_DEVICE_READY	0
#define VIRTIO_CONSOLE_DEVICE_ADD	1
#define VIRTIO_CONSOLE_PORT_READY	3
#define VIRTIO_CONSOLE_CONSOLE_PORT	4
#define VIRTIO_CONSOLE_RESIZE		5
#define VIRTIO_CONSOLE_PORT_OPEN	6
#define VIRTIO_CONSOLE_PORT_NAME	7

struct virtio_console_control {
	uint32_t id;		/* le32 */
	uint16_t event;		/* le16 */
	uint16_t value;		/* le16 */
};

/* 5.3.6.2: after RESIZE's header, le16 cols then le16 rows (as struct virtio_console_config). */
struct virtio_console_resize {
	uint16_t cols;
	uint16_t rows;
};

/* Messages that tell a port's state: owed only once the driver said the port is ready. */
#define AFTER_READY	(CONSOLE_SEND_CONSOLE | CONSOLE_SEND_RESIZE | CONSOLE_SEND_NAME | \
			 CONSOLE_SEND_OPEN)

__attribute__((format(printf, 2, 3)))
static void violation(struct console *console, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	virtio_device_needs_reset(console->vdev, why);
}

void console_control_send(struct console *console, struct console_port *port, unsigned int messages)
{
	static const struct timeval now = { 0, 0 };

	if (!console_multiport(console))
		return;
	if (!port->ready)
		messages &= ~(unsigned int)AFTER_READY;
	if (!messages)
		return;
	port->pending |= messages;
	/* From the event loop: whoever owes it may be using the scratch chain. */
	evtimer_add(console->control_kick, &now);
}

void console_size_changed(struct console *console)
{
	if (console_multiport(console))
		console_control_send(console, &console->ports[0], CONSOLE_SEND_RESIZE);
	else if (virtio_features(console->vdev) & 1ULL << VIRTIO_CONSOLE_F_SIZE)
		virtio_config_changed(console->vdev);
}

static struct console_port *port_owing(struct console *console)
{
	for (unsigned int i = 0; i < console->nr_ports; i++)
		if (console->ports[i].pending)
			return &console->ports[i];
	return NULL;
}

static bool control_rx_has_room(struct queue_service *qs)
{
	return port_owing(qs->opaque) != NULL;
}

/* The next message @port is owed, into @chain: the bytes written. */
static uint32_t write_message(struct console_port *port, struct virtq_chain *chain)
{
	unsigned int bit = port->pending & -port->pending;
	struct virtio_console_control msg = { htole32(port->id), 0, htole16(1) };
	struct virtio_console_resize size = { htole16(port->cols), htole16(port->rows) };
	uint64_t len = sizeof(msg);

	port->pending &= ~bit;
	if (bit == CONSOLE_SEND_ADD) {
		msg.event = htole16(VIRTIO_CONSOLE_DEVICE_ADD);
		port->added = true;
	} else if (bit == CONSOLE_SEND_CONSOLE) {
		msg.event = htole16(VIRTIO_CONSOLE_CONSOLE_PORT);
	} else if (bit == CONSOLE_SEND_RESIZE) {
		msg.event = htole16(VIRTIO_CONSOLE_RESIZE);
		msg.value = 0;
		len += virtq_chain_write(chain, sizeof(msg), &size, sizeof(size));
	} else if (bit == CONSOLE_SEND_NAME) {
		/* The name follows, not terminated; a short buffer gets what fits. */
		msg.event = htole16(VIRTIO_CONSOLE_PORT_NAME);
		len += virtq_chain_write(chain, sizeof(msg), port->name, strlen(port->name));
	} else {
		msg.event = htole16(VIRTIO_CONSOLE_PORT_OPEN);
		msg.value = htole16(port->host_open);
	}
	virtq_chain_write(chain, 0, &msg, sizeof(msg));
	return (uint32_t)len;
}

static bool control_rx_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct console *console = qs->opaque;
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	uint32_t len;

	if (chain->nr_out || chain->in_bytes < sizeof(struct virtio_console_control)) {
		virtq_chain_release(vq, chain);
		violation(console, "control receiveq buffer with %u readable descriptors and %llu "
			  "writable bytes: a message needs 8 (5.3.6.2)", chain->nr_out,
			  (unsigned long long)chain->in_bytes);
		return false;
	}
	len = write_message(port_owing(console), chain);
	queue_service_push(qs, chain->head, len);
	virtq_chain_release(vq, chain);
	return true;
}

static void device_ready(struct console *console, uint16_t value)
{
	if (value > 1) {
		violation(console, "DEVICE_READY with value %u (5.3.6.2)", value);
		return;
	}
	if (!value) {
		log_warn("%s: the driver could not set the device up (DEVICE_READY 0)", console->name);
		return;
	}
	for (unsigned int i = 0; i < console->nr_ports; i++)
		if (!console->ports[i].added)
			console_control_send(console, &console->ports[i], CONSOLE_SEND_ADD);
}

static void port_ready(struct console *console, struct console_port *port, uint16_t value)
{
	unsigned int messages = CONSOLE_SEND_OPEN;

	if (!port->added || value > 1) {
		violation(console, port->added ? "PORT_READY with value %u for port %u (5.3.6.2)" :
			  "PORT_READY %u for port %u before its DEVICE_ADD (5.3.6.2)", value, port->id);
		return;
	}
	if (!value) {
		log_warn("%s: the driver could not set port %u up", console->name, port->id);
		return;
	}
	port->ready = true;
	if (!port->id)
		messages |= CONSOLE_SEND_CONSOLE |
			    (console->offer_size && virtio_features(console->vdev) &
			     1ULL << VIRTIO_CONSOLE_F_SIZE ? CONSOLE_SEND_RESIZE : 0);
	if (port->name[0])
		messages |= CONSOLE_SEND_NAME;
	console_control_send(console, port, messages);
}

static void port_open(struct console *console, struct console_port *port, uint16_t value)
{
	if (!port->ready || value > 1) {
		violation(console, port->ready ? "PORT_OPEN with value %u for port %u (5.3.6.2)" :
			  "PORT_OPEN %u for port %u before its PORT_READY (5.3.6.2)", value, port->id);
		return;
	}
	console_port_set_guest_open(port, value);
}

static void handle_message(struct console *console, const struct virtio_console_control *msg)
{
	uint32_t id = le32toh(msg->id);
	uint16_t event = le16toh(msg->event), value = le16toh(msg->value);

	if (event == VIRTIO_CONSOLE_DEVICE_READY) {
		device_ready(console, value);
		return;
	}
	if (event != VIRTIO_CONSOLE_PORT_READY && event != VIRTIO_CONSOLE_PORT_OPEN) {
		violation(console, "control event %u is not the driver's to send (5.3.6.2)", event);
		return;
	}
	if (id >= console->nr_ports) {
		violation(console, "control message for port %u: the device has %u ports",
			  (unsigned int)id, console->nr_ports);
		return;
	}
	if (event == VIRTIO_CONSOLE_PORT_READY)
		port_ready(console, &console->ports[id], value);
	else
		port_open(console, &console->ports[id], value);
}

static bool control_tx_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct console *console = qs->opaque;
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	struct virtio_console_control msg;

	if (chain->nr_in || chain->out_bytes != sizeof(msg)) {
		virtq_chain_release(vq, chain);
		violation(console, "control transmitq message of %llu bytes (%u writable descriptors): "
			  "expected 8 (5.3.6.2)", (unsigned long long)chain->out_bytes, chain->nr_in);
		return false;
	}
	virtq_chain_read(chain, 0, &msg, sizeof(msg));
	queue_service_push(qs, chain->head, 0);
	/* Done with the chain before acting: acting may run other queues (a port's input). */
	virtq_chain_release(vq, chain);
	handle_message(console, &msg);
	return true;
}

static const struct queue_service_ops control_rx_ops = {
	.has_room = control_rx_has_room,
	.serve = control_rx_serve,
};

static const struct queue_service_ops control_tx_ops = { .serve = control_tx_serve };

static void on_control_kick(evutil_socket_t fd, short what, void *arg)
{
	struct console *console = arg;

	(void)fd;
	(void)what;
	queue_service_run(&console->control_rx);
}

int console_control_init(struct console *console)
{
	queue_service_init(&console->control_rx, console->vdev, CONSOLE_CONTROL_RXQ, &control_rx_ops,
			   console, &console->chain);
	queue_service_init(&console->control_tx, console->vdev, CONSOLE_CONTROL_TXQ, &control_tx_ops,
			   console, &console->chain);
	console->control_kick = evtimer_new(console->base, on_control_kick, console);
	if (!console->control_kick || queue_loop_attach(&console->control_rx, console->base) ||
	    queue_loop_attach(&console->control_tx, console->base))
		return -ENOMEM;
	return 0;
}

void console_control_fini(struct console *console)
{
	queue_loop_detach(&console->control_rx);
	queue_loop_detach(&console->control_tx);
	if (console->control_kick)
		event_free(console->control_kick);
}

void console_control_reset(struct console *console)
{
	if (console->control_kick)	/* NULL: console_control_init() failed */
		evtimer_del(console->control_kick);
	queue_service_cancel(&console->control_rx);
	queue_service_cancel(&console->control_tx);
}
