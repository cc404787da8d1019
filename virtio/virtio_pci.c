// SPDX-License-Identifier: MIT
/*
 * virtio/virtio_pci.c: a virtio device as a PCI function (virtio 1.2, 4.1):
 * IDs, capabilities, the BAR's regions (common, ISR, device, notify), the
 * PCI configuration access window, interrupts, and the backend interface.
 */
#include "virtio/virtio_pci_private.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/queue_service.h"

#define PCI_CAP_ID_VNDR			0x09
/* 4.1.4: cfg_type of struct virtio_pci_cap. */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5
/* Offsets inside struct virtio_pci_cap. */
#define CAP_CFG_TYPE			3
#define CAP_BAR				4
#define CAP_OFFSET			8
#define CAP_LENGTH			12
#define CAP_NOTIFY_MULTIPLIER		16
#define CAP_PCI_CFG_DATA		16
#define VIRTIO_PCI_CAP_LEN		16
#define VIRTIO_PCI_NOTIFY_CAP_LEN	20
#define VIRTIO_PCI_CFG_CAP_LEN		20
/* 4.1.2.1: non-transitional devices: revision 1 or higher, subsystem ID 0x40 or higher. */
#define VIRTIO_PCI_REVISION		1
#define VIRTIO_PCI_SUBSYSTEM_ID		0x1100

static struct virtio_device *to_vdev(struct pci_function *fn)
{
	return fn->opaque;
}

/* ---- interrupts */

/*
 * One interrupt per ISR read at most. While ISR status is pending, the
 * interrupt that set it is still the driver's to take: its handler reads
 * ISR status first (4.1.4.5) and then looks at every queue, so it sees
 * whatever completed since. A new event then only adds its bit; raising
 * the line again (a set_irq_level hypercall, and on Xen's edge-like SPIs
 * another trap into the guest) would report nothing new. The first event
 * after a read raises it; functions sharing a line each still raise it for
 * their own first event (ecam/intx.c).
 */
void virtio_set_isr(struct virtio_device *vdev, uint8_t bits)
{
	bool pending = vdev->isr != 0;

	vdev->isr |= bits;
	if (!pending)
		pci_function_set_intx(&vdev->fn, true);
}

static uint8_t read_and_clear_isr(struct virtio_device *vdev)
{
	uint8_t isr = vdev->isr;

	/*
	 * 4.1.4.5.1: reading ISR status resets it to 0 and deasserts the
	 * interrupt; the line goes low when no function on it is pending
	 * (ecam/intx.c), and a read that found nothing lowers nothing.
	 */
	vdev->isr = 0;
	if (isr)
		pci_function_set_intx(&vdev->fn, false);
	return isr;
}

/* ---- the BAR */

static uint32_t notify_region_size(const struct virtio_device *vdev)
{
	return vdev->info.num_queues * VIRTIO_NOTIFY_MULTIPLIER;
}

/*
 * 4.1.5.2: the driver notified queue @index. The write is a trapped access
 * its vCPU waits on: a queue with a service only gets a pass scheduled, so
 * the access is answered before any chain is popped, mapped or submitted.
 */
static void notify(struct virtio_device *vdev, uint64_t offset)
{
	unsigned int index = (unsigned int)(offset / VIRTIO_NOTIFY_MULTIPLIER);

	if (!virtio_queue_ready(vdev, index))
		return;
	if (vdev->queues[index].service)
		queue_service_notified(vdev->queues[index].service);
	else
		vdev->ops->queue_notify(vdev, index);
}

static uint64_t device_config_read(struct virtio_device *vdev, uint64_t off, unsigned int size)
{
	uint64_t value = 0;

	if (off + size > vdev->info.config_size)
		return 0;
	vdev->ops->config_read(vdev, (uint32_t)off, &value, size);
	return value;
}

static uint64_t bar_read(struct pci_function *fn, unsigned int bar, uint64_t offset, unsigned int size)
{
	struct virtio_device *vdev = to_vdev(fn);
	uint64_t region = offset & ~(uint64_t)(VIRTIO_BAR_REGION_SIZE - 1);
	uint64_t off = offset - region;

	/* 4.1.3.1: accesses are naturally aligned; anything else reads 0. */
	if (bar != VIRTIO_BAR_INDEX || offset % size)
		return 0;
	switch (region) {
	case VIRTIO_BAR_COMMON:
		return virtio_common_cfg_read(vdev, (uint32_t)off, size);
	case VIRTIO_BAR_ISR:
		return off == 0 ? read_and_clear_isr(vdev) : 0;
	case VIRTIO_BAR_DEVICE:
		return device_config_read(vdev, off, size);
	default:
		return 0;	/* the notify region reads 0 */
	}
}

