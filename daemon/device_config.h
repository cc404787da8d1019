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

#include "backends/backend.h"

/* Device numbers 1..31 on bus 0 (0 is the host bridge). */
#define DEVICE_SLOT_FIRST	1
#define DEVICE_SLOT_LAST	31
#define DEVICE_MAX		(DEVICE_SLOT_LAST - DEVICE_SLOT_FIRST + 1)
#define DEVICE_SLOT_AUTO	(-1)
/* The one memory BAR of every virtio-pci function (VIRTIO_BAR_SIZE of virtio/). */
#define DEVICE_BAR_BYTES	0x4000
/* poll-max-ns= at most: 1 ms of watching an idle ring after each batch. */
#define DEVICE_POLL_MAX_NS_LIMIT	1000000

struct device_config {
	const struct backend_type *type;	/* one of daemon/backend_types.h's */
	char name[16];		/* "rng0": type and index among devices of that type */
	unsigned int index;	/* ... that index */
	unsigned int position;	/* among all devices, in the order given (NBD_CONNECT's) */
	uint32_t domid;		/* the domain served, set before device_configs_open() */
	int slot;		/* device number on bus 0, or DEVICE_SLOT_AUTO */
	uint16_t queue_size;	/* default VIRTIO_QUEUE_SIZE_DEFAULT */
	uint64_t poll_max_ns;	/* poll-max-ns=: each queue's longest idle-ring watch */
	bool opened;		/* type->open() succeeded: type->close() is due */
	/* The type's own keys (type->config_size bytes of it: struct blk_options, ...). */
	_Alignas(max_align_t) unsigned char options[BACKEND_CONFIG_MAX];
};

/* What @config's type hooks see of the keys every type shares. */
struct backend_common device_config_common(const struct device_config *config);

/*
 * Parse @text ("rng,addr=3,rate=64K"). 0, or -EINVAL with the reason in
 * @why, naming the key and value at fault ("addr=32: out of range: ...")
 * but not @text itself: the caller names it as its user wrote it.
 */
int device_config_parse(const char *text, struct device_config *config, char *why, size_t why_len);

/* Do @a and @b name one file (the same path, or the same inode)? */
bool device_paths_same_image(const char *a, const char *b);

/*
 * Give every device with DEVICE_SLOT_AUTO the lowest free slot, name devices
 * by type and index, refuse two devices on one slot and one host file that
 * two devices use, one of them writing (an image). 0 or -EINVAL with @why.
 */
int device_configs_finish(struct device_config *configs, unsigned int count, char *why, size_t why_len);

/*
 * Open what every device uses on the host (disk images, locked; taps),
 * before anything is registered with Xen and before privileges drop: a
 * missing, unopenable or locked image is a start-up error. Connections
 * are asked of @host (may be NULL: a device that needs one fails to open).
 * 0 or -errno with @why naming the device and what failed; on failure
 * nothing stays open.
 */
int device_configs_open(struct device_config *configs, unsigned int count,
			const struct backend_host *host, char *why, size_t why_len);
void device_configs_close(struct device_config *configs, unsigned int count);

#endif
