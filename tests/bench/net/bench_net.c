// SPDX-License-Identifier: MIT
/*
 * tests/bench/net/bench_net.c: `make bench`'s network figure. virtio-net
 * through the daemon against the raw limit measured in the same run: the
 * same frames written to and read from the same tap by this program (one
 * kernel copy each way). No thresholds: it prints ratios.
 *
 *   guest -> host  the simulated guest sends 64-byte frames, then 64 KiB
 *                  TCP GSO frames (VIRTIO_NET_F_HOST_TSO4); the raw figure
 *                  writes the same frames, vnet header first, to a tap fd
 *   host -> guest  64-byte frames injected into the tap's interface with a
 *                  packet socket; through the daemon the guest takes them
 *                  off its receiveq, raw this program reads them off the tap;
 *                  then 64 KiB TCP GSO frames the same way (a packet socket
 *                  with PACKET_VNET_HDR makes them GSO skbs; the guest has
 *                  GUEST_TSO4, so the tap hands them over whole, in
 *                  mergeable buffers), counted in bytes: frames that came
 *                  as segments count for what they carried
 *
 * The guest handles interrupts like Linux's NAPI (callbacks off, poll to
 * empty, on again: tests/guest/guest_net.c). Printed per direction: frames
 * per second both ways, the ratio, notifications (kicks, or interrupts)
 * per frame, guest-memory map calls per frame. It runs in a network
 * namespace of its own (root, /dev/net/tun).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tests/guest/guest_net.h"
#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/net_frames.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(256ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
#define TAP		"xvpb0"
#define SMALL		64
#define GSO_PAYLOAD	(64u * 1024 - 128)
#define MSS		1448
#define RX_BUFFER	1526		/* GOOD_PACKET_LEN and the header: a new Linux guest's */
/*
 * Linux's virtio_net sizes mergeable receive buffers by an average of the
 * frames it got (get_mergeable_buf_len(): the header plus the EWMA clamped
 * between GOOD_PACKET_LEN and PAGE_SIZE less the header, aligned to a cache
 * line, drivers/net/virtio_net.c): under 64 KiB GSO frames, a page each.
 */
#define RX_BUFFER_BULK	4096
#define RX_BUFFERS	256
/* Linux's page_to_skb() copies the first GOOD_COPY_LEN bytes at most; the rest stays in the pages. */
#define RX_COPY_MAX	128
/* virtnet_receive() refills when more than min(NAPI budget 64, ring size) / 2 descriptors are free. */
#define RX_REFILL	33
#define VNET_HDR	12		/* virtio 1 header, num_buffers included */
#define TX_SLOTS	256		/* the guest's transmit buffers, prepared once */
/* What the device holds buffers for before each read: backends/net.c, rx_frame_max with TSO. */
#define DEVICE_RESERVE	(VNET_HDR + 65535 + 14 + 4)
#define TX_BATCH	32		/* frames queued per kick: Linux's xmit_more under load */

#define BIT(n)		(1ULL << (n))
#define F_GUEST	(BIT(VIRTIO_F_EVENT_IDX) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_CSUM) | \
			 BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_MRG_RXBUF) | \
			 BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4))

static const uint8_t host_mac[6] = { 0x02, 0, 0, 0, 0, 1 };

struct figure {
	double frames_per_s;
	unsigned long frames;		/* sent or received in all */
	unsigned long arrived;		/* of those, counted by the tap's interface (tx only) */
	double kicks_per_frame;		/* the guest's notifications: transmit, or refilled buffers */
	double interrupts_per_frame;	/* the device's, that the guest handled */
	double maps_per_frame;
	/* CPU time per frame, in microseconds: see struct cpu. */
	double cpu_us[3];
};

/*
 * CPU time spent so far, in seconds, kernel time included (the copies):
 * this thread (the raw program, or the guest's vCPU and the injector), the
 * simulated hypervisor's threads, and the daemon's worker. Unlike the
 * rates, these hardly change with what else the machine runs.
 */
struct cpu {
	double seconds[3];
};

static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The worker's running time from /proc/PID/schedstat (its thread serves every queue). */
static double worker_s(pid_t worker)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *file;

	if (worker <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)worker);
	file = fopen(path, "r");
	if (file && fscanf(file, "%llu", &ns) != 1)
		ns = 0;
	if (file)
		fclose(file);
	return (double)ns / 1e9;
}

