// SPDX-License-Identifier: MIT
/*
 * backends/rng.c: virtio-rng (virtio 1.2, 5.4). One queue, requestq: the
 * driver posts device-writable buffers, the device fills them with random
 * bytes from getrandom(2). An optional rate limit (a token bucket holding at
 * most one second of bytes) defers requests on a timer instead of blocking
 * the event loop.
 */
#include "backends/rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>

#include "backends/queue_loop.h"
#include "lib/log.h"

#define RNG_DEVICE_TYPE		4		/* 5: Device Types */
#define RNG_CLASS_CODE		0xff0000	/* no PCI class fits: "unassigned" */
#define RNG_REQUESTQ		0
#define RETRY_AFTER_ERROR_NS	100000000ULL	/* 100 ms */
/*
 * 5.4.7.1: the device may fill less than the whole buffer. A guest can hand
 * us gigabytes in one chain; answering a bounded amount keeps one request
 * from stalling the event loop (and the used length within 32 bits).
 */
#define RNG_MAX_PER_REQUEST	(64 * 1024)

struct rng {
	struct virtio_device *vdev;
	const struct virtio_transport *transport;
	struct rng_config config;
	char name[32];
	struct event *timer;
	double tokens;			/* bytes we may still hand out */
	struct timespec refilled;	/* when tokens were last topped up */
	struct virtq_chain chain;
	struct queue_service requestq;
	struct log_ratelimit log;
};

static uint64_t rng_features(struct virtio_device *vdev)
{
	(void)vdev;
	return 0;	/* 5.4.3: no device-specific features */
}

/* 5.4.4: no device configuration layout. */
static void rng_config_read(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	(void)vdev;
	(void)off;
	memset(buf, 0, len);
}

static void rng_config_write(struct virtio_device *vdev, uint32_t off, const void *buf, uint32_t len)
{
	(void)vdev;
	(void)off;
	(void)buf;
	(void)len;
}

static void refill(struct rng *rng)
{
	struct timespec now;
	double elapsed;

	if (!rng->config.rate)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double)(now.tv_sec - rng->refilled.tv_sec) +
		  (double)(now.tv_nsec - rng->refilled.tv_nsec) / 1e9;
	rng->refilled = now;
	rng->tokens += elapsed * (double)rng->config.rate;
	if (rng->tokens > (double)rng->config.rate)
		rng->tokens = (double)rng->config.rate;
}

static void resume_after(struct rng *rng, uint64_t ns)
{
	struct timeval delay = { (time_t)(ns / 1000000000ULL), (suseconds_t)(ns % 1000000000ULL / 1000) };

	evtimer_add(rng->timer, &delay);
}

/* Fill @len bytes of the chain's writable buffers; false if getrandom failed. */
static bool fill(struct rng *rng, uint64_t len)
{
	for (unsigned int i = 0; i < rng->chain.nr_in && len; i++) {
		uint8_t *buf = rng->chain.in[i].iov_base;
		uint64_t want = rng->chain.in[i].iov_len < len ? rng->chain.in[i].iov_len : len;

		for (uint64_t done = 0; done < want;) {
			ssize_t n = getrandom(buf + done, want - done, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return false;
			done += (uint64_t)n;
		}
		len -= want;
	}
	return true;
}

/* How many bytes this request gets: all of it, or what the rate allows. */
static uint64_t grant(struct rng *rng)
{
	uint64_t want = rng->chain.in_bytes;

	if (want > RNG_MAX_PER_REQUEST)
		want = RNG_MAX_PER_REQUEST;
	if (rng->config.rate && (double)want > rng->tokens)
		want = (uint64_t)rng->tokens;
	return want;
}

/* Tokens for at least one byte, or the queue waits for them on the timer. */
static bool rng_has_room(struct queue_service *qs)
{
	struct rng *rng = qs->opaque;

	refill(rng);
	if (rng->config.rate && rng->tokens < 1.0) {
		resume_after(rng, (uint64_t)(1e9 * (1.0 - rng->tokens) / (double)rng->config.rate) + 1);
		return false;
	}
	return true;
}

static bool rng_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct rng *rng = qs->opaque;
	struct virtqueue *vq = virtio_queue(rng->vdev, RNG_REQUESTQ);
	uint64_t len;

	/* 5.4.6.1: the driver MUST NOT place driver-readable buffers into the queue. */
	if (chain->nr_out) {
		virtq_chain_release(vq, chain);
		virtio_device_needs_reset(rng->vdev, "device-readable buffer in requestq (5.4.6.1)");
		return false;
	}
	len = grant(rng);
	if (!fill(rng, len)) {
		log_ratelimited(&rng->log, LOG_LEVEL_ERROR, "%s: getrandom: %s", rng->name, strerror(errno));
		virtq_unpop(vq);
		virtq_chain_release(vq, chain);
		resume_after(rng, RETRY_AFTER_ERROR_NS);
		return false;
	}
	rng->tokens -= (double)len;
	queue_service_push(qs, chain->head, (uint32_t)len);
	virtq_chain_release(vq, chain);
	return true;
}