static void bar_write(struct pci_function *fn, unsigned int bar, uint64_t offset, unsigned int size,
		      uint64_t value)
{
	struct virtio_device *vdev = to_vdev(fn);
	uint64_t region = offset & ~(uint64_t)(VIRTIO_BAR_REGION_SIZE - 1);
	uint64_t off = offset - region;

	if (bar != VIRTIO_BAR_INDEX || offset % size)
		return;
	switch (region) {
	case VIRTIO_BAR_COMMON:
		virtio_common_cfg_write(vdev, (uint32_t)off, size, value);
		return;
	case VIRTIO_BAR_DEVICE:
		if (off + size <= vdev->info.config_size)
			vdev->ops->config_write(vdev, (uint32_t)off, &value, size);
		return;
	case VIRTIO_BAR_NOTIFY:
		if (off < notify_region_size(vdev))
			notify(vdev, off);
		return;
	default:
		return;	/* ISR is read-only */
	}
}

/* ---- VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): a window onto the BAR through config space */

struct pci_cfg_window {
	uint8_t bar;
	uint32_t offset;
	uint32_t length;
};

static bool pci_cfg_window(struct virtio_device *vdev, struct pci_cfg_window *w)
{
	uint16_t cap = vdev->pci_cfg_cap;

	w->bar = pci_config_get8(&vdev->fn.config, cap + CAP_BAR);
	w->offset = pci_config_get32(&vdev->fn.config, cap + CAP_OFFSET);
	w->length = pci_config_get32(&vdev->fn.config, cap + CAP_LENGTH);
	/* 4.1.4.9.1: length 1, 2 or 4, offset a multiple of it, inside the BAR. */
	return w->bar == VIRTIO_BAR_INDEX && (w->length == 1 || w->length == 2 || w->length == 4) &&
	       w->offset % w->length == 0 && w->offset < VIRTIO_BAR_SIZE;
}

static bool touches_pci_cfg_data(const struct virtio_device *vdev, uint16_t off, unsigned int size)
{
	uint16_t data = vdev->pci_cfg_cap + CAP_PCI_CFG_DATA;

	return off < data + 4 && data < off + size;
}

static bool config_read(struct pci_function *fn, uint16_t off, unsigned int size, uint32_t *value)
{
	struct virtio_device *vdev = to_vdev(fn);
	struct pci_cfg_window w;

	if (!touches_pci_cfg_data(vdev, off, size))
		return false;
	*value = 0;
	if (off == vdev->pci_cfg_cap + CAP_PCI_CFG_DATA && pci_cfg_window(vdev, &w))
		*value = (uint32_t)bar_read(fn, w.bar, w.offset, w.length);
	return true;
}

static void config_written(struct pci_function *fn, uint16_t off, unsigned int size)
{
	struct virtio_device *vdev = to_vdev(fn);
	struct pci_cfg_window w;

	if (!touches_pci_cfg_data(vdev, off, size) || !pci_cfg_window(vdev, &w))
		return;
	bar_write(fn, w.bar, w.offset, w.length,
		  pci_config_get32(&fn->config, vdev->pci_cfg_cap + CAP_PCI_CFG_DATA));
}

static const struct pci_function_ops function_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
	.config_read = config_read,
};

/* ---- creation */

static int add_virtio_cap(struct virtio_device *vdev, uint8_t cfg_type, unsigned int len,
			  uint32_t offset, uint32_t length)
{
	struct pci_config *cfg = &vdev->fn.config;
	int cap = pci_config_add_capability(cfg, PCI_CAP_ID_VNDR, len);

	if (cap < 0)
		return cap;
	pci_config_set8(cfg, (uint16_t)cap + 2, (uint8_t)len);	/* cap_len */
	pci_config_set8(cfg, (uint16_t)cap + CAP_CFG_TYPE, cfg_type);
	pci_config_set8(cfg, (uint16_t)cap + CAP_BAR, VIRTIO_BAR_INDEX);
	pci_config_set32(cfg, (uint16_t)cap + CAP_OFFSET, offset);
	pci_config_set32(cfg, (uint16_t)cap + CAP_LENGTH, length);
	return cap;
}