static struct cpu cpu_now(pid_t worker)
{
	double thread = clock_s(CLOCK_THREAD_CPUTIME_ID);

	return (struct cpu){ { thread, clock_s(CLOCK_PROCESS_CPUTIME_ID) - thread, worker_s(worker) } };
}

static void charge_cpu(struct figure *fig, struct cpu before, struct cpu after)
{
	for (int i = 0; i < 3 && fig->frames; i++)
		fig->cpu_us[i] = (after.seconds[i] - before.seconds[i]) * 1e6 / (double)fig->frames;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Frames written to the tap (its interface's receive count), from
 * /proc/net/dev: per network namespace, where /sys/class/net is the mounter's.
 */
static unsigned long tap_rx_packets(void)
{
	unsigned long bytes, packets = 0;
	char line[512];
	FILE *file = fopen("/proc/net/dev", "r");

	while (file && fgets(line, sizeof(line), file)) {
		char *name = line + strspn(line, " ");

		if (!strncmp(name, TAP ":", strlen(TAP) + 1) &&
		    sscanf(name + strlen(TAP) + 1, "%lu %lu", &bytes, &packets) != 2)
			packets = 0;
	}
	if (file)
		fclose(file);
	return packets;
}

static int sh(const char *command)
{
	int status = system(command);

	if (status)
		fprintf(stderr, "bench-net: '%s' failed (%d)\n", command, status);
	return status ? -1 : 0;
}

/* A frame to the host's address: Ethernet, then 64 bytes in all, or a TCP segment of @payload. */
static size_t build_frame(uint8_t *f, const uint8_t guest_mac[6], size_t payload)
{
	size_t len;

	frame_eth(f, host_mac, guest_mac, payload ? FRAME_ETH_P_IP : 0x88b5);
	if (!payload) {
		memset(f + FRAME_ETH_HLEN, 0x5a, SMALL - FRAME_ETH_HLEN);
		return SMALL;
	}
	/* IPv4 10.0.0.2 -> 10.0.0.1, TCP 6000 -> 5000; checksums left partial for the tap. */
	len = FRAME_L4_OFF + FRAME_TCP_HLEN + payload;
	memset(f + FRAME_ETH_HLEN, 0, len - FRAME_ETH_HLEN);
	f[FRAME_IP_OFF] = 0x45;
	put16(f + FRAME_IP_OFF + 2, (uint16_t)(len - FRAME_ETH_HLEN));
	f[FRAME_IP_OFF + 8] = 64;
	f[FRAME_IP_OFF + 9] = FRAME_PROTO_TCP;
	put32(f + FRAME_IP_OFF + 12, 0x0a000002u);
	put32(f + FRAME_IP_OFF + 16, 0x0a000001u);
	put16(f + FRAME_IP_OFF + 10, (uint16_t)~csum_fold(csum_add(0, f + FRAME_IP_OFF, FRAME_IP_HLEN)));
	put16(f + FRAME_L4_OFF, 6000);
	put16(f + FRAME_L4_OFF + 2, 5000);
	f[FRAME_L4_OFF + 12] = 5 << 4;
	f[FRAME_L4_OFF + 13] = 0x18;	/* PSH, ACK */
	put16(f + FRAME_L4_OFF + 14, 65535);
	/* NEEDS_CSUM: the pseudo-header's sum, folded, not inverted. */
	put16(f + FRAME_L4_OFF + 16,
	      csum_fold(csum_pseudo(f + FRAME_IP_OFF, FRAME_PROTO_TCP, len - FRAME_L4_OFF)));
	return len;
}

static struct guest_net_hdr frame_header(size_t payload)
{
	struct guest_net_hdr hdr = { 0 };

	if (!payload)
		return hdr;
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr.hdr_len = FRAME_L4_OFF + FRAME_TCP_HLEN;
	hdr.gso_size = MSS;
	hdr.csum_start = FRAME_L4_OFF;
	hdr.csum_offset = 16;
	return hdr;
}

/* ---- the raw limit: this program on the tap */

static int open_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), size = VNET_HDR;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TAP);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &size) ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * @seconds of writing the frame (vnet header first) to the tap, from
 * @copies of it @stride bytes apart, in turn (the raw limit: one).
 */
