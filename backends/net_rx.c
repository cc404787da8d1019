// SPDX-License-Identifier: MIT
/*
 * backends/net_rx.c: frames from the tap to the guest's receive queues
 * (virtio 1.2, 5.1.6.3 and 5.1.6.4).
 *
 * A tap gives one frame per readv() and no way to learn its size first, so
 * buffers for the largest frame the tap may send are popped before reading:
 * with MRG_RXBUF as many chains as that takes, kept across frames (those a
 * small frame left unused serve the next one); without it one chain, which
 * the driver should have made large enough (5.1.6.3.1). A frame larger than
 * the buffers is dropped and counted, and the buffers stay for the next: the
 * read goes on into a buffer of our own behind the guest's (a tap silently
 * cuts a frame to the space it is given, and says only what it copied), so
 * a length beyond the guest's buffers is what shows a frame too big.
 *
 * When the guest has posted too few buffers the tap is no longer read (its
 * event is removed, so the loop does not spin on a readable tap) and the
 * driver is asked to notify; its kick starts reading again.
 */
#include "backends/net_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backends/tap.h"

enum take_result {
	TAKE_ERROR = -1,	/* the device needs a reset, or guest memory is busy */
	TAKE_EMPTY = 0,		/* the ring has nothing more */
	TAKE_TAKEN = 1,
	TAKE_FULL = 2,		/* no room to hold one more chain */
};

static struct virtqueue *rx_vq(const struct net_rxq *rxq)
{
	return virtio_queue(rxq->net->vdev, 2 * rxq->pair);
}

static void stop_reading(struct net_rxq *rxq)
{
	if (rxq->reading)
		event_del(rxq->readable);
	rxq->reading = false;
}

static void start_reading(struct net_rxq *rxq)
{
	if (!rxq->reading && !rxq->net->tap_gone && event_add(rxq->readable, NULL) == 0)
		rxq->reading = true;
}

/* Keep @chain (just popped) as the newest buffer. */
static enum take_result keep(struct net_rxq *rxq, struct virtqueue *vq, struct virtq_chain *chain)
{
	struct net_rx_buffer *buffer = &rxq->buffers[rxq->nr_buffers];
	unsigned int room = NET_MAX_IOV - 1 - rxq->nr_iov, nr = chain->nr_in;
	uint64_t len = 0;

	if (nr > room) {
		if (rxq->nr_buffers) {
			virtq_unpop(vq);
			virtq_chain_release(vq, chain);
			return TAKE_FULL;
		}
		/* More segments than readv takes: the first ones will do (the rest stay unwritten). */
		nr = room;
	}
	for (unsigned int i = 0; i < nr; i++)
		len += chain->in[i].iov_len;
	buffer->head = chain->head;
	buffer->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	buffer->iov_first = rxq->nr_iov;
	buffer->nr_iov = nr;
	memcpy(&rxq->iov[rxq->nr_iov], chain->in, nr * sizeof(chain->in[0]));
	virtio_mem_refs_move(&buffer->refs, &chain->refs);
	rxq->nr_iov += nr;
	rxq->nr_buffers++;
	rxq->buffered_bytes += buffer->len;
	return TAKE_TAKEN;
}

static enum take_result take_buffer(struct net_rxq *rxq, struct virtqueue *vq)
{
	struct net *net = rxq->net;
	struct virtq_chain *chain = &net->chain;
	int ret;

	if (rxq->nr_buffers == NET_RX_MAX_BUFFERS)
		return TAKE_FULL;
	ret = virtq_pop(vq, chain, net->name);
	if (ret == -EAGAIN)
		return TAKE_ERROR;	/* guest memory is all in use: its release kicks us */
	if (ret < 0) {
		virtio_device_needs_reset(net->vdev, ret == -EFAULT ? "rings left guest RAM" : NULL);
		return TAKE_ERROR;
	}
	if (ret == 0)
		return TAKE_EMPTY;
	if (chain->nr_out || chain->in_bytes < TAP_VNET_HDR_SIZE) {
		virtq_chain_release(vq, chain);
		/*
		 * 5.1.6.3.1: receive buffers are device-writable, and with
		 * MRG_RXBUF each MUST be at least the size of struct
		 * virtio_net_hdr; without it, a smaller one could never hold a
		 * frame either (every frame has the header).
		 */
		virtio_device_needs_reset(net->vdev, chain->nr_out ?
					  "device-readable buffer in a receiveq (5.1.6.3)" :
					  "receive buffer smaller than the header (5.1.6.3.1)");
		return TAKE_ERROR;
	}
	return keep(rxq, vq, chain);
}

