// SPDX-License-Identifier: MIT
/*
 * tests/guest/guest_console.c: a virtio-console driver written from the
 * virtio 1.2 specification, 5.3 (not from the device's code).
 */
#include "tests/guest/guest_console.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/* 5.3.6.2: struct virtio_console_control, le32 id, le16 event, le16 value. */
#define CONTROL_LEN	8

unsigned int guest_console_rxq(unsigned int id)
{
	return id ? 2 * id + 2 : 0;
}

unsigned int guest_console_txq(unsigned int id)
{
	return id ? 2 * id + 3 : 1;
}

static bool is_rxq(unsigned int queue)
{
	return queue == 0 || (queue >= 2 && !(queue & 1));
}

static void post_one(struct guest_console *gc, unsigned int queue, struct guest_console_rx *rx)
{
	struct guest_buf buf = { rx->gpa, rx->len, true };

	guest_virtio_add(gc->vd, (uint16_t)queue, &buf, 1, rx);
}

void guest_console_post_rx(struct guest_console *gc, unsigned int queue)
{
	for (unsigned int i = 0; i < GUEST_CONSOLE_RX_BUFS; i++) {
		struct guest_console_rx *rx = &gc->rx[queue][i];

		if (!rx->gpa) {
			rx->len = GUEST_CONSOLE_BUF;
			rx->gpa = guest_ram_alloc(gc->vd->ram, rx->len, 64);
		}
		post_one(gc, queue, rx);
	}
	guest_virtio_kick(gc->vd, (uint16_t)queue);
}

int guest_console_init(struct guest_console *gc, struct guest_virtio *vd, uint64_t features,
		       bool post_rx, int timeout_ms)
{
	unsigned int queues;
	int ret;

	memset(gc, 0, sizeof(*gc));
	gc->vd = vd;
	gc->timeout_ms = timeout_ms;
	ret = guest_virtio_negotiate(vd, features);
	if (ret)
		return ret;
	gc->multiport = vd->driver_features & 1ULL << VIRTIO_CONSOLE_F_MULTIPORT;
	gc->nr_ports = gc->multiport ?
		       guest_virtio_config_read(vd, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4) : 1;
	queues = gc->multiport ? 2 * (gc->nr_ports + 1) : 2;
	if (queues > GUEST_VIRTQ_MAX_QUEUES || queues > vd->num_queues)
		return -E2BIG;
	for (unsigned int q = 0; q < queues; q++) {
		ret = guest_virtio_setup_queue(vd, (uint16_t)q, 0);
		if (ret)
			return ret;
	}
	guest_virtio_driver_ok(vd);
	for (unsigned int q = 0; q < queues && post_rx; q++)
		if (is_rxq(q))
			guest_console_post_rx(gc, q);
	return 0;
}

int guest_console_wait_used(struct guest_console *gc, unsigned int queue, uint32_t *len,
			    void **token)
{
	for (;;) {
		unsigned long seen = guest_virtio_interrupts(gc->vd);
		int got = guest_virtio_get_used(gc->vd, (uint16_t)queue, len, token);

		if (got)
			return got;
		if (guest_virtio_wait_interrupt(gc->vd, seen, gc->timeout_ms))
			return -ETIMEDOUT;
		guest_virtio_read_isr(gc->vd);
	}
}

/* Put one buffer of @len bytes of @data in @queue, kick, wait for it back. */
static int send(struct guest_console *gc, unsigned int queue, const void *data, size_t len)
{
	struct guest_buf buf = { guest_ram_alloc(gc->vd->ram, len, 64), (uint32_t)len, false };
	uint32_t used_len;
	void *token;
	int ret;

	if (!buf.gpa)
		return -ENOMEM;
	memcpy(guest_ram_ptr(gc->vd->ram, buf.gpa, len), data, len);
	ret = guest_virtio_add(gc->vd, (uint16_t)queue, &buf, 1, &buf);
	if (ret)
		return ret;
	guest_virtio_kick(gc->vd, (uint16_t)queue);
	ret = guest_console_wait_used(gc, queue, &used_len, &token);
	if (ret < 0)
		return ret;
	return token == &buf ? 0 : -EPROTO;
}

