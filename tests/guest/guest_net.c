// SPDX-License-Identifier: MIT
/* tests/guest/guest_net.c: the guest's virtio-net driver (tests/guest/guest_net.h). */
#include "tests/guest/guest_net.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_STEP_US	200

static bool has(const struct guest_net *gn, unsigned int bit)
{
	return gn->features & NET_BIT(bit);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint16_t guest_net_status(struct guest_net *gn)
{
	return (uint16_t)guest_virtio_config_read(gn->vd, VIRTIO_NET_CONFIG_STATUS, 2);
}

static int setup_queues(struct guest_net *gn, unsigned int pairs)
{
	unsigned int max_pairs = 1;
	int ret = 0;

	/* 5.1.2: N is max_virtqueue_pairs only with MQ; the control queue comes after 2N. */
	if (has(gn, VIRTIO_NET_F_MQ))
		max_pairs = guest_virtio_config_read(gn->vd, VIRTIO_NET_CONFIG_MAX_PAIRS, 2);
	gn->pairs = pairs < max_pairs ? pairs : max_pairs;
	if (gn->pairs > GUEST_NET_MAX_PAIRS)
		return -EINVAL;
	for (unsigned int i = 0; i < gn->pairs && !ret; i++) {
		gn->rx[i].index = (uint16_t)(2 * i);
		ret = guest_virtio_setup_queue(gn->vd, (uint16_t)(2 * i), 0);
		if (!ret)
			ret = guest_virtio_setup_queue(gn->vd, (uint16_t)(2 * i + 1), 0);
	}
	if (!ret && has(gn, VIRTIO_NET_F_CTRL_VQ)) {
		gn->ctrl_index = (uint16_t)(2 * max_pairs);
		ret = guest_virtio_setup_queue(gn->vd, gn->ctrl_index, 0);
	}
	return ret;
}

int guest_net_init(struct guest_net *gn, struct guest_virtio *vd, uint64_t wanted, unsigned int pairs,
		   uint32_t rx_buffer_size, unsigned int rx_buffers)
{
	int ret;

	memset(gn, 0, sizeof(*gn));
	gn->vd = vd;
	gn->rx_buffer_size = rx_buffer_size;
	ret = guest_virtio_negotiate(vd, wanted);
	if (ret)
		return ret;
	gn->features = vd->driver_features;
	ret = setup_queues(gn, pairs ? pairs : 1);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < 6; i++)
		gn->mac[i] = (uint8_t)guest_virtio_config_read(vd, VIRTIO_NET_CONFIG_MAC + i, 1);
	guest_virtio_driver_ok(vd);
	for (unsigned int i = 0; i < gn->pairs && rx_buffers; i++) {
		ret = guest_net_post_rx(gn, i, rx_buffers);
		if (ret)
			return ret;
	}
	return 0;
}

static int post_one(struct guest_net *gn, struct guest_net_rxq *rxq, unsigned int slot)
{
	struct guest_buf bufs[2] = { { rxq->gpa[slot], gn->rx_buffer_size, true } };
	unsigned int n = 1;

	/* 5.1.6.3: a buffer is a chain; the header may straddle its descriptors. */
	if (gn->rx_split && gn->rx_split < gn->rx_buffer_size) {
		bufs[0].len = gn->rx_split;
		bufs[1] = (struct guest_buf){ rxq->gpa[slot] + gn->rx_split,
					      gn->rx_buffer_size - gn->rx_split, true };
		n = 2;
	}
	return guest_virtio_add(gn->vd, rxq->index, bufs, n, (void *)(uintptr_t)(slot + 1));
}

int guest_net_post_rx(struct guest_net *gn, unsigned int pair, unsigned int count)
{
	struct guest_net_rxq *rxq = &gn->rx[pair];
	int ret;

	for (unsigned int i = 0; i < count; i++) {
		unsigned int slot = rxq->nr_buffers;

		if (slot >= GUEST_NET_RX_MAX)
			return -ENOSPC;
		rxq->gpa[slot] = guest_ram_alloc(gn->vd->ram, gn->rx_buffer_size, 64);
		if (!rxq->gpa[slot])
			return -ENOMEM;
		ret = post_one(gn, rxq, slot);
		if (ret)
			return ret;
		rxq->nr_buffers++;
	}
	guest_virtio_kick(gn->vd, rxq->index);
	return 0;
}

