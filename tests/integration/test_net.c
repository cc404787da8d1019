// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_net.c: the daemon serving virtio-net (virtio 1.2,
 * 5.1) on real taps to a simulated Xen guest. Each test runs in a network
 * namespace of its own (unshare), holding the tap (10.0.0.1/24) or a bridge
 * with it, and the daemon started there; the guest (this process, with
 * tests/guest/guest_net.c, a driver written from the specification) is
 * 10.0.0.2. What the kernel answers (ARP, ICMP echo), what sockets in the
 * namespace receive, and what a packet socket on the tap sees are what the
 * tests assert. Without /dev/net/tun or the right to make a namespace the
 * suite says so in one line and runs nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/guest/guest_net.h"
#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/integration/net_frames.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define BAR_STRIDE	0x100000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
/* A frame the test expects not to come: how long it waits before believing it. */
#define QUIET_MS	300

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_NET_DEVICE_ID	(0x1040 + 1)	/* 4.1.2: modern ID of device type 1 */
#define ISR_CONFIG		0x2

#define TAP		"xvp0"
#define HOST_IP		0x0a000001u	/* 10.0.0.1 */
#define GUEST_IP	0x0a000002u	/* 10.0.0.2 */
#define HOST_PORT	5000
#define GUEST_PORT	6000
#define MSS		1448
#define RX_BUFFER	1526		/* 5.1.6.3.1: an MTU frame and the header */

#define F_RING		(NET_BIT(VIRTIO_F_EVENT_IDX) | NET_BIT(VIRTIO_F_INDIRECT_DESC))
#define F_BASE		(F_RING | NET_BIT(VIRTIO_NET_F_MAC) | NET_BIT(VIRTIO_NET_F_STATUS))
#define F_CTRL		(NET_BIT(VIRTIO_NET_F_CTRL_VQ) | NET_BIT(VIRTIO_NET_F_CTRL_RX) | \
			 NET_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | NET_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | \
			 NET_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
#define F_HOST_TSO	(NET_BIT(VIRTIO_NET_F_CSUM) | NET_BIT(VIRTIO_NET_F_HOST_TSO4) | \
			 NET_BIT(VIRTIO_NET_F_HOST_TSO6) | NET_BIT(VIRTIO_NET_F_HOST_ECN))
#define F_GUEST_TSO	(NET_BIT(VIRTIO_NET_F_GUEST_CSUM) | NET_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
			 NET_BIT(VIRTIO_NET_F_GUEST_TSO6) | NET_BIT(VIRTIO_NET_F_GUEST_ECN))

static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio vd[2];
	unsigned int nr_nets;
	struct guest_net gn;
	struct guest_net_frame frame;
	uint8_t out[70000];
};

/* ---- the namespace */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char command[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	status = system(command);
	if (status)
		fail_msg("'%s' failed (%d)", command, status);
}

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

static __attribute__((unused)) unsigned long read_counter(const char *ifname, const char *counter)
{
	char path[128];
	unsigned long value = 0;
	FILE *file;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, counter);
	file = fopen(path, "r");
	assert_non_null(file);
	assert_int_equal(fscanf(file, "%lu", &value), 1);
	fclose(file);
	return value;
}

/* A fresh namespace: no IPv6 (its router and listener chatter would interleave), lo up. */
static void enter_namespace(void)
{
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sh("ip link set lo up");
}

/* An existing tap for tap=: the host's end is 10.0.0.1. */
static void make_tap(const char *name, bool multi_queue)
{
	sh("ip tuntap add dev %s mode tap%s && ip link set %s address 02:00:00:00:00:01 && "
	   "ip addr add 10.0.0.1/24 dev %s && ip link set %s up",
	   name, multi_queue ? " multi_queue" : "", name, name, name);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	enter_namespace();
	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2, .plain_ram = true,
						       .ram_size = RAM_SIZE });
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	free(f);
	return 0;
}

/* ---- the daemon and the guest's driver */

