// SPDX-License-Identifier: MIT
/* virtio/queue_service.c: a virtqueue served in passes of at most a budget of chains. */
#include "virtio/queue_service.h"

#include <errno.h>
#include <stddef.h>

void queue_service_init(struct queue_service *qs, struct virtio_device *vdev, unsigned int index,
			const struct queue_service_ops *ops, void *opaque, struct virtq_chain *chain)
{
	*qs = (struct queue_service){
		.vdev = vdev,
		.index = index,
		.ops = ops,
		.opaque = opaque,
		.chain = chain,
		.budget = QUEUE_SERVICE_BUDGET,
	};
	queue_poll_init(&qs->poll, QUEUE_POLL_MAX_NS_DEFAULT);
	/* The driver's notifications of this queue come to queue_service_notified(). */
	virtio_queue_set_service(vdev, index, qs);
}

/* The budget is spent: come back after the loop served what else waits. */
static void yield(struct queue_service *qs, struct virtqueue *vq)
{
	/* We will look at the ring anyway: no notification needed (2.7.7 / 2.7.10). */
	virtq_disable_notification(vq);
	qs->yields++;
	qs->scheduled = true;
	qs->loop->schedule(qs);
}

void queue_service_set_poll_max(struct queue_service *qs, uint64_t max_ns)
{
	queue_poll_init(&qs->poll, max_ns);
}

/* Polling needs a loop to come back through, and its clock. */
static bool can_poll(const struct queue_service *qs)
{
	return qs->loop && qs->loop->now_ns;
}

/* Keep watching the idle ring: notifications stay off, the next look waits behind the loop's events. */
static void watch(struct queue_service *qs, struct virtqueue *vq)
{
	virtq_disable_notification(vq);
	qs->scheduled = true;
	qs->loop->schedule(qs);
}

/* The ring looked empty: true to look again (buffers arrived while notifications were off). */
static bool ring_empty(struct queue_service *qs, struct virtqueue *vq)
{
	if (qs->ops->busy && qs->ops->busy(qs)) {
		/* A completion looks at the ring again: the driver need not notify us. */
		virtq_disable_notification(vq);
		return false;
	}
	if (can_poll(qs) && queue_poll_idle(&qs->poll, qs->loop->now_ns())) {
		watch(qs, vq);
		return false;
	}
	return virtq_enable_notification(vq);
}

/* One chain of a pass; false when the pass ends. */
static bool step(struct queue_service *qs, struct virtqueue *vq, unsigned int *served)
{
	int ret;

	if (qs->ops->has_room && !qs->ops->has_room(qs)) {
		virtq_disable_notification(vq);
		return false;
	}
	if (*served >= qs->budget && qs->loop) {
		yield(qs, vq);
		return false;
	}
	ret = virtq_pop(vq, qs->chain, virtio_name(qs->vdev));
	if (ret == -EAGAIN)
		return false;	/* guest memory is all in use: its release runs the queue again */
	if (ret < 0) {
		/* virtq_pop() logged which rule a malformed ring broke. */
		virtio_device_needs_reset(qs->vdev, ret == -EFAULT ? "rings left guest RAM" : NULL);
		return false;
	}
	if (ret == 0)
		return ring_empty(qs, vq);
	if (queue_poll_watching(&qs->poll))
		queue_poll_found(&qs->poll, qs->loop->now_ns());
	(*served)++;
	if (!qs->ops->serve(qs, qs->chain))
		return false;
	/* The request may have made the device need a reset. */
	return virtio_queue_ready(qs->vdev, qs->index);
}

static void stop_watching(struct queue_service *qs)
{
	if (queue_poll_watching(&qs->poll))
		queue_poll_stop(&qs->poll, qs->loop->now_ns());
}

static void pass(struct queue_service *qs)
{
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	unsigned int served = 0;

	if (!virtio_queue_ready(qs->vdev, qs->index)) {
		stop_watching(qs);
		return;
	}
	qs->passes++;
	while (step(qs, vq, &served))
		;
	if (qs->pushed) {
		qs->pushed = false;
		virtio_queue_interrupt(qs->vdev, qs->index);
	}
	if (qs->ops->pass_done)
		qs->ops->pass_done(qs);
}

void queue_service_notified(struct queue_service *qs)
{
	qs->notifications++;
	if (can_poll(qs))
		queue_poll_notified(&qs->poll, qs->loop->now_ns());
	if (!qs->loop) {
		queue_service_run(qs);
		return;
	}
	/* One scheduled pass serves every notification that comes before it. */
	if (qs->scheduled)
		return;
	qs->scheduled = true;
	qs->loop->schedule(qs);
}

void queue_service_run(struct queue_service *qs)
{
	/* A pass is already waiting behind the loop's other events: do not jump the queue. */
	if (!qs->scheduled)
		pass(qs);
}

void queue_service_resume(struct queue_service *qs)
{
	qs->scheduled = false;
	pass(qs);
}

void queue_service_cancel(struct queue_service *qs)
{
	if (qs->scheduled && qs->loop)
		qs->loop->cancel(qs);
	qs->scheduled = false;
	stop_watching(qs);
}

void queue_service_push(struct queue_service *qs, uint16_t head, uint32_t written)
{
	virtq_push(virtio_queue(qs->vdev, qs->index), head, written);
	qs->pushed = true;
}