/* The next used entry of @rxq, waiting a little: the device publishes a frame's buffers together. */
static int next_used(struct guest_net *gn, struct guest_net_rxq *rxq, uint32_t *len, unsigned int *slot,
		     bool wait)
{
	uint64_t deadline = now_ms() + 1000;
	void *token;
	int got;

	for (;;) {
		gn->polls++;
		got = guest_virtio_get_used(gn->vd, rxq->index, len, &token);
		if (got < 0)
			return -EIO;
		if (got)
			break;
		if (!wait || now_ms() > deadline)
			return wait ? -EIO : 0;
		usleep(WAIT_STEP_US);
	}
	*slot = (unsigned int)(uintptr_t)token - 1;
	if (*slot >= rxq->nr_buffers || *len > gn->rx_buffer_size)
		return -EIO;
	return 1;
}

static void parse_header(struct guest_net_hdr *hdr, const uint8_t *bytes)
{
	uint16_t fields[5];

	hdr->flags = bytes[0];
	hdr->gso_type = bytes[1];
	memcpy(fields, bytes + 2, sizeof(fields));
	hdr->hdr_len = le16toh(fields[0]);
	hdr->gso_size = le16toh(fields[1]);
	hdr->csum_start = le16toh(fields[2]);
	hdr->csum_offset = le16toh(fields[3]);
	hdr->num_buffers = le16toh(fields[4]);
}

/* Post the taken buffers of @rxq again, and kick if the device asks for it. */
static int refill(struct guest_net *gn, struct guest_net_rxq *rxq)
{
	int ret = 0;

	if (!rxq->nr_taken)
		return 0;
	for (unsigned int i = 0; i < rxq->nr_taken && !ret; i++)
		ret = post_one(gn, rxq, rxq->taken[i]);
	rxq->nr_taken = 0;
	rxq->kicks += guest_virtio_kick(gn->vd, rxq->index);
	return ret;
}

/* Copy buffer @slot's @len bytes from @skip into the frame (up to rx_copy_max); it waits for refill(). */
static int take(struct guest_net *gn, struct guest_net_rxq *rxq, struct guest_net_frame *frame,
		unsigned int slot, uint32_t len, uint32_t skip)
{
	const uint8_t *bytes = guest_ram_ptr(gn->vd->ram, rxq->gpa[slot], gn->rx_buffer_size);
	size_t room = gn->rx_copy_max ? gn->rx_copy_max : sizeof(frame->data), copy;

	if (len < skip || frame->len + (len - skip) > sizeof(frame->data))
		return -EIO;
	copy = frame->len >= room ? 0 : room - frame->len < len - skip ? room - frame->len : len - skip;
	memcpy(frame->data + frame->len, bytes + skip, copy);
	frame->len += len - skip;
	rxq->taken[rxq->nr_taken++] = slot;
	return 0;
}

/* 5.1.6.4: one frame from @pair's receiveq: 1, 0 (none), -EIO. */
static int poll_frame(struct guest_net *gn, unsigned int pair, struct guest_net_frame *frame)
{
	struct guest_net_rxq *rxq = &gn->rx[pair];
	unsigned int slot, count;
	uint32_t len;
	int ret = next_used(gn, rxq, &len, &slot, false);

	if (ret <= 0)
		return ret;
	if (len < GUEST_NET_HDR_SIZE)
		return -EIO;
	parse_header(&frame->hdr, guest_ram_ptr(gn->vd->ram, rxq->gpa[slot], GUEST_NET_HDR_SIZE));
	count = has(gn, VIRTIO_NET_F_MRG_RXBUF) ? frame->hdr.num_buffers : 1;
	if (!count || count > rxq->nr_buffers)
		return -EIO;
	frame->len = 0;
	frame->pair = pair;
	ret = take(gn, rxq, frame, slot, len, GUEST_NET_HDR_SIZE);
	for (unsigned int i = 1; i < count && !ret; i++) {
		ret = next_used(gn, rxq, &len, &slot, true);
		if (ret == 1)
			ret = take(gn, rxq, frame, slot, len, 0);
	}
	if (!ret && rxq->nr_taken >= gn->rx_refill_batch)
		ret = refill(gn, rxq);
	rxq->frames++;
	return ret ? (ret < 0 ? ret : -EIO) : 1;
}

static void set_rx_callbacks(struct guest_net *gn, bool enable, bool *more)
{
	for (unsigned int i = 0; i < gn->pairs; i++) {
		if (!enable)
			guest_virtio_disable_callbacks(gn->vd, gn->rx[i].index);
		else if (!guest_virtio_enable_callbacks(gn->vd, gn->rx[i].index))
			*more = true;
	}
}