static struct figure raw_tx(int tap, const uint8_t *frames, size_t stride, unsigned int copies,
			    size_t len, size_t payload, double seconds)
{
	struct guest_net_hdr h = frame_header(payload);
	uint8_t hdr[VNET_HDR] = { h.flags, h.gso_type };
	struct iovec iov[2] = { { hdr, VNET_HDR }, { (void *)frames, len } };
	unsigned long frames_sent = 0, n = 0;
	double t0 = now_s(), t;

	memcpy(hdr + 2, &h.hdr_len, 2);
	memcpy(hdr + 4, &h.gso_size, 2);
	memcpy(hdr + 6, &h.csum_start, 2);
	memcpy(hdr + 8, &h.csum_offset, 2);
	do {
		for (int i = 0; i < 64; i++, n++) {
			iov[1].iov_base = (void *)(frames + (n % copies) * stride);
			frames_sent += writev(tap, iov, 2) > 0;
		}
		t = now_s();
	} while (t - t0 < seconds);
	return (struct figure){ frames_sent / (t - t0), frames_sent, 0, 0, 0 };
}

/* A packet socket on the tap's interface: what the host sends toward the guest. */
static int open_injector(void)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(TAP) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The same with virtio net headers (PACKET_VNET_HDR): what the host's TCP would send, as GSO skbs. */
static int open_gso_injector(void)
{
	int on = 1, fd = open_injector();

	if (fd >= 0 && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(on))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A 64 KiB TCP GSO frame toward @dst, after the 10-byte header a packet socket takes: its length. */
static size_t build_gso_toward(uint8_t *buf, const uint8_t dst[6])
{
	struct guest_net_hdr h = frame_header(GSO_PAYLOAD);
	size_t len = build_frame(buf + 10, dst, GSO_PAYLOAD);

	memcpy(buf + 10, dst, 6);			/* to the guest, */
	memcpy(buf + 10 + 6, host_mac, 6);		/* from the host */
	buf[0] = h.flags;
	buf[1] = h.gso_type;
	memcpy(buf + 2, &h.hdr_len, 2);
	memcpy(buf + 4, &h.gso_size, 2);
	memcpy(buf + 6, &h.csum_start, 2);
	memcpy(buf + 8, &h.csum_offset, 2);
	return 10 + len;
}

/* @seconds of injecting GSO frames and reading them off the tap: in 64 KiB frames' worth of bytes. */
static struct figure raw_rx_gso(int tap, int injector, const uint8_t *frame, size_t len,
				double seconds)
{
	static uint8_t buf[70000];
	unsigned long bytes = 0;
	double t0 = now_s(), t;
	ssize_t n;

	do {
		for (int i = 0; i < 16; i++)
			if (send(injector, frame, len, 0) == (ssize_t)len &&
			    (n = read(tap, buf, sizeof(buf))) > VNET_HDR)
				bytes += (unsigned long)(n - VNET_HDR);
		t = now_s();
	} while (t - t0 < seconds);
	return (struct figure){ (double)bytes / (double)(len - 10) / (t - t0),
				bytes / (len - 10), 0, 0, 0 };
}

/*
 * Not a limit: the same, read as the device reads, with one readv into
 * @rx_buffer-byte segments enough for the largest frame, each frame into
 * the next buffers of RX_BUFFERS in turn, to tell what the segments and the
 * buffers' memory cost against the raw limit's one read into one buffer.
 */
static struct figure raw_rx_gso_scattered(int tap, int injector, const uint8_t *frame, size_t len,
					  double seconds, uint32_t rx_buffer)
{
	unsigned int nr = (DEVICE_RESERVE + rx_buffer - 1) / rx_buffer, next = 0;
	uint8_t *area = malloc((size_t)rx_buffer * (RX_BUFFERS + nr));
	struct iovec iov[64];
	struct figure fig = { 0 };
	unsigned long bytes = 0;
	double t0 = now_s(), t;
	ssize_t n;

	if (!area || nr > 64) {
		free(area);
		return fig;
	}
	do {
		for (int i = 0; i < 16; i++) {
			for (unsigned int b = 0; b < nr; b++)
				iov[b] = (struct iovec){ area + (size_t)(next + b) * rx_buffer, rx_buffer };
			if (send(injector, frame, len, 0) != (ssize_t)len ||
			    (n = readv(tap, iov, (int)nr)) <= VNET_HDR)
				continue;
			bytes += (unsigned long)(n - VNET_HDR);
			next = (next + (unsigned int)((n + rx_buffer - 1) / rx_buffer)) % RX_BUFFERS;
		}
		t = now_s();
	} while (t - t0 < seconds);
	free(area);
	return (struct figure){ (double)bytes / (double)(len - 10) / (t - t0), bytes / (len - 10), 0, 0, 0 };
}

/* @seconds of injecting 64-byte frames and reading them off the tap, one by one. */
static struct figure raw_rx(int tap, int injector, const uint8_t *frame, double seconds)
{
	uint8_t buf[2048];
	unsigned long frames = 0;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 64; i++)
			if (send(injector, frame, SMALL, 0) == SMALL && read(tap, buf, sizeof(buf)) > 0)
				frames++;
		t = now_s();
	} while (t - t0 < seconds);
	return (struct figure){ frames / (t - t0), frames, 0, 0, 0 };
}

