// SPDX-License-Identifier: MIT
/* tests/unit/test_net_header.c: what backends/net_header.c accepts of virtio-net headers (virtio 1.2, 5.1.6). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <linux/if_tun.h>

#include "backends/net_header.h"

#define F(bit)		NET_FEATURE(VIRTIO_NET_F_##bit)
#define ALL_HOST	(F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN))
#define FRAME		2054	/* Ethernet, IPv4, TCP and 2000 bytes */

static struct virtio_net_hdr gso(uint8_t type, uint16_t hdr_len, uint16_t gso_size)
{
	return (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = type, .hdr_len = htole16(hdr_len),
		.gso_size = htole16(gso_size), .csum_start = htole16(34), .csum_offset = htole16(16),
	};
}

static void test_a_plain_frame_needs_nothing_negotiated(void **state)
{
	(void)state;
	assert_null(net_header_tx_fault(0, &(struct virtio_net_hdr){ 0 }, 60));
	/* num_buffers is unused on transmit (5.1.6.2): whatever the driver left there. */
	assert_null(net_header_tx_fault(0, &(struct virtio_net_hdr){ .num_buffers = 7 }, 60));
	assert_non_null(net_header_tx_fault(0, &(struct virtio_net_hdr){ 0 }, 13));
}

static void test_flags_beyond_needs_csum_are_refused(void **state)
{
	(void)state;
	/* DATA_VALID is for received frames (5.1.6.4). */
	assert_non_null(net_header_tx_fault(ALL_HOST, &(struct virtio_net_hdr){ .flags = 2 }, 60));
	assert_non_null(net_header_tx_fault(ALL_HOST, &(struct virtio_net_hdr){ .flags = 0x80 }, 60));
}

static void test_a_partial_checksum_needs_csum_and_must_lie_in_the_frame(void **state)
{
	struct virtio_net_hdr hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = htole16(34),
				      .csum_offset = htole16(16) };

	(void)state;
	assert_non_null(net_header_tx_fault(0, &hdr, FRAME));
	assert_null(net_header_tx_fault(F(CSUM), &hdr, FRAME));
	/* The 2-byte field ending exactly at the frame's end fits; one byte more does not. */
	assert_null(net_header_tx_fault(F(CSUM), &hdr, 34 + 16 + 2));
	assert_non_null(net_header_tx_fault(F(CSUM), &hdr, 34 + 16 + 1));
	hdr.csum_start = htole16(0xffff);
	hdr.csum_offset = htole16(0xffff);
	assert_non_null(net_header_tx_fault(F(CSUM), &hdr, FRAME));
}

static void test_gso_types_follow_the_host_features(void **state)
{
	struct virtio_net_hdr v4 = gso(VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448);
	struct virtio_net_hdr v6 = gso(VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428);
	struct virtio_net_hdr ecn = gso(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448);
	struct virtio_net_hdr udp = gso(VIRTIO_NET_HDR_GSO_UDP, 42, 1448);

	(void)state;
	assert_null(net_header_tx_fault(F(CSUM) | F(HOST_TSO4), &v4, FRAME));
	assert_non_null(net_header_tx_fault(F(CSUM) | F(HOST_TSO6), &v4, FRAME));
	assert_null(net_header_tx_fault(F(CSUM) | F(HOST_TSO6), &v6, FRAME));
	assert_non_null(net_header_tx_fault(F(CSUM) | F(HOST_TSO4), &v6, FRAME));
	assert_non_null(net_header_tx_fault(F(CSUM) | F(HOST_TSO4), &ecn, FRAME));
	assert_null(net_header_tx_fault(ALL_HOST, &ecn, FRAME));
	/* HOST_UFO is never offered, and the ECN bit alone is no type. */
	assert_non_null(net_header_tx_fault(ALL_HOST, &udp, FRAME));
	assert_non_null(net_header_tx_fault(ALL_HOST, &(struct virtio_net_hdr){ .gso_type = 0x80 }, FRAME));
	assert_non_null(net_header_tx_fault(ALL_HOST, &(struct virtio_net_hdr){ .gso_type = 2 }, FRAME));
}

static void test_gso_sizes_and_header_lengths_must_fit_the_frame(void **state)
{
	struct virtio_net_hdr hdr = gso(VIRTIO_NET_HDR_GSO_TCPV4, 54, 0);

	(void)state;
	assert_non_null(net_header_tx_fault(ALL_HOST, &hdr, FRAME));
	hdr.gso_size = htole16(FRAME + 1);
	assert_non_null(net_header_tx_fault(ALL_HOST, &hdr, FRAME));
	hdr.gso_size = htole16(FRAME);
	assert_null(net_header_tx_fault(ALL_HOST, &hdr, FRAME));
	hdr = gso(VIRTIO_NET_HDR_GSO_TCPV4, FRAME + 1, 1448);
	assert_non_null(net_header_tx_fault(ALL_HOST, &hdr, FRAME));
	/* GSO always comes with a partial checksum (HOST_TSO requires CSUM, 5.1.3.1). */
	hdr = gso(VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448);
	hdr.flags = 0;
	assert_non_null(net_header_tx_fault(ALL_HOST, &hdr, FRAME));
}

static void test_tap_offloads_follow_the_guest_features(void **state)
{
	(void)state;
	assert_int_equal(net_header_tun_offloads(0), 0);
	/* 5.1.3.1: TSO without GUEST_CSUM is no offload at all. */
	assert_int_equal(net_header_tun_offloads(F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN)), 0);
	assert_int_equal(net_header_tun_offloads(F(GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(net_header_tun_offloads(F(GUEST_CSUM) | F(GUEST_ECN)), TUN_F_CSUM);
	assert_int_equal(net_header_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_ECN)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN);
	assert_int_equal(net_header_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO6)), TUN_F_CSUM | TUN_F_TSO6);
	/* Host features are the other direction. */
	assert_int_equal(net_header_tun_offloads(ALL_HOST), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_plain_frame_needs_nothing_negotiated),
		cmocka_unit_test(test_flags_beyond_needs_csum_are_refused),
		cmocka_unit_test(test_a_partial_checksum_needs_csum_and_must_lie_in_the_frame),
		cmocka_unit_test(test_gso_types_follow_the_host_features),
		cmocka_unit_test(test_gso_sizes_and_header_lengths_must_fit_the_frame),
		cmocka_unit_test(test_tap_offloads_follow_the_guest_features),
	};

	return cmocka_run_group_tests_name("virtio-net headers", tests, NULL, NULL);
}