/*
 * Hold buffers for the largest frame: 1 to read, 0 to wait for the
 * driver's kick, -1 to stop (reset needed, memory busy).
 */
static int fill(struct net_rxq *rxq, struct virtqueue *vq)
{
	bool mergeable = net_has(rxq->net, VIRTIO_NET_F_MRG_RXBUF);

	for (;;) {
		enum take_result taken;

		if (rxq->nr_buffers && (!mergeable || rxq->buffered_bytes >= rxq->net->rx_frame_max))
			return 1;
		taken = take_buffer(rxq, vq);
		if (taken == TAKE_ERROR)
			return -1;
		if (taken == TAKE_FULL)
			return 1;	/* all we can hold: a larger frame is dropped */
		if (taken == TAKE_TAKEN)
			continue;
		/* The whole ring is ours and still short: that is all the driver will give. */
		if (rxq->nr_buffers && rxq->nr_buffers >= vq->size)
			return 1;
		if (virtq_enable_notification(vq))
			continue;
		return 0;
	}
}

/* Store @len bytes at @offset of the flat segments @iov. */
static void iov_store(struct iovec *iov, unsigned int nr, size_t offset, const void *src, size_t len)
{
	const uint8_t *bytes = src;

	for (unsigned int i = 0; i < nr && len; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - offset < len ? iov[i].iov_len - offset : len;
		memcpy((uint8_t *)iov[i].iov_base + offset, bytes, chunk);
		bytes += chunk;
		len -= chunk;
		offset = 0;
	}
}

/* Forget the @used oldest buffers (their used entries are pushed). */
static void drop_oldest(struct net_rxq *rxq, struct virtqueue *vq, unsigned int used)
{
	unsigned int first_iov = used < rxq->nr_buffers ? rxq->buffers[used].iov_first : rxq->nr_iov;

	for (unsigned int i = 0; i < used; i++) {
		rxq->buffered_bytes -= rxq->buffers[i].len;
		virtio_mem_release(vq->mem, &rxq->buffers[i].refs);
	}
	memmove(rxq->buffers, rxq->buffers + used, (rxq->nr_buffers - used) * sizeof(rxq->buffers[0]));
	rxq->nr_buffers -= used;
	memmove(rxq->iov, rxq->iov + first_iov, (rxq->nr_iov - first_iov) * sizeof(rxq->iov[0]));
	rxq->nr_iov -= first_iov;
	for (unsigned int i = 0; i < rxq->nr_buffers; i++)
		rxq->buffers[i].iov_first -= first_iov;
}

/* A frame of @len bytes, header included, lies in the oldest buffers: hand them over. */
static void deliver(struct net_rxq *rxq, struct virtqueue *vq, size_t len)
{
	struct net *net = rxq->net;
	unsigned int used = 0;
	uint16_t num_buffers;
	size_t left = len;

	while (left) {
		left -= left < rxq->buffers[used].len ? left : rxq->buffers[used].len;
		used++;
	}
	/* 5.1.6.4: num_buffers is 1 without MRG_RXBUF; written before the used entries publish it. */
	num_buffers = htole16((uint16_t)used);
	iov_store(rxq->iov, rxq->nr_iov, offsetof(struct virtio_net_hdr, num_buffers),
		  &num_buffers, sizeof(num_buffers));
	/* 5.1.6.4.1: without GUEST_CSUM the device MUST set flags to zero (no DATA_VALID). */
	if (!net_has(net, VIRTIO_NET_F_GUEST_CSUM))
		iov_store(rxq->iov, rxq->nr_iov, 0, &(uint8_t){ 0 }, 1);
	left = len;
	for (unsigned int i = 0; i < used; i++) {
		uint32_t written = left < rxq->buffers[i].len ? (uint32_t)left : rxq->buffers[i].len;

		virtq_push(vq, rxq->buffers[i].head, written);
		left -= written;
	}
	rxq->pushed = true;
	rxq->frames++;
	drop_oldest(rxq, vq, used);
}