/* Start the daemon with @specs (--device each), probe the @expected virtio-net functions. */
static void start(struct fixture *f, const char *const specs[], unsigned int expected)
{
	const char *args[16];
	struct guest_pci_function found[32];
	unsigned int n = 0;
	int count;

	for (unsigned int i = 0; specs[i]; i++) {
		args[n++] = "--device";
		args[n++] = specs[i];
	}
	args[n] = NULL;
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&f->pci, 0, found, 32);
	f->nr_nets = 0;
	for (int i = 0; i < count && i < 32; i++) {
		if (found[i].vendor_id != VIRTIO_VENDOR_ID || found[i].device_id != VIRTIO_NET_DEVICE_ID)
			continue;
		assert_true(f->nr_nets < 2);
		assert_int_equal(guest_virtio_probe(&f->vd[f->nr_nets], &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + f->nr_nets * BAR_STRIDE, INTX_SPI_BASE), 0);
		f->nr_nets++;
	}
	assert_int_equal(f->nr_nets, expected);
}

static void start_on_tap(struct fixture *f, const char *spec)
{
	const char *specs[] = { spec, NULL };

	start(f, specs, 1);
}

/* Wait until the configuration says the link is @up. */
static void wait_link(struct fixture *f, bool up)
{
	for (int waited = 0; waited < WAIT_MS; waited += 5) {
		if (!!(guest_net_status(&f->gn) & VIRTIO_NET_S_LINK_UP) == up)
			return;
		usleep(5000);
	}
	fail_msg("link never went %s; daemon log:\n%s", up ? "up" : "down", sim_hv_daemon_log(f->hv));
}

static void net_init(struct fixture *f, uint64_t features, unsigned int pairs, uint32_t rx_size,
		     unsigned int rx_buffers)
{
	assert_int_equal(guest_net_init(&f->gn, &f->vd[0], features, pairs, rx_size, rx_buffers), 0);
	assert_int_equal(f->gn.features & ~NET_BIT(VIRTIO_F_VERSION_1), features);
	wait_link(f, true);
}

/* The host knows the guest's address without asking (the tests do ARP on their own). */
static void host_knows_guest(struct fixture *f, const char *dev)
{
	const uint8_t *m = f->gn.mac;

	sh("ip neigh replace 10.0.0.2 lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s nud permanent",
	   m[0], m[1], m[2], m[3], m[4], m[5], dev);
}

static bool is_ipv4_proto(const struct guest_net_frame *fr, uint8_t proto)
{
	return fr->len >= FRAME_L4_OFF && get16(fr->data + 12) == FRAME_ETH_P_IP &&
	       fr->data[FRAME_IP_OFF + 9] == proto;
}

/* The next frame the guest receives that is IPv4 @proto (others, none expected, are skipped). */
static void receive_ipv4(struct fixture *f, uint8_t proto)
{
	for (;;) {
		int ret = guest_net_receive(&f->gn, &f->frame, WAIT_MS);

		if (ret)
			fail_msg("no frame (%d); daemon log:\n%s", ret, sim_hv_daemon_log(f->hv));
		if (is_ipv4_proto(&f->frame, proto))
			return;
	}
}

static void send_frame(struct fixture *f, unsigned int pair, const struct guest_net_hdr *hdr, size_t len)
{
	assert_int_equal(guest_net_send(&f->gn, pair, hdr, f->out, len), 0);
}

/* The guest pings 10.0.0.1 on @pair and gets the answer (the host knows the guest). */
static void ping_host(struct fixture *f, unsigned int pair, uint16_t seq)
{
	static const uint8_t payload[56] = "virtio-net echo";
	size_t len = frame_icmp_echo(f->out, host_mac, f->gn.mac, GUEST_IP, HOST_IP, 0x77, seq,
				     payload, sizeof(payload));

	send_frame(f, pair, &(struct guest_net_hdr){ 0 }, len);
	receive_ipv4(f, FRAME_PROTO_ICMP);
	assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
	assert_int_equal(f->frame.data[FRAME_L4_OFF], 0);	/* echo reply */
	assert_int_equal(get16(f->frame.data + FRAME_L4_OFF + 6), seq);
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + 8, payload, sizeof(payload));
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(HOST_IP) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return s;
}

