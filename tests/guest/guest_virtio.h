/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/guest_virtio.h: a guest's virtio-pci driver, for tests, written
 * from the virtio 1.2 specification (4.1 virtio over PCI, 2.7 split
 * virtqueues, 3.1 device initialization) and not from the daemon's device
 * code: what Linux's virtio_pci_modern + virtio_ring do, issued by a
 * simulated vCPU, with rings in simulated guest RAM.
 */
#ifndef XVP_TESTS_GUEST_GUEST_VIRTIO_H
#define XVP_TESTS_GUEST_GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/guest/guest_pci.h"

struct sim_hv;

/* A bump allocator over a range of guest RAM (for rings and buffers). */
struct guest_ram {
	struct sim_hv *hv;
	uint64_t next;
	uint64_t end;
};

void guest_ram_init(struct guest_ram *ram, struct sim_hv *hv, uint64_t base, uint64_t size);
/* Zeroed guest-physical memory of @size bytes aligned to @align; 0 when exhausted. */
uint64_t guest_ram_alloc(struct guest_ram *ram, uint64_t size, uint64_t align);
/* Host pointer to guest-physical @gpa (the test reads and writes guest RAM through it). */
void *guest_ram_ptr(struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* Feature bits (virtio 1.2, 6). */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

#define GUEST_VIRTQ_MAX_QUEUES	16

/* One buffer of a request: guest-physical address, length, device-writable or not. */
struct guest_buf {
	uint64_t gpa;
	uint32_t len;
	bool device_writable;
};

struct guest_virtq {
	bool ready;
	uint16_t index;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint64_t notify_gpa;		/* where to write the queue index to kick */
	uint16_t free_head;		/* free descriptor list */
	uint16_t num_free;
	uint16_t avail_idx;		/* our shadow of avail->idx */
	uint16_t last_used_idx;
	uint16_t kicked_avail_idx;	/* avail_idx at the last kick decision */
	void *tokens[2048];		/* per head (queues up to 2048 entries track tokens) */
	uint64_t kicks;			/* notifications actually written */
	uint64_t kicks_suppressed;	/* kick decisions where the device said "no need" */
	bool callbacks_disabled;	/* guest_virtio_disable_callbacks(): polling, no interrupts */
};

struct guest_virtio {
	struct guest_pci *pci;
	struct guest_pci_function fn;
	struct guest_ram *ram;
	uint64_t bar_gpa;		/* where we placed the virtio BAR */
	unsigned int bar;		/* which BAR holds the structures */
	uint64_t common_gpa, notify_gpa, isr_gpa, device_gpa;
	uint32_t notify_off_multiplier;
	uint32_t device_cfg_len;
	uint8_t pci_cfg_cap;		/* offset of VIRTIO_PCI_CAP_PCI_CFG, 0 if none */
	uint64_t device_features;
	uint64_t driver_features;
	uint16_t num_queues;
	bool use_indirect;		/* put multi-buffer requests in indirect tables */
	bool event_idx;
	unsigned int spi;		/* the INTx line this function's pin A is wired to */
	struct guest_virtq queues[GUEST_VIRTQ_MAX_QUEUES];
};

/*
 * Find the virtio structures through the vendor capabilities (4.1.4), place
 * the BAR holding them at @bar_gpa (a 64-bit BAR: both halves; memory
 * window), enable Memory Space and Bus Master, and compute the INTx SPI from
 * the swizzle (@intx_spi_base + (device + pin - 1) % 4). 0, or -ENODEV if
 * a required capability is missing or malformed.
 */
int guest_virtio_probe(struct guest_virtio *vd, struct guest_pci *pci,
		       const struct guest_pci_function *fn, struct guest_ram *ram,
		       uint64_t bar_gpa, unsigned int intx_spi_base);

/* Common configuration accessors (4.1.4.3), little-endian, through the vCPU. */
uint8_t guest_virtio_get_status(struct guest_virtio *vd);
void guest_virtio_set_status(struct guest_virtio *vd, uint8_t status);
/* Write 0 and wait for status to read back 0 (4.1.4.3.2). 0 or -ETIMEDOUT. */
int guest_virtio_reset(struct guest_virtio *vd);

/*
 * 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, read the device features,
 * accept @wanted & offered (VERSION_1 is always requested unless @wanted
 * says otherwise via guest_virtio_negotiate_exact), set FEATURES_OK and read
 * it back. 0, or -EPROTO if the device did not keep FEATURES_OK.
 */
int guest_virtio_negotiate(struct guest_virtio *vd, uint64_t wanted);
/* Same, but write exactly @features as the driver features, offered or not. */
int guest_virtio_negotiate_exact(struct guest_virtio *vd, uint64_t features);

/*
 * Allocate and program queue @index with @size entries (0: the device's
 * maximum), enable it. 0, -ENOENT (no such queue), -EINVAL.
 */
int guest_virtio_setup_queue(struct guest_virtio *vd, uint16_t index, uint16_t size);
void guest_virtio_driver_ok(struct guest_virtio *vd);

/*
 * Put one request (@n buffers, device-readable ones first) in queue @index,
 * as an indirect table when use_indirect and n > 1. 0, or -ENOSPC.
 */
int guest_virtio_add(struct guest_virtio *vd, uint16_t index, const struct guest_buf *bufs,
		     unsigned int n, void *token);
/*
 * Notify the device if it asked for it: with EVENT_IDX, only when avail_event
 * lies between the last kick and now (vring_need_event); otherwise unless
 * the device set VRING_USED_F_NO_NOTIFY. Returns true if it wrote the notify.
 */
bool guest_virtio_kick(struct guest_virtio *vd, uint16_t index);
/* Notify unconditionally. */
void guest_virtio_notify(struct guest_virtio *vd, uint16_t index);

/* Take one used entry: 1 with *len and *token set, 0 if none. Frees its descriptors. */
int guest_virtio_get_used(struct guest_virtio *vd, uint16_t index, uint32_t *len, void **token);

/*
 * NAPI: stop asking for interrupts on queue @index while polling it
 * (VRING_AVAIL_F_NO_INTERRUPT; with EVENT_IDX, used_event is left behind,
 * as Linux's virtqueue_disable_cb does).
 */
void guest_virtio_disable_callbacks(struct guest_virtio *vd, uint16_t index);
/*
 * Ask for an interrupt at the next used entry again (2.7.10). Returns false
 * if entries arrived meanwhile: poll again rather than wait (Linux's
 * virtqueue_enable_cb).
 */
bool guest_virtio_enable_callbacks(struct guest_virtio *vd, uint16_t index);

/* Read (and so clear) the ISR status byte (4.1.4.5). */
uint8_t guest_virtio_read_isr(struct guest_virtio *vd);
/* Wait until this function's SPI is raised more than @seen times: 0 or -ETIMEDOUT. */
int guest_virtio_wait_interrupt(struct guest_virtio *vd, unsigned long seen, int timeout_ms);
unsigned long guest_virtio_interrupts(struct guest_virtio *vd);

/* Device-specific configuration (4.1.4.6), through the BAR. */
uint32_t guest_virtio_config_read(struct guest_virtio *vd, unsigned int offset, unsigned int size);
uint8_t guest_virtio_config_generation(struct guest_virtio *vd);

/*
 * Read @size bytes at @offset of the BAR structure region through the
 * VIRTIO_PCI_CAP_PCI_CFG window in config space (4.1.4.9), and write.
 */
uint32_t guest_virtio_pci_cfg_read(struct guest_virtio *vd, uint32_t bar_offset, unsigned int size);
void guest_virtio_pci_cfg_write(struct guest_virtio *vd, uint32_t bar_offset, unsigned int size,
				uint32_t value);

#endif