/* ---- through the daemon */

struct guest {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio vd;
	struct guest_net gn;
	struct guest_net_frame frame;
};

/* The driver (again: a reset) with @rx_buffer-byte receive buffers, handled as Linux does. */
static int guest_driver(struct guest *g, uint32_t rx_buffer)
{
	int ret = guest_net_init(&g->gn, &g->vd, F_GUEST, 1, 0, 0);

	g->gn.rx_buffer_size = rx_buffer;
	g->gn.rx_copy_max = RX_COPY_MAX;
	g->gn.rx_refill_batch = RX_REFILL;
	return ret ? ret : guest_net_post_rx(&g->gn, 0, RX_BUFFERS);
}

static int start_guest(struct guest *g, const char *daemon)
{
	const char *args[] = { "--device", "net,tap=" TAP, NULL };
	struct guest_pci_function found[8];
	int count;

	g->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2, .ram_size = RAM_SIZE,
						       .plain_ram = true });
	if (!g->hv || sim_hv_start_daemon(g->hv, daemon, args) || sim_hv_wait_serving(g->hv, WAIT_MS)) {
		fprintf(stderr, "bench-net: the daemon did not serve:\n%s", g->hv ? sim_hv_daemon_log(g->hv) : "");
		return -1;
	}
	guest_pci_init(&g->pci, g->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&g->ram, g->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&g->pci, 0, found, 8);
	for (int i = 0; i < count; i++)
		if (found[i].device_id == 0x1041)
			return guest_virtio_probe(&g->vd, &g->pci, &found[i], &g->ram, MMIO64_BASE,
						  INTX_SPI_BASE) || guest_driver(g, RX_BUFFER);
	return -1;
}

static unsigned long map_calls(struct guest *g)
{
	struct sim_hv_state state;

	sim_hv_get_state(g->hv, &state);
	return state.foreign_map_calls;
}


/*
 * @seconds of sending the frame from @TX_SLOTS buffers prepared once (a
 * guest's skbs are not reallocated per frame either): take back what the
 * device used, queue a batch, kick if the device asks for it.
 */
