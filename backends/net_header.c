// SPDX-License-Identifier: MIT
/* backends/net_header.c: virtio-net's header rules (backends/net_header.h). */
#include "backends/net_header.h"

#include <endian.h>
#include <linux/if_tun.h>
#include <stddef.h>

/* Is the GSO type one the negotiated features allow (5.1.6.2.1)? */
static bool gso_type_allowed(uint64_t features, uint8_t gso_type)
{
	if ((gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & NET_FEATURE(VIRTIO_NET_F_HOST_ECN)))
		return false;
	switch (gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return features & NET_FEATURE(VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return features & NET_FEATURE(VIRTIO_NET_F_HOST_TSO6);
	default:
		return false;	/* UDP (HOST_UFO) is not offered */
	}
}

const char *net_header_tx_fault(uint64_t features, const struct virtio_net_hdr *hdr, uint64_t frame_len)
{
	uint16_t hdr_len = le16toh(hdr->hdr_len), gso_size = le16toh(hdr->gso_size);
	uint16_t csum_start = le16toh(hdr->csum_start), csum_offset = le16toh(hdr->csum_offset);

	if (frame_len < NET_ETH_HLEN)
		return "frame shorter than an Ethernet header";
	if (hdr->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return "unknown header flags";
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* 5.1.6.2.1: NEEDS_CSUM only with VIRTIO_NET_F_CSUM; the checksum lies in the frame. */
		if (!(features & NET_FEATURE(VIRTIO_NET_F_CSUM)))
			return "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
		if ((uint64_t)csum_start + csum_offset + 2 > frame_len)
			return "checksum beyond the frame";
	}
	if (!gso_type_allowed(features, hdr->gso_type))
		return "gso_type not negotiated";
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return NULL;
	/*
	 * The HOST_TSO features require VIRTIO_NET_F_CSUM (5.1.3.1): a GSO frame
	 * carries a partial checksum, its headers and a segment size that fit it.
	 */
	if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return "GSO without NEEDS_CSUM";
	if (!gso_size || gso_size > frame_len)
		return "gso_size out of range";
	if (hdr_len > frame_len)
		return "hdr_len beyond the frame";
	return NULL;
}

unsigned int net_header_tun_offloads(uint64_t features)
{
	unsigned int flags = 0;

	/* 5.1.3.1: the GUEST_TSO features require GUEST_CSUM; GUEST_ECN requires one of them. */
	if (!(features & NET_FEATURE(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	flags |= TUN_F_CSUM;
	if (features & NET_FEATURE(VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (features & NET_FEATURE(VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	if ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) && (features & NET_FEATURE(VIRTIO_NET_F_GUEST_ECN)))
		flags |= TUN_F_TSO_ECN;
	return flags;
}
