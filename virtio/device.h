/* SPDX-License-Identifier: MIT */
/*
 * virtio/device.h: what a virtio device implements (struct virtio_device_ops)
 * and what it may call (its queues, its negotiated features, interrupts,
 * NEEDS_RESET), whatever the transport (virtio 1.2, 2 and 4). A device
 * includes this; the transport that carries it (virtio/pci.h: virtio-pci,
 * 4.1) is its creator's choice and implements these calls.
 */
#ifndef XVP_VIRTIO_DEVICE_H
#define XVP_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"
#include "virtio/virtqueue.h"

/* Feature bits the transport itself offers (virtio 1.2, 6). */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33

/* Device status (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	1
#define VIRTIO_CONFIG_S_DRIVER		2
#define VIRTIO_CONFIG_S_DRIVER_OK	4
#define VIRTIO_CONFIG_S_FEATURES_OK	8
#define VIRTIO_CONFIG_S_NEEDS_RESET	0x40
#define VIRTIO_CONFIG_S_FAILED		0x80

#define VIRTIO_QUEUE_SIZE_DEFAULT	256
#define VIRTIO_MAX_QUEUES		64

struct virtio_device;
struct queue_service;

struct virtio_device_ops {
	/* Device-specific feature bits (the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX). */
	uint64_t (*features)(struct virtio_device *vdev);
	/* Device-specific configuration space (4.1.4.6); @off + @len lie inside config_size. */
	void (*config_read)(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len);
	void (*config_write)(struct virtio_device *vdev, uint32_t off, const void *buf, uint32_t len);
	/* The driver notified queue @index and the queue may be processed. */
	void (*queue_notify)(struct virtio_device *vdev, unsigned int index);
	/* The device was reset (by the driver, or before destruction): drop all requests. */
	void (*reset)(struct virtio_device *vdev);
	/*
	 * Optional: false while requests started before a reset are still in
	 * flight. Until it returns true, device_status does not read 0, so the
	 * driver waits (4.1.4.3.2) and reuses no buffer the device may still write.
	 */
	bool (*quiesced)(struct virtio_device *vdev);
};

struct virtio_device_info {
	const char *name;		/* "rng0", for log lines */
	uint16_t device_type;		/* 5: Device Types (4 = entropy) */
	uint32_t class_code;		/* PCI class code (24 bits) */
	uint16_t num_queues;
	uint16_t queue_size;		/* maximum and default size of every queue, a power of two */
	uint32_t config_size;		/* bytes of device-specific configuration */
};

/*
 * How a device is made and freed on one transport. The device's creator
 * picks it (virtio/pci.h's virtio_pci_transport) and hands it down, so a
 * device needs no transport header.
 */
struct virtio_transport {
	int (*create)(struct virtio_device **out, const struct virtio_device_info *info,
		      const struct virtio_device_ops *ops, void *backend, const struct virtio_mem *mem);
	/* Resets the device (ops->reset) and frees it; its creator took it off the bus. */
	void (*destroy)(struct virtio_device *vdev);
};

void *virtio_backend(struct virtio_device *vdev);
const char *virtio_name(const struct virtio_device *vdev);
uint64_t virtio_features(const struct virtio_device *vdev);	/* negotiated */
struct virtqueue *virtio_queue(struct virtio_device *vdev, unsigned int index);
/*
 * May queue @index be processed now? DRIVER_OK set, NEEDS_RESET and FAILED
 * (2.1: the driver gave up on the device) clear, Bus Master Enable set, the
 * queue enabled (4.1.4.3.2; PCI 3.0 6.2.2 bus master).
 */
bool virtio_queue_ready(struct virtio_device *vdev, unsigned int index);
/*
 * Queue @index is served by @qs (queue_service_init() says so): the driver's
 * notifications of it then only schedule a pass (queue_service_notified()),
 * answered before any chain is served; ops->queue_notify is not called for them.
 */
void virtio_queue_set_service(struct virtio_device *vdev, unsigned int index,
			      struct queue_service *qs);
/*
 * Every served queue of @vdev watches its idle ring for at most @max_ns
 * after a batch (0: never; queue_service_set_poll_max()). Before DRIVER_OK.
 */
void virtio_device_set_poll_max(struct virtio_device *vdev, uint64_t max_ns);
/* What @vdev's served queues spent watching idle rings (virtio/queue_poll.h's counters, summed). */
struct virtio_poll_stats {
	uint64_t watches;	/* windows opened */
	uint64_t hits;		/* ... that found a chain (a kick saved) */
	uint64_t watched_ns;	/* time in windows */
};
void virtio_device_poll_stats(struct virtio_device *vdev, struct virtio_poll_stats *out);
/* After pushing used entries: interrupt the driver if the queue asks for it. */
void virtio_queue_interrupt(struct virtio_device *vdev, unsigned int index);
/*
 * The driver broke the protocol (2.1.2): set DEVICE_NEEDS_RESET, send a
 * configuration-change interrupt, stop processing until reset. @why is logged
 * (NULL: the caller already logged the reason, as virtq_pop() does).
 */
void virtio_device_needs_reset(struct virtio_device *vdev, const char *why);
/* Device configuration changed: bump config_generation, ISR bit 1, interrupt. */
void virtio_config_changed(struct virtio_device *vdev);

#endif