static struct figure daemon_tx(struct guest *g, const uint8_t *frame, size_t len, size_t payload,
			       double seconds)
{
	struct guest_net_hdr h = frame_header(payload);
	uint16_t fields[5] = { htole16(h.hdr_len), htole16(h.gso_size), htole16(h.csum_start),
			       htole16(h.csum_offset), 0 };
	struct guest_virtq *q = &g->vd.queues[1];
	uint64_t gpa[TX_SLOTS], kicks0 = q->kicks, arrived0 = tap_rx_packets();
	unsigned long maps0 = map_calls(g), frames = 0, next = 0;
	double t0, t;
	uint32_t used_len;

	for (unsigned int i = 0; i < TX_SLOTS; i++) {
		uint8_t *bytes;

		gpa[i] = guest_ram_alloc(&g->ram, VNET_HDR + len, 64);
		if (!gpa[i])
			return (struct figure){ 0 };
		bytes = guest_ram_ptr(&g->ram, gpa[i], VNET_HDR + len);
		bytes[0] = h.flags;
		bytes[1] = h.gso_type;
		memcpy(bytes + 2, fields, sizeof(fields));
		memcpy(bytes + VNET_HDR, frame, len);
	}
	t0 = now_s();
	do {
		while (guest_virtio_get_used(&g->vd, 1, &used_len, NULL) == 1)
			;
		for (unsigned int i = 0; i < TX_BATCH && q->num_free; i++, next++, frames++) {
			struct guest_buf buf = { gpa[next % TX_SLOTS], (uint32_t)(VNET_HDR + len), false };

			if (guest_virtio_add(&g->vd, 1, &buf, 1, (void *)1))
				break;
		}
		guest_virtio_kick(&g->vd, 1);
		t = now_s();
	} while (t - t0 < seconds);
	guest_net_wait_tx(&g->gn, 0, WAIT_MS);
	t = now_s();
	return (struct figure){ frames / (t - t0), frames, tap_rx_packets() - arrived0,
				(double)(q->kicks - kicks0) / frames, 0, (double)(map_calls(g) - maps0) / frames };
}

/* Inject a burst, take what the guest got; the tap queues (and drops) what the guest lags behind. */
static struct figure daemon_rx(struct guest *g, int injector, const uint8_t *frame, double seconds)
{
	unsigned long interrupts0 = g->gn.interrupts, kicks0 = g->gn.rx[0].kicks, maps0 = map_calls(g);
	unsigned long frames = 0;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 32; i++)
			if (send(injector, frame, SMALL, 0) != SMALL)
				break;
		for (int i = 0; i < 32 && !guest_net_receive(&g->gn, &g->frame, 50); i++)
			frames++;
		t = now_s();
	} while (t - t0 < seconds);
	return (struct figure){ frames / (t - t0), frames, 0,
				frames ? (double)(g->gn.rx[0].kicks - kicks0) / frames : 0,
				frames ? (double)(g->gn.interrupts - interrupts0) / frames : 0,
				frames ? (double)(map_calls(g) - maps0) / frames : 0 };
}

/*
 * The device holds buffers for the largest frame the tap may hand it
 * before each read (backends/net_rx.c; header and 64 KiB with the TSO
 * offloads, backends/net.c), and the guest keeps up to RX_REFILL - 1 taken
 * buffers before posting them again: a burst of injected frames is what
 * the other buffers hold, so the ring does not run dry mid-burst (a refill
 * would then cost a kick) and the guest handles one interrupt per burst at
 * most: 4 frames in 1526-byte buffers, 12 in 4 KiB ones.
 */

static unsigned int burst_of(uint32_t rx_buffer, size_t frame_len)
{
	unsigned int reserve = (DEVICE_RESERVE + rx_buffer - 1) / rx_buffer + RX_REFILL - 1;
	unsigned int per_frame = (unsigned int)((VNET_HDR + frame_len + rx_buffer - 1) / rx_buffer);

	return RX_BUFFERS > reserve + per_frame ? (RX_BUFFERS - reserve) / per_frame : 1;
}

/* The same for GSO frames: what the guest got, in 64 KiB frames' worth of bytes. */
static struct figure daemon_rx_gso(struct guest *g, int injector, const uint8_t *frame, size_t len,
				   double seconds, unsigned long *whole)
{
	unsigned long interrupts0 = g->gn.interrupts, kicks0 = g->gn.rx[0].kicks, maps0 = map_calls(g);
	unsigned long bytes = 0, frames = 0;
	unsigned int burst = burst_of(g->gn.rx_buffer_size, len - 10);
	double t0 = now_s(), t, worth;

	*whole = 0;
	do {
		for (unsigned int i = 0; i < burst; i++)
			if (send(injector, frame, len, 0) != (ssize_t)len)
				break;
		for (unsigned int i = 0; i < burst && !guest_net_receive(&g->gn, &g->frame, 50); i++) {
			bytes += g->frame.len;
			frames++;
			*whole += g->frame.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4;
		}
		t = now_s();
	} while (t - t0 < seconds);
	worth = (double)bytes / (double)(len - 10);
	return (struct figure){ worth / (t - t0), (unsigned long)worth, 0,
				worth ? (double)(g->gn.rx[0].kicks - kicks0) / worth : 0,
				worth ? (double)(g->gn.interrupts - interrupts0) / worth : 0,
				worth ? (double)(map_calls(g) - maps0) / worth : 0 };
}

