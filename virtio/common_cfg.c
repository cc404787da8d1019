// SPDX-License-Identifier: MIT
/*
 * virtio/common_cfg.c: the common configuration structure (virtio 1.2,
 * 4.1.4.3) and the device status state machine (2.1, 3.1.1).
 */
#include "virtio/virtio_pci_private.h"

#include <string.h>

/* Field offsets (4.1.4.3). */
#define COMMON_DFSELECT		0x00
#define COMMON_DF		0x04
#define COMMON_GFSELECT		0x08
#define COMMON_GF		0x0c
#define COMMON_MSIX		0x10
#define COMMON_NUMQ		0x12
#define COMMON_STATUS		0x14
#define COMMON_CFGGENERATION	0x15
#define COMMON_Q_SELECT		0x16
#define COMMON_Q_SIZE		0x18
#define COMMON_Q_MSIX		0x1a
#define COMMON_Q_ENABLE		0x1c
#define COMMON_Q_NOFF		0x1e
#define COMMON_Q_DESCLO		0x20
#define COMMON_Q_DESCHI		0x24
#define COMMON_Q_AVAILLO	0x28
#define COMMON_Q_AVAILHI	0x2c
#define COMMON_Q_USEDLO		0x30
#define COMMON_Q_USEDHI		0x34

static struct virtio_queue_slot *selected_queue(struct virtio_device *vdev)
{
	if (vdev->queue_select >= vdev->info.num_queues)
		return NULL;
	return &vdev->queues[vdev->queue_select];
}

static uint64_t *queue_address(struct virtqueue *vq, uint32_t off)
{
	switch (off & ~7u) {
	case COMMON_Q_DESCLO: return &vq->desc_addr;
	case COMMON_Q_AVAILLO: return &vq->avail_addr;
	default: return &vq->used_addr;
	}
}

static uint32_t read_queue_field(struct virtio_device *vdev, uint32_t off)
{
	struct virtio_queue_slot *q = selected_queue(vdev);

	if (off == COMMON_Q_MSIX)
		return VIRTIO_MSI_NO_VECTOR;
	/* 4.1.4.3.1: queue_size 0 tells the driver the queue does not exist. */
	if (!q)
		return 0;
	switch (off) {
	case COMMON_Q_SIZE: return q->vq.size;
	case COMMON_Q_ENABLE: return q->enabled;
	case COMMON_Q_NOFF: return vdev->queue_select;
	default: {
		uint64_t addr = *queue_address(&q->vq, off);

		return (uint32_t)(off & 4 ? addr >> 32 : addr);
	}
	}
}

/* 4.1.4.3.2: a reset is complete when device_status reads 0. */
static uint8_t read_status(struct virtio_device *vdev)
{
	if (vdev->reset_status) {
		if (vdev->ops->quiesced && !vdev->ops->quiesced(vdev))
			return vdev->reset_status;
		vdev->reset_status = 0;
	}
	return vdev->status;
}

static uint32_t read_field(struct virtio_device *vdev, uint32_t off)
{
	switch (off) {
	case COMMON_DFSELECT: return vdev->device_feature_select;
	case COMMON_DF:
		return vdev->device_feature_select < 2 ?
			(uint32_t)(vdev->host_features >> (32 * vdev->device_feature_select)) : 0;
	case COMMON_GFSELECT: return vdev->driver_feature_select;
	case COMMON_GF:
		return vdev->driver_feature_select < 2 ?
			(uint32_t)(vdev->guest_features >> (32 * vdev->driver_feature_select)) : 0;
	case COMMON_MSIX: return VIRTIO_MSI_NO_VECTOR;
	case COMMON_NUMQ: return vdev->info.num_queues;
	case COMMON_STATUS: return read_status(vdev);
	case COMMON_CFGGENERATION: return vdev->config_generation;
	case COMMON_Q_SELECT: return vdev->queue_select;
	default: return read_queue_field(vdev, off);
	}
}

