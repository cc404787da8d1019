/* SPDX-License-Identifier: MIT */
/* virtio/virtio_pci_private.h: the transport's state, shared by virtio/virtio_pci*.c and common_cfg.c only. */
#ifndef XVP_VIRTIO_VIRTIO_PCI_PRIVATE_H
#define XVP_VIRTIO_VIRTIO_PCI_PRIVATE_H

#include "lib/log.h"
#include "virtio/pci.h"

/* Where each structure lives in the BAR (4.1.4: any layout the capabilities describe). */
#define VIRTIO_BAR_INDEX		0
#define VIRTIO_BAR_SIZE			0x4000
#define VIRTIO_BAR_COMMON		0x0000
#define VIRTIO_BAR_ISR			0x1000
#define VIRTIO_BAR_DEVICE		0x2000
#define VIRTIO_BAR_NOTIFY		0x3000
#define VIRTIO_BAR_REGION_SIZE		0x1000
/* One 4-byte notify slot per queue: queue_notify_off = index (4.1.4.4). */
#define VIRTIO_NOTIFY_MULTIPLIER	4
/* 4.1.4.3: struct virtio_pci_common_cfg up to queue_device. */
#define VIRTIO_COMMON_CFG_SIZE		0x38

#define VIRTIO_MSI_NO_VECTOR		0xffff

struct virtio_queue_slot {
	struct virtqueue vq;
	bool enabled;
	struct queue_service *service;	/* NULL: notifications go to ops->queue_notify */
};

struct virtio_device {
	struct pci_function fn;
	const struct virtio_device_ops *ops;
	void *backend;
	struct virtio_device_info info;
	struct virtio_mem mem;
	uint64_t host_features;
	uint64_t guest_features;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint8_t status;
	uint8_t reset_status;		/* read instead of 0 until the backend is quiesced */
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_select;
	struct virtio_queue_slot *queues;
	uint16_t pci_cfg_cap;		/* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	struct log_ratelimit log;
};

/* common_cfg.c */
uint64_t virtio_common_cfg_read(struct virtio_device *vdev, uint32_t off, unsigned int size);
void virtio_common_cfg_write(struct virtio_device *vdev, uint32_t off, unsigned int size, uint64_t value);
/* Back to the state after creation: queues off, features and status cleared. */
void virtio_device_reset(struct virtio_device *vdev);

/* virtio_pci.c */
void virtio_set_isr(struct virtio_device *vdev, uint8_t bits);

#endif