static void udp_send_to_guest(int s, const void *data, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(GUEST_PORT),
				  .sin_addr.s_addr = htonl(GUEST_IP) };

	assert_int_equal(sendto(s, data, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

/* What @s received within @timeout_ms: its length, or -1. */
static ssize_t receive_within(int s, void *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = s, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return recv(s, buf, size, 0);
}

/* A packet socket on @ifname with virtio net headers (PACKET_VNET_HDR), the tests' view of the tap. */
static int packet_socket(const char *ifname)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				    .sll_ifindex = (int)if_nametoindex(ifname) };
	int on = 1, s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	assert_true(s >= 0);
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(on)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return s;
}

/* The next frame the guest sent, as the tap's stack got it (10-byte header first): its length or -1. */
static ssize_t packet_from_guest(int s, uint8_t *buf, size_t size, int timeout_ms)
{
	for (;;) {
		struct sockaddr_ll from;
		socklen_t from_len = sizeof(from);
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		ssize_t len;

		if (poll(&pfd, 1, timeout_ms) != 1)
			return -1;
		len = recvfrom(s, buf, size, 0, (struct sockaddr *)&from, &from_len);
		if (len < 0 || from.sll_pkttype != PACKET_OUTGOING)
			return len;
	}
}

static uint64_t log_counter(struct fixture *f, const char *after)
{
	const char *log = sim_hv_daemon_log(f->hv), *at = strstr(log, after);
	unsigned long long value;

	if (!at || sscanf(at + strlen(after), "%llu", &value) != 1)
		fail_msg("no '%s' in the daemon's log:\n%s", after, log);
	return value;
}

/* ---- tests */

