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

/* What `ip` says of @dev (JSON, -s: with counters), into @buf. */
static void ip_link_show(const char *dev, char *buf, size_t size)
{
	char command[128];
	size_t len;
	FILE *out;

	/* Not /sys/class/net: sysfs shows the namespace that mounted it, not ours. */
	snprintf(command, sizeof(command), "ip -j -s link show dev %s 2>/dev/null", dev);
	out = popen(command, "r");
	assert_non_null(out);
	len = fread(buf, 1, size - 1, out);
	buf[len] = '\0';
	pclose(out);
}

/* The tap's count of frames it could not queue for its reader (ip's tx "dropped"). */
static unsigned long tx_dropped(const char *dev)
{
	char json[8192];
	const char *tx, *dropped;

	ip_link_show(dev, json, sizeof(json));
	tx = strstr(json, "\"tx\":{");
	dropped = tx ? strstr(tx, "\"dropped\":") : NULL;
	assert_non_null(dropped);
	return strtoul(dropped + strlen("\"dropped\":"), NULL, 10);
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

/* 5.1.6.4.1: without GUEST_TSO and GUEST_CSUM, whole MSS-sized frames, flags 0, that join up to @data. */
static void receive_segmented(struct fixture *f, const uint8_t *data, size_t len)
{
	static uint8_t joined[65536];
	size_t joined_len = 0;

	while (joined_len < len) {
		size_t payload;

		receive_ipv4(f, FRAME_PROTO_TCP);
		assert_int_equal(f->frame.hdr.flags, 0);
		assert_int_equal(f->frame.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
		payload = f->frame.len - FRAME_L4_OFF - FRAME_TCP_HLEN;
		assert_true(payload <= MSS && joined_len + payload <= len);
		memcpy(joined + joined_len, f->frame.data + FRAME_L4_OFF + FRAME_TCP_HLEN, payload);
		joined_len += payload;
	}
	assert_memory_equal(joined, data, len);
}

static void test_tso_to_a_guest_without_guest_tso_arrives_segmented_and_checksummed(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[8000];

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 64);
	fill_pattern(data, sizeof(data), 3);
	host_sends_gso_frame(f, data, sizeof(data));
	receive_segmented(f, data, sizeof(data));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_a_reset_takes_the_guest_offloads_back(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[8000];

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | F_GUEST_TSO | NET_BIT(VIRTIO_NET_F_MRG_RXBUF), 1, RX_BUFFER, 128);
	fill_pattern(data, sizeof(data), 8);
	host_sends_gso_frame(f, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_TCP);
	assert_int_equal(f->frame.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	/*
	 * Reset: until a driver takes offloads again there are none, so what
	 * the host sends meanwhile is segmented and checksummed as it enters
	 * the tap, and the next driver gets it so even though it takes TSO.
	 */
	assert_int_equal(guest_virtio_reset(&f->vd[0]), 0);
	host_sends_gso_frame(f, data, sizeof(data));
	net_init(f, F_BASE | F_GUEST_TSO | NET_BIT(VIRTIO_NET_F_MRG_RXBUF), 1, RX_BUFFER, 128);
	receive_segmented(f, data, sizeof(data));
	/* And what it sends after that comes whole again. */
	host_sends_gso_frame(f, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_TCP);
	assert_int_equal(f->frame.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
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

static void test_headers_straddling_descriptors_are_written_whole(void **state)
{
	struct fixture *f = *state;
	uint8_t data[1000];
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | NET_BIT(VIRTIO_NET_F_MRG_RXBUF), 1, 512, 0);
	/* Each 512-byte buffer is 6 bytes and 506: num_buffers lies in the second descriptor. */
	f->gn.rx_split = 6;
	assert_int_equal(guest_net_post_rx(&f->gn, 0, 64), 0);
	host_knows_guest(f, TAP);
	s = udp_socket(HOST_PORT);
	fill_pattern(data, sizeof(data), 7);
	udp_send_to_guest(s, data, sizeof(data));
	receive_ipv4(f, FRAME_PROTO_UDP);
	assert_int_equal(f->frame.hdr.num_buffers,
			 (GUEST_NET_HDR_SIZE + FRAME_L4_OFF + FRAME_UDP_HLEN + sizeof(data) + 511) / 512);
	assert_true(frame_checksums_ok(f->frame.data, f->frame.len));
	assert_memory_equal(f->frame.data + FRAME_L4_OFF + FRAME_UDP_HLEN, data, sizeof(data));
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

/* UDP datagrams from @flows source ports to the guest; how many arrived on each pair. */
static void count_flows(struct fixture *f, unsigned int flows, unsigned int per_pair[2])
{
	per_pair[0] = per_pair[1] = 0;
	for (unsigned int i = 0; i < flows; i++) {
		int s = udp_socket((uint16_t)(HOST_PORT + i));

		udp_send_to_guest(s, "flow", 4);
		close(s);
		receive_ipv4(f, FRAME_PROTO_UDP);
		per_pair[f->frame.pair]++;
	}
}

static bool interface_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static void test_two_queue_pairs_on_a_tap_the_daemon_puts_on_a_bridge(void **state)
{
	struct fixture *f = *state;
	unsigned int per_pair[2];
	uint16_t pairs;
	char json[8192];

	sh("ip link add br0 type bridge && ip link set br0 address 02:00:00:00:00:01 && "
	   "ip addr add 10.0.0.1/24 dev br0 && ip link set br0 up");
	start_on_tap(f, "net,bridge=br0,queues=2");
	/* The tap is the daemon's: vpci<domid>.<index>, a port of br0. */
	assert_true(interface_exists("vpci1.0"));
	ip_link_show("vpci1.0", json, sizeof(json));
	assert_non_null(strstr(json, "\"master\":\"br0\""));
	net_init(f, F_BASE | F_CTRL | NET_BIT(VIRTIO_NET_F_MQ), 2, RX_BUFFER, 64);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_NET_CONFIG_MAX_PAIRS, 2), 2);
	host_knows_guest(f, "br0");

	/* 5.1.6.5.5: until the driver says otherwise, only the first pair receives. */
	count_flows(f, 16, per_pair);
	assert_int_equal(per_pair[0], 16);
	pairs = htole16(3);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_ERR);
	pairs = htole16(0);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_ERR);
	pairs = htole16(2);
	if (guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2))
		fail_msg("log:\n%s", sim_hv_daemon_log(f->hv));
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_OK);
	/* The tap spreads flows by their hash: 32 of them all on one queue is 1 in 2^31. */
	count_flows(f, 32, per_pair);
	assert_true(per_pair[0] > 0 && per_pair[1] > 0);
	ping_host(f, 1, 1);
	ping_host(f, 0, 2);

	/* Back to one pair: everything arrives on the first again. */
	pairs = htole16(1);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_OK);
	count_flows(f, 16, per_pair);
	assert_int_equal(per_pair[0], 16);
	/* close() removes the tap it created. */
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_false(interface_exists("vpci1.0"));
}

