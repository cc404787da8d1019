/* SPDX-License-Identifier: MIT */
/* backends/rng.h: virtio-rng, the entropy device (virtio 1.2, 5.4), fed by getrandom(2). */
#ifndef XVP_BACKENDS_RNG_H
#define XVP_BACKENDS_RNG_H

#include <stdint.h>

#include "backends/backend.h"
#include "virtio/device.h"

struct event_base;

/* What --device rng,... sets beyond addr and queue-size. */
struct rng_options {
	uint64_t rate;		/* rate=: bytes per second; 0: unlimited */
};

/* The rng type for the daemon's table (backends/rng_backend.c). */
extern const struct backend_type rng_backend;

struct rng_config {
	const char *name;	/* "rng0" */
	uint64_t rate;		/* bytes per second; 0: unlimited */
	uint16_t queue_size;	/* a power of two */
};

/* On @transport; the timer that resumes a rate-limited queue runs on @base. */
int rng_create(struct virtio_device **out, const struct rng_config *config,
	       const struct virtio_mem *mem, struct event_base *base,
	       const struct virtio_transport *transport);
void rng_destroy(struct virtio_device *vdev);

#endif