/* The width each field must be accessed with (4.1.3.1), 64-bit fields as two 32-bit halves. */
static unsigned int field_width(uint32_t off)
{
	if (off >= COMMON_Q_DESCLO && off < VIRTIO_COMMON_CFG_SIZE)
		return 4;
	switch (off) {
	case COMMON_DFSELECT: case COMMON_DF: case COMMON_GFSELECT: case COMMON_GF:
		return 4;
	case COMMON_STATUS: case COMMON_CFGGENERATION:
		return 1;
	case COMMON_MSIX: case COMMON_NUMQ: case COMMON_Q_SELECT: case COMMON_Q_SIZE:
	case COMMON_Q_MSIX: case COMMON_Q_ENABLE: case COMMON_Q_NOFF:
		return 2;
	default:
		return 0;
	}
}

uint64_t virtio_common_cfg_read(struct virtio_device *vdev, uint32_t off, unsigned int size)
{
	/* 4.1.3.1: an 8-byte access to a 64-bit field is its two halves. */
	if (size == 8 && field_width(off) == 4 && off >= COMMON_Q_DESCLO && !(off & 7))
		return read_field(vdev, off) | (uint64_t)read_field(vdev, off + 4) << 32;
	if (field_width(off) != size) {
		log_ratelimited(&vdev->log, LOG_LEVEL_DEBUG, "%s: common cfg: %u-byte read at 0x%x ignored",
				vdev->info.name, size, off);
		return 0;
	}
	return read_field(vdev, off);
}

/* 2.4.1 / 3.1.1: FEATURES_OK only for a subset of what we offer, including VERSION_1. */
static bool features_acceptable(const struct virtio_device *vdev)
{
	uint64_t version_1 = 1ULL << VIRTIO_F_VERSION_1;

	return !(vdev->guest_features & ~vdev->host_features) && (vdev->guest_features & version_1);
}

static void start_queues(struct virtio_device *vdev)
{
	for (unsigned int i = 0; i < vdev->info.num_queues; i++)
		if (virtio_queue_ready(vdev, i))
			vdev->ops->queue_notify(vdev, i);
}

static void write_status(struct virtio_device *vdev, uint8_t value)
{
	uint8_t old = vdev->status;
	uint8_t added = value & ~old;

	if (value == 0) {
		virtio_device_reset(vdev);
		/*
		 * 4.1.4.3.2: the reset completes when the old requests are done,
		 * however often the driver writes 0 meanwhile: a second write
		 * (status already 0) keeps the pending reset.
		 */
		if (old)
			vdev->reset_status = old;
		return;
	}
	/* 2.1.2: the driver MUST NOT clear a status bit; only a write of 0 resets. */
	if (old & ~value & ~VIRTIO_CONFIG_S_NEEDS_RESET) {
		log_ratelimited(&vdev->log, LOG_LEVEL_WARN,
				"%s: status 0x%02x -> 0x%02x clears bits; ignored", vdev->info.name,
				old, value);
		return;
	}
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_acceptable(vdev)) {
		/* 3.1.1 step 6: the driver re-reads status and sees FEATURES_OK clear. */
		log_ratelimited(&vdev->log, LOG_LEVEL_WARN,
				"%s: driver features 0x%llx refused (offered 0x%llx)", vdev->info.name,
				(unsigned long long)vdev->guest_features,
				(unsigned long long)vdev->host_features);
		value &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		added &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* NEEDS_RESET is the device's to set and stays until reset. */
	vdev->status = value | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(value & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_device_needs_reset(vdev, "DRIVER_OK without FEATURES_OK");
		return;
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		/* A guest may start the device over and over: rate-limited like a refusal. */
		log_ratelimited(&vdev->log, LOG_LEVEL_INFO, "%s: driver ready, features 0x%llx",
				vdev->info.name, (unsigned long long)vdev->guest_features);
		/* Buffers made available before DRIVER_OK are served now (3.1.1 step 8). */
		start_queues(vdev);
	}
}

static bool is_power_of_two(uint32_t n)
{
	return n && !(n & (n - 1));
}

