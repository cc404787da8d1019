/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/net_frames.h: Ethernet, ARP, IPv4, ICMP, UDP and TCP
 * frames as a guest's stack builds and checks them (RFC 826, 791, 792, 768,
 * 793; the Internet checksum of RFC 1071), for tests/integration/test_net.c.
 */
#ifndef XVP_TESTS_INTEGRATION_NET_FRAMES_H
#define XVP_TESTS_INTEGRATION_NET_FRAMES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAME_ETH_HLEN		14
#define FRAME_IP_HLEN		20
#define FRAME_UDP_HLEN		8
#define FRAME_TCP_HLEN		20
#define FRAME_ETH_P_IP		0x0800
#define FRAME_ETH_P_ARP		0x0806
#define FRAME_PROTO_ICMP	1
#define FRAME_PROTO_TCP		6
#define FRAME_PROTO_UDP		17
#define FRAME_IP_OFF		FRAME_ETH_HLEN
#define FRAME_L4_OFF		(FRAME_ETH_HLEN + FRAME_IP_HLEN)

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	for (; len > 1; data += 2, len -= 2)
		sum += get16(data);
	if (len)
		sum += (uint32_t)data[0] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 pseudo-header's sum for an L4 segment of @len bytes. */
static inline uint32_t csum_pseudo(const uint8_t *ip, uint8_t proto, size_t len)
{
	uint32_t sum = csum_add(0, ip + 12, 8);

	return sum + proto + (uint32_t)len;
}

static inline size_t frame_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return FRAME_ETH_HLEN;
}

/* RFC 826: who has @target? Tell @sender (@mac). */
static inline size_t frame_arp_request(uint8_t *f, const uint8_t mac[6], uint32_t sender, uint32_t target)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *arp = f + frame_eth(f, broadcast, mac, FRAME_ETH_P_ARP);

	put16(arp, 1);			/* Ethernet */
	put16(arp + 2, FRAME_ETH_P_IP);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, 1);		/* request */
	memcpy(arp + 8, mac, 6);
	put32(arp + 14, sender);
	memset(arp + 18, 0, 6);
	put32(arp + 24, target);
	return FRAME_ETH_HLEN + 28;
}

/* An IPv4 header (no options) for @payload bytes, its checksum filled in. */
static inline void frame_ipv4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, size_t payload)
{
	memset(ip, 0, FRAME_IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(FRAME_IP_HLEN + payload));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, FRAME_IP_HLEN)));
}

static inline size_t frame_icmp_echo(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
				     uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
				     const uint8_t *data, size_t len)
{
	uint8_t *icmp = f + FRAME_L4_OFF;

	frame_eth(f, dst_mac, src_mac, FRAME_ETH_P_IP);
	frame_ipv4(f + FRAME_IP_OFF, FRAME_PROTO_ICMP, src, dst, 8 + len);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, data, len);
	put16(icmp + 2, (uint16_t)~csum_fold(csum_add(0, icmp, 8 + len)));
	return FRAME_L4_OFF + 8 + len;
}

/*
 * A UDP or TCP segment carrying @data. @partial: the checksum field holds
 * only the pseudo-header's sum, as a stack leaves it for a device that
 * completes it (VIRTIO_NET_HDR_F_NEEDS_CSUM).
 */
static inline size_t frame_l4(uint8_t *f, uint8_t proto, const uint8_t dst_mac[6], const uint8_t src_mac[6],
			      uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			      const uint8_t *data, size_t len, bool partial)
{
	size_t hlen = proto == FRAME_PROTO_TCP ? FRAME_TCP_HLEN : FRAME_UDP_HLEN;
	uint8_t *l4 = f + FRAME_L4_OFF;
	size_t csum_at = proto == FRAME_PROTO_TCP ? 16 : 6;
	uint32_t sum;

	frame_eth(f, dst_mac, src_mac, FRAME_ETH_P_IP);
	frame_ipv4(f + FRAME_IP_OFF, proto, src, dst, hlen + len);
	memset(l4, 0, hlen);
	put16(l4, sport);
	put16(l4 + 2, dport);
	if (proto == FRAME_PROTO_TCP) {
		put32(l4 + 4, 1000);		/* seq */
		put32(l4 + 8, 1);		/* ack */
		l4[12] = 5 << 4;
		l4[13] = 0x18;			/* PSH, ACK */
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)(hlen + len));
	}
	memcpy(l4 + hlen, data, len);
	sum = csum_pseudo(f + FRAME_IP_OFF, proto, hlen + len);
	if (partial)
		put16(l4 + csum_at, csum_fold(sum));
	else
		put16(l4 + csum_at, (uint16_t)~csum_fold(csum_add(sum, l4, hlen + len)));
	return FRAME_L4_OFF + hlen + len;
}

/* Complete a partial checksum as a device does: the sum from @start to the end, stored at @offset. */
static inline void frame_complete_csum(uint8_t *f, size_t len, size_t start, size_t offset)
{
	put16(f + start + offset, (uint16_t)~csum_fold(csum_add(0, f + start, len - start)));
}

/* Do the IPv4 header's checksum and (TCP, UDP, ICMP) the L4 checksum hold for @f? */
static inline bool frame_checksums_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + FRAME_IP_OFF;
	size_t l4_len;

	if (len < FRAME_L4_OFF || get16(f + 12) != FRAME_ETH_P_IP)
		return false;
	if (csum_fold(csum_add(0, ip, FRAME_IP_HLEN)) != 0xffff)
		return false;
	l4_len = get16(ip + 2) - FRAME_IP_HLEN;
	if (FRAME_L4_OFF + l4_len > len)
		return false;
	if (ip[9] == FRAME_PROTO_ICMP)
		return csum_fold(csum_add(0, f + FRAME_L4_OFF, l4_len)) == 0xffff;
	return csum_fold(csum_add(csum_pseudo(ip, ip[9], l4_len), f + FRAME_L4_OFF, l4_len)) == 0xffff;
}

#endif