/* Wait for a configuration-change interrupt (4.1.4.5: ISR bit 1). */
static void wait_config_interrupt(struct fixture *f, unsigned long *seen)
{
	for (;;) {
		if (guest_virtio_wait_interrupt(&f->vd[0], *seen, WAIT_MS))
			fail_msg("no configuration interrupt; daemon log:\n%s", sim_hv_daemon_log(f->hv));
		*seen = guest_virtio_interrupts(&f->vd[0]);
		if (guest_virtio_read_isr(&f->vd[0]) & ISR_CONFIG)
			return;
	}
}

static void test_link_down_and_up_on_the_host_reach_the_guest(void **state)
{
	struct fixture *f = *state;
	unsigned long seen;
	uint8_t generation;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | F_CTRL, 1, RX_BUFFER, 16);
	generation = guest_virtio_config_generation(&f->vd[0]);
	seen = guest_virtio_interrupts(&f->vd[0]);
	sh("ip link set " TAP " down");
	/* 5.1.4.2: STATUS negotiated: link changes come with a configuration interrupt. */
	wait_config_interrupt(f, &seen);
	assert_int_equal(guest_net_status(&f->gn) & VIRTIO_NET_S_LINK_UP, 0);
	assert_int_not_equal(guest_virtio_config_generation(&f->vd[0]), generation);
	sh("ip link set " TAP " up");
	wait_config_interrupt(f, &seen);
	wait_link(f, true);
	/* GUEST_ANNOUNCE: a link that came back asks the guest to announce itself, until it acks. */
	assert_true(guest_net_status(&f->gn) & VIRTIO_NET_S_ANNOUNCE);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
			 VIRTIO_NET_OK);
	assert_int_equal(guest_net_status(&f->gn), VIRTIO_NET_S_LINK_UP);
	host_knows_guest(f, TAP);
	ping_host(f, 0, 1);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_without_rx_buffers_the_tap_is_left_alone(void **state)
{
	struct fixture *f = *state;
	unsigned long dropped, frames = 0;
	uint64_t reads;
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 0);
	host_knows_guest(f, TAP);
	s = udp_socket(HOST_PORT);
	for (unsigned int i = 0; i < 2000; i++)
		udp_send_to_guest(s, "flood", 5);
	/* The daemon's loop turns many times meanwhile (each access is a trip through it). */
	for (unsigned int i = 0; i < 200; i++)
		guest_net_status(&f->gn);
	/* Nobody read the tap: it queued what it could and dropped the rest. */
	dropped = tx_dropped(TAP);
	assert_true(dropped > 0);
	/* Buffers at last: what the tap kept arrives (the driver reposts each buffer it empties). */
	assert_int_equal(guest_net_post_rx(&f->gn, 0, 16), 0);
	while (guest_net_receive(&f->gn, &f->frame, QUIET_MS) == 0)
		frames++;
	assert_true(frames >= 16);
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	/*
	 * About one read per frame: the tap, readable all along, was not read
	 * while there were no buffers (a spinning loop would have read it on
	 * each of the 200 turns above, and more).
	 */
	assert_int_equal(log_counter(f, "net0: rx "), frames);
	reads = log_counter(f, "frames in ");
	print_message("%lu frames in %llu tap reads, %lu dropped by the tap\n", frames,
		      (unsigned long long)reads, dropped);
	assert_in_range(reads, frames, frames + 4);
}