static const struct queue_service_ops requestq_ops = {
	.has_room = rng_has_room,
	.serve = rng_serve,
};

static void rng_queue_notify(struct virtio_device *vdev, unsigned int index)
{
	struct rng *rng = virtio_backend(vdev);

	if (index == RNG_REQUESTQ)
		queue_service_run(&rng->requestq);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rng *rng = arg;

	(void)fd;
	(void)what;
	queue_service_run(&rng->requestq);
}

static void rng_reset(struct virtio_device *vdev)
{
	struct rng *rng = virtio_backend(vdev);

	evtimer_del(rng->timer);
}

static const struct virtio_device_ops rng_ops = {
	.features = rng_features,
	.config_read = rng_config_read,
	.config_write = rng_config_write,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
};

int rng_create(struct virtio_device **out, const struct rng_config *config,
	       const struct virtio_mem *mem, struct event_base *base,
	       const struct virtio_transport *transport)
{
	struct rng *rng = calloc(1, sizeof(*rng));
	struct virtio_device_info info = {
		.device_type = RNG_DEVICE_TYPE,
		.class_code = RNG_CLASS_CODE,
		.num_queues = 1,
		.queue_size = config->queue_size,
		.config_size = 0,
	};
	int ret;

	if (!rng)
		return -ENOMEM;
	rng->transport = transport;
	rng->config = *config;
	snprintf(rng->name, sizeof(rng->name), "%s", config->name);
	rng->config.name = rng->name;
	log_ratelimit_init(&rng->log, rng->name);
	info.name = rng->name;
	rng->tokens = (double)config->rate;
	clock_gettime(CLOCK_MONOTONIC, &rng->refilled);
	rng->timer = evtimer_new(base, on_timer, rng);
	if (!rng->timer) {
		free(rng);
		return -ENOMEM;
	}
	ret = transport->create(&rng->vdev, &info, &rng_ops, rng, mem);
	if (ret)
		goto free_timer;
	queue_service_init(&rng->requestq, rng->vdev, RNG_REQUESTQ, &requestq_ops, rng, &rng->chain);
	ret = queue_loop_attach(&rng->requestq, base);
	if (ret)
		goto destroy_device;
	*out = rng->vdev;
	return 0;

destroy_device:
	transport->destroy(rng->vdev);
free_timer:
	event_free(rng->timer);
	free(rng);
	return ret;
}

void rng_destroy(struct virtio_device *vdev)
{
	struct rng *rng;

	if (!vdev)
		return;
	rng = virtio_backend(vdev);
	rng->transport->destroy(vdev);
	queue_loop_detach(&rng->requestq);
	log_ratelimit_flush(&rng->log);
	event_free(rng->timer);
	free(rng);
}
