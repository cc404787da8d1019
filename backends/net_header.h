/* SPDX-License-Identifier: MIT */
/*
 * backends/net_header.h: virtio-net's feature bits and its per-frame header
 * (virtio 1.2, 5.1.3 and 5.1.6), and what the device makes of them without
 * any I/O: whether a transmitted header is acceptable, and which tap
 * offloads the guest's features allow. Unit-tested on their own.
 */
#ifndef XVP_BACKENDS_NET_HEADER_H
#define XVP_BACKENDS_NET_HEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/tap.h"

/* 5.1.3 feature bits. */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23

#define NET_FEATURE(bit)		(1ULL << (bit))

/* 5.1.4: status. */
#define VIRTIO_NET_S_LINK_UP		1
#define VIRTIO_NET_S_ANNOUNCE		2

/* 5.1.6: struct virtio_net_hdr. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;		/* little-endian, all of them */
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == TAP_VNET_HDR_SIZE, "the tap's header is virtio's");

#define NET_ETH_HLEN			14

/*
 * NULL if a transmitted frame of @frame_len bytes (after the header) may go
 * out with @hdr under the negotiated @features, else why not (5.1.6.2.1).
 */
const char *net_header_tx_fault(uint64_t features, const struct virtio_net_hdr *hdr, uint64_t frame_len);
/* The TUN_F_* flags of the guest offloads in @features (5.1.6.4: what the device may hand over). */
unsigned int net_header_tun_offloads(uint64_t features);

#endif