static void print_row(const char *what, struct figure through, struct figure raw)
{
	printf("  %-26s %12.0f %12.0f %7.3f %9.4f %9.4f %9.4f\n", what, through.frames_per_s,
	       raw.frames_per_s, raw.frames_per_s ? through.frames_per_s / raw.frames_per_s : 0,
	       through.kicks_per_frame, through.interrupts_per_frame, through.maps_per_frame);
}

static int enter_namespace(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) || unshare(CLONE_NEWNET)) {
		printf("bench-net: skipped: needs root and /dev/net/tun (a network namespace and a tap)\n");
		return 1;
	}
	return sh("ip link set lo up && ip tuntap add dev " TAP " mode tap && "
		  "ip link set " TAP " address 02:00:00:00:00:01 && ip link set " TAP " up");
}

/*
 * The rows, in the order they run; a third argument names the ones to run
 * (comma-separated: a profiler's run of one row, docs/benchmarks.md).
 */
enum row { OUT_SMALL, OUT_GSO, IN_SMALL, IN_GSO, IN_GSO_BULK, NR_ROWS };

static const char *const row_names[NR_ROWS] = { "out-64", "out-gso", "in-64", "in-gso",
						"in-gso-4k" };

/* The rows @list names (NULL: all), as bits; 0 for a name no row has. */
static unsigned int parse_rows(const char *list)
{
	unsigned int rows = 0;
	char copy[128], *save = NULL;

	if (!list)
		return (1u << NR_ROWS) - 1;
	snprintf(copy, sizeof(copy), "%s", list);
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		unsigned int r = 0;

		while (r < NR_ROWS && strcmp(name, row_names[r]))
			r++;
		if (r == NR_ROWS)
			return 0;
		rows |= 1u << r;
	}
	return rows;
}

struct frames {
	uint8_t small[SMALL], in_small[SMALL], big[65536 + 64], gso[65536 + 80];
	size_t big_len, gso_len;
};

struct sockets {
	int tap, injector, gso_injector;
};

static struct figure raw_row(enum row r, const struct sockets *k, const struct frames *f, double seconds)
{
	switch (r) {
	case OUT_SMALL:
		return raw_tx(k->tap, f->small, 0, 1, SMALL, 0, seconds);
	case OUT_GSO:
		return raw_tx(k->tap, f->big, 0, 1, f->big_len, GSO_PAYLOAD, seconds);
	case IN_SMALL:
		return raw_rx(k->tap, k->injector, f->small, seconds);
	default:
		return raw_rx_gso(k->tap, k->gso_injector, f->gso, f->gso_len, seconds);
	}
}

/*
 * Not a limit: the raw program's GSO writes from as many copies of the
 * frame as the guest sends from (TX_SLOTS, 16 MiB), to tell what the copy
 * from memory no cache holds costs against the raw limit's one buffer.
 */
static struct figure raw_tx_spread(const struct sockets *k, const struct frames *f, double seconds)
{
	size_t stride = (f->big_len + 4095) & ~(size_t)4095;
	uint8_t *copies = malloc(stride * TX_SLOTS);
	struct cpu before = cpu_now(0);
	struct figure fig = { 0 };

	if (!copies)
		return fig;
	for (unsigned int i = 0; i < TX_SLOTS; i++)
		memcpy(copies + i * stride, f->big, f->big_len);
	fig = raw_tx(k->tap, copies, stride, TX_SLOTS, f->big_len, GSO_PAYLOAD, seconds);
	charge_cpu(&fig, before, cpu_now(0));
	free(copies);
	return fig;
}

/* Beside the raw limits, not limits: the raw program doing what the daemon does differently. */
enum aside { TX_COPIES, RX_SEGMENTS, RX_SEGMENTS_BULK, NR_ASIDES };

