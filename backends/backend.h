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

/*
 * What a device may ask of the process that runs it: a connection to its
 * network storage (an NBD export), which the supervisor makes for it, from
 * its own copy of the configuration, so that a worker needs neither a
 * network nor a file system (daemon/worker_protocol.h, NBD_CONNECT).
 * @device is the device's position among the domain's devices.
 */
typedef void backend_connected_fn(void *opaque, int fd_or_error);

struct backend_host {
	/*
	 * Before the loop serves: a connected socket (the caller's), or -errno:
	 * what the supervisor's connect() said, -ETIMEDOUT, or -ENOTCONN (no
	 * supervisor to ask).
	 */
	int (*connect_now)(const struct backend_host *host, unsigned int device);
	/*
	 * From the loop: ask for one; @done is called once, from the loop and
	 * never from within this call, with a socket it then owns or -errno.
	 * 0, or -errno (nothing asked: -ENOTCONN before the channel serves or
	 * after it stopped). Asks still waiting end with -ECANCELED before any
	 * device is destroyed.
	 */
	int (*connect)(const struct backend_host *host, unsigned int device,
		       backend_connected_fn *done, void *opaque);
	void *opaque;
};

/* What the daemon parsed for every type, as the type's hooks see it. */
struct backend_common {
	const char *name;	/* "blk0": type and index among devices of that type */
	uint16_t queue_size;	/* queue-size=, else VIRTIO_QUEUE_SIZE_DEFAULT */
	unsigned int index;	/* among devices of this type: 0 for blk0 */
	unsigned int device;	/* among all the domain's devices, in the order given */
	uint32_t domid;		/* the domain served (a created tap's name: net) */
	const struct backend_host *host;	/* open() only; NULL where nothing serves */
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
	 * Optional: the type's keys that may be given more than once, each
	 * appearance a set_key() call ("port" for console: one per port),
	 * separated by ", "; NULL: every key at most once.
	 */
	const char *repeatable;
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
	 * given at most once unless listed in repeatable: 0, -ENOENT if the type has no such key, or
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
	 * Optional: the NBD URI the supervisor connects for the device
	 * (common->host, connect), or NULL: it has no network storage.
	 */
	const char *(*nbd_uri)(const void *config);
	/*
	 * Optional: open and lock what the device uses on the host (an image, a
	 * tap, a connection through common->host), before anything is
	 * registered with Xen and before privileges drop. 0 or -errno with
	 * @why naming what failed (not the device: the caller adds it).
	 * close() undoes it and is safe after a failed open().
	 */
	int (*open)(void *config, const struct backend_common *common, char *why, size_t why_len);
	void (*close)(void *config);
	/*
	 * Optional, after open(): the files the device reads once serving (an
	 * NBD disk's TLS credentials, which libnbd reads at each handshake),
	 * each an absolute path given to @keep; the worker's root then holds
	 * copies of them at those paths (docs/security.md).
	 */
	void (*root_files)(const void *config, void (*keep)(void *ctx, const char *path), void *ctx);
	/* Create the device on env->transport (after open()). 0 or -errno, logged. */
	int (*create)(struct virtio_device **out, const struct backend_env *env,
		      const struct backend_common *common, const void *config);
	/* Completes or abandons what is in flight (bounded), then frees the device. */
	void (*destroy)(struct virtio_device *vdev);
	/* Optional: what the log line adds after "blk0 at 00:01.0" (", image /x.img"). */
	void (*describe)(const void *config, char *buf, size_t len);
};

#endif
