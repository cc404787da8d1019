/* SPDX-License-Identifier: MIT */
/*
 * backends/backend.h: a device type as the daemon sees it. Each backend
 * exports one struct backend_type; daemon/ keeps one array of them and
 * knows no type by name: parsing --device TYPE,KEY=VALUE..., the checks
 * across devices, opening host resources before privileges drop, creating
 * the device on the transport the caller chose, the log line and the
 * teardown all go through the descriptor.
 *
 * The keys every type shares (addr, queue-size) are the daemon's; a type
 * sees only its own, in a configuration block of config_size bytes that
 * the daemon stores for it (at most BACKEND_CONFIG_MAX, aligned for any
 * type) and that must stay valid when copied with memcpy() until open()
 * (a fork or exec copies it; open() is where fds and pointers appear).
 */
#ifndef XVP_BACKENDS_BACKEND_H
#define XVP_BACKENDS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"

struct event_base;

/* The largest per-type configuration block (blk: a PATH_MAX path and its opened image). */
#define BACKEND_CONFIG_MAX	12288

/* What the daemon parsed for every type, as the type's hooks see it. */
struct backend_common {
	const char *name;	/* "blk0": type and index among devices of that type */
	uint16_t queue_size;	/* queue-size=, else VIRTIO_QUEUE_SIZE_DEFAULT */
	unsigned int index;	/* among devices of this type: 0 for blk0 */
	uint32_t domid;		/* the domain served (a created tap's name: net) */
};

/* What create() gets from the domain it serves. */
struct backend_env {
	uint32_t domid;
	const char *domain_name;		/* "" when unknown */
	const uint8_t *domain_handle;		/* the domain's UUID, 16 bytes; NULL when unknown */
	unsigned int nr_vcpus;
	const struct virtio_mem *mem;		/* the guest's memory */
	uint32_t size_max;			/* largest buffer @mem maps at once; 0: no limit */
	struct event_base *base;		/* the event loop the device runs on */
	const struct virtio_transport *transport;	/* the caller's choice (virtio/pci.h) */
};

struct backend_type {
	const char *name;		/* "blk": the TYPE of --device TYPE,... */
	const char *keys;		/* every key, addr and queue-size included, for messages */
	/*
	 * For --help: the SPEC syntax ("rng[,addr=DEV][,queue-size=N][,rate=BYTES/s]";
	 * '\n' continues it on the next line) and what the type's own keys mean
	 * (lines "KEY: meaning", each ending in '\n'; "" for none).
	 */
	const char *usage;
	const char *help;
	size_t config_size;		/* <= BACKEND_CONFIG_MAX */
	/* A fresh configuration: the defaults of every key. */
	void (*defaults)(void *config);
	/*
	 * One KEY=VALUE the daemon does not know (not addr, not queue-size),
	 * given at most once: 0, -ENOENT if the type has no such key, or
	 * -EINVAL with the reason in @why ("rate=0: ...", key and value named).
	 */
	int (*set_key)(void *config, const char *key, const char *value, char *why, size_t why_len);
	/* Optional: after all keys, what needs several (a required key, a minimum queue size). */
	int (*check)(void *config, const struct backend_common *common, char *why, size_t why_len);
	/*
	 * Optional: the host file behind the device and whether the device may
	 * write it (NULL: none). Two devices that write one file are refused,
	 * and a config file's paths must be absolute.
	 */
	const char *(*host_file)(const void *config, bool *writes);
	/*
	 * Optional: open and lock what the device uses on the host (an image, a
	 * tap), before anything is registered with Xen and before privileges
	 * drop. 0 or -errno with @why naming what failed (not the device: the
	 * caller adds it). close() undoes it and is safe after a failed open().
	 */
	int (*open)(void *config, const struct backend_common *common, char *why, size_t why_len);
	void (*close)(void *config);
	/* Create the device on env->transport (after open()). 0 or -errno, logged. */
	int (*create)(struct virtio_device **out, const struct backend_env *env,
		      const struct backend_common *common, const void *config);
	/* Completes or abandons what is in flight (bounded), then frees the device. */
	void (*destroy)(struct virtio_device *vdev);
	/* Optional: what the log line adds after "blk0 at 00:01.0" (", image /x.img"). */
	void (*describe)(const void *config, char *buf, size_t len);
};

#endif
