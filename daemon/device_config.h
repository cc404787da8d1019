/* SPDX-License-Identifier: MIT */
/*
 * daemon/device_config.h: one --device TYPE[,KEY=VALUE...] option, parsed and
 * checked: the same structure a config file will produce.
 */
#ifndef XVP_DAEMON_DEVICE_CONFIG_H
#define XVP_DAEMON_DEVICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>

#include "backends/blk_image.h"

/* Device numbers 1..31 on bus 0 (0 is the host bridge). */
#define DEVICE_SLOT_FIRST	1
#define DEVICE_SLOT_LAST	31
#define DEVICE_MAX		(DEVICE_SLOT_LAST - DEVICE_SLOT_FIRST + 1)
#define DEVICE_SLOT_AUTO	(-1)
/* The one memory BAR of every virtio-pci function (VIRTIO_BAR_SIZE of virtio/). */
#define DEVICE_BAR_BYTES	0x4000

enum device_type {
	DEVICE_RNG,
	DEVICE_BLK,
};

struct device_config {
	enum device_type type;
	char name[16];		/* "rng0": type and index among devices of that type */
	int slot;		/* device number on bus 0, or DEVICE_SLOT_AUTO */
	uint16_t queue_size;	/* default VIRTIO_QUEUE_SIZE_DEFAULT */
	uint64_t rate;		/* rng: bytes per second, 0 unlimited */
	/* blk */
	char path[PATH_MAX];
	bool readonly;
	bool direct;
	char serial[21];	/* at most 20 bytes (VIRTIO_BLK_ID_BYTES) */
	uint16_t queues;	/* 0: one per guest vCPU */
	uint64_t bounce_budget;	/* direct=on: bytes of bounce memory; 0: the default */
	struct blk_image image;	/* opened by device_configs_open() */
};

/*
 * Parse @text ("rng,addr=3,rate=64K"). 0, or -EINVAL with the reason in
 * @why, naming the key and value at fault ("addr=32: out of range: ...")
 * but not @text itself: the caller names it as its user wrote it.
 */
int device_config_parse(const char *text, struct device_config *config, char *why, size_t why_len);

/* Do @a and @b name one image (the same path, or the same inode)? */
bool device_paths_same_image(const char *a, const char *b);

/*
 * Give every device with DEVICE_SLOT_AUTO the lowest free slot, name devices
 * by type and index, refuse two devices on one slot and one writable image
 * behind two devices. 0 or -EINVAL with @why.
 */
int device_configs_finish(struct device_config *configs, unsigned int count, char *why, size_t why_len);

/*
 * Open (and lock) every disk image, before anything is registered with Xen:
 * a missing, unopenable or locked image is a start-up error. 0 or -errno
 * with @why naming the device and path; on failure nothing stays open.
 */
int device_configs_open(struct device_config *configs, unsigned int count, char *why, size_t why_len);
void device_configs_close(struct device_config *configs, unsigned int count);

#endif