/* One frame from the tap: false when the pass ends (nothing to read, tap failed). */
static bool receive_one(struct net_rxq *rxq, struct virtqueue *vq)
{
	struct net *net = rxq->net;
	ssize_t len;

	rxq->iov[rxq->nr_iov] = (struct iovec){ rxq->overflow, NET_RX_OVERFLOW };
	len = readv(net->tap->fds[rxq->pair], rxq->iov, (int)rxq->nr_iov + 1);

	rxq->reads++;
	if (len < 0) {
		if (errno != EAGAIN && errno != EINTR)
			net_tap_failed(net, errno, "read");
		return false;
	}
	if ((uint64_t)len > rxq->buffered_bytes || len <= TAP_VNET_HDR_SIZE) {
		rxq->dropped_too_big++;
		log_ratelimited(&net->log, LOG_LEVEL_WARN,
				"%s: rx%u: %zd-byte frame dropped: buffers of %llu bytes (5.1.6.3.1)",
				net->name, rxq->pair, len, (unsigned long long)rxq->buffered_bytes);
		return true;
	}
	deliver(rxq, vq, (size_t)len);
	return true;
}

static bool may_receive(const struct net_rxq *rxq)
{
	const struct net *net = rxq->net;

	return net->started && !net->tap_gone && rxq->pair < net->active_pairs &&
	       virtio_queue_ready(net->vdev, 2 * rxq->pair);
}

static void rx_pass(struct net_rxq *rxq)
{
	struct virtqueue *vq = rx_vq(rxq);
	unsigned int frames;
	int ready = 1;

	if (!may_receive(rxq)) {
		stop_reading(rxq);
		return;
	}
	for (frames = 0; frames < NET_RX_BUDGET; frames++) {
		ready = fill(rxq, vq);
		if (ready <= 0 || !receive_one(rxq, vq))
			break;
	}
	if (ready > 0 && may_receive(rxq)) {
		start_reading(rxq);
	} else {
		rxq->stalls += ready == 0;
		stop_reading(rxq);
	}
	if (rxq->pushed) {
		rxq->pushed = false;
		virtio_queue_interrupt(rxq->net->vdev, 2 * rxq->pair);
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rx_pass(arg);
}

void net_rx_kick(struct net_rxq *rxq)
{
	rx_pass(rxq);
}

void net_rx_stop(struct net_rxq *rxq)
{
	struct virtqueue *vq = rx_vq(rxq);

	stop_reading(rxq);
	/* The held chains are the newest popped: back into the ring, in reverse. */
	for (unsigned int i = rxq->nr_buffers; i-- > 0;) {
		virtq_unpop(vq);
		virtio_mem_release(vq->mem, &rxq->buffers[i].refs);
	}
	rxq->nr_buffers = 0;
	rxq->nr_iov = 0;
	rxq->buffered_bytes = 0;
	rxq->pushed = false;
}

int net_rx_init(struct net_rxq *rxq, struct net *net, unsigned int pair)
{
	rxq->net = net;
	rxq->pair = pair;
	rxq->overflow = malloc(NET_RX_OVERFLOW);
	/* The pair's own file, attached or not: it is read only while the pair is active. */
	rxq->readable = event_new(net->base, net->tap->fds[pair], EV_READ | EV_PERSIST, on_readable, rxq);
	return rxq->readable && rxq->overflow ? 0 : -ENOMEM;
}

void net_rx_fini(struct net_rxq *rxq)
{
	if (rxq->readable)
		event_free(rxq->readable);
	rxq->readable = NULL;
	free(rxq->overflow);
	rxq->overflow = NULL;
	rxq->reading = false;
}