static void enable_queue(struct virtio_device *vdev, struct virtio_queue_slot *q)
{
	/*
	 * 3.1.1: queues are set up (step 7) once the features are final (steps
	 * 4-6); before FEATURES_OK they could still change under the queue.
	 */
	if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_device_needs_reset(vdev, "queue enabled before FEATURES_OK");
		return;
	}
	q->vq.event_idx = vdev->guest_features & (1ULL << VIRTIO_F_EVENT_IDX);
	q->vq.indirect = vdev->guest_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	if (!is_power_of_two(q->vq.size) || q->vq.size > vdev->info.queue_size ||
	    virtq_start(&q->vq)) {
		virtio_device_needs_reset(vdev, "queue enabled with a bad size or ring address");
		return;
	}
	q->enabled = true;
}

static void write_queue_field(struct virtio_device *vdev, uint32_t off, uint32_t value)
{
	struct virtio_queue_slot *q = selected_queue(vdev);
	uint64_t *addr;

	/* 4.1.4.3.2: no queue changes once it is enabled (queue_reset is not offered). */
	if (!q || q->enabled || off == COMMON_Q_MSIX || off == COMMON_Q_NOFF)
		return;
	switch (off) {
	case COMMON_Q_SIZE:
		q->vq.size = (uint16_t)value;
		return;
	case COMMON_Q_ENABLE:
		/* Writing 0 is not defined without VIRTIO_F_RING_RESET: ignored. */
		if (value == 1)
			enable_queue(vdev, q);
		return;
	default:
		addr = queue_address(&q->vq, off);
		if (off & 4)
			*addr = (*addr & 0xffffffffULL) | (uint64_t)value << 32;
		else
			*addr = (*addr & ~0xffffffffULL) | value;
		return;
	}
}

static void write_field(struct virtio_device *vdev, uint32_t off, uint32_t value)
{
	bool features_locked = vdev->status & VIRTIO_CONFIG_S_FEATURES_OK;

	switch (off) {
	case COMMON_DFSELECT:
		vdev->device_feature_select = value;
		return;
	case COMMON_GFSELECT:
		vdev->driver_feature_select = value;
		return;
	case COMMON_GF:
		/* Features are fixed once FEATURES_OK is set (3.1.1 step 5). */
		if (features_locked || vdev->driver_feature_select >= 2)
			return;
		if (vdev->driver_feature_select)
			vdev->guest_features = (vdev->guest_features & 0xffffffffULL) | (uint64_t)value << 32;
		else
			vdev->guest_features = (vdev->guest_features & ~0xffffffffULL) | value;
		return;
	case COMMON_STATUS:
		write_status(vdev, (uint8_t)value);
		return;
	case COMMON_Q_SELECT:
		vdev->queue_select = (uint16_t)value;
		return;
	case COMMON_DF: case COMMON_NUMQ: case COMMON_CFGGENERATION: case COMMON_MSIX:
		return;	/* read-only, or no MSI-X */
	default:
		write_queue_field(vdev, off, value);
	}
}

void virtio_common_cfg_write(struct virtio_device *vdev, uint32_t off, unsigned int size, uint64_t value)
{
	if (size == 8 && field_width(off) == 4 && off >= COMMON_Q_DESCLO && !(off & 7)) {
		write_field(vdev, off, (uint32_t)value);
		write_field(vdev, off + 4, (uint32_t)(value >> 32));
		return;
	}
	if (field_width(off) != size) {
		log_ratelimited(&vdev->log, LOG_LEVEL_DEBUG, "%s: common cfg: %u-byte write at 0x%x ignored",
				vdev->info.name, size, off);
		return;
	}
	write_field(vdev, off, (uint32_t)value);
}

void virtio_device_reset(struct virtio_device *vdev)
{
	vdev->ops->reset(vdev);
	for (unsigned int i = 0; i < vdev->info.num_queues; i++) {
		struct virtio_queue_slot *q = &vdev->queues[i];

		virtq_stop(&q->vq);
		q->enabled = false;
		q->vq.size = vdev->info.queue_size;
		q->vq.desc_addr = q->vq.avail_addr = q->vq.used_addr = 0;
	}
	vdev->guest_features = 0;
	vdev->device_feature_select = vdev->driver_feature_select = 0;
	vdev->queue_select = 0;
	vdev->status = 0;
	vdev->isr = 0;
	pci_function_set_intx(&vdev->fn, false);
}