static void test_config_space_has_a_stable_xen_mac_the_link_and_the_mtu(void **state)
{
	struct fixture *f = *state;
	const char *specs[] = { "net,tap=" TAP ",mtu=1400", "net,tap=xvp1,mac=02:12:34:56:78:9a", NULL };
	uint8_t first[6];

	make_tap(TAP, false);
	sh("ip tuntap add dev xvp1 mode tap && ip link set xvp1 up");
	start(f, specs, 2);
	net_init(f, F_BASE | NET_BIT(VIRTIO_NET_F_MTU), 1, RX_BUFFER, 8);
	assert_int_equal(guest_virtio_negotiate(&f->vd[1], F_BASE), 0);
	/* 5.1.3: MTU is offered only when mtu= is given; MQ only for more than one pair. */
	assert_true(f->vd[0].device_features & NET_BIT(VIRTIO_NET_F_MTU));
	assert_false(f->vd[1].device_features & NET_BIT(VIRTIO_NET_F_MTU));
	assert_false(f->vd[0].device_features & NET_BIT(VIRTIO_NET_F_MQ));
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_NET_CONFIG_MTU, 2), 1400);
	/* Xen's 00:16:3e prefix, then a hash of the domain and the index, the same every start. */
	assert_memory_equal(f->gn.mac, ((const uint8_t[]){ 0x00, 0x16, 0x3e }), 3);
	memcpy(first, f->gn.mac, 6);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(guest_virtio_config_read(&f->vd[1], VIRTIO_NET_CONFIG_MAC + i, 1),
				 ((const uint8_t[]){ 0x02, 0x12, 0x34, 0x56, 0x78, 0x9a })[i]);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);

	start(f, specs, 2);
	net_init(f, F_BASE, 1, RX_BUFFER, 8);
	assert_memory_equal(f->gn.mac, first, 6);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_guest_resolves_the_host_and_pings_it(void **state)
{
	struct fixture *f = *state;
	const uint8_t *arp;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 64);
	send_frame(f, 0, &(struct guest_net_hdr){ 0 }, frame_arp_request(f->out, f->gn.mac, GUEST_IP, HOST_IP));
	do
		assert_int_equal(guest_net_receive(&f->gn, &f->frame, WAIT_MS), 0);
	while (get16(f->frame.data + 12) != FRAME_ETH_P_ARP);
	/* RFC 826: a reply from 10.0.0.1 with the tap's address, to us. */
	arp = f->frame.data + FRAME_ETH_HLEN;
	assert_int_equal(get16(arp + 6), 2);
	assert_memory_equal(arp + 8, host_mac, 6);
	assert_int_equal(get32(arp + 14), HOST_IP);
	assert_memory_equal(f->frame.data, f->gn.mac, 6);
	/* The kernel learnt us from the request: the echo needs no static entry. */
	ping_host(f, 0, 1);
	ping_host(f, 0, 2);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_udp_both_ways_with_checksum_offload(void **state)
{
	struct fixture *f = *state;
	static const uint8_t payload[] = "a datagram from the guest, its checksum left to the host";
	uint8_t got[2048], data[1000];
	int s;
	size_t len;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | NET_BIT(VIRTIO_NET_F_CSUM) | NET_BIT(VIRTIO_NET_F_GUEST_CSUM), 1, RX_BUFFER, 64);
	host_knows_guest(f, TAP);
	s = udp_socket(HOST_PORT);

	/* A wrong checksum the guest says is complete: the host's stack drops it. */
	len = frame_l4(f->out, FRAME_PROTO_UDP, host_mac, f->gn.mac, GUEST_IP, HOST_IP, GUEST_PORT,
		       HOST_PORT, payload, sizeof(payload), false);
	f->out[FRAME_L4_OFF + 7] ^= 0x55;
	send_frame(f, 0, &(struct guest_net_hdr){ 0 }, len);
	assert_int_equal(receive_within(s, got, sizeof(got), QUIET_MS), -1);
	/* 5.1.6.2: NEEDS_CSUM, csum_start and csum_offset: the host completes it. */
	len = frame_l4(f->out, FRAME_PROTO_UDP, host_mac, f->gn.mac, GUEST_IP, HOST_IP, GUEST_PORT,
		       HOST_PORT, payload, sizeof(payload), true);
	send_frame(f, 0, &(struct guest_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
						  .csum_start = FRAME_L4_OFF, .csum_offset = 6 }, len);
	assert_int_equal(receive_within(s, got, sizeof(got), WAIT_MS), (ssize_t)sizeof(payload));
	assert_memory_equal(got, payload, sizeof(payload));

	/* Host to guest: whatever the header says, the checksum holds once completed as it says. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	udp_send_to_guest(s, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_UDP);
	if (f->frame.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		frame_complete_csum(f->frame.data, f->frame.len, f->frame.hdr.csum_start,
				    f->frame.hdr.csum_offset);
	assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
	assert_int_equal(f->frame.len, FRAME_L4_OFF + FRAME_UDP_HLEN + sizeof(data));
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_UDP_HLEN, data, sizeof(data));
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* The 10-byte header a packet socket puts before each frame (PACKET_VNET_HDR), little-endian. */
static size_t vnet_header(uint8_t *buf, uint8_t flags, uint8_t gso_type, uint16_t hdr_len,
			  uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	uint16_t fields[4] = { htole16(hdr_len), htole16(gso_size), htole16(csum_start),
			       htole16(csum_offset) };

	buf[0] = flags;
	buf[1] = gso_type;
	memcpy(buf + 2, fields, sizeof(fields));
	return 10;
}

static void fill_pattern(uint8_t *data, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + seed + (i >> 8));
}