static int add_capabilities(struct virtio_device *vdev)
{
	struct pci_config *cfg = &vdev->fn.config;
	int cap;

	if (add_virtio_cap(vdev, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_BAR_COMMON,
			   VIRTIO_COMMON_CFG_SIZE) < 0)
		return -ENOSPC;
	cap = add_virtio_cap(vdev, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_LEN,
			     VIRTIO_BAR_NOTIFY, notify_region_size(vdev));
	if (cap < 0)
		return -ENOSPC;
	pci_config_set32(cfg, (uint16_t)cap + CAP_NOTIFY_MULTIPLIER, VIRTIO_NOTIFY_MULTIPLIER);
	if (add_virtio_cap(vdev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_BAR_ISR, 1) < 0)
		return -ENOSPC;
	if (vdev->info.config_size &&
	    add_virtio_cap(vdev, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_BAR_DEVICE,
			   vdev->info.config_size) < 0)
		return -ENOSPC;
	cap = add_virtio_cap(vdev, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_LEN, 0, 0);
	if (cap < 0)
		return -ENOSPC;
	vdev->pci_cfg_cap = (uint16_t)cap;
	/* 4.1.4.9: the driver writes bar, offset, length and pci_cfg_data. */
	pci_config_set_rw_mask(cfg, (uint16_t)cap + CAP_BAR, 1, 0xff);
	pci_config_set_rw_mask(cfg, (uint16_t)cap + CAP_OFFSET, 4, 0xffffffff);
	pci_config_set_rw_mask(cfg, (uint16_t)cap + CAP_LENGTH, 4, 0xffffffff);
	pci_config_set_rw_mask(cfg, (uint16_t)cap + CAP_PCI_CFG_DATA, 4, 0xffffffff);
	return 0;
}

static bool info_valid(const struct virtio_device_info *info)
{
	return info->num_queues >= 1 && info->num_queues <= VIRTIO_MAX_QUEUES &&
	       info->queue_size >= 1 && info->queue_size <= VIRTQ_MAX_SIZE &&
	       !(info->queue_size & (info->queue_size - 1)) &&
	       info->config_size <= VIRTIO_BAR_REGION_SIZE;
}

/* A queue that stopped for want of guest memory (virtq_pop: -EAGAIN) is served again. */
static void queue_memory_ready(struct virtqueue *vq, void *opaque)
{
	struct virtio_device *vdev = opaque;
	struct virtio_queue_slot *slot =
		(struct virtio_queue_slot *)((char *)vq - offsetof(struct virtio_queue_slot, vq));
	unsigned int index = (unsigned int)(slot - vdev->queues);

	if (virtio_queue_ready(vdev, index))
		vdev->ops->queue_notify(vdev, index);
}

int virtio_pci_create(struct virtio_device **out, const struct virtio_device_info *info,
		      const struct virtio_device_ops *ops, void *backend, const struct virtio_mem *mem)
{
	const struct pci_function_ids ids = {
		.vendor_id = VIRTIO_PCI_VENDOR_ID,
		.device_id = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + info->device_type),
		.revision = VIRTIO_PCI_REVISION,
		.class_code = info->class_code,
		.subsystem_vendor_id = VIRTIO_PCI_VENDOR_ID,
		.subsystem_id = VIRTIO_PCI_SUBSYSTEM_ID,
		.interrupt_pin = 1,	/* INTA */
	};
	struct virtio_device *vdev;
	int ret;

	if (!info_valid(info))
		return -EINVAL;
	vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	vdev->queues = calloc(info->num_queues, sizeof(*vdev->queues));
	if (!vdev->queues) {
		free(vdev);
		return -ENOMEM;
	}
	vdev->info = *info;
	vdev->ops = ops;
	vdev->backend = backend;
	vdev->mem = *mem;
	vdev->host_features = ops->features(vdev) | 1ULL << VIRTIO_F_VERSION_1 |
			      1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX;
	pci_function_init(&vdev->fn, &ids, &function_ops, vdev);
	ret = pci_function_add_bar(&vdev->fn, VIRTIO_BAR_INDEX, VIRTIO_BAR_SIZE, true, true);
	if (!ret)
		ret = add_capabilities(vdev);
	if (ret) {
		free(vdev->queues);
		free(vdev);
		return ret;
	}
	/* One limit for every line this function's guest can cause (lib/log.h). */
	log_ratelimit_init(&vdev->log, vdev->info.name);
	for (unsigned int i = 0; i < info->num_queues; i++) {
		vdev->queues[i].vq.mem = &vdev->mem;
		vdev->queues[i].vq.size = info->queue_size;
		vdev->queues[i].vq.log = &vdev->log;
		vdev->queues[i].vq.memory_ready = queue_memory_ready;
		vdev->queues[i].vq.memory_ready_opaque = vdev;
	}
	*out = vdev;
	return 0;
}