int guest_console_control(struct guest_console *gc, uint32_t id, uint16_t event, uint16_t value)
{
	uint8_t msg[CONTROL_LEN];
	uint32_t le_id = htole32(id);
	uint16_t le_event = htole16(event), le_value = htole16(value);

	memcpy(msg, &le_id, 4);
	memcpy(msg + 4, &le_event, 2);
	memcpy(msg + 6, &le_value, 2);
	return send(gc, GUEST_CONSOLE_CONTROL_TXQ, msg, sizeof(msg));
}

static void parse_control(const uint8_t *bytes, uint32_t len, struct guest_console_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	memcpy(&msg->id, bytes, 4);
	memcpy(&msg->event, bytes + 4, 2);
	memcpy(&msg->value, bytes + 6, 2);
	msg->id = le32toh(msg->id);
	msg->event = le16toh(msg->event);
	msg->value = le16toh(msg->value);
	if (msg->event == VIRTIO_CONSOLE_RESIZE && len >= CONTROL_LEN + 4) {
		/* 5.3.6.2: struct virtio_console_resize, le16 cols then le16 rows. */
		memcpy(&msg->cols, bytes + 8, 2);
		memcpy(&msg->rows, bytes + 10, 2);
		msg->cols = le16toh(msg->cols);
		msg->rows = le16toh(msg->rows);
	}
	if (msg->event == VIRTIO_CONSOLE_PORT_NAME) {
		uint32_t name_len = len - CONTROL_LEN;

		if (name_len >= sizeof(msg->name))
			name_len = sizeof(msg->name) - 1;
		memcpy(msg->name, bytes + CONTROL_LEN, name_len);
	}
}

int guest_console_next_control(struct guest_console *gc, struct guest_console_msg *msg)
{
	struct guest_console_rx *rx;
	uint32_t len;
	int ret = guest_console_wait_used(gc, GUEST_CONSOLE_CONTROL_RXQ, &len, (void **)&rx);

	if (ret < 0)
		return ret;
	if (len < CONTROL_LEN || len > rx->len)
		return -EPROTO;
	parse_control(guest_ram_ptr(gc->vd->ram, rx->gpa, len), len, msg);
	post_one(gc, GUEST_CONSOLE_CONTROL_RXQ, rx);
	guest_virtio_kick(gc->vd, GUEST_CONSOLE_CONTROL_RXQ);
	return 0;
}

int guest_console_bring_up(struct guest_console *gc, unsigned int nr_ports)
{
	struct guest_console_msg msg;
	int ret = guest_console_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);

	for (unsigned int added = 0; !ret && added < nr_ports;) {
		ret = guest_console_next_control(gc, &msg);
		if (ret)
			return ret;
		if (msg.event != VIRTIO_CONSOLE_DEVICE_ADD)
			continue;
		added++;
		ret = guest_console_control(gc, msg.id, VIRTIO_CONSOLE_PORT_READY, 1);
	}
	return ret;
}

int guest_console_write(struct guest_console *gc, unsigned int id, const void *data, size_t len)
{
	return send(gc, guest_console_txq(id), data, len);
}

long guest_console_read(struct guest_console *gc, unsigned int id, void *buf, size_t max)
{
	unsigned int queue = guest_console_rxq(id);
	struct guest_console_rx *rx;
	uint32_t len;
	int ret = guest_console_wait_used(gc, queue, &len, (void **)&rx);

	if (ret < 0)
		return ret;
	if (len > rx->len || len > max)
		return -EPROTO;
	memcpy(buf, guest_ram_ptr(gc->vd->ram, rx->gpa, len), len);
	post_one(gc, queue, rx);
	guest_virtio_kick(gc->vd, (uint16_t)queue);
	return len;
}

int guest_console_read_all(struct guest_console *gc, unsigned int id, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = guest_console_read(gc, id, (uint8_t *)buf + done, len - done);

		if (n < 0)
			return (int)n;
		done += (size_t)n;
	}
	return done == len ? 0 : -EPROTO;
}