static void test_tso_from_the_guest_reaches_the_tap_as_one_gso_frame(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[8000], got[70000];
	uint16_t fields[4];
	ssize_t len;
	size_t frame_len;
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | F_HOST_TSO, 1, RX_BUFFER, 16);
	s = packet_socket(TAP);
	fill_pattern(data, sizeof(data), 1);
	frame_len = frame_l4(f->out, FRAME_PROTO_TCP, host_mac, f->gn.mac, GUEST_IP, HOST_IP, 40000, 5001,
			     data, sizeof(data), true);
	/* 5.1.6.2: one 8000-byte TCP segment, to be cut into MSS-sized ones by whoever can. */
	send_frame(f, 0, &(struct guest_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
						  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
						  .hdr_len = FRAME_L4_OFF + FRAME_TCP_HLEN, .gso_size = MSS,
						  .csum_start = FRAME_L4_OFF, .csum_offset = 16 }, frame_len);
	len = packet_from_guest(s, got, sizeof(got), WAIT_MS);
	assert_int_equal(len, (ssize_t)(10 + frame_len));
	/* No segmentation and no checksumming in between: the kernel got it as the guest made it. */
	assert_int_equal(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
	memcpy(fields, got + 2, sizeof(fields));
	assert_int_equal(le16toh(fields[1]), MSS);
	assert_int_equal(le16toh(fields[2]), FRAME_L4_OFF);
	assert_memory_equal(got + 10 + FRAME_L4_OFF + FRAME_TCP_HLEN, data, sizeof(data));
	frame_complete_csum(got + 10, frame_len, le16toh(fields[2]), le16toh(fields[3]));
	assert_true(frame_checksums_ok(got + 10, frame_len));
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* The host's stack sends one 8000-byte TCP GSO frame to the guest through a packet socket. */
static void host_sends_gso_frame(struct fixture *f, const uint8_t *data, size_t len)
{
	static uint8_t buf[70000];
	size_t hdr = vnet_header(buf, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
				 FRAME_L4_OFF + FRAME_TCP_HLEN, MSS, FRAME_L4_OFF, 16);
	size_t frame_len = frame_l4(buf + hdr, FRAME_PROTO_TCP, f->gn.mac, host_mac, HOST_IP, GUEST_IP,
				    5001, 40000, data, len, true);
	int s = packet_socket(TAP);

	assert_int_equal(send(s, buf, hdr + frame_len, 0), (ssize_t)(hdr + frame_len));
	close(s);
}

static void test_tso_to_a_guest_with_guest_tso_arrives_whole_in_mergeable_buffers(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[8000];

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | F_GUEST_TSO | NET_BIT(VIRTIO_NET_F_MRG_RXBUF), 1, RX_BUFFER, 128);
	fill_pattern(data, sizeof(data), 2);
	host_sends_gso_frame(f, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_TCP);
	/* 5.1.6.4: GUEST_TSO4 negotiated, so the device may hand over the whole segment. */
	assert_int_equal(f->frame.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(f->frame.hdr.gso_size, MSS);
	assert_int_equal(f->frame.hdr.num_buffers, (FRAME_L4_OFF + FRAME_TCP_HLEN + sizeof(data) +
						    GUEST_NET_HDR_SIZE + RX_BUFFER - 1) / RX_BUFFER);
	assert_int_equal(f->frame.len, FRAME_L4_OFF + FRAME_TCP_HLEN + sizeof(data));
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_TCP_HLEN, data, sizeof(data));
	assert_true(f->frame.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	frame_complete_csum(f->frame.data, f->frame.len, f->frame.hdr.csum_start, f->frame.hdr.csum_offset);
	assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_tso_to_a_guest_without_guest_tso_arrives_segmented_and_checksummed(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[8000], joined[8000];
	size_t joined_len = 0;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 64);
	fill_pattern(data, sizeof(data), 3);
	host_sends_gso_frame(f, data, sizeof(data));
	/* 5.1.6.4.1: without GUEST_TSO and GUEST_CSUM, whole MSS-sized frames, flags 0. */
	while (joined_len < sizeof(data)) {
		size_t payload;

		receive_ipv4(f, FRAME_PROTO_TCP);
		assert_int_equal(f->frame.hdr.flags, 0);
		assert_int_equal(f->frame.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
		payload = f->frame.len - FRAME_L4_OFF - FRAME_TCP_HLEN;
		assert_true(payload <= MSS && joined_len + payload <= sizeof(joined));
		memcpy(joined + joined_len, f->frame.data + FRAME_L4_OFF + FRAME_TCP_HLEN, payload);
		joined_len += payload;
	}
	assert_memory_equal(joined, data, sizeof(data));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_mergeable_buffers_of_256_bytes_carry_a_1400_byte_datagram(void **state)
{
	struct fixture *f = *state;
	uint8_t data[1400];
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | NET_BIT(VIRTIO_NET_F_MRG_RXBUF), 1, 256, 256);
	host_knows_guest(f, TAP);
	s = udp_socket(HOST_PORT);
	fill_pattern(data, sizeof(data), 4);
	udp_send_to_guest(s, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_UDP);
	/* 5.1.6.4: every buffer but the last filled, num_buffers of them. */
	assert_int_equal(f->frame.hdr.num_buffers,
			 (GUEST_NET_HDR_SIZE + FRAME_L4_OFF + FRAME_UDP_HLEN + sizeof(data) + 255) / 256);
	assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_UDP_HLEN, data, sizeof(data));
	/* And again: the buffers left over from the first serve the second. */
	udp_send_to_guest(s, data, 100);
	receive_ipv4(f, FRAME_PROTO_UDP);
	assert_int_equal(f->frame.hdr.num_buffers, 1);
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_UDP_HLEN, data, 100);
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_without_mergeable_buffers_a_frame_too_big_is_dropped(void **state)
{
	struct fixture *f = *state;
	uint8_t data[1400];
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	/* 5.1.6.3.1: the driver SHOULD post 1526 bytes; these 512 cannot hold a 1400-byte datagram. */
	net_init(f, F_BASE, 1, 512, 16);
	host_knows_guest(f, TAP);
	s = udp_socket(HOST_PORT);
	fill_pattern(data, sizeof(data), 5);
	udp_send_to_guest(s, data, sizeof(data));
	udp_send_to_guest(s, data + 1, 100);
	receive_ipv4(f, FRAME_PROTO_UDP);
	assert_int_equal(f->frame.len, FRAME_L4_OFF + FRAME_UDP_HLEN + 100);
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_UDP_HLEN, data + 1, 100);
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_int_equal(log_counter(f, "waits for buffers, "), 1);	/* "N too big" */
}