static void measure_asides(unsigned int rows, const struct sockets *k, const struct frames *f,
			   double seconds, struct figure aside[NR_ASIDES])
{
	static const uint32_t buffer[NR_ASIDES] = { 0, RX_BUFFER, RX_BUFFER_BULK };
	static const enum row row[NR_ASIDES] = { OUT_GSO, IN_GSO, IN_GSO_BULK };

	for (unsigned int a = 0; a < NR_ASIDES; a++) {
		struct cpu before = cpu_now(0);

		if (!(rows & 1u << row[a]))
			continue;
		if (a == TX_COPIES) {
			aside[a] = raw_tx_spread(k, f, seconds);
			continue;
		}
		aside[a] = raw_rx_gso_scattered(k->tap, k->gso_injector, f->gso, f->gso_len, seconds,
						buffer[a]);
		charge_cpu(&aside[a], before, cpu_now(0));
	}
}

/* The raw limit of each row asked for, on a tap fd of this program's. */
static int measure_raw(unsigned int rows, struct sockets *k, struct frames *f, double seconds,
		       struct figure raw[NR_ROWS], struct figure aside[NR_ASIDES])
{
	const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 1, 2, 3 };

	k->tap = open_tap();
	if (k->tap < 0) {
		perror("bench-net: tap");
		return -1;
	}
	build_frame(f->small, guest_mac, 0);
	f->big_len = build_frame(f->big, guest_mac, GSO_PAYLOAD);
	f->gso_len = build_gso_toward(f->gso, guest_mac);
	for (unsigned int r = 0; r < NR_ROWS; r++) {
		struct cpu before = cpu_now(0);

		if (!(rows & 1u << r))
			continue;
		/* Both GSO rows inject the same frames: one raw figure for both. */
		if (r == IN_GSO_BULK && rows & 1u << IN_GSO) {
			raw[r] = raw[IN_GSO];
			continue;
		}
		raw[r] = raw_row(r, k, f, seconds);
		charge_cpu(&raw[r], before, cpu_now(0));
	}
	measure_asides(rows, k, f, seconds, aside);
	close(k->tap);
	return 0;
}

static struct figure daemon_row(enum row r, struct guest *g, const struct sockets *k,
				const struct frames *f, double seconds, unsigned long *whole)
{
	switch (r) {
	case OUT_SMALL:
		return daemon_tx(g, f->small, SMALL, 0, seconds);
	case OUT_GSO:
		return daemon_tx(g, f->big, f->big_len, GSO_PAYLOAD, seconds);
	case IN_SMALL:
		return daemon_rx(g, k->injector, f->in_small, seconds);
	case IN_GSO_BULK:
		if (guest_driver(g, RX_BUFFER_BULK))
			return (struct figure){ 0 };
		/* fall through */
	default:
		return daemon_rx_gso(g, k->gso_injector, f->gso, f->gso_len, seconds, whole);
	}
}

/* The same rows through the daemon, which has the tap now. */
static void measure_daemon(unsigned int rows, struct guest *g, const struct sockets *k,
			   struct frames *f, double seconds, struct figure through[NR_ROWS],
			   unsigned long whole[NR_ROWS])
{
	struct sim_hv_domain_state state = { 0 };

	sim_hv_get_domain_state(g->hv, 1, &state);
	build_frame(f->small, g->gn.mac, 0);
	f->big_len = build_frame(f->big, g->gn.mac, GSO_PAYLOAD);
	memcpy(f->in_small, f->small, SMALL);
	memcpy(f->in_small, g->gn.mac, 6);	/* toward the guest */
	f->gso_len = build_gso_toward(f->gso, g->gn.mac);
	for (unsigned int r = 0; r < NR_ROWS; r++) {
		struct cpu before = cpu_now(state.serving_pid);

		if (!(rows & 1u << r))
			continue;
		through[r] = daemon_row(r, g, k, f, seconds, &whole[r]);
		charge_cpu(&through[r], before, cpu_now(state.serving_pid));
	}
}