void virtio_pci_destroy(struct virtio_device *vdev)
{
	if (!vdev)
		return;
	vdev->ops->reset(vdev);
	/* The rings' mappings go back, and no wake-up may come for a freed queue. */
	for (unsigned int i = 0; i < vdev->info.num_queues; i++)
		virtq_stop(&vdev->queues[i].vq);
	log_ratelimit_flush(&vdev->log);
	free(vdev->queues);
	free(vdev);
}

const struct virtio_transport virtio_pci_transport = {
	.create = virtio_pci_create,
	.destroy = virtio_pci_destroy,
};

struct pci_function *virtio_pci_function(struct virtio_device *vdev)
{
	return &vdev->fn;
}

/* ---- the backend interface */

void *virtio_backend(struct virtio_device *vdev)
{
	return vdev->backend;
}

const char *virtio_name(const struct virtio_device *vdev)
{
	return vdev->info.name;
}

uint64_t virtio_features(const struct virtio_device *vdev)
{
	return vdev->guest_features;
}

struct virtqueue *virtio_queue(struct virtio_device *vdev, unsigned int index)
{
	return index < vdev->info.num_queues ? &vdev->queues[index].vq : NULL;
}

bool virtio_queue_ready(struct virtio_device *vdev, unsigned int index)
{
	uint16_t command = pci_config_get16(&vdev->fn.config, PCI_COMMAND);

	return index < vdev->info.num_queues && vdev->queues[index].enabled &&
	       (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vdev->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)) &&
	       (command & PCI_COMMAND_MASTER);
}

void virtio_queue_set_service(struct virtio_device *vdev, unsigned int index,
			      struct queue_service *qs)
{
	if (index < vdev->info.num_queues)
		vdev->queues[index].service = qs;
}

void virtio_device_set_poll_max(struct virtio_device *vdev, uint64_t max_ns)
{
	for (unsigned int i = 0; i < vdev->info.num_queues; i++)
		if (vdev->queues[i].service)
			queue_service_set_poll_max(vdev->queues[i].service, max_ns);
}

void virtio_device_poll_stats(struct virtio_device *vdev, struct virtio_poll_stats *out)
{
	*out = (struct virtio_poll_stats){ 0 };
	for (unsigned int i = 0; i < vdev->info.num_queues; i++) {
		const struct queue_service *qs = vdev->queues[i].service;

		if (!qs)
			continue;
		out->watches += qs->poll.watches;
		out->hits += qs->poll.hits;
		out->watched_ns += qs->poll.watched_ns;
	}
}

void virtio_queue_interrupt(struct virtio_device *vdev, unsigned int index)
{
	struct virtqueue *vq = virtio_queue(vdev, index);

	if (vq && virtq_should_interrupt(vq))
		virtio_set_isr(vdev, 1);
}

void virtio_device_needs_reset(struct virtio_device *vdev, const char *why)
{
	if (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	if (why)
		log_ratelimited(&vdev->log, LOG_LEVEL_WARN, "%s: %s: device needs reset",
				vdev->info.name, why);
	/* 2.1.2: DEVICE_NEEDS_RESET, and a configuration change notification. */
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	virtio_config_changed(vdev);
}

void virtio_config_changed(struct virtio_device *vdev)
{
	vdev->config_generation++;
	virtio_set_isr(vdev, 2);
}