int guest_net_receive(struct guest_net *gn, struct guest_net_frame *frame, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		unsigned long seen = guest_virtio_interrupts(gn->vd);
		bool more = false;
		int64_t left;

		for (unsigned int i = 0; i < gn->pairs; i++) {
			int ret = poll_frame(gn, i, frame);

			if (ret)
				return ret < 0 ? ret : 0;
		}
		/* Nothing more: what waits for a refill goes back before sleeping. */
		for (unsigned int i = 0; i < gn->pairs; i++)
			if (refill(gn, &gn->rx[i]))
				return -EIO;
		/* napi_complete: interrupts on again, and one more look for what raced with that. */
		set_rx_callbacks(gn, true, &more);
		if (more)
			continue;
		left = (int64_t)(deadline - now_ms());
		if (left <= 0 || guest_virtio_wait_interrupt(gn->vd, seen, (int)left))
			return -ETIMEDOUT;
		guest_virtio_read_isr(gn->vd);
		gn->interrupts++;
		/* napi_schedule: poll without interrupts until the rings are empty. */
		set_rx_callbacks(gn, false, &more);
	}
}

int guest_net_send(struct guest_net *gn, unsigned int pair, const struct guest_net_hdr *hdr,
		   const void *frame, size_t len)
{
	uint16_t index = (uint16_t)(2 * pair + 1);
	struct guest_buf buf = { 0, (uint32_t)(GUEST_NET_HDR_SIZE + len), false };
	uint16_t fields[5] = { htole16(hdr->hdr_len), htole16(hdr->gso_size), htole16(hdr->csum_start),
			       htole16(hdr->csum_offset), 0 };
	uint8_t *bytes;
	int ret;

	guest_net_reap_tx(gn, pair);
	buf.gpa = guest_ram_alloc(gn->vd->ram, buf.len, 64);
	if (!buf.gpa)
		return -ENOMEM;
	bytes = guest_ram_ptr(gn->vd->ram, buf.gpa, buf.len);
	bytes[0] = hdr->flags;
	bytes[1] = hdr->gso_type;
	memcpy(bytes + 2, fields, sizeof(fields));
	memcpy(bytes + GUEST_NET_HDR_SIZE, frame, len);
	ret = guest_virtio_add(gn->vd, index, &buf, 1, (void *)1);
	if (ret)
		return ret;
	guest_virtio_kick(gn->vd, index);
	return 0;
}

unsigned int guest_net_reap_tx(struct guest_net *gn, unsigned int pair)
{
	unsigned int count = 0;
	uint32_t len;

	while (guest_virtio_get_used(gn->vd, (uint16_t)(2 * pair + 1), &len, NULL) == 1)
		count++;
	return count;
}

int guest_net_wait_tx(struct guest_net *gn, unsigned int pair, int timeout_ms)
{
	struct guest_virtq *q = &gn->vd->queues[2 * pair + 1];
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		guest_net_reap_tx(gn, pair);
		if (q->num_free == q->size)
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(WAIT_STEP_US);
	}
}

int guest_net_ctrl(struct guest_net *gn, uint8_t class, uint8_t command, const void *data, size_t len)
{
	struct guest_buf bufs[2] = {
		{ guest_ram_alloc(gn->vd->ram, 2 + len, 16), (uint32_t)(2 + len), false },
		{ guest_ram_alloc(gn->vd->ram, 1, 16), 1, true },
	};
	uint64_t deadline = now_ms() + 10000;
	uint8_t *out, *ack;
	uint32_t used_len;
	int ret;

	if (!bufs[0].gpa || !bufs[1].gpa)
		return -ENOMEM;
	out = guest_ram_ptr(gn->vd->ram, bufs[0].gpa, 2 + len);
	ack = guest_ram_ptr(gn->vd->ram, bufs[1].gpa, 1);
	out[0] = class;
	out[1] = command;
	if (len)
		memcpy(out + 2, data, len);
	*ack = 0xff;
	ret = guest_virtio_add(gn->vd, gn->ctrl_index, bufs, 2, NULL);
	if (ret)
		return ret;
	guest_virtio_kick(gn->vd, gn->ctrl_index);
	/* 5.1.6.5: Linux busy-polls the control queue for the ack; so do we. */
	while ((ret = guest_virtio_get_used(gn->vd, gn->ctrl_index, &used_len, NULL)) == 0) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(WAIT_STEP_US);
	}
	if (ret < 0 || used_len < 1)
		return -EIO;
	return *ack;
}
