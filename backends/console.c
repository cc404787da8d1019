// SPDX-License-Identifier: MIT
/*
 * backends/console.c: virtio-console (virtio 1.2, 5.3): features,
 * configuration space and which queue is whose. Ports are
 * backends/console_port.c, the MULTIPORT control queues
 * backends/console_control.c.
 *
 * Features: SIZE when the console port is a pty (the only side with a
 * size), MULTIPORT when named ports are configured, EMERG_WRITE always.
 */
#include "backends/console_device.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define CONSOLE_DEVICE_TYPE	3		/* 5: Device Types */
#define CONSOLE_CLASS_CODE	0x078000	/* PCI: simple communication, other */

/* 5.3.4 */
struct virtio_console_config {
	uint16_t cols;		/* le16 */
	uint16_t rows;
	uint32_t max_nr_ports;	/* le32 */
	uint32_t emerg_wr;
} __attribute__((packed));

#define EMERG_WR_OFFSET		offsetof(struct virtio_console_config, emerg_wr)

bool console_multiport(struct console *console)
{
	return virtio_features(console->vdev) & 1ULL << VIRTIO_CONSOLE_F_MULTIPORT;
}

static uint64_t console_features(struct virtio_device *vdev)
{
	struct console *console = virtio_backend(vdev);

	return (console->offer_size ? 1ULL << VIRTIO_CONSOLE_F_SIZE : 0) |
	       (console->offer_multiport ? 1ULL << VIRTIO_CONSOLE_F_MULTIPORT : 0) |
	       1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE;
}

static void console_config_read(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	struct console *console = virtio_backend(vdev);
	struct virtio_console_config config = {
		.cols = htole16(console->ports[0].cols),
		.rows = htole16(console->ports[0].rows),
		.max_nr_ports = htole32(console->nr_ports),
	};

	memcpy(buf, (const uint8_t *)&config + off, len);
}

/*
 * 5.3.4: a write to emerg_wr outputs its first byte on the console port,
 * even before the queues are set up or the feature accepted. The other
 * fields are the device's.
 */
static void console_config_write(struct virtio_device *vdev, uint32_t off, const void *buf,
				 uint32_t len)
{
	struct console *console = virtio_backend(vdev);

	if (off <= EMERG_WR_OFFSET && off + len > EMERG_WR_OFFSET)
		console_port_emergency(&console->ports[0],
				       ((const uint8_t *)buf)[EMERG_WR_OFFSET - off]);
}

/* Queue @index's service: NULL for one the negotiated features have not (5.3.2). */
static struct queue_service *service_of(struct console *console, unsigned int index)
{
	unsigned int id;

	if (index < 2)
		return index ? &console->ports[0].tx : &console->ports[0].rx;
	if (!console_multiport(console))
		return NULL;
	if (index == CONSOLE_CONTROL_RXQ)
		return &console->control_rx;
	if (index == CONSOLE_CONTROL_TXQ)
		return &console->control_tx;
	id = (index - 2) / 2;
	if (id >= console->nr_ports)
		return NULL;
	return index & 1 ? &console->ports[id].tx : &console->ports[id].rx;
}

static void console_queue_notify(struct virtio_device *vdev, unsigned int index)
{
	struct queue_service *qs = service_of(virtio_backend(vdev), index);

	if (qs)
		queue_service_run(qs);
}

static void console_reset(struct virtio_device *vdev)
{
	struct console *console = virtio_backend(vdev);

	console_control_reset(console);
	for (unsigned int i = 0; i < console->nr_ports; i++)
		console_port_reset(&console->ports[i]);
}

static const struct virtio_device_ops console_ops = {
	.features = console_features,
	.config_read = console_config_read,
	.config_write = console_config_write,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
};

static void free_console(struct console *console, unsigned int nr_ports)
{
	for (unsigned int i = 0; i < nr_ports; i++)
		console_port_fini(&console->ports[i]);
	console_control_fini(console);
	log_ratelimit_flush(&console->log);
	free(console);
}

static int make_ports(struct console *console, const struct console_options *options)
{
	int ret = console_control_init(console);

	for (unsigned int i = 0; i < console->nr_ports && !ret; i++)
		ret = console_port_init(&console->ports[i], console, i, options, options->buffer);
	return ret;
}

int console_create(struct virtio_device **out, const char *name, uint16_t queue_size,
		   const struct console_options *options, const struct virtio_mem *mem,
		   struct event_base *base, const struct virtio_transport *transport)
{
	struct console *console = calloc(1, sizeof(*console));
	struct virtio_device_info info = {
		.device_type = CONSOLE_DEVICE_TYPE,
		.class_code = CONSOLE_CLASS_CODE,
		.queue_size = queue_size,
		.config_size = sizeof(struct virtio_console_config),
	};
	int ret;

	if (!console)
		return -ENOMEM;
	snprintf(console->name, sizeof(console->name), "%s", name);
	log_ratelimit_init(&console->log, console->name);
	console->transport = transport;
	console->base = base;
	console->nr_ports = options->nr_ports;
	console->offer_multiport = options->nr_ports > 1;
	console->offer_size = options->ports[0].kind == CONSOLE_PTY;
	info.name = console->name;
	info.num_queues = (uint16_t)(console->offer_multiport ? 2 * (console->nr_ports + 1) : 2);
	ret = transport->create(&console->vdev, &info, &console_ops, console, mem);
	if (ret) {
		free(console);
		return ret;
	}
	ret = make_ports(console, options);
	if (ret) {
		transport->destroy(console->vdev);
		free_console(console, console->nr_ports);
		return ret;
	}
	*out = console->vdev;
	return 0;
}

void console_destroy(struct virtio_device *vdev)
{
	struct console *console;

	if (!vdev)
		return;
	console = virtio_backend(vdev);
	console->transport->destroy(vdev);
	free_console(console, console->nr_ports);
}