static void test_malformed_tx_frames_are_dropped_and_the_link_stays(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[2000], got[4096];
	const struct guest_net_hdr bad[] = {
		/* 5.1.6.2.1: NEEDS_CSUM with the checksum beyond the frame. */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 2050, .csum_offset = 16 },
		/* GSO with a segment size of 0, and one larger than the frame. */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54,
		  .csum_start = FRAME_L4_OFF, .csum_offset = 16 },
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54,
		  .gso_size = 9000, .csum_start = FRAME_L4_OFF, .csum_offset = 16 },
		/* hdr_len beyond the frame. */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 4000,
		  .gso_size = MSS, .csum_start = FRAME_L4_OFF, .csum_offset = 16 },
		/* UDP fragmentation offload was never offered (HOST_UFO). */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP, .hdr_len = 42,
		  .gso_size = MSS, .csum_start = FRAME_L4_OFF, .csum_offset = 6 },
		/* ECN without HOST_ECN negotiated, and a flag that does not exist. */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		  .hdr_len = 54, .gso_size = MSS, .csum_start = FRAME_L4_OFF, .csum_offset = 16 },
		{ .flags = 0x80 },
	};
	size_t len;
	int s;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | NET_BIT(VIRTIO_NET_F_CSUM) | NET_BIT(VIRTIO_NET_F_HOST_TSO4), 1, RX_BUFFER, 16);
	s = packet_socket(TAP);
	fill_pattern(data, sizeof(data), 6);
	len = frame_l4(f->out, FRAME_PROTO_TCP, host_mac, f->gn.mac, GUEST_IP, HOST_IP, 40000, 5001,
		       data, sizeof(data), true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		send_frame(f, 0, &bad[i], len);
	/* A chain longer than 64 KiB and the header. */
	send_frame(f, 0, &(struct guest_net_hdr){ 0 }, 65536 + 64);
	/* A frame shorter than its Ethernet header. */
	send_frame(f, 0, &(struct guest_net_hdr){ 0 }, 10);
	assert_int_equal(guest_net_wait_tx(&f->gn, 0, WAIT_MS), 0);
	/* None of them reached the tap; the guest's next frame does, and the device works on. */
	host_knows_guest(f, TAP);
	ping_host(f, 0, 1);
	assert_true(packet_from_guest(s, got, sizeof(got), QUIET_MS) > 0);
	assert_int_equal(got[10 + FRAME_L4_OFF], 8);	/* the echo request, first */
	assert_false(guest_virtio_get_status(&f->vd[0]) & VIRTIO_STATUS_NEEDS_RESET);
	close(s);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_int_equal(log_counter(f, "frames, "), sizeof(bad) / sizeof(bad[0]) + 2);	/* "N dropped" */
}

