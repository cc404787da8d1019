/* SPDX-License-Identifier: MIT */
/*
 * backends/console_device.h: the state shared by virtio-console's files:
 * console.c (the device: features, configuration, queues), console_port.c
 * (each port's dom0 side and data queues) and console_control.c (the
 * MULTIPORT control queues, 5.3.6.2).
 */
#ifndef XVP_BACKENDS_CONSOLE_DEVICE_H
#define XVP_BACKENDS_CONSOLE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/console.h"
#include "backends/console_ring.h"
#include "lib/log.h"
#include "virtio/queue_service.h"

struct event;

/* 5.3.3 */
#define VIRTIO_CONSOLE_F_SIZE		0
#define VIRTIO_CONSOLE_F_MULTIPORT	1
#define VIRTIO_CONSOLE_F_EMERG_WRITE	2

/* 5.3.2: the control queues, with MULTIPORT. */
#define CONSOLE_CONTROL_RXQ		2	/* device -> driver */
#define CONSOLE_CONTROL_TXQ		3	/* driver -> device */

/* Control messages the device owes a port, sent in this order as the driver gives buffers. */
enum console_message {
	CONSOLE_SEND_ADD = 1u << 0,		/* DEVICE_ADD */
	CONSOLE_SEND_CONSOLE = 1u << 1,		/* CONSOLE_PORT */
	CONSOLE_SEND_RESIZE = 1u << 2,		/* RESIZE */
	CONSOLE_SEND_NAME = 1u << 3,		/* PORT_NAME */
	CONSOLE_SEND_OPEN = 1u << 4,		/* PORT_OPEN, with the dom0 side's state now */
};

struct console;

struct console_port {
	struct console *console;
	unsigned int id;
	enum console_kind kind;
	const char *name;		/* "" for the console port */
	int fd;				/* data: the pty's master, the file, the socket's client; -1 */
	int listen_fd;			/* the socket's; -1 */
	struct event *readable;		/* fd, one-shot, armed once the guest gave buffers */
	struct event *writable;		/* fd, one-shot, armed while output waits */
	struct event *acceptable;	/* listen_fd, while no client */
	struct console_ring out;
	uint64_t tx_written;		/* bytes of the unfinished transmit chain already written */
	bool tx_stalled;		/* a reader's output filled the ring: transmitq waits */
	bool accept_paused;		/* out of descriptors: acceptable not watched */
	bool host_open;			/* someone is at the dom0 side */
	bool guest_open;		/* PORT_OPEN from the driver (MULTIPORT) */
	bool added;			/* DEVICE_ADD sent */
	bool ready;			/* PORT_READY(1) received */
	unsigned int pending;		/* enum console_message bits */
	uint16_t cols, rows;		/* the pty's size, for SIZE */
	uint64_t bytes_in, bytes_out;	/* to the guest, from it: the stop line's */
	struct queue_service rx, tx;
	struct log_ratelimit log;
};

struct console {
	struct virtio_device *vdev;
	const struct virtio_transport *transport;
	struct event_base *base;
	char name[32];
	unsigned int nr_ports;
	bool offer_multiport;
	bool offer_size;		/* the console port is a pty */
	struct queue_service control_rx, control_tx;
	struct event *control_kick;	/* control_rx's next pass, out of whatever owed a message */
	/* One scratch chain: every serve() is done with it before anything else runs a queue. */
	struct virtq_chain chain;
	struct log_ratelimit log;
	struct console_port ports[CONSOLE_MAX_PORTS];
};

/* The queues of port @id (5.3.2). */
static inline unsigned int console_rxq(unsigned int id)
{
	return id ? 2 * id + 2 : 0;
}

static inline unsigned int console_txq(unsigned int id)
{
	return id ? 2 * id + 3 : 1;
}

bool console_multiport(struct console *console);	/* negotiated */

/* console_port.c */
int console_port_init(struct console_port *port, struct console *console, unsigned int id,
		      const struct console_options *options, size_t buffer);
void console_port_fini(struct console_port *port);
/* Device reset: the guest's view goes; the dom0 side and its buffered output stay. */
void console_port_reset(struct console_port *port);
/* Is the guest reading this port (always the console port without MULTIPORT)? */
bool console_port_guest_open(struct console_port *port);
/* Guest output outside a queue (EMERG_WRITE, 5.3.4). */
void console_port_emergency(struct console_port *port, uint8_t byte);
/* The guest opened or closed the port: input flows again, or stops. */
void console_port_set_guest_open(struct console_port *port, bool open);

/* console_control.c */
int console_control_init(struct console *console);
void console_control_fini(struct console *console);
/* Owe @messages to port @port; sent as the driver gives control buffers. */
void console_control_send(struct console *console, struct console_port *port, unsigned int messages);
void console_control_reset(struct console *console);
/* The console port's size changed (a pty resized): config change or RESIZE (5.3.6.2). */
void console_size_changed(struct console *console);

#endif
