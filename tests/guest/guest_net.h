/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/guest_net.h: a guest's virtio-net driver for tests, written
 * from virtio 1.2, 5.1 (not from the daemon's device): receive buffers
 * posted up front and reposted as frames arrive, mergeable buffers
 * reassembled by num_buffers, transmit as one header-and-frame buffer,
 * control commands polled for their ack, and NAPI-like interrupts: on an
 * interrupt the queue's callbacks are disabled and the ring polled until
 * empty, then enabled again and checked once more before sleeping.
 */
#ifndef XVP_TESTS_GUEST_GUEST_NET_H
#define XVP_TESTS_GUEST_GUEST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/guest/guest_virtio.h"

/* 5.1.3 */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23
#define NET_BIT(bit)			(1ULL << (bit))

/* 5.1.4 */
#define VIRTIO_NET_S_LINK_UP		1
#define VIRTIO_NET_S_ANNOUNCE		2
#define VIRTIO_NET_CONFIG_MAC		0
#define VIRTIO_NET_CONFIG_STATUS	6
#define VIRTIO_NET_CONFIG_MAX_PAIRS	8
#define VIRTIO_NET_CONFIG_MTU		10

/* 5.1.6 */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80
#define GUEST_NET_HDR_SIZE		12

/* 5.1.6.5 */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_VLAN		2
#define VIRTIO_NET_CTRL_ANNOUNCE	3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK	0
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	5
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

#define GUEST_NET_MAX_PAIRS		4
#define GUEST_NET_RX_MAX		256
#define GUEST_NET_FRAME_MAX		(65536 + 64)

/* struct virtio_net_hdr in host byte order. */
struct guest_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

struct guest_net_frame {
	struct guest_net_hdr hdr;
	unsigned int pair;		/* the receiveq it came on */
	size_t len;			/* bytes of data, without the header */
	uint8_t data[GUEST_NET_FRAME_MAX];	/* the first len bytes, or rx_copy_max of them */
};

struct guest_net_rxq {
	uint16_t index;
	unsigned int nr_buffers;
	uint64_t gpa[GUEST_NET_RX_MAX];
	unsigned int nr_taken;		/* buffers taken, not posted again yet */
	unsigned int taken[GUEST_NET_RX_MAX];
	unsigned long frames;
	unsigned long kicks;		/* kicks written after posting buffers */
};

struct guest_net {
	struct guest_virtio *vd;
	uint64_t features;		/* negotiated */
	unsigned int pairs;		/* queue pairs set up */
	uint16_t ctrl_index;
	uint32_t rx_buffer_size;
	uint32_t rx_split;		/* non-zero: each receive buffer is two descriptors, split there */
	/*
	 * Non-zero: copy at most this many bytes of a frame into frame->data
	 * (frame->len still counts them all). Linux's page_to_skb() copies a
	 * mergeable frame's first bytes only and hands the rest to its stack
	 * as the buffers' pages (drivers/net/virtio_net.c, GOOD_COPY_LEN).
	 */
	size_t rx_copy_max;
	/*
	 * Above 1: taken buffers are posted again once this many wait, all
	 * with one kick (and before the driver sleeps), as Linux's
	 * virtnet_receive() refills only when more than half of
	 * min(NAPI budget, ring size) descriptors are free and
	 * try_fill_recv() kicks once. 0 or 1: each frame's buffers go back
	 * at once.
	 */
	unsigned int rx_refill_batch;
	uint8_t mac[6];
	struct guest_net_rxq rx[GUEST_NET_MAX_PAIRS];
	unsigned long interrupts;	/* handled: callbacks disabled, rings polled */
	unsigned long polls;		/* looks at a used ring */
};

/*
 * 3.1.1 and 5.1.5: negotiate @wanted (what the device offers of it), set up
 * @pairs queue pairs (1 without MQ) and the control queue (with CTRL_VQ),
 * post @rx_buffers buffers of @rx_buffer_size bytes on each receiveq
 * (0: none yet), DRIVER_OK. 0 or -errno.
 */
int guest_net_init(struct guest_net *gn, struct guest_virtio *vd, uint64_t wanted, unsigned int pairs,
		   uint32_t rx_buffer_size, unsigned int rx_buffers);
/* Post @count more receive buffers on @pair (up to GUEST_NET_RX_MAX in all) and kick. */
int guest_net_post_rx(struct guest_net *gn, unsigned int pair, unsigned int count);
/* Send one frame on @pair (header and frame in one buffer) and kick. 0 or -ENOSPC. */
int guest_net_send(struct guest_net *gn, unsigned int pair, const struct guest_net_hdr *hdr,
		   const void *frame, size_t len);
/* Take back transmitted buffers of @pair: how many. */
unsigned int guest_net_reap_tx(struct guest_net *gn, unsigned int pair);
/* Wait until every frame sent on @pair came back: 0 or -ETIMEDOUT. */
int guest_net_wait_tx(struct guest_net *gn, unsigned int pair, int timeout_ms);
/*
 * The next frame on any receiveq, reassembled and its buffers reposted:
 * 0, -ETIMEDOUT when none came, -EIO when the device broke the rules
 * (num_buffers of 0, more than posted, a length beyond a buffer).
 */
int guest_net_receive(struct guest_net *gn, struct guest_net_frame *frame, int timeout_ms);
/* One control command (class, command, @data) and its ack: VIRTIO_NET_OK/ERR, or -errno. */
int guest_net_ctrl(struct guest_net *gn, uint8_t class, uint8_t command, const void *data, size_t len);
/* The configuration's status field (5.1.4). */
uint16_t guest_net_status(struct guest_net *gn);

#endif