static void print_figures(unsigned int rows, const struct figure through[NR_ROWS],
			  const struct figure raw[NR_ROWS], const struct figure aside[NR_ASIDES],
			  const unsigned long whole[NR_ROWS], double seconds)
{
	static const char *const what[NR_ROWS] = {
		"guest->host 64 B", "guest->host 64 KiB GSO", "host->guest 64 B",
		"host->guest 64 KiB GSO", "  the same, 4 KiB buffers",
	};

	printf("bench-net: virtio-net through the daemon vs the same frames on the tap by this program"
	       " (%.0f s each)\n", seconds);
	printf("  %-26s %12s %12s %7s %9s %9s %9s\n", "frames", "daemon/s", "raw/s", "ratio",
	       "kicks/fr", "irqs/fr", "maps/fr");
	for (unsigned int r = 0; r < NR_ROWS; r++)
		if (rows & 1u << r)
			print_row(what[r], through[r], raw[r]);
	/* A frame the daemon dropped must not count: the tap's interface saw every one. */
	for (unsigned int r = OUT_SMALL; r <= OUT_GSO; r++)
		if (rows & 1u << r && through[r].arrived != through[r].frames)
			printf("  WARNING: %s: the tap counted %lu of %lu frames the guest sent\n",
			       what[r], through[r].arrived, through[r].frames);
	printf("  CPU time per frame, us (kernel included): raw program | daemon path: guest and "
	       "injector, simulated hypervisor, daemon worker\n");
	for (unsigned int r = 0; r < NR_ROWS; r++)
		if (rows & 1u << r)
			printf("  %-26s %8.2f | %8.2f %8.2f %8.2f\n", what[r], raw[r].cpu_us[0],
			       through[r].cpu_us[0], through[r].cpu_us[1], through[r].cpu_us[2]);
	if (aside[TX_COPIES].frames || aside[RX_SEGMENTS].frames || aside[RX_SEGMENTS_BULK].frames)
		printf("  Not limits, the raw program doing what the daemon does differently:\n");
	if (rows & 1u << OUT_GSO)
		printf("  guest->host GSO written from %u copies of the frame (16 MiB) as the guest sends "
		       "from: %.0f/s, %.2f us CPU/frame\n", TX_SLOTS, aside[TX_COPIES].frames_per_s,
		       aside[TX_COPIES].cpu_us[0]);
	for (unsigned int a = RX_SEGMENTS; a <= RX_SEGMENTS_BULK; a++)
		if (aside[a].frames)
			printf("  host->guest GSO read with one readv into %u-byte buffers of %u, as the "
			       "device: %.0f/s, %.2f us CPU/frame\n", a == RX_SEGMENTS ? RX_BUFFER :
			       RX_BUFFER_BULK, RX_BUFFERS, aside[a].frames_per_s, aside[a].cpu_us[0]);
	if (rows & (1u << IN_GSO | 1u << IN_GSO_BULK))
		printf("  (host->guest GSO: %lu and %lu frames came whole to the guest, in %u- and "
		       "%u-byte buffers; counted in 64 KiB frames' worth of bytes)\n", whole[IN_GSO],
		       whole[IN_GSO_BULK], RX_BUFFER, RX_BUFFER_BULK);
}

int main(int argc, char **argv)
{
	static struct frames f;
	static struct guest g;
	struct figure raw[NR_ROWS] = { 0 }, through[NR_ROWS] = { 0 }, aside[NR_ASIDES] = { 0 };
	double seconds = argc > 2 ? atof(argv[2]) : 5;
	unsigned int rows = parse_rows(argc > 3 ? argv[3] : NULL);
	unsigned long whole[NR_ROWS] = { 0 };
	struct sockets k;
	int ret;

	if (argc < 2 || argc > 4 || !rows) {
		fprintf(stderr, "usage: %s DAEMON [SECONDS [ROW,...]]\n  rows: out-64, out-gso, "
			"in-64, in-gso, in-gso-4k (default: all)\n", argv[0]);
		return 2;
	}
	ret = enter_namespace();
	if (ret)
		return ret > 0 ? 0 : 1;
	k.injector = open_injector();
	k.gso_injector = open_gso_injector();
	if (k.injector < 0 || k.gso_injector < 0) {
		perror("bench-net: packet socket");
		return 1;
	}
	/* Raw first, on a tap fd of our own; then the daemon takes the tap. */
	if (measure_raw(rows, &k, &f, seconds, raw, aside) || start_guest(&g, argv[1]))
		return 1;
	measure_daemon(rows, &g, &k, &f, seconds, through, whole);
	print_figures(rows, through, raw, aside, whole, seconds);
	sim_hv_destroy(g.hv);
	close(k.gso_injector);
	close(k.injector);
	return 0;
}