/* Taps and namespaces need /dev/net/tun and CAP_SYS_ADMIN: without them, one line and no test. */
static const char *unavailable(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return "/dev/net/tun cannot be opened";
	close(fd);
	if (unshare(CLONE_NEWNET))
		return "no network namespace (unshare: not permitted)";
	return NULL;
}

#define NET_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		NET_TEST(test_config_space_has_a_stable_xen_mac_the_link_and_the_mtu),
		NET_TEST(test_guest_resolves_the_host_and_pings_it),
		NET_TEST(test_udp_both_ways_with_checksum_offload),
		NET_TEST(test_tso_from_the_guest_reaches_the_tap_as_one_gso_frame),
		NET_TEST(test_tso_to_a_guest_with_guest_tso_arrives_whole_in_mergeable_buffers),
		NET_TEST(test_tso_to_a_guest_without_guest_tso_arrives_segmented_and_checksummed),
		NET_TEST(test_mergeable_buffers_of_256_bytes_carry_a_1400_byte_datagram),
		NET_TEST(test_without_mergeable_buffers_a_frame_too_big_is_dropped),
	};
	const char *why = unavailable();

	if (why) {
		printf("test_net: skipped, %s\n", why);
		return 0;
	}
	return cmocka_run_group_tests_name("virtio-net on a tap through the daemon", tests, NULL, NULL);
}
