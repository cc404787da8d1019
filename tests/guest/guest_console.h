/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/guest_console.h: a guest's virtio-console driver, for tests,
 * written from the virtio 1.2 specification (5.3) on tests/guest/
 * guest_virtio.h: the queues of each port and the MULTIPORT control
 * messages of 5.3.6.2, driven one step at a time so that a test can do
 * what Linux does, or what no driver should.
 */
#ifndef XVP_TESTS_GUEST_GUEST_CONSOLE_H
#define XVP_TESTS_GUEST_GUEST_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/guest/guest_virtio.h"

/* 5.3.3 */
#define VIRTIO_CONSOLE_F_SIZE		0
#define VIRTIO_CONSOLE_F_MULTIPORT	1
#define VIRTIO_CONSOLE_F_EMERG_WRITE	2

/* 5.3.6.2 */
#define VIRTIO_CONSOLE_DEVICE_READY	0
#define VIRTIO_CONSOLE_DEVICE_ADD	1
#define VIRTIO_CONSOLE_DEVICE_REMOVE	2
#define VIRTIO_CONSOLE_PORT_READY	3
#define VIRTIO_CONSOLE_CONSOLE_PORT	4
#define VIRTIO_CONSOLE_RESIZE		5
#define VIRTIO_CONSOLE_PORT_OPEN	6
#define VIRTIO_CONSOLE_PORT_NAME	7

/* 5.3.4: offsets in the device configuration. */
#define VIRTIO_CONSOLE_CFG_COLS		0
#define VIRTIO_CONSOLE_CFG_ROWS		2
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS	4
#define VIRTIO_CONSOLE_CFG_EMERG_WR	8

#define GUEST_CONSOLE_BUF		4096	/* each posted receive buffer */
#define GUEST_CONSOLE_RX_BUFS		8	/* posted per receive queue */

/* A posted receive buffer. */
struct guest_console_rx {
	uint64_t gpa;
	uint32_t len;
};

struct guest_console {
	struct guest_virtio *vd;
	bool multiport;
	unsigned int nr_ports;		/* max_nr_ports, or 1 */
	int timeout_ms;
	struct guest_console_rx rx[GUEST_VIRTQ_MAX_QUEUES][GUEST_CONSOLE_RX_BUFS];
};

/* A control message as the device sent it (name: PORT_NAME's bytes, NUL-terminated). */
struct guest_console_msg {
	uint32_t id;
	uint16_t event;
	uint16_t value;
	uint16_t cols, rows;		/* RESIZE */
	char name[256];
};

/* The queues of port @id (5.3.2). */
unsigned int guest_console_rxq(unsigned int id);
unsigned int guest_console_txq(unsigned int id);
#define GUEST_CONSOLE_CONTROL_RXQ	2
#define GUEST_CONSOLE_CONTROL_TXQ	3

/*
 * 3.1.1 and 5.3.5: negotiate @features (with VERSION_1), set up every
 * queue they give, DRIVER_OK, and give each receive queue (the control one
 * included) GUEST_CONSOLE_RX_BUFS buffers unless @post_rx is false. 0 or -errno.
 */
int guest_console_init(struct guest_console *gc, struct guest_virtio *vd, uint64_t features,
		       bool post_rx, int timeout_ms);
/* Give receive queue @queue its buffers (after init without them). */
void guest_console_post_rx(struct guest_console *gc, unsigned int queue);

/* Send a control message (5.3.6.2) and wait until the device took it: 0 or -ETIMEDOUT. */
int guest_console_control(struct guest_console *gc, uint32_t id, uint16_t event, uint16_t value);
/* The device's next control message (its buffer given back): 0 or -ETIMEDOUT. */
int guest_console_next_control(struct guest_console *gc, struct guest_console_msg *msg);
/*
 * The bring-up Linux does: DEVICE_READY, then PORT_READY for each
 * DEVICE_ADD until @nr_ports were added; the messages after are left to
 * the test. 0 or -errno.
 */
int guest_console_bring_up(struct guest_console *gc, unsigned int nr_ports);

/* Write @len bytes to port @id's transmitq in one buffer and wait until taken: 0 or -errno. */
int guest_console_write(struct guest_console *gc, unsigned int id, const void *data, size_t len);
/*
 * Up to @max bytes the device put in port @id's next used receive buffer
 * (which is given back): the count, or -ETIMEDOUT.
 */
long guest_console_read(struct guest_console *gc, unsigned int id, void *buf, size_t max);
/* Read exactly @len bytes from port @id: 0 or -ETIMEDOUT. */
int guest_console_read_all(struct guest_console *gc, unsigned int id, void *buf, size_t len);

/* Wait for a used entry on @queue: 1 with *len, *token; -ETIMEDOUT. */
int guest_console_wait_used(struct guest_console *gc, unsigned int queue, uint32_t *len,
			    void **token);

#endif