static void test_bad_control_commands_are_answered_err(void **state)
{
	struct fixture *f = *state;
	uint8_t on = 1, mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	uint8_t tables[4 + 6 + 4] = { 1, 0, 0, 0, 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
	uint16_t pairs = htole16(1);
	uint64_t offloads = htole64(NET_BIT(VIRTIO_NET_F_GUEST_TSO4));

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE | F_CTRL | NET_BIT(VIRTIO_NET_F_GUEST_CSUM), 1, RX_BUFFER, 16);
	/* 5.1.6.5.1 and .2: a tap does not filter, so the modes and tables are simply acknowledged. */
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1), VIRTIO_NET_OK);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1), VIRTIO_NET_OK);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, tables,
					sizeof(tables)), VIRTIO_NET_OK);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6), VIRTIO_NET_OK);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_NET_CONFIG_MAC + i, 1), mac[i]);
	/* Lengths that do not match the command. */
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, mac, 2), VIRTIO_NET_ERR);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 5), VIRTIO_NET_ERR);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, tables,
					sizeof(tables) - 1), VIRTIO_NET_ERR);
	/* Unknown classes and commands, and features not negotiated (MQ, VLAN). */
	assert_int_equal(guest_net_ctrl(&f->gn, 99, 0, NULL, 0), VIRTIO_NET_ERR);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_RX, 9, &on, 1), VIRTIO_NET_ERR);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_VLAN, 0, &pairs, 2), VIRTIO_NET_ERR);
	/* 5.1.6.5.6.1: offloads beyond what was negotiated (GUEST_TSO4 was not). */
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
					&offloads, 8), VIRTIO_NET_ERR);
	offloads = htole64(NET_BIT(VIRTIO_NET_F_GUEST_CSUM));
	assert_int_equal(guest_net_ctrl(&f->gn, VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
					&offloads, 8), VIRTIO_NET_OK);
	assert_false(guest_virtio_get_status(&f->vd[0]) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_a_deleted_tap_takes_the_link_down_and_the_daemon_stays(void **state)
{
	struct fixture *f = *state;
	unsigned long seen;
	pid_t daemon;

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 16);
	daemon = sim_hv_daemon_pid(f->hv);
	seen = guest_virtio_interrupts(&f->vd[0]);
	sh("ip link del " TAP);
	wait_config_interrupt(f, &seen);
	wait_link(f, false);
	/* The guest may still transmit: its frames are dropped, its buffers come back. */
	send_frame(f, 0, &(struct guest_net_hdr){ 0 },
		   frame_arp_request(f->out, f->gn.mac, GUEST_IP, HOST_IP));
	assert_int_equal(guest_net_wait_tx(&f->gn, 0, WAIT_MS), 0);
	assert_true(process_exists(daemon));
	assert_false(guest_virtio_get_status(&f->vd[0]) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_a_device_readable_rx_buffer_needs_a_reset(void **state)
{
	struct fixture *f = *state;
	struct guest_buf buf = { 0, RX_BUFFER, false };

	make_tap(TAP, false);
	start_on_tap(f, "net,tap=" TAP);
	net_init(f, F_BASE, 1, RX_BUFFER, 0);
	buf.gpa = guest_ram_alloc(&f->ram, RX_BUFFER, 64);
	/* 5.1.6.3: receive buffers are the device's to write. */
	assert_int_equal(guest_virtio_add(&f->vd[0], 0, &buf, 1, NULL), 0);
	guest_virtio_notify(&f->vd[0], 0);
	for (int waited = 0; waited < WAIT_MS; waited += 5) {
		if (guest_virtio_get_status(&f->vd[0]) & VIRTIO_STATUS_NEEDS_RESET)
			break;
		usleep(5000);
	}
	assert_true(guest_virtio_get_status(&f->vd[0]) & VIRTIO_STATUS_NEEDS_RESET);
	/* After a reset the device works again. */
	assert_int_equal(guest_virtio_reset(&f->vd[0]), 0);
	net_init(f, F_BASE, 1, RX_BUFFER, 16);
	host_knows_guest(f, TAP);
	ping_host(f, 0, 1);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_a_missing_tap_or_bridge_stops_start_up_naming_it(void **state)
{
	struct fixture *f = *state;
	const char *missing_tap[] = { "--device", "net,tap=nosuch0", NULL };
	const char *missing_bridge[] = { "--device", "net,bridge=nobr0", NULL };
	const char *single_queue_tap[] = { "--device", "net,tap=" TAP ",queues=2", NULL };

	make_tap(TAP, false);
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), missing_tap), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "net0: tap nosuch0: No such device"));
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), missing_bridge), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "net0: bridge nobr0: "));
	assert_false(interface_exists("vpci1.0"));
	/* Two pairs need a multi-queue tap (ip tuntap add ... multi_queue). */
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), single_queue_tap), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "net0: tap " TAP " (multi-queue?)"));
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
		NET_TEST(test_a_reset_takes_the_guest_offloads_back),
		NET_TEST(test_mergeable_buffers_of_256_bytes_carry_a_1400_byte_datagram),
		NET_TEST(test_headers_straddling_descriptors_are_written_whole),
		NET_TEST(test_without_mergeable_buffers_a_frame_too_big_is_dropped),
		NET_TEST(test_two_queue_pairs_on_a_tap_the_daemon_puts_on_a_bridge),
		NET_TEST(test_link_down_and_up_on_the_host_reach_the_guest),
		NET_TEST(test_without_rx_buffers_the_tap_is_left_alone),
		NET_TEST(test_malformed_tx_frames_are_dropped_and_the_link_stays),
		NET_TEST(test_bad_control_commands_are_answered_err),
		NET_TEST(test_a_deleted_tap_takes_the_link_down_and_the_daemon_stays),
		NET_TEST(test_a_device_readable_rx_buffer_needs_a_reset),
		NET_TEST(test_a_missing_tap_or_bridge_stops_start_up_naming_it),
	};
	const char *why = unavailable();

	if (getenv("NET_TEST_FILTER"))
		cmocka_set_test_filter(getenv("NET_TEST_FILTER"));

	if (why) {
		printf("test_net: skipped, %s\n", why);
		return 0;
	}
	return cmocka_run_group_tests_name("virtio-net on a tap through the daemon", tests, NULL, NULL);
}
