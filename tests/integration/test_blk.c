// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_blk.c: the daemon serving virtio-blk (virtio 1.2,
 * 5.2) as modern virtio-pci functions to a simulated Xen guest, each disk
 * backed by an image file. The guest is this process: it drives the disks
 * with tests/guest/guest_virtio.c and builds block requests as the
 * specification (5.2.6) and Linux's virtio_blk lay them out; each test is
 * what a guest does, what it must see, and what the image file then holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/integration/nbd_fake_server.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL	/* the daemon's default 64-bit BAR window */
#define BAR_STRIDE	0x100000ULL	/* where the guest places the n-th function's BAR */
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(256ULL << 20)
#define INTX_SPI_BASE	44		/* the daemon's default --intx-spi */
#define WAIT_MS		10000
#define MAX_DISKS	4
#define MAX_SPECS	8

#define IMAGE_SIZE	(8ULL << 20)
#define SECTOR		512
#define KiB		1024u

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_BLK_DEVICE_ID	(0x1040 + VIRTIO_ID_BLOCK)	/* 4.1.2: modern device IDs */
#define CLASS_MASS_STORAGE_SCSI	0x010000
#define STATUS_ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

/* 5.2.3: feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14
#define DEVICE_FEATURE_BITS		0xffffffULL	/* 6: bits 0-23 are the device type's */
#define BIT(n)				(1ULL << (n))

/* What a Linux virtio_blk driver accepts when offered (and the ring features). */
#define BLK_FEATURES	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_BLK_SIZE) | \
			 BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_MQ) | BIT(VIRTIO_BLK_F_DISCARD) | \
			 BIT(VIRTIO_BLK_F_WRITE_ZEROES) | BIT(VIRTIO_F_INDIRECT_DESC) | \
			 BIT(VIRTIO_F_EVENT_IDX))

/* 5.2.4: struct virtio_blk_config. */
#define CFG_CAPACITY			0
#define CFG_SIZE_MAX			8
#define CFG_SEG_MAX			12
#define CFG_BLK_SIZE			20
#define CFG_NUM_QUEUES			34
#define CFG_MAX_DISCARD_SECTORS		36
#define CFG_MAX_DISCARD_SEG		40
#define CFG_DISCARD_SECTOR_ALIGNMENT	44
#define CFG_MAX_WRITE_ZEROES_SECTORS	48
#define CFG_MAX_WRITE_ZEROES_SEG	52
#define CFG_WRITE_ZEROES_MAY_UNMAP	56

/* 5.2.6: request types and status values. */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_GET_LIFETIME	10
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_T_SECURE_ERASE	14
#define VIRTIO_BLK_T_ZONE_REPORT	16
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2
#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1
#define HEADER_BYTES			16	/* type, reserved, sector */
#define RANGE_BYTES			16	/* struct virtio_blk_discard_write_zeroes */
#define STATUS_UNTOUCHED		0xff	/* what the guest leaves in the status byte */

#define ISR_CONFIG		0x2
#define COMMON_QUEUE_SELECT	0x16	/* 4.1.4.3 */
#define COMMON_QUEUE_SIZE	0x18

/* Request chains: the header, up to a queue's worth of data buffers, the status. */
#define MAX_CHAIN		(2048 + 2)
/* The largest buffer the daemon maps at once (xen/guest_memory.h), offered as size_max. */
#define SIZE_MAX_BYTES		(16u << 20)

struct image {
	char path[64];
	int fd;
};

struct fixture {
	struct sim_hv *hv;
	struct sim_hv *other_hv;	/* a second guest, for the tests that need one */
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio disk[MAX_DISKS];
	unsigned int nr_disks;
	struct image images[MAX_DISKS];
	char specs[MAX_SPECS][256];
	unsigned int nr_specs;
	/*
	 * The daemon stays root (--user root): for tests that map more than
	 * 8 MiB of the simulated guest's secret RAM, which counts as locked
	 * memory, of which a worker past its uid change may hold 8 MiB at most
	 * here (RLIMIT_MEMLOCK); Xen's foreign mappings count nothing
	 * (tests/sim/hypervisor.h, plain_ram).
	 */
	bool as_root;
};

/* One block request as the guest tracks it: where its parts are, how it came back. */
struct blk_request {
	uint64_t header_gpa;
	uint64_t status_gpa;
	struct guest_buf bufs[MAX_CHAIN];
	unsigned int n;
	unsigned int completions;
	uint32_t used_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2, .ram_size = RAM_SIZE });
	for (unsigned int i = 0; i < MAX_DISKS; i++)
		f->images[i].fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	if (f->other_hv)
		sim_hv_destroy(f->other_hv);
	for (unsigned int i = 0; i < MAX_DISKS; i++) {
		if (f->images[i].fd >= 0)
			close(f->images[i].fd);
		if (f->images[i].path[0])
			unlink(f->images[i].path);
	}
	free(f);
	return 0;
}

/* ---- image files, seen from the host */

/* A sparse image file of @size bytes in @dir; the test keeps a descriptor on it. */
static struct image *image_create_in(struct fixture *f, unsigned int index, uint64_t size,
				     const char *dir)
{
	struct image *img = &f->images[index];

	snprintf(img->path, sizeof(img->path), "%s/xvp-blk-XXXXXX", dir);
	img->fd = mkstemp(img->path);
	assert_true(img->fd >= 0);
	assert_int_equal(ftruncate(img->fd, (off_t)size), 0);
	return img;
}

static struct image *image_create(struct fixture *f, unsigned int index, uint64_t size)
{
	return image_create_in(f, index, size, "/tmp");
}

/* On tmpfs, whose fallocate(2) punches holes but has no ZERO_RANGE. */
static struct image *image_create_on_tmpfs(struct fixture *f, unsigned int index, uint64_t size)
{
	return image_create_in(f, index, size, "/dev/shm");
}

static uint64_t image_size(const struct image *img)
{
	struct stat st;

	assert_int_equal(fstat(img->fd, &st), 0);
	return (uint64_t)st.st_size;
}

static void image_write(const struct image *img, uint64_t offset, const void *bytes, size_t len)
{
	assert_int_equal(pwrite(img->fd, bytes, len, (off_t)offset), (ssize_t)len);
}

/* @len bytes of the image at @offset, in a buffer the caller frees. */
static uint8_t *image_read(const struct image *img, uint64_t offset, size_t len)
{
	uint8_t *bytes = malloc(len);

	assert_non_null(bytes);
	assert_int_equal(pread(img->fd, bytes, len, (off_t)offset), (ssize_t)len);
	return bytes;
}

/* Bytes that differ at every offset and for every @seed, so misplaced data shows. */
static void fill_pattern(uint8_t *bytes, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t x = seed * 0x9e3779b1u + (uint32_t)i;

		x ^= x >> 13;
		x *= 0x5bd1e995u;
		x ^= x >> 15;
		bytes[i] = (uint8_t)x;
	}
}

static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *bytes = malloc(len);

	assert_non_null(bytes);
	fill_pattern(bytes, len, seed);
	return bytes;
}

static bool all_zero(const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

/* ---- the daemon and the guest's view of its disks */

/* "blk,path=IMAGE[,OPTIONS]" for the command line, kept in the fixture. */
static const char *disk_spec(struct fixture *f, const struct image *img, const char *options)
{
	char *spec;

	assert_true(f->nr_specs < MAX_SPECS);
	spec = f->specs[f->nr_specs++];
	snprintf(spec, sizeof(f->specs[0]), "blk,path=%s%s%s", img->path, options ? "," : "",
		 options ? options : "");
	return spec;
}

/*
 * Start the daemon with @args, enumerate bus 0 like Linux, and probe every
 * virtio-blk function found (in device order), its BAR in the 64-bit
 * window; there must be @expected of them.
 */
static void start_with_disks(struct fixture *f, const char *const args[], unsigned int expected)
{
	struct guest_pci_function found[32];
	const char *with_root[2 * MAX_DISKS + 8];
	size_t n = 0;
	int count;

	while (args[n] && n < sizeof(with_root) / sizeof(with_root[0]) - 3) {
		with_root[n] = args[n];
		n++;
	}
	if (f->as_root) {
		with_root[n++] = "--user";
		with_root[n++] = "root";
	}
	with_root[n] = NULL;
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), with_root), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&f->pci, 0, found, 32);
	f->nr_disks = 0;
	for (int i = 0; i < count && i < 32; i++) {
		struct guest_virtio *vd = &f->disk[f->nr_disks];

		if (found[i].vendor_id != VIRTIO_VENDOR_ID || found[i].device_id != VIRTIO_BLK_DEVICE_ID)
			continue;
		assert_true(f->nr_disks < MAX_DISKS);
		assert_int_equal(guest_virtio_probe(vd, &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + f->nr_disks * BAR_STRIDE, INTX_SPI_BASE), 0);
		f->nr_disks++;
	}
	assert_int_equal(f->nr_disks, expected);
}

/* One disk on @img with @options; returns it. */
static struct guest_virtio *start_with_disk(struct fixture *f, const struct image *img,
					    const char *options)
{
	const char *const args[] = { "--device", disk_spec(f, img, options), NULL };

	start_with_disks(f, args, 1);
	return &f->disk[0];
}

/* The device's maximum size for queue @index (4.1.4.3: queue_select, then queue_size). */
static uint16_t queue_max_size(struct fixture *f, struct guest_virtio *vd, uint16_t index)
{
	uint64_t value;

	assert_int_equal(sim_vcpu_mmio_write(f->hv, 0, vd->common_gpa + COMMON_QUEUE_SELECT, 2, index),
			 SIM_ACCESS_SERVED);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, vd->common_gpa + COMMON_QUEUE_SIZE, 2, &value),
			 SIM_ACCESS_SERVED);
	return (uint16_t)value;
}

/* 4.1.4.3.1 / 2.5.1: a field wider than 32 bits, read until config_generation holds still. */
static uint64_t config_read64(struct guest_virtio *vd, unsigned int offset)
{
	uint64_t value;
	uint8_t generation;

	do {
		generation = guest_virtio_config_generation(vd);
		value = guest_virtio_config_read(vd, offset, 4);
		value |= (uint64_t)guest_virtio_config_read(vd, offset + 4, 4) << 32;
	} while (generation != guest_virtio_config_generation(vd));
	return value;
}

static uint64_t capacity(struct guest_virtio *vd)
{
	return config_read64(vd, CFG_CAPACITY);
}

/*
 * 3.1.1 and 5.2.5 as Linux's virtio_blk does them: the features it knows,
 * @nr_queues request queues of @queue_size entries (0: the device's
 * maximum), DRIVER_OK.
 */
static void blk_init(struct guest_virtio *vd, unsigned int nr_queues, uint16_t queue_size)
{
	assert_int_equal(guest_virtio_negotiate(vd, BLK_FEATURES), 0);
	for (unsigned int q = 0; q < nr_queues; q++)
		assert_int_equal(guest_virtio_setup_queue(vd, (uint16_t)q, queue_size), 0);
	guest_virtio_driver_ok(vd);
	assert_int_equal(guest_virtio_get_status(vd), STATUS_ALL_OK);
}

/* ---- block requests (5.2.6) */

static uint64_t alloc(struct guest_virtio *vd, uint64_t size, uint64_t align)
{
	uint64_t gpa = guest_ram_alloc(vd->ram, size, align);

	assert_int_not_equal(gpa, 0);
	return gpa;
}

static uint8_t *ram(struct guest_virtio *vd, uint64_t gpa, uint64_t len)
{
	uint8_t *host = guest_ram_ptr(vd->ram, gpa, len);

	assert_non_null(host);
	return host;
}

/* The header's fields at @gpa, little-endian: le32 type, le32 reserved, le64 sector. */
static void put_header(struct guest_virtio *vd, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint8_t *header = ram(vd, gpa, HEADER_BYTES);
	uint32_t le_type = htole32(type);
	uint64_t le_sector = htole64(sector);

	memcpy(header, &le_type, 4);
	memset(header + 4, 0, 4);
	memcpy(header + 8, &le_sector, 8);
}

static uint64_t write_header(struct guest_virtio *vd, uint32_t type, uint64_t sector)
{
	uint64_t gpa = alloc(vd, HEADER_BYTES, 16);

	put_header(vd, gpa, type, sector);
	return gpa;
}

static void add_buf(struct blk_request *req, uint64_t gpa, uint32_t len, bool device_writable)
{
	assert_true(req->n < MAX_CHAIN);
	req->bufs[req->n++] = (struct guest_buf){ gpa, len, device_writable };
}

/* A header for @type at @sector; the caller adds the data buffers, then the status. */
static void request_begin(struct guest_virtio *vd, struct blk_request *req, uint32_t type,
			  uint64_t sector)
{
	memset(req, 0, sizeof(*req));
	req->header_gpa = write_header(vd, type, sector);
	add_buf(req, req->header_gpa, HEADER_BYTES, false);
}

/* @len bytes at @gpa as @segments buffers of (nearly) equal, not sector-aligned, sizes. */
static void add_data(struct blk_request *req, uint64_t gpa, uint32_t len, unsigned int segments,
		     bool device_writable)
{
	uint32_t piece = len / segments;

	assert_true(segments >= 1 && piece >= 1);
	for (unsigned int s = 0; s < segments; s++) {
		uint32_t this_len = s + 1 < segments ? piece : len - piece * (segments - 1);

		add_buf(req, gpa, this_len, device_writable);
		gpa += this_len;
	}
}

/* The one-byte status buffer the device writes last, preset so an untouched one shows. */
static void request_end(struct guest_virtio *vd, struct blk_request *req)
{
	req->status_gpa = alloc(vd, 1, 1);
	*ram(vd, req->status_gpa, 1) = STATUS_UNTOUCHED;
	add_buf(req, req->status_gpa, 1, true);
}

/* The usual chain: header, @len bytes at @data in @segments buffers, status. */
static void request_build(struct guest_virtio *vd, struct blk_request *req, uint32_t type,
			  uint64_t sector, uint64_t data, uint32_t len, unsigned int segments)
{
	request_begin(vd, req, type, sector);
	if (len)
		add_data(req, data, len, segments,
			 type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID);
	request_end(vd, req);
}

static uint8_t request_status(struct guest_virtio *vd, const struct blk_request *req)
{
	return *ram(vd, req->status_gpa, 1);
}

static void submit(struct guest_virtio *vd, uint16_t queue, struct blk_request *req)
{
	assert_int_equal(guest_virtio_add(vd, queue, req->bufs, req->n, req), 0);
}

/* Take every used entry of every queue of @vd; returns how many. */
static unsigned int drain(struct guest_virtio *vd)
{
	unsigned int taken = 0;

	for (uint16_t q = 0; q < vd->num_queues && q < GUEST_VIRTQ_MAX_QUEUES; q++) {
		struct blk_request *req;
		uint32_t len;
		int got;

		if (!vd->queues[q].ready)
			continue;
		while ((got = guest_virtio_get_used(vd, q, &len, (void **)&req)) == 1) {
			assert_non_null(req);
			if (++req->completions > 1)
				fail_msg("a request came back twice on queue %u", q);
			req->used_len = len;
			taken++;
		}
		assert_int_equal(got, 0);
	}
	return taken;
}

static unsigned int count_done(const struct blk_request *reqs, unsigned int n)
{
	unsigned int done = 0;

	for (unsigned int i = 0; i < n; i++)
		done += reqs[i].completions;
	return done;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The guest's interrupt handler for the INTx line the @nr_devs devices
 * share, until all @n requests are back: Linux's vp_interrupt on an
 * IRQF_SHARED line reads every device's ISR (which lowers the line) and
 * drains its used rings; the interrupt controller delivers again as long as
 * the line stays asserted, and otherwise the guest sleeps until it rises.
 */
static void wait_done_shared(struct guest_virtio *const devs[], unsigned int nr_devs,
			     struct blk_request *reqs, unsigned int n)
{
	struct sim_hv *hv = devs[0]->pci->hv;
	unsigned int spi = devs[0]->spi;
	uint64_t deadline = now_ms() + WAIT_MS;

	for (;;) {
		unsigned long seen = sim_hv_irq_raises(hv, spi);

		for (unsigned int d = 0; d < nr_devs; d++)
			guest_virtio_read_isr(devs[d]);
		for (unsigned int d = 0; d < nr_devs; d++)
			drain(devs[d]);
		if (count_done(reqs, n) == n)
			return;
		if (now_ms() > deadline)
			break;
		if (sim_hv_irq_level(hv, spi))
			continue;
		if (sim_hv_wait_irq(hv, spi, seen, WAIT_MS))
			break;
	}
	/*
	 * The daemon's log says why (a device that needs a reset, a refused
	 * mapping); whole, on stderr: cmocka cuts a long message.
	 */
	fprintf(stderr, "the daemon's log:\n%s\n", sim_hv_daemon_log(hv));
	fail_msg("%u of %u requests completed in %d ms (the daemon's log is above)",
		 count_done(reqs, n), n, WAIT_MS);
}

static void wait_done(struct guest_virtio *vd, struct blk_request *reqs, unsigned int n)
{
	struct guest_virtio *const devs[] = { vd };

	wait_done_shared(devs, 1, reqs, n);
}

/* Submit one request on @queue, notify as the device asks, wait for it: its status. */
static uint8_t run(struct guest_virtio *vd, uint16_t queue, struct blk_request *req)
{
	submit(vd, queue, req);
	guest_virtio_kick(vd, queue);
	wait_done(vd, req, 1);
	return request_status(vd, req);
}

/* One request of @type with @len bytes of data at @data in @segments buffers, on queue 0. */
static uint8_t blk_io(struct guest_virtio *vd, uint32_t type, uint64_t sector, uint64_t data,
		      uint32_t len, unsigned int segments, uint32_t *used_len)
{
	struct blk_request *req = malloc(sizeof(*req));
	uint8_t status;

	assert_non_null(req);
	request_build(vd, req, type, sector, data, len, segments);
	status = run(vd, 0, req);
	if (used_len)
		*used_len = req->used_len;
	free(req);
	return status;
}

/* A read that must succeed: OK, and used length = data + the status byte. */
static void read_ok(struct guest_virtio *vd, uint64_t sector, uint64_t data, uint32_t len,
		    unsigned int segments)
{
	uint32_t used_len;

	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, sector, data, len, segments, &used_len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, len + 1);
}

/* A write that must succeed: OK, and the device wrote only the status byte. */
static void write_ok(struct guest_virtio *vd, uint64_t sector, uint64_t data, uint32_t len,
		     unsigned int segments)
{
	uint32_t used_len;

	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_OUT, sector, data, len, segments, &used_len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 1);
}

/* DISCARD or WRITE_ZEROES of one range (5.2.6: struct virtio_blk_discard_write_zeroes). */
static uint8_t blk_range(struct guest_virtio *vd, uint32_t type, uint64_t sector,
			 uint32_t num_sectors, uint32_t flags)
{
	uint64_t gpa = alloc(vd, RANGE_BYTES, 16);
	uint8_t *range = ram(vd, gpa, RANGE_BYTES);
	uint64_t le_sector = htole64(sector);
	uint32_t le_num = htole32(num_sectors), le_flags = htole32(flags);
	uint32_t used_len;
	uint8_t status;

	memcpy(range, &le_sector, 8);
	memcpy(range + 8, &le_num, 4);
	memcpy(range + 12, &le_flags, 4);
	status = blk_io(vd, type, 0, gpa, RANGE_BYTES, 1, &used_len);
	assert_int_equal(used_len, 1);
	return status;
}

/* Guest RAM holding @len bytes of @seed's pattern (for writes). */
static uint64_t guest_pattern(struct guest_virtio *vd, uint32_t len, uint32_t seed)
{
	uint64_t gpa = alloc(vd, len, 4096);

	fill_pattern(ram(vd, gpa, len), len, seed);
	return gpa;
}

/* Guest RAM of @len bytes filled with @byte, so bytes the device did not write show (reads). */
static uint64_t guest_filled(struct guest_virtio *vd, uint32_t len, uint8_t byte)
{
	uint64_t gpa = alloc(vd, len, 4096);

	memset(ram(vd, gpa, len), byte, len);
	return gpa;
}

/* The daemon with a disk of @options stops at once, status 2, naming the options and @why. */
static void refused_at_start(struct fixture *f, const struct image *img, const char *options,
			     const char *why)
{
	const char *const args[] = { "--device", disk_spec(f, img, options), NULL };
	const char *log;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	log = sim_hv_daemon_log(f->hv);
	if (!strstr(log, options) || !strstr(log, why))
		fail_msg("the refusal does not name '%s' and '%s'; the log:\n%s", options, why, log);
}

/* Field @name of /proc/PID/status ("VmHWM"), in KiB. */
static uint64_t process_status_kib(pid_t pid, const char *name)
{
	char path[64], line[256];
	uint64_t kib = 0;
	size_t len = strlen(name);
	FILE *status;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = fopen(path, "r");
	assert_non_null(status);
	while (fgets(line, sizeof(line), status))
		if (!strncmp(line, name, len) && line[len] == ':')
			kib = strtoull(line + len + 1, NULL, 10);
	fclose(status);
	assert_true(kib > 0);
	return kib;
}

/* ---- NBD exports (nbdkit, run by the test) */

struct nbd_server {
	pid_t pid;
	char socket[64];
	char uri[200];
};

/*
 * Run `nbdkit -f -U SOCKET --exit-with-parent ARGS...` and wait until it
 * listens. false (and a skipped test) where nbdkit is not installed.
 */
static bool nbd_server_start(struct nbd_server *server, const char *const args[])
{
	const char *argv[24] = { "nbdkit", "-f", "-U", server->socket, "--exit-with-parent" };
	unsigned int n = 5;
	struct stat st;

	if (access("/usr/sbin/nbdkit", X_OK) && access("/usr/bin/nbdkit", X_OK)) {
		print_message("skipped: nbdkit is not installed (apt-get install nbdkit)\n");
		return false;
	}
	if (!server->socket[0]) {
		snprintf(server->socket, sizeof(server->socket), "/tmp/xvp-nbd-%d-%u.sock", (int)getpid(),
			 (unsigned int)time(NULL) % 100000);
		argv[3] = server->socket;
	}
	for (unsigned int i = 0; args[i] && n < 22; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unlink(server->socket);
	server->pid = fork();
	assert_true(server->pid >= 0);
	if (!server->pid) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000 && stat(server->socket, &st); i++)
		usleep(10000);
	assert_int_equal(stat(server->socket, &st), 0);
	snprintf(server->uri, sizeof(server->uri), "nbd+unix:///?socket=%s", server->socket);
	return true;
}

static void nbd_server_stop(struct nbd_server *server, int signal_number)
{
	if (server->pid <= 0)
		return;
	kill(server->pid, signal_number);
	waitpid(server->pid, NULL, 0);
	server->pid = 0;
	unlink(server->socket);
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static unsigned int free_tcp_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	return ntohs(addr.sin_port);
}

/* Until something listens on 127.0.0.1:@port (10 s at most). */
static bool tcp_port_listens(unsigned int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (int i = 0; i < 1000; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		bool up = fd >= 0 && !connect(fd, (struct sockaddr *)&addr, sizeof(addr));

		if (fd >= 0)
			close(fd);
		if (up)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * qemu-storage-daemon exporting @image raw as "disk0", writable, on TCP
 * 127.0.0.1 (the URI names "localhost": the supervisor looks it up);
 * false (and a skipped test) where it is not installed.
 */
static bool qsd_start(struct nbd_server *server, const char *image)
{
	unsigned int port = free_tcp_port();
	char blockdev[128], nbd[96];

	if (access("/usr/bin/qemu-storage-daemon", X_OK)) {
		print_message("skipped: qemu-storage-daemon is not installed (apt-get install "
			      "qemu-system-common)\n");
		return false;
	}
	snprintf(blockdev, sizeof(blockdev), "driver=file,node-name=file0,filename=%s", image);
	snprintf(nbd, sizeof(nbd), "addr.type=inet,addr.host=127.0.0.1,addr.port=%u", port);
	server->pid = fork();
	assert_true(server->pid >= 0);
	if (!server->pid) {
		execl("/usr/bin/qemu-storage-daemon", "qemu-storage-daemon", "--blockdev", blockdev,
		      "--nbd-server", nbd, "--export",
		      "type=nbd,id=exp0,node-name=file0,name=disk0,writable=on", (char *)NULL);
		_exit(127);
	}
	assert_true(tcp_port_listens(port));
	snprintf(server->uri, sizeof(server->uri), "nbd://localhost:%u/disk0", port);
	return true;
}

/* One disk on the export of @server with @options; returns it. */
static struct guest_virtio *start_with_nbd_disk(struct fixture *f, const struct nbd_server *server,
						const char *options)
{
	char *spec;

	assert_true(f->nr_specs < MAX_SPECS);
	spec = f->specs[f->nr_specs++];
	snprintf(spec, sizeof(f->specs[0]), "blk,nbd=%s%s%s", server->uri, options ? "," : "",
		 options ? options : "");
	start_with_disks(f, (const char *const[]){ "--device", spec, NULL }, 1);
	return &f->disk[0];
}

/* ---- the tests */

static void test_guest_finds_the_disk_and_reads_its_configuration(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	/* 4 MiB and 1000 bytes: the partial last sector is not part of the disk. */
	struct image *odd = image_create(f, 1, (4ULL << 20) + 1000);
	const char *const args[] = { "--device", disk_spec(f, img, NULL),
				     "--device", disk_spec(f, odd, "queue-size=128,queues=4"), NULL };
	const uint64_t expected_features = BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
		BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_MQ) | BIT(VIRTIO_BLK_F_DISCARD) |
		BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	struct guest_virtio *vd, *second;
	const struct guest_pci_bar *bar;
	uint8_t generation;

	start_with_disks(f, args, 2);
	vd = &f->disk[0];
	second = &f->disk[1];

	/* What lspci shows: a modern virtio-blk, SCSI-class storage, pin A, in slot 1. */
	assert_int_equal(vd->fn.bus, 0);
	assert_int_equal(vd->fn.devfn, 1 << 3);
	assert_int_equal(vd->fn.vendor_id, VIRTIO_VENDOR_ID);
	assert_int_equal(vd->fn.device_id, VIRTIO_BLK_DEVICE_ID);
	assert_true(vd->fn.revision >= 1);	/* 4.1.2.1: non-transitional */
	assert_int_equal(vd->fn.class_code, CLASS_MASS_STORAGE_SCSI);
	assert_int_equal(vd->fn.interrupt_pin, 1);
	bar = &vd->fn.bars[vd->bar];
	assert_true(bar->size > 0 && !bar->is_io && bar->is_64bit && bar->prefetchable);
	assert_int_equal(vd->spi, INTX_SPI_BASE + 1);
	assert_int_equal(second->fn.devfn, 2 << 3);

	/* 5.2.3: exactly the device features the daemon offers for a writable image. */
	assert_int_equal(guest_virtio_negotiate(vd, BLK_FEATURES), 0);
	assert_int_equal(vd->device_features & DEVICE_FEATURE_BITS, expected_features);
	assert_true(vd->device_features & BIT(VIRTIO_F_VERSION_1));
	assert_true(vd->device_features & BIT(VIRTIO_F_INDIRECT_DESC));
	assert_true(vd->device_features & BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(vd->driver_features, expected_features | BIT(VIRTIO_F_VERSION_1) |
			 BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_F_EVENT_IDX));

	/* 5.2.4: the configuration, little-endian, through the device-specific structure. */
	assert_true(vd->device_cfg_len >= CFG_WRITE_ZEROES_MAY_UNMAP + 1);
	generation = guest_virtio_config_generation(vd);
	assert_int_equal(capacity(vd), IMAGE_SIZE / SECTOR);
	assert_int_equal(guest_virtio_config_read(vd, CFG_SEG_MAX, 4), queue_max_size(f, vd, 0) - 2);
	assert_int_equal(guest_virtio_config_read(vd, CFG_BLK_SIZE, 4), SECTOR);
	/* Without queues=N, one queue per vCPU: the simulated guest has 2. */
	assert_int_equal(guest_virtio_config_read(vd, CFG_NUM_QUEUES, 2), 2);
	assert_int_equal(vd->num_queues, 2);
	assert_true(guest_virtio_config_read(vd, CFG_MAX_DISCARD_SECTORS, 4) > 0);
	assert_int_equal(guest_virtio_config_read(vd, CFG_MAX_DISCARD_SEG, 4), 1);
	assert_true(guest_virtio_config_read(vd, CFG_DISCARD_SECTOR_ALIGNMENT, 4) > 0);
	assert_true(guest_virtio_config_read(vd, CFG_MAX_WRITE_ZEROES_SECTORS, 4) > 0);
	assert_int_equal(guest_virtio_config_read(vd, CFG_MAX_WRITE_ZEROES_SEG, 4), 1);
	assert_int_equal(guest_virtio_config_read(vd, CFG_WRITE_ZEROES_MAY_UNMAP, 1), 1);
	assert_int_equal(guest_virtio_config_generation(vd), generation);

	/* The second disk: the options shape it. */
	assert_int_equal(guest_virtio_negotiate(second, BLK_FEATURES), 0);
	assert_int_equal(capacity(second), (4ULL << 20) / SECTOR + 1);
	assert_int_equal(queue_max_size(f, second, 0), 128);
	assert_int_equal(guest_virtio_config_read(second, CFG_SEG_MAX, 4), 126);
	assert_int_equal(guest_virtio_config_read(second, CFG_NUM_QUEUES, 2), 4);
	assert_int_equal(second->num_queues, 4);

	/* Both come up. */
	blk_init(vd, 1, 0);
	blk_init(second, 4, 0);
	assert_int_equal(f->pci.errors, 0);
}

static void test_guest_writes_land_in_the_image(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint32_t len = 64 * KiB;
	struct guest_virtio *vd = start_with_disk(f, img, NULL);
	uint8_t *expected, *on_disk;
	struct blk_request req;

	blk_init(vd, 1, 0);

	/* 64 KiB at sector 2048 in 16 descriptors of the ring, as a chain. */
	vd->use_indirect = false;
	write_ok(vd, 2048, guest_pattern(vd, len, 1), len, 16);
	expected = pattern(len, 1);
	on_disk = image_read(img, 2048ULL * SECTOR, len);
	assert_memory_equal(on_disk, expected, len);
	free(on_disk);
	free(expected);

	/* 64 KiB at sector 4096 in one indirect table of 16 data buffers (2.7.5.3). */
	vd->use_indirect = true;
	write_ok(vd, 4096, guest_pattern(vd, len, 2), len, 16);
	expected = pattern(len, 2);
	on_disk = image_read(img, 4096ULL * SECTOR, len);
	assert_memory_equal(on_disk, expected, len);
	free(on_disk);
	free(expected);

	/* 2.6.4: the header may come in pieces; 8 + 8 bytes, then one 4 KiB buffer. */
	request_begin(vd, &req, VIRTIO_BLK_T_OUT, 6000);
	req.n = 0;
	add_buf(&req, req.header_gpa, 8, false);
	add_buf(&req, req.header_gpa + 8, 8, false);
	add_data(&req, guest_pattern(vd, 4096, 3), 4096, 1, false);
	request_end(vd, &req);
	assert_int_equal(run(vd, 0, &req), VIRTIO_BLK_S_OK);
	expected = pattern(4096, 3);
	on_disk = image_read(img, 6000ULL * SECTOR, 4096);
	assert_memory_equal(on_disk, expected, 4096);
	free(on_disk);
	free(expected);

	/* Nothing around the writes was touched, and the image did not grow. */
	on_disk = image_read(img, 2047ULL * SECTOR, SECTOR);
	assert_true(all_zero(on_disk, SECTOR));
	free(on_disk);
	on_disk = image_read(img, 2048ULL * SECTOR + len, SECTOR);
	assert_true(all_zero(on_disk, SECTOR));
	free(on_disk);
	assert_int_equal(image_size(img), IMAGE_SIZE);
}

static void test_guest_reads_what_the_image_holds(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint32_t whole = 128 * KiB;
	uint8_t *content = pattern(whole, 7);
	struct guest_virtio *vd;
	uint16_t seg_max;
	static const struct {
		uint32_t len;
		unsigned int segments;
		bool indirect;
	} reads[] = {
		{ 512, 1, false },
		{ 4096, 1, false },
		{ 4096, 8, false },
		{ 65536, 16, true },
		{ 65536, 7, false },	/* buffers of 9362 and 9364 bytes: not sector-sized */
		{ 131072, 1, false },
		{ 131072, 32, true },
		{ 131072, 0, false },	/* 0: seg_max buffers, the longest chain a queue holds */
		{ 131072, 0, true },
	};

	image_write(img, 1000ULL * SECTOR, content, whole);
	vd = start_with_disk(f, img, NULL);
	blk_init(vd, 1, 0);
	seg_max = (uint16_t)guest_virtio_config_read(vd, CFG_SEG_MAX, 4);
	/* The longest chain the ring holds without an indirect table: header, data, status. */
	if (seg_max > vd->queues[0].size - 2)
		seg_max = vd->queues[0].size - 2;

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		unsigned int segments = reads[i].segments ? reads[i].segments : seg_max;
		uint64_t buf = guest_filled(vd, reads[i].len, 0x5a);

		print_message("reading %u bytes in %u buffers%s\n", reads[i].len, segments,
			      reads[i].indirect ? ", indirect" : "");
		vd->use_indirect = reads[i].indirect;
		read_ok(vd, 1000, buf, reads[i].len, segments);
		assert_memory_equal(ram(vd, buf, reads[i].len), content, reads[i].len);
	}

	/* A read that starts further in: sector 1000 + 37. */
	{
		uint64_t buf = guest_filled(vd, 8192, 0x5a);

		read_ok(vd, 1037, buf, 8192, 3);
		assert_memory_equal(ram(vd, buf, 8192), content + 37 * SECTOR, 8192);
	}
	free(content);
}

static void test_any_descriptor_layout_is_accepted(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	struct guest_virtio *vd = start_with_disk(f, img, NULL);
	uint8_t *expected = pattern(4096, 11), *on_disk;
	struct blk_request req;
	uint64_t gpa;

	blk_init(vd, 1, 0);
	vd->use_indirect = false;

	/*
	 * 2.6.4: the device must not assume a framing. A write whose header
	 * and data share one device-readable buffer...
	 */
	gpa = alloc(vd, HEADER_BYTES + 4096, 16);
	put_header(vd, gpa, VIRTIO_BLK_T_OUT, 300);
	memcpy(ram(vd, gpa + HEADER_BYTES, 4096), expected, 4096);
	memset(&req, 0, sizeof(req));
	add_buf(&req, gpa, HEADER_BYTES + 4096, false);
	request_end(vd, &req);
	assert_int_equal(run(vd, 0, &req), VIRTIO_BLK_S_OK);
	on_disk = image_read(img, 300ULL * SECTOR, 4096);
	assert_memory_equal(on_disk, expected, 4096);
	free(on_disk);

	/* ...and a read whose last data bytes and status share one device-writable buffer. */
	gpa = alloc(vd, 4096 + 1, 16);
	memset(ram(vd, gpa, 4097), 0x5a, 4097);
	memset(&req, 0, sizeof(req));
	req.header_gpa = write_header(vd, VIRTIO_BLK_T_IN, 300);
	add_buf(&req, req.header_gpa, HEADER_BYTES, false);
	add_buf(&req, gpa, 1000, true);
	add_buf(&req, gpa + 1000, 4096 + 1 - 1000, true);
	req.status_gpa = gpa + 4096;
	assert_int_equal(run(vd, 0, &req), VIRTIO_BLK_S_OK);
	assert_int_equal(req.used_len, 4096 + 1);
	assert_memory_equal(ram(vd, gpa, 4096), expected, 4096);
	free(expected);
}

static void test_flush_completes(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	struct guest_virtio *vd = start_with_disk(f, img, NULL);
	uint32_t used_len;

	blk_init(vd, 1, 0);
	assert_true(vd->driver_features & BIT(VIRTIO_BLK_F_FLUSH));
	/* 5.2.6.1: sector 0, no data. Whether the data reached the disk cannot be seen from here. */
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, &used_len), VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 1);
	write_ok(vd, 100, guest_pattern(vd, 32 * KiB, 4), 32 * KiB, 8);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, &used_len), VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 1);
}

/* GET_ID into a 20-byte buffer full of 0xff: returns the buffer. */
static const uint8_t *get_id(struct guest_virtio *vd)
{
	uint64_t gpa = guest_filled(vd, VIRTIO_BLK_ID_BYTES, 0xff);
	uint32_t used_len;

	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_GET_ID, 0, gpa, VIRTIO_BLK_ID_BYTES, 1, &used_len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, VIRTIO_BLK_ID_BYTES + 1);
	return ram(vd, gpa, VIRTIO_BLK_ID_BYTES);
}

static void test_get_id_returns_the_serial(void **state)
{
	struct fixture *f = *state;
	struct image *a = image_create(f, 0, IMAGE_SIZE), *b = image_create(f, 1, IMAGE_SIZE);
	const char *const args[] = { "--device", disk_spec(f, a, "serial=root"),
				     "--device", disk_spec(f, b, "serial=0123456789abcdefghij"), NULL };
	static const uint8_t root[VIRTIO_BLK_ID_BYTES] = "root";

	start_with_disks(f, args, 2);
	blk_init(&f->disk[0], 1, 0);
	blk_init(&f->disk[1], 1, 0);

	/* 5.2.6: NUL-padded up to 20 bytes... */
	assert_memory_equal(get_id(&f->disk[0]), root, VIRTIO_BLK_ID_BYTES);
	/* ...and a 20-byte serial fills them, with no terminator. */
	assert_memory_equal(get_id(&f->disk[1]), "0123456789abcdefghij", VIRTIO_BLK_ID_BYTES);
}

/* The image at sectors [@first, @first + @count) through the device, in a buffer the caller frees. */
static uint8_t *read_through_device(struct guest_virtio *vd, uint64_t first, uint32_t count)
{
	uint32_t len = count * SECTOR;
	uint64_t gpa = guest_filled(vd, len, 0x5a);
	uint8_t *copy = malloc(len);

	assert_non_null(copy);
	read_ok(vd, first, gpa, len, 4);
	memcpy(copy, ram(vd, gpa, len), len);
	return copy;
}

/*
 * WRITE_ZEROES without UNMAP on a file system that cannot zero a range in
 * place: the device falls back to deallocating, which reads back as zeroes
 * too (5.2.6.2), and answers OK, not UNSUPP.
 */
static void test_write_zeroes_without_zero_range_still_zeroes(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create_on_tmpfs(f, 0, IMAGE_SIZE);
	const uint32_t sectors = 64, len = sectors * SECTOR;
	uint8_t *content = pattern(len, 33), *seen;
	struct guest_virtio *vd;

	if (!fallocate(img->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, SECTOR) ||
	    errno != EOPNOTSUPP) {
		print_message("skipped: /dev/shm zeroes ranges in place here, nothing to fall back from\n");
		free(content);
		return;
	}
	image_write(img, 2048 * SECTOR, content, len);
	vd = start_with_disk(f, img, NULL);
	blk_init(vd, 1, 0);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 2048 + 8, 16, 0), VIRTIO_BLK_S_OK);
	memset(content + 8 * SECTOR, 0, 16 * SECTOR);
	seen = image_read(img, 2048 * SECTOR, len);
	assert_memory_equal(seen, content, len);
	free(seen);
	seen = read_through_device(vd, 2048, sectors);
	assert_memory_equal(seen, content, len);
	free(seen);
	free(content);
}

static void test_discard_and_write_zeroes_leave_zeros(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint32_t sectors = 256, len = sectors * SECTOR;
	uint8_t *content = pattern(len, 21), *expected = malloc(len), *seen;
	const uint64_t first = 1024, last = IMAGE_SIZE / SECTOR - 8;
	struct guest_virtio *vd;

	image_write(img, first * SECTOR, content, len);
	image_write(img, last * SECTOR, content, 8 * SECTOR);
	vd = start_with_disk(f, img, NULL);
	blk_init(vd, 1, 0);
	memcpy(expected, content, len);

	/* Sectors 1024+16 .. +79 discarded: they read back as zeros, the rest as before. */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, first + 16, 64, 0), VIRTIO_BLK_S_OK);
	memset(expected + 16 * SECTOR, 0, 64 * SECTOR);
	/* Write zeroes without unmap, then with it (5.2.6.2: both read back zeros). */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, first + 100, 30, 0), VIRTIO_BLK_S_OK);
	memset(expected + 100 * SECTOR, 0, 30 * SECTOR);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, first + 150, 50,
				   VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	memset(expected + 150 * SECTOR, 0, 50 * SECTOR);
	/* One odd sector, unaligned to anything. */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, first + 211, 1, 0), VIRTIO_BLK_S_OK);
	memset(expected + 211 * SECTOR, 0, SECTOR);

	seen = read_through_device(vd, first, sectors);
	assert_memory_equal(seen, expected, len);
	free(seen);
	seen = image_read(img, first * SECTOR, len);
	assert_memory_equal(seen, expected, len);
	free(seen);

	/* At the very end of the disk, both kinds: the file keeps its size. */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, last + 4, 4, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, last, 4,
				   VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	seen = image_read(img, last * SECTOR, 8 * SECTOR);
	assert_true(all_zero(seen, 8 * SECTOR));
	free(seen);
	assert_int_equal(image_size(img), IMAGE_SIZE);

	/*
	 * 5.2.6.2: UNSUPP for a discard with the unmap flag, and for unknown
	 * flags; nothing is changed.
	 */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, first, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, first, 8, 2), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, first, 8, 0x80000000u), VIRTIO_BLK_S_UNSUPP);
	seen = image_read(img, first * SECTOR, 8 * SECTOR);
	assert_memory_equal(seen, content, 8 * SECTOR);
	free(seen);
	free(expected);
	free(content);
}

/*
 * A disk on an NBD export (nbdkit's file plugin, so the test reads what
 * landed in the file): every request type, the data checked on both sides.
 */
static void test_nbd_disk_serves_every_request_type(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	struct nbd_server server = { 0 };
	char file_arg[96];
	const uint32_t len = 64 * KiB;
	uint8_t *content = pattern(len, 41), *seen;
	struct guest_virtio *vd;
	uint64_t buf;

	snprintf(file_arg, sizeof(file_arg), "file=%s", img->path);
	if (!nbd_server_start(&server, (const char *const[]){ "file", file_arg, NULL }))
		goto out;
	image_write(img, 100ULL * SECTOR, content, len);
	vd = start_with_nbd_disk(f, &server, "serial=nbd-disk");
	blk_init(vd, 1, 0);
	assert_int_equal(capacity(vd), IMAGE_SIZE / SECTOR);
	/* nbdkit's file plugin can flush, trim and zero: so the device offers them. */
	assert_true(vd->device_features & BIT(VIRTIO_BLK_F_FLUSH));
	assert_true(vd->device_features & BIT(VIRTIO_BLK_F_DISCARD));
	assert_true(vd->device_features & BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	assert_memory_equal(get_id(vd), "nbd-disk", 8);

	/* A read of what the file holds, in 4 segments (4 NBD reads). */
	buf = guest_filled(vd, len, 0x5a);
	read_ok(vd, 100, buf, len, 4);
	assert_memory_equal(ram(vd, buf, len), content, len);
	/* A write in 3 segments lands in the file; flush. */
	buf = guest_pattern(vd, len, 42);
	write_ok(vd, 1000, buf, len, 3);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL), VIRTIO_BLK_S_OK);
	seen = image_read(img, 1000ULL * SECTOR, len);
	assert_memory_equal(seen, ram(vd, buf, len), len);
	free(seen);
	/* Discard and write-zeroes (with and without unmap) read back as zeroes. */
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, 1000, 8, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 1008, 8, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 1016, 8,
				   VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	seen = image_read(img, 1000ULL * SECTOR, 24 * SECTOR);
	assert_true(all_zero(seen, 24 * SECTOR));
	free(seen);
	/* Beyond the export: IOERR, as for a file. */
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, IMAGE_SIZE / SECTOR, guest_filled(vd, SECTOR, 0),
				SECTOR, 1, NULL), VIRTIO_BLK_S_IOERR);
out:
	nbd_server_stop(&server, SIGKILL);
	free(content);
}

/*
 * The same disk served by qemu-storage-daemon over TCP (nbd://localhost,
 * looked up by the supervisor): reads, writes, flush, write-zeroes and
 * discard, the data checked in the image it exports.
 */
static void test_nbd_disk_on_qemu_storage_daemon_over_tcp(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	struct nbd_server server = { 0 };
	const uint32_t len = 64 * KiB;
	uint8_t *content = pattern(len, 51), *seen;
	struct guest_virtio *vd;
	uint64_t buf;

	image_write(img, 200ULL * SECTOR, content, len);
	if (!qsd_start(&server, img->path))
		goto out;
	vd = start_with_nbd_disk(f, &server, NULL);
	blk_init(vd, 1, 0);
	assert_int_equal(capacity(vd), IMAGE_SIZE / SECTOR);
	buf = guest_filled(vd, len, 0x5a);
	read_ok(vd, 200, buf, len, 4);
	assert_memory_equal(ram(vd, buf, len), content, len);
	buf = guest_pattern(vd, len, 52);
	write_ok(vd, 3000, buf, len, 3);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL), VIRTIO_BLK_S_OK);
	seen = image_read(img, 3000ULL * SECTOR, len);
	assert_memory_equal(seen, ram(vd, buf, len), len);
	free(seen);
	if (vd->device_features & BIT(VIRTIO_BLK_F_WRITE_ZEROES)) {
		assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 3000, 16, 0), VIRTIO_BLK_S_OK);
		seen = image_read(img, 3000ULL * SECTOR, 16 * SECTOR);
		assert_true(all_zero(seen, 16 * SECTOR));
		free(seen);
	}
	if (vd->device_features & BIT(VIRTIO_BLK_F_DISCARD))
		assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, 3016, 8, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
out:
	nbd_server_stop(&server, SIGTERM);
	free(content);
}

/* 5.2.4: a read-only export is served read-only only when asked for; else refused at start. */
static void test_nbd_read_only_export(void **state)
{
	struct fixture *f = *state;
	struct nbd_server server = { 0 };
	struct guest_virtio *vd;
	const char *const refused[] = { "--device", f->specs[0], NULL };
	const char *log;

	if (!nbd_server_start(&server, (const char *const[]){ "-r", "memory", "size=4M", NULL }))
		return;
	snprintf(f->specs[0], sizeof(f->specs[0]), "blk,nbd=%s", server.uri);
	f->nr_specs = 1;
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), refused), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	log = sim_hv_daemon_log(f->hv);
	if (!strstr(log, "the export is read-only: give readonly=on"))
		fail_msg("a writable disk on a read-only export was not refused clearly:\n%s", log);

	vd = start_with_nbd_disk(f, &server, "readonly=on");
	blk_init(vd, 1, 0);
	assert_true(vd->device_features & BIT(VIRTIO_BLK_F_RO));
	assert_false(vd->device_features & BIT(VIRTIO_BLK_F_DISCARD));
	assert_int_equal(capacity(vd), (4u << 20) / SECTOR);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_OUT, 0, guest_pattern(vd, SECTOR, 1), SECTOR, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	nbd_server_stop(&server, SIGKILL);
}

/* The names in directory @path, ", "-separated, sorted as readdir gives them (no . and ..). */
static void list_directory(const char *path, char *out, size_t size)
{
	DIR *dir = opendir(path);
	struct dirent *entry;
	size_t at = 0;

	out[0] = '\0';
	assert_non_null(dir);
	while ((entry = readdir(dir)))
		if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
			at += (size_t)snprintf(out + at, size - at, "%s%s", at ? ", " : "",
					       entry->d_name);
	closedir(dir);
}

/*
 * nbds+unix:// with a pre-shared key (tls-psk-file=, USER@): the
 * handshake on the supervisor's socket runs TLS and the disk serves; the
 * server restarts and the worker, in a root that holds only a copy of the
 * key, shakes hands again: no error.
 */
static void test_nbd_disk_over_tls_with_a_psk_reconnects(void **state)
{
	struct fixture *f = *state;
	struct nbd_server server = { 0 };
	char psk[64], psk_arg[80], root[64], names[256];
	struct guest_virtio *vd;
	const char *log;
	pid_t worker;
	FILE *file;

	snprintf(psk, sizeof(psk), "/tmp/xvp-nbd-%d.psk", (int)getpid());
	file = fopen(psk, "w");
	assert_non_null(file);
	fputs("alice:0123456789abcdef0123456789abcdef\n", file);
	assert_int_equal(fclose(file), 0);
	snprintf(psk_arg, sizeof(psk_arg), "--tls-psk=%s", psk);
	if (!nbd_server_start(&server, (const char *const[]){ "--tls=require", psk_arg, "memory",
							      "size=4M", NULL }))
		goto out;
	snprintf(server.uri, sizeof(server.uri), "nbds+unix://alice@/?socket=%s&tls-psk-file=%s",
		 server.socket, psk);
	vd = start_with_nbd_disk(f, &server, NULL);
	blk_init(vd, 1, 0);
	write_ok(vd, 8, guest_pattern(vd, 4096, 61), 4096, 1);
	nbd_server_stop(&server, SIGKILL);
	assert_true(nbd_server_start(&server, (const char *const[]){ "--tls=require", psk_arg,
								     "memory", "size=4M", NULL }));
	read_ok(vd, 8, guest_filled(vd, 4096, 0), 4096, 1);
	log = sim_hv_daemon_log(f->hv);
	if (!strstr(log, "serving again after") || strstr(log, "error:"))
		fail_msg("no reconnect without errors:\n%s", log);
	/* What the worker can see of the file system: the key's copy, nothing else. */
	worker = sim_hv_wait_domain_served(f->hv, 1, 0, WAIT_MS);
	assert_true(worker > 0);
#if !defined(__SANITIZE_ADDRESS__)	/* that build keeps its root (daemon/sandbox.c) */
	snprintf(root, sizeof(root), "/proc/%d/root", (int)worker);
	list_directory(root, names, sizeof(names));
	assert_string_equal(names, "tmp");
	snprintf(root, sizeof(root), "/proc/%d/root/tmp", (int)worker);
	list_directory(root, names, sizeof(names));
	assert_string_equal(names, strrchr(psk, '/') + 1);
#else
	(void)list_directory;
	(void)names;
	(void)root;
#endif
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
out:
	nbd_server_stop(&server, SIGKILL);
	unlink(psk);
}

/* No server behind the URI: a start-up error naming it, status 2, as a missing image is. */
static void test_nbd_without_a_server_is_refused_at_start(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "blk,nbd=nbd+unix:///?socket=/nonexistent/xvp.sock",
				     NULL };
	const char *log;
	int status;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	status = sim_hv_wait_daemon_exit(f->hv, WAIT_MS);
	log = sim_hv_daemon_log(f->hv);
	if (status != 2)
		fail_msg("exit status %d, not 2; the log:\n%s", status, log);
	if (!strstr(log, "blk0: nbd=nbd+unix:///?socket=/nonexistent/xvp.sock: "))
		fail_msg("the refusal does not name the device and URI:\n%s", log);
}

/*
 * The server dies and stays dead: requests wait for it timeout= seconds,
 * then fail with IOERR, one log line says why, new ones fail at once, and
 * the daemon and its devices go on.
 */
static void test_nbd_server_gone_fails_requests_after_the_timeout(void **state)
{
	struct fixture *f = *state;
	struct nbd_server server = { 0 };
	struct guest_virtio *vd;
	const char *log;

	if (!nbd_server_start(&server, (const char *const[]){ "memory", "size=4M", NULL }))
		return;
	vd = start_with_nbd_disk(f, &server, "timeout=1");
	blk_init(vd, 1, 0);
	write_ok(vd, 8, guest_pattern(vd, 4096, 5), 4096, 1);
	nbd_server_stop(&server, SIGKILL);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, 8, guest_filled(vd, 4096, 0), 4096, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_OUT, 8, guest_pattern(vd, 4096, 6), 4096, 2, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* Still serving: the device answers its configuration and GET_ID. */
	assert_int_equal(capacity(vd), (4u << 20) / SECTOR);
	log = sim_hv_daemon_log(f->hv);
	if (!strstr(log, "blk0: nbd=") || !strstr(log, "connection lost") ||
	    !strstr(log, "no working connection for 1 s (timeout=)"))
		fail_msg("no log lines name the disk, its URI, the loss and the timeout:\n%s", log);
	/* And it stops as cleanly as ever. */
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/*
 * Writes of @n requests of @len bytes each from sector @first, each its own
 * pattern (seed @seed + i), submitted at once on queue 0 and kicked.
 */
static void submit_writes(struct guest_virtio *vd, struct blk_request *reqs, unsigned int n,
			  uint64_t first, uint32_t len, uint32_t seed)
{
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_OUT, first + i * (len / SECTOR),
			      guest_pattern(vd, len, seed + i), len, 2);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
}

/* The image holds @n patterns of @len bytes from sector @first (seed @seed + i). */
static void assert_image_holds(const struct image *img, unsigned int n, uint64_t first,
			       uint32_t len, uint32_t seed)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *seen = image_read(img, (first + i * (len / SECTOR)) * SECTOR, len);
		uint8_t *expected = pattern(len, seed + i);

		assert_memory_equal(seen, expected, len);
		free(seen);
		free(expected);
	}
}

/*
 * nbdkit (file plugin: the data outlives it) is killed with writes in
 * flight, more writes come while it is down, and it is started again: the
 * guest sees every request succeed, a stall and no error; the file holds
 * every write, and the guest reads them back through the new connection.
 */
static void test_nbd_server_killed_and_restarted_under_load(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int n = 32;
	const uint32_t len = 16 * KiB;
	struct blk_request *reqs = calloc(2 * n, sizeof(*reqs));
	struct nbd_server server = { 0 };
	const char *const args[] = { "file", f->specs[MAX_SPECS - 1], NULL };
	struct guest_virtio *vd;
	const char *log;

	snprintf(f->specs[MAX_SPECS - 1], sizeof(f->specs[0]), "file=%s", img->path);
	if (!nbd_server_start(&server, args))
		goto out;
	vd = start_with_nbd_disk(f, &server, NULL);
	blk_init(vd, 1, 0);
	submit_writes(vd, reqs, n, 2048, len, 300);
	nbd_server_stop(&server, SIGKILL);
	/* While there is no server: kept too. */
	submit_writes(vd, reqs + n, n, 2048 + n * (len / SECTOR), len, 300 + n);
	assert_true(nbd_server_start(&server, args));
	wait_done(vd, reqs, 2 * n);
	for (unsigned int i = 0; i < 2 * n; i++)
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
	assert_image_holds(img, 2 * n, 2048, len, 300);
	for (unsigned int i = 0; i < 2 * n; i += 7) {
		uint64_t buf = guest_filled(vd, len, 0x5a);
		uint8_t *expected = pattern(len, 300 + i);

		read_ok(vd, 2048 + i * (len / SECTOR), buf, len, 3);
		assert_memory_equal(ram(vd, buf, len), expected, len);
		free(expected);
	}
	log = sim_hv_daemon_log(f->hv);
	if (!strstr(log, "connection lost") || !strstr(log, "serving again after"))
		fail_msg("no log lines for the loss and the return:\n%s", log);
	if (strstr(log, "error:"))
		fail_msg("an error line for an outage within the timeout:\n%s", log);
out:
	nbd_server_stop(&server, SIGKILL);
	free(reqs);
}

/* A disk on the fake server @fake with @options. */
static struct guest_virtio *start_with_fake_nbd(struct fixture *f, const struct nbd_fake *fake,
						const char *options)
{
	struct nbd_server server = { 0 };

	snprintf(server.uri, sizeof(server.uri), "nbd+unix:///?socket=%s", fake->path);
	return start_with_nbd_disk(f, &server, options);
}

/*
 * The server sends half a read's data and closes: the guest's read is
 * sent again on a new connection and comes back whole, with no error.
 */
static void test_nbd_server_closing_mid_reply_costs_a_reconnect_not_an_error(void **state)
{
	struct fixture *f = *state;
	const uint32_t len = 8 * KiB;
	uint8_t *content = pattern(1u << 20, 77);
	struct nbd_fake fake;
	struct guest_virtio *vd;
	uint64_t buf;

	assert_int_equal(nbd_fake_start(&fake, NBD_FAKE_CUT_FIRST_READ, content, 1u << 20), 0);
	vd = start_with_fake_nbd(f, &fake, NULL);
	blk_init(vd, 1, 0);
	buf = guest_filled(vd, len, 0x5a);
	read_ok(vd, 16, buf, len, 2);
	assert_memory_equal(ram(vd, buf, len), content + 16 * SECTOR, len);
	assert_int_equal(atomic_load(&fake.broken), 1);
	assert_true(atomic_load(&fake.connections) >= 2);
	if (!strstr(sim_hv_daemon_log(f->hv), "connection lost"))
		fail_msg("no line for the loss:\n%s", sim_hv_daemon_log(f->hv));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	nbd_fake_stop(&fake);
	free(content);
}

/*
 * A server that answers every read with garbage: a backend error, never a
 * crash. The reads fail after timeout=, the device still answers, and the
 * daemon stops cleanly.
 */
static void test_nbd_server_answering_garbage_is_an_io_error(void **state)
{
	struct fixture *f = *state;
	uint8_t *content = pattern(1u << 20, 78);
	struct nbd_fake fake;
	struct guest_virtio *vd;

	assert_int_equal(nbd_fake_start(&fake, NBD_FAKE_GARBAGE, content, 1u << 20), 0);
	vd = start_with_fake_nbd(f, &fake, "timeout=1");
	blk_init(vd, 1, 0);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, 0, guest_filled(vd, 4096, 0), 4096, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_true(atomic_load(&fake.broken) >= 1);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, 8, guest_filled(vd, 4096, 0), 4096, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(capacity(vd), (1u << 20) / SECTOR);
	if (!strstr(sim_hv_daemon_log(f->hv), "no working connection for 1 s"))
		fail_msg("no line for the timeout:\n%s", sim_hv_daemon_log(f->hv));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	nbd_fake_stop(&fake);
	free(content);
}

/* An export of 1 MiB + 1000 bytes is a disk of whole sectors; a request past them fails. */
static void test_nbd_export_of_partial_sectors_is_rounded_down(void **state)
{
	struct fixture *f = *state;
	struct nbd_server server = { 0 };
	struct guest_virtio *vd;
	const uint64_t sectors = (1u << 20) / SECTOR + 1;	/* 1000 bytes: one whole sector */

	if (!nbd_server_start(&server, (const char *const[]){ "memory", "size=1049576", NULL }))
		return;
	vd = start_with_nbd_disk(f, &server, NULL);
	blk_init(vd, 1, 0);
	assert_int_equal(capacity(vd), sectors);
	read_ok(vd, sectors - 1, guest_filled(vd, SECTOR, 1), SECTOR, 1);
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_IN, sectors, guest_filled(vd, SECTOR, 1), SECTOR, 1,
				NULL), VIRTIO_BLK_S_IOERR);
	if (!strstr(sim_hv_daemon_log(f->hv), "not whole sectors"))
		fail_msg("no log line for the rounded export:\n%s", sim_hv_daemon_log(f->hv));
	nbd_server_stop(&server, SIGKILL);
}

static void test_readonly_disk_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint32_t len = 16 * KiB;
	uint8_t *content = pattern(len, 31), *seen;
	struct guest_virtio *vd;
	uint32_t used_len;
	uint64_t buf;

	image_write(img, 512ULL * SECTOR, content, len);
	vd = start_with_disk(f, img, "readonly=on");
	blk_init(vd, 1, 0);

	/* 5.2.3: RO offered (and taken, 5.2.6.1 SHOULD); nothing that changes the disk. */
	assert_true(vd->device_features & BIT(VIRTIO_BLK_F_RO));
	assert_true(vd->driver_features & BIT(VIRTIO_BLK_F_RO));
	assert_false(vd->device_features & BIT(VIRTIO_BLK_F_DISCARD));
	assert_false(vd->device_features & BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	assert_int_equal(capacity(vd), IMAGE_SIZE / SECTOR);

	/* 5.2.6.2: a write fails with IOERR and writes nothing. */
	assert_int_equal(blk_io(vd, VIRTIO_BLK_T_OUT, 512, guest_pattern(vd, len, 32), len, 4, &used_len),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used_len, 1);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, 512, 8, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 520, 8, 0), VIRTIO_BLK_S_IOERR);
	seen = image_read(img, 512ULL * SECTOR, len);
	assert_memory_equal(seen, content, len);
	free(seen);
	assert_int_equal(image_size(img), IMAGE_SIZE);

	/* Reads work. */
	buf = guest_filled(vd, len, 0x5a);
	read_ok(vd, 512, buf, len, 4);
	assert_memory_equal(ram(vd, buf, len), content, len);
	free(content);
}

static void test_requests_outside_the_disk_fail(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint64_t sectors = IMAGE_SIZE / SECTOR, last = sectors - 1;
	uint8_t *tail = pattern(SECTOR, 41), *seen;
	struct guest_virtio *vd;
	uint64_t buf;
	static const struct {
		const char *what;
		uint32_t type;
		uint64_t sector;
		uint32_t len;
	} refused[] = {
		{ "read of the last sector and one more", VIRTIO_BLK_T_IN, IMAGE_SIZE / SECTOR - 1, 2 * SECTOR },
		{ "write of the last sector and one more", VIRTIO_BLK_T_OUT, IMAGE_SIZE / SECTOR - 1, 2 * SECTOR },
		{ "read at the capacity", VIRTIO_BLK_T_IN, IMAGE_SIZE / SECTOR, SECTOR },
		{ "write at the capacity", VIRTIO_BLK_T_OUT, IMAGE_SIZE / SECTOR, SECTOR },
		{ "read at sector 2^64 - 1", VIRTIO_BLK_T_IN, UINT64_MAX, SECTOR },
		{ "write at sector 2^55 (2^64 bytes)", VIRTIO_BLK_T_OUT, 1ULL << 55, SECTOR },
		/* 5.2.6.1: data of IN and OUT is whole sectors. */
		{ "read of 1000 bytes", VIRTIO_BLK_T_IN, 0, 1000 },
		{ "write of 513 bytes", VIRTIO_BLK_T_OUT, IMAGE_SIZE / SECTOR - 2, 513 },
	};

	image_write(img, last * SECTOR, tail, SECTOR);
	vd = start_with_disk(f, img, NULL);
	blk_init(vd, 1, 0);
	buf = guest_pattern(vd, 2 * SECTOR, 42);

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		print_message("guest asks for a %s\n", refused[i].what);
		assert_int_equal(blk_io(vd, refused[i].type, refused[i].sector, buf, refused[i].len, 1, NULL),
				 VIRTIO_BLK_S_IOERR);
	}
	print_message("guest discards and zeroes past the end\n");
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, last, 2, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, sectors, 1, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_WRITE_ZEROES, 0, UINT32_MAX, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_range(vd, VIRTIO_BLK_T_DISCARD, UINT64_MAX - 1, 4, 0), VIRTIO_BLK_S_IOERR);

	/* The file neither grew nor lost its last sector. */
	assert_int_equal(image_size(img), IMAGE_SIZE);
	seen = image_read(img, last * SECTOR, SECTOR);
	assert_memory_equal(seen, tail, SECTOR);
	free(seen);

	/* The last sector itself is part of the disk. */
	buf = guest_filled(vd, SECTOR, 0x5a);
	read_ok(vd, last, buf, SECTOR, 1);
	assert_memory_equal(ram(vd, buf, SECTOR), tail, SECTOR);
	free(tail);
}

static void test_unknown_request_types_are_unsupported(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	struct guest_virtio *vd = start_with_disk(f, img, NULL);
	static const uint32_t types[] = {
		99,
		2,				/* legacy SCSI_CMD: VIRTIO_BLK_F_SCSI is not offered */
		VIRTIO_BLK_T_GET_LIFETIME,	/* VIRTIO_BLK_F_LIFETIME is not offered */
		VIRTIO_BLK_T_SECURE_ERASE,	/* VIRTIO_BLK_F_SECURE_ERASE is not offered */
		VIRTIO_BLK_T_ZONE_REPORT,	/* 5.2.6.2: MUST be UNSUPP without VIRTIO_BLK_F_ZONED */
	};
	uint32_t used_len;

	blk_init(vd, 1, 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		print_message("guest sends a request of type %u\n", types[i]);
		assert_int_equal(blk_io(vd, types[i], 0, guest_filled(vd, 4096, 0), 4096, 1, &used_len),
				 VIRTIO_BLK_S_UNSUPP);
		assert_true(used_len >= 1);
	}
	/* The disk goes on. */
	read_ok(vd, 0, guest_filled(vd, 4096, 0), 4096, 1);
}

static void test_two_queues_serve_interleaved_requests(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int per_queue = 16, n = 2 * per_queue;
	const uint32_t len = 16 * KiB;
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *vd = start_with_disk(f, img, "queues=2");
	uint64_t bufs[32];

	assert_int_equal(guest_virtio_config_read(vd, CFG_NUM_QUEUES, 2), 2);
	blk_init(vd, 2, 0);
	assert_true(vd->driver_features & BIT(VIRTIO_BLK_F_MQ));

	/* Writes, alternating queue 0 and queue 1, each to its own 16 KiB; then one kick each. */
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_OUT, 4096 + i * (len / SECTOR),
			      guest_pattern(vd, len, 100 + i), len, 4);
		submit(vd, (uint16_t)(i % 2), &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	guest_virtio_kick(vd, 1);
	wait_done(vd, reqs, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);

	/* Reads the other way round: request i on queue (i + 1) % 2. */
	for (unsigned int i = 0; i < n; i++) {
		bufs[i] = guest_filled(vd, len, 0x5a);
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, 4096 + i * (len / SECTOR), bufs[i], len, 4);
		submit(vd, (uint16_t)((i + 1) % 2), &reqs[i]);
		if (i % 4 == 3) {
			guest_virtio_kick(vd, 0);
			guest_virtio_kick(vd, 1);
		}
	}
	wait_done(vd, reqs, n);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *expected = pattern(len, 100 + i);

		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_int_equal(reqs[i].used_len, len + 1);
		assert_memory_equal(ram(vd, bufs[i], len), expected, len);
		free(expected);
	}
	free(reqs);
}

/*
 * An O_DIRECT read from the image straight into guest RAM, as a daemon
 * without bounce buffers would do, fails with EFAULT. False if the image's
 * file system does not really do direct I/O (tmpfs copies), so nothing can
 * be shown there.
 */
static bool direct_io_into_guest_ram_fails(struct fixture *f, struct image *img)
{
	void *guest = sim_hv_guest_ram(f->hv, RAM_BASE + RAM_SIZE - 8192, 4096);
	int fd = open(img->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	uint8_t block[4096];

	assert_true(fd >= 0);
	/* Real blocks, not a hole: a hole is zero-filled by copying, which would succeed. */
	memset(block, 0x33, sizeof(block));
	assert_int_equal(pwrite(img->fd, block, sizeof(block), 0), (ssize_t)sizeof(block));
	assert_int_equal(fdatasync(img->fd), 0);
	errno = 0;
	if (pread(fd, guest, 4096, 0) == 4096) {
		close(fd);
		return false;
	}
	assert_int_equal(errno, EFAULT);
	close(fd);
	return true;
}

static void test_direct_io_keeps_data_intact(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const uint32_t len = 64 * KiB;
	uint8_t *expected = pattern(len, 51), *on_disk;
	struct guest_virtio *vd = start_with_disk(f, img, "direct=on");
	uint32_t blk_size;
	uint64_t out, in;

	/*
	 * The point of the bounce buffers: like Xen's foreign mappings, the
	 * simulated guest RAM refuses O_DIRECT into it. Show the refusal is
	 * really there, or this test would prove nothing.
	 */
	if (!sim_hv_guest_ram_refuses_direct_io(f->hv) || !direct_io_into_guest_ram_fails(f, img))
		skip();

	blk_init(vd, 1, 0);
	/* 5.2.4: blk_size is the alignment O_DIRECT wants; the protocol stays in 512-byte sectors. */
	blk_size = guest_virtio_config_read(vd, CFG_BLK_SIZE, 4);
	assert_true(blk_size >= SECTOR && blk_size <= 4096 && !(blk_size & (blk_size - 1)));

	/* Guest buffers at odd addresses, in uneven pieces: the daemon copies through its own. */
	out = alloc(vd, len + 4096, 4096) + 100;
	memcpy(ram(vd, out, len), expected, len);
	in = alloc(vd, len + 4096, 4096) + 37;
	memset(ram(vd, in, len), 0x5a, len);
	write_ok(vd, 2048, out, len, 5);
	read_ok(vd, 2048, in, len, 3);
	assert_memory_equal(ram(vd, in, len), expected, len);
	on_disk = image_read(img, 2048ULL * SECTOR, len);
	assert_memory_equal(on_disk, expected, len);
	free(on_disk);

	/* One sector at an odd sector number: still a disk of 512-byte sectors. */
	write_ok(vd, 3001, out, SECTOR, 1);
	in = guest_filled(vd, SECTOR, 0x5a);
	read_ok(vd, 3001, in, SECTOR, 1);
	assert_memory_equal(ram(vd, in, SECTOR), expected, SECTOR);
	on_disk = image_read(img, 3001ULL * SECTOR, SECTOR);
	assert_memory_equal(on_disk, expected, SECTOR);
	free(on_disk);
	free(expected);
}

static void test_two_disks_sharing_one_line_lose_no_completion(void **state)
{
	struct fixture *f = *state;
	struct image *a = image_create(f, 0, IMAGE_SIZE), *b = image_create(f, 1, IMAGE_SIZE);
	const char *const args[] = { "--device", disk_spec(f, a, "addr=1"),
				     "--device", disk_spec(f, b, "addr=5"), NULL };
	const unsigned int per_disk = 64, n = 2 * per_disk;
	const uint32_t len = 8 * KiB;
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *devs[2] = { &f->disk[0], &f->disk[1] };
	uint64_t bufs[128];

	start_with_disks(f, args, 2);
	/* Devices 1 and 5 with INTA: (1 + 0) % 4 == (5 + 0) % 4, both on SPI 45. */
	assert_int_equal(devs[0]->fn.devfn, 1 << 3);
	assert_int_equal(devs[1]->fn.devfn, 5 << 3);
	assert_int_equal(devs[0]->spi, INTX_SPI_BASE + 1);
	assert_int_equal(devs[1]->spi, devs[0]->spi);
	blk_init(devs[0], 1, 0);
	blk_init(devs[1], 1, 0);

	/* 64 writes in flight on each disk before the guest handles anything. */
	for (unsigned int i = 0; i < n; i++) {
		struct guest_virtio *vd = devs[i / per_disk];

		request_build(vd, &reqs[i], VIRTIO_BLK_T_OUT, (i % per_disk) * (len / SECTOR),
			      guest_pattern(vd, len, 200 + i), len, 2);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(devs[0], 0);
	guest_virtio_kick(devs[1], 0);
	wait_done_shared(devs, 2, reqs, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(request_status(devs[i / per_disk], &reqs[i]), VIRTIO_BLK_S_OK);

	/* And 64 reads on each, interleaved between the disks. */
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = (k % 2) * per_disk + k / 2;
		struct guest_virtio *vd = devs[i / per_disk];

		bufs[i] = guest_filled(vd, len, 0x5a);
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, (i % per_disk) * (len / SECTOR), bufs[i], len, 2);
		submit(vd, 0, &reqs[i]);
		if (k % 16 == 15) {
			guest_virtio_kick(devs[0], 0);
			guest_virtio_kick(devs[1], 0);
		}
	}
	wait_done_shared(devs, 2, reqs, n);

	for (unsigned int i = 0; i < n; i++) {
		struct guest_virtio *vd = devs[i / per_disk];
		const struct image *img = i < per_disk ? a : b;
		uint8_t *expected = pattern(len, 200 + i);
		uint8_t *on_disk = image_read(img, (uint64_t)(i % per_disk) * len, len);

		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_memory_equal(ram(vd, bufs[i], len), expected, len);
		assert_memory_equal(on_disk, expected, len);
		free(on_disk);
		free(expected);
	}
	/*
	 * The last completion's interrupt may come just after its used entry,
	 * which the guest already took: one more read of each ISR takes it.
	 * Then every ISR on the line reads zero and the line is down.
	 */
	usleep(50000);	/* the pass that pushed it ends; waiting longer changes nothing */
	guest_virtio_read_isr(devs[0]);
	guest_virtio_read_isr(devs[1]);
	assert_int_equal(guest_virtio_read_isr(devs[0]), 0);
	assert_int_equal(guest_virtio_read_isr(devs[1]), 0);
	assert_int_equal(sim_hv_irq_level(f->hv, devs[0]->spi), 0);
	free(reqs);
}

/* Write, then read back through the device, 4 requests of 16 KiB: the disk works. */
static void disk_works(struct guest_virtio *vd, uint64_t sector, uint32_t seed)
{
	const uint32_t len = 16 * KiB;
	struct blk_request reqs[4];
	uint64_t bufs[4];

	for (unsigned int i = 0; i < 4; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_OUT, sector + i * (len / SECTOR),
			      guest_pattern(vd, len, seed + i), len, 2);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, 4);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		bufs[i] = guest_filled(vd, len, 0x5a);
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, sector + i * (len / SECTOR), bufs[i], len, 2);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, 4);
	for (unsigned int i = 0; i < 4; i++) {
		uint8_t *expected = pattern(len, seed + i);

		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_memory_equal(ram(vd, bufs[i], len), expected, len);
		free(expected);
	}
}

static void test_direct_io_bounce_memory_is_bounded(void **state)
{
	struct fixture *f = *state;
	const unsigned int n = 2, pieces = 32;
	const uint64_t size = (uint64_t)pieces * SIZE_MAX_BYTES;
	struct image *img = image_create(f, 0, size);
	uint8_t *tail = pattern(SIZE_MAX_BYTES, 57);
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *vd;
	uint64_t before, after, buf;
	pid_t daemon;

	f->as_root = true;	/* more than 8 MiB of secret RAM mapped */

	/* A sparse 512 MiB image whose last 16 MiB hold a pattern. */
	image_write(img, size - SIZE_MAX_BYTES, tail, SIZE_MAX_BYTES);
	vd = start_with_disk(f, img, "direct=on");
	daemon = sim_hv_daemon_pid(f->hv);
	blk_init(vd, 1, 0);
	disk_works(vd, 0, 58);
	before = process_status_kib(daemon, "VmHWM");

	/*
	 * A 64 MiB guest could ask this: reads of the whole image, each as 32
	 * buffers that are all the same 16 MiB of its RAM, every request at once.
	 * The bounce memory for them comes from the device's budget.
	 */
	buf = guest_filled(vd, SIZE_MAX_BYTES, 0x5a);
	for (unsigned int i = 0; i < n; i++) {
		request_begin(vd, &reqs[i], VIRTIO_BLK_T_IN, 0);
		for (unsigned int p = 0; p < pieces; p++)
			add_buf(&reqs[i], buf, SIZE_MAX_BYTES, true);
		request_end(vd, &reqs[i]);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, n);
	after = process_status_kib(daemon, "VmHWM");
	print_message("peak RSS %llu KiB before, %llu KiB after %u reads of 512 MiB\n",
		      (unsigned long long)before, (unsigned long long)after, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_int_equal(reqs[i].used_len, size + 1);
	}
	/* The buffer holds the last piece read: the image's last 16 MiB. */
	assert_memory_equal(ram(vd, buf, SIZE_MAX_BYTES), tail, SIZE_MAX_BYTES);
	/* The default budget (16 MiB), the guest buffer the daemon wrote (16 MiB), and some slack. */
	assert_true(after - before < 64 * 1024);
	free(reqs);
	free(tail);
}

static void test_direct_io_larger_than_the_bounce_budget_goes_in_chunks(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int n = 8;
	const uint32_t len = 4u << 20, small = 256 * KiB;
	uint8_t *expected = pattern(len, 59), *on_disk;
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *vd;
	uint64_t out, in, bufs;

	f->as_root = true;	/* more than 8 MiB of secret RAM mapped */

	refused_at_start(f, img, "direct=on,bounce-budget=32K", "64K to 1G");
	refused_at_start(f, img, "direct=on,bounce-budget=2G", "64K to 1G");
	vd = start_with_disk(f, img, "direct=on,bounce-budget=64K");
	blk_init(vd, 1, 0);
	/* 4 MiB through a 64 KiB budget, from and to odd addresses in uneven buffers. */
	out = alloc(vd, len + 4096, 4096) + 100;
	memcpy(ram(vd, out, len), expected, len);
	write_ok(vd, 2048, out, len, 7);
	on_disk = image_read(img, 2048ULL * SECTOR, len);
	assert_memory_equal(on_disk, expected, len);
	free(on_disk);
	in = alloc(vd, len + 4096, 4096) + 37;
	memset(ram(vd, in, len), 0x5a, len);
	read_ok(vd, 2048, in, len, 5);
	assert_memory_equal(ram(vd, in, len), expected, len);

	/* Eight requests at once, each larger than the budget: they wait for each other. */
	bufs = guest_filled(vd, n * small, 0x5a);
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, 2048 + i * (small / SECTOR),
			      bufs + (uint64_t)i * small, small, 3);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
	assert_memory_equal(ram(vd, bufs, n * small), expected, n * small);
	free(reqs);
	free(expected);
}

static void test_the_advertised_limits_are_served(void **state)
{
	struct fixture *f = *state;
	const uint64_t size = 2ULL * SIZE_MAX_BYTES;
	struct image *img = image_create(f, 0, size);
	uint8_t *content = pattern(size, 95);
	struct guest_virtio *vd;
	uint32_t seg_max, len;
	struct blk_request *req = malloc(sizeof(*req));
	uint64_t buf;

	f->as_root = true;	/* more than 8 MiB of secret RAM mapped */

	image_write(img, 0, content, size);
	vd = start_with_disk(f, img, "queue-size=2048");
	assert_int_equal(queue_max_size(f, vd, 0), 2048);
	blk_init(vd, 1, 2048);

	/* 5.2.4: the largest single buffer the device takes, offered as size_max. */
	assert_true(vd->driver_features & BIT(VIRTIO_BLK_F_SIZE_MAX));
	assert_int_equal(guest_virtio_config_read(vd, CFG_SIZE_MAX, 4), SIZE_MAX_BYTES);
	buf = guest_filled(vd, SIZE_MAX_BYTES, 0x5a);
	read_ok(vd, 8, buf, SIZE_MAX_BYTES, 1);
	assert_memory_equal(ram(vd, buf, SIZE_MAX_BYTES), content + 8 * SECTOR, SIZE_MAX_BYTES);

	/* seg_max data buffers of one sector each, in one indirect table: served (5.2.6). */
	seg_max = guest_virtio_config_read(vd, CFG_SEG_MAX, 4);
	print_message("queue size 2048: seg_max %u\n", seg_max);
	assert_true(seg_max >= 1 && seg_max <= 2048 - 2);
	len = seg_max * SECTOR;
	buf = guest_filled(vd, len, 0x5a);
	vd->use_indirect = true;
	request_build(vd, req, VIRTIO_BLK_T_IN, 100, buf, len, seg_max);
	assert_int_equal(run(vd, 0, req), VIRTIO_BLK_S_OK);
	assert_int_equal(req->used_len, len + 1);
	assert_memory_equal(ram(vd, buf, len), content + 100 * SECTOR, len);
	assert_false(guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET);

	/* A driver that took SIZE_MAX and sends a larger buffer broke the rule: DEVICE_NEEDS_RESET. */
	{
		request_build(vd, req, VIRTIO_BLK_T_IN, 0, guest_filled(vd, SIZE_MAX_BYTES + 4096, 0),
			      SIZE_MAX_BYTES + 4096, 1);
		submit(vd, 0, req);
		guest_virtio_kick(vd, 0);
		assert_true(guest_virtio_wait_isr(vd, ISR_CONFIG, WAIT_MS) & ISR_CONFIG);
		assert_true(guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET);
	}
	free(req);
	free(content);
}

/* The daemon's peak RSS and data size (KiB) once the guest used a disk of @options. */
static void daemon_memory(struct fixture *f, struct image *img, const char *options,
			  uint64_t *peak, uint64_t *data)
{
	struct guest_virtio *vd = start_with_disk(f, img, options);
	pid_t daemon = sim_hv_daemon_pid(f->hv);

	blk_init(vd, 2, 0);
	disk_works(vd, 0, 98);
	*peak = process_status_kib(daemon, "VmHWM");
	*data = process_status_kib(daemon, "VmData");
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

static void test_the_largest_queue_size_costs_little_memory(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	uint64_t peak_256, data_256, peak_32768, data_32768;
	struct guest_virtio *vd;

	/* 2.7: 32768 entries is legal; the guest takes 2048 of them and uses the disk. */
	vd = start_with_disk(f, img, "queue-size=32768");
	assert_int_equal(queue_max_size(f, vd, 0), 32768);
	blk_init(vd, 2, 2048);
	disk_works(vd, 0, 98);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);

	/* Per-request state is sized by what a request holds, not by the queue size. */
	daemon_memory(f, img, "queue-size=256", &peak_256, &data_256);
	daemon_memory(f, img, "queue-size=32768", &peak_32768, &data_32768);
	print_message("two queues of 256: peak RSS %llu KiB, data %llu KiB; of 32768: %llu KiB, %llu KiB\n",
		      (unsigned long long)peak_256, (unsigned long long)data_256,
		      (unsigned long long)peak_32768, (unsigned long long)data_32768);
	assert_true(peak_32768 < peak_256 + 16 * 1024);
	assert_true(data_32768 < data_256 + 16 * 1024);
}

static void test_a_queue_too_small_for_a_request_is_refused(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	static const char *const sizes[] = { "queue-size=1", "queue-size=2" };

	/* 5.2.6: a request is a header, data and a status byte: a chain of at least 3 (2.7.5.3.1). */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		refused_at_start(f, img, sizes[i], "at least 4");
	/* The smallest that works. */
	{
		const char *const args[] = { "--device", disk_spec(f, img, "queue-size=4"), NULL };

		start_with_disks(f, args, 1);
		blk_init(&f->disk[0], 1, 0);
		assert_int_equal(guest_virtio_config_read(&f->disk[0], CFG_SEG_MAX, 4), 2);
		disk_works(&f->disk[0], 0, 97);
	}
}

/* A reset while 32 reads of 64 KiB are in flight on a disk with @options; then the disk works. */
static void reset_with_reads_in_flight(struct fixture *f, const char *options)
{
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int n = 32;
	const uint32_t len = 64 * KiB;
	uint8_t *content = pattern(n * len, 61), *buffers_at_reset = malloc(n * len);
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	uint16_t *old_used_idx, used_at_reset;
	uint8_t statuses_at_reset[32];
	struct guest_virtio *vd;
	uint64_t bufs;

	image_write(img, 0, content, n * len);
	/*
	 * O_DIRECT reads go to the disk and are still in the kernel when the
	 * reset arrives; buffered ones would be served from the page cache
	 * as they are submitted.
	 */
	vd = start_with_disk(f, img, options);
	blk_init(vd, 1, 0);

	/* 32 reads of 64 KiB, into buffers full of 0xaa; the kick; and at once a reset. */
	bufs = guest_filled(vd, n * len, 0xaa);
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, i * (len / SECTOR), bufs + (uint64_t)i * len,
			      len, 4);
		submit(vd, 0, &reqs[i]);
	}
	guest_virtio_kick(vd, 0);
	/* 4.1.4.3.2: writing 0 resets; the device is done with the rings when it reads back 0. */
	assert_int_equal(guest_virtio_reset(vd), 0);
	old_used_idx = (uint16_t *)ram(vd, vd->queues[0].used_gpa + 2, 2);
	used_at_reset = __atomic_load_n(old_used_idx, __ATOMIC_ACQUIRE);
	memcpy(buffers_at_reset, ram(vd, bufs, n * len), n * len);
	for (unsigned int i = 0; i < n; i++)
		statuses_at_reset[i] = request_status(vd, &reqs[i]);
	print_message("%u of %u reads had completed at the reset\n", le16toh(used_at_reset), n);

	/* From scratch with new rings: the disk reads and writes correctly. */
	blk_init(vd, 1, 0);
	disk_works(vd, 8192, 62);
	disk_works(vd, 8192 + 256, 66);

	/*
	 * 2.4.1: after the reset read back 0, the device no longer touches the
	 * old queue: no used entry, no status, no data in the old buffers.
	 */
	assert_int_equal(__atomic_load_n(old_used_idx, __ATOMIC_ACQUIRE), used_at_reset);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(request_status(vd, &reqs[i]), statuses_at_reset[i]);
	assert_memory_equal(ram(vd, bufs, n * len), buffers_at_reset, n * len);
	/* Whatever had completed carried the image's bytes. */
	for (unsigned int i = 0; i < n; i++)
		if (statuses_at_reset[i] == VIRTIO_BLK_S_OK)
			assert_memory_equal(buffers_at_reset + (size_t)i * len, content + (size_t)i * len, len);
	free(reqs);
	free(buffers_at_reset);
	free(content);
}

/* An image of @size bytes holding @seed's pattern, on the disk and not in the page cache. */
static struct image *cold_image(struct fixture *f, unsigned int index, uint64_t size, uint32_t seed)
{
	struct image *img = image_create(f, index, size);
	uint8_t *content = pattern(size, seed);

	image_write(img, 0, content, size);
	free(content);
	/* Reads must go to the disk: written back, then dropped from the cache. */
	assert_int_equal(fdatasync(img->fd), 0);
	assert_int_equal(posix_fadvise(img->fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	return img;
}

static void test_reset_with_reads_in_flight_then_reinitialise(void **state)
{
	reset_with_reads_in_flight(*state, "direct=on");
}

static void test_reset_with_reads_waiting_for_bounce_memory(void **state)
{
	/* 64 KiB of bounce memory: one read at a time, the other 31 wait for it when the reset comes. */
	reset_with_reads_in_flight(*state, "direct=on,bounce-budget=64K");
}

static void test_reset_written_twice_still_waits_for_the_read_in_flight(void **state)
{
	struct fixture *f = *state;
	const uint32_t len = 64u << 20;
	struct image *img = cold_image(f, 0, len, 91);
	struct guest_virtio *vd = start_with_disk(f, img, NULL);
	uint64_t deadline, buf;
	unsigned int polls = 0;
	struct blk_request req;
	uint8_t *at_zero;

	blk_init(vd, 1, 0);
	/* A 64 MiB read from the disk, straight into guest RAM (no direct=on): four 16 MiB buffers. */
	buf = guest_filled(vd, len, 0xaa);
	request_build(vd, &req, VIRTIO_BLK_T_IN, 0, buf, len, 4);
	submit(vd, 0, &req);
	guest_virtio_notify(vd, 0);

	/*
	 * 4.1.4.3.2: the reset is complete when device_status reads 0, however
	 * often the driver wrote 0; until then the device may still write the
	 * buffers, afterwards it must not (the guest reuses them).
	 */
	guest_virtio_set_status(vd, 0);
	guest_virtio_set_status(vd, 0);
	deadline = now_ms() + WAIT_MS;
	while (guest_virtio_get_status(vd) != 0) {
		assert_true(now_ms() < deadline);
		polls++;
	}
	at_zero = malloc(len);
	assert_non_null(at_zero);
	memcpy(at_zero, ram(vd, buf, len), len);
	print_message("device_status read non-zero %u times after the second write of 0\n", polls);

	/* Once the daemon is gone, nothing of it can still be in flight: the buffer did not change. */
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	if (memcmp(ram(vd, buf, len), at_zero, len))
		fail_msg("the device wrote guest memory after device_status read 0");
	free(at_zero);
}

static void test_requests_added_during_io_complete(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int n = 64;
	const uint32_t len = 32 * KiB;
	uint8_t *content = pattern(n * len, 81);
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *vd;
	struct guest_virtq *q;
	uint64_t bufs;

	f->as_root = true;	/* more than 8 MiB of secret RAM mapped */

	image_write(img, 0, content, n * len);
	/* O_DIRECT keeps earlier reads in flight while the guest adds more. */
	vd = start_with_disk(f, img, "direct=on");
	blk_init(vd, 1, 0);
	q = &vd->queues[0];

	/*
	 * As a Linux guest under load: a request, a kick decision, another
	 * request...; now and then it takes what has completed. While it has
	 * I/O in flight the device may say it needs no kick (2.7.10); it must
	 * then find the new requests by itself.
	 */
	bufs = guest_filled(vd, n * len, 0x5a);
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, i * (len / SECTOR), bufs + (uint64_t)i * len,
			      len, 2);
		submit(vd, 0, &reqs[i]);
		guest_virtio_kick(vd, 0);
		if (i % 8 == 7) {
			guest_virtio_read_isr(vd);
			drain(vd);
		}
	}
	wait_done(vd, reqs, n);
	print_message("%llu kicks written, %llu found unnecessary\n", (unsigned long long)q->kicks,
		      (unsigned long long)q->kicks_suppressed);
	assert_int_equal(q->kicks + q->kicks_suppressed, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_int_equal(reqs[i].used_len, len + 1);
	}
	assert_memory_equal(ram(vd, bufs, n * len), content, n * len);
	free(reqs);
	free(content);
}

/* ---- malformed requests: protocol violations, not I/O errors */

static void header_of_8_bytes(struct guest_virtio *vd, struct blk_request *req)
{
	memset(req, 0, sizeof(*req));
	req->header_gpa = write_header(vd, VIRTIO_BLK_T_IN, 0);
	add_buf(req, req->header_gpa, 8, false);
	add_buf(req, guest_filled(vd, 4096, 0), 4096, true);
	request_end(vd, req);
}

static void no_writable_status(struct guest_virtio *vd, struct blk_request *req)
{
	memset(req, 0, sizeof(*req));
	req->header_gpa = write_header(vd, VIRTIO_BLK_T_OUT, 0);
	add_buf(req, req->header_gpa, HEADER_BYTES, false);
	add_buf(req, guest_pattern(vd, 4096, 71), 4096, false);
}

static void header_in_a_writable_buffer(struct guest_virtio *vd, struct blk_request *req)
{
	memset(req, 0, sizeof(*req));
	req->header_gpa = write_header(vd, VIRTIO_BLK_T_IN, 0);
	add_buf(req, req->header_gpa, HEADER_BYTES, true);
	request_end(vd, req);
}

static const struct {
	const char *what;
	void (*build)(struct guest_virtio *vd, struct blk_request *req);
} malformations[] = {
	{ "request whose header is 8 bytes", header_of_8_bytes },
	{ "write with no device-writable status byte", no_writable_status },
	{ "request whose header is device-writable", header_in_a_writable_buffer },
};

static void test_malformed_requests_need_a_reset_and_the_other_disk_goes_on(void **state)
{
	struct fixture *f = *state;
	struct image *a = image_create(f, 0, IMAGE_SIZE), *b = image_create(f, 1, IMAGE_SIZE);
	const char *const args[] = { "--device", disk_spec(f, a, "addr=1"),
				     "--device", disk_spec(f, b, "addr=2"), NULL };
	struct guest_virtio *broken = &f->disk[0], *healthy = &f->disk[1];
	uint8_t *untouched = calloc(1, 4096), *on_disk;
	struct blk_request req;

	start_with_disks(f, args, 2);
	assert_int_not_equal(broken->spi, healthy->spi);
	blk_init(healthy, 1, 0);
	for (size_t m = 0; m < sizeof(malformations) / sizeof(malformations[0]); m++) {
		blk_init(broken, 1, 0);
		disk_works(broken, 100, 300 + (uint32_t)m);
		print_message("guest sends a %s\n", malformations[m].what);
		malformations[m].build(broken, &req);
		submit(broken, 0, &req);
		guest_virtio_kick(broken, 0);

		/* 2.1.2: DEVICE_NEEDS_RESET, announced by a configuration change interrupt. */
		assert_true(guest_virtio_wait_isr(broken, ISR_CONFIG, WAIT_MS) & ISR_CONFIG);
		assert_true(guest_virtio_get_status(broken) & VIRTIO_STATUS_NEEDS_RESET);

		/* Nothing else stops: the other disk serves I/O. */
		disk_works(healthy, 200 + 64 * (uint64_t)m, 400 + (uint32_t)m);
	}
	/* A reset brings the broken disk back, and no malformed write reached its image. */
	blk_init(broken, 1, 0);
	disk_works(broken, 500, 500);
	on_disk = image_read(a, 0, 4096);
	assert_memory_equal(on_disk, untouched, 4096);
	free(on_disk);
	free(untouched);
	assert_int_equal(f->pci.errors, 0);
}

/* Start the other guest's daemon with @args: it must stop at once, status 2, naming @path and @why. */
static void other_guest_refused(struct fixture *f, const char *const args[], const char *path,
				const char *why)
{
	const char *log;

	assert_int_equal(sim_hv_start_daemon(f->other_hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->other_hv, WAIT_MS), 2);
	log = sim_hv_daemon_log(f->other_hv);
	if (!strstr(log, path) || !strstr(log, why))
		fail_msg("the refusal does not name '%s' and '%s'; the log:\n%s", path, why, log);
}

static void test_an_image_in_use_or_missing_is_refused(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const char *const args[] = { "--device", disk_spec(f, img, NULL), NULL };
	const char *const readonly_args[] = { "--device", disk_spec(f, img, "readonly=on"), NULL };
	char missing[64], missing_spec[96];
	const char *const missing_args[] = { "--device", missing_spec, NULL };
	struct guest_virtio *vd;
	int fd;

	vd = start_with_disk(f, img, NULL);
	blk_init(vd, 1, 0);

	/* A second guest configured with the same image, read-write or read-only: refused. */
	f->other_hv = sim_hv_create(&(struct sim_hv_config){ .domid = 2, .nr_vcpus = 1 });
	other_guest_refused(f, args, img->path, "locked");
	other_guest_refused(f, readonly_args, img->path, "locked");

	/* The first guest's disk did not notice. */
	disk_works(vd, 0, 600);

	/* An image that does not exist. */
	strcpy(missing, "/tmp/xvp-blk-missing-XXXXXX");
	fd = mkstemp(missing);
	assert_true(fd >= 0);
	close(fd);
	unlink(missing);
	snprintf(missing_spec, sizeof(missing_spec), "blk,path=%s", missing);
	other_guest_refused(f, missing_args, missing, "No such file");

	/* Once the writer is gone, two guests may share the image read-only. */
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), readonly_args), 0);
	assert_int_equal(sim_hv_start_daemon(f->other_hv, sim_daemon_path(), readonly_args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS) || sim_hv_wait_serving(f->other_hv, WAIT_MS))
		fail_msg("read-only sharing refused; the logs:\n%s\n%s", sim_hv_daemon_log(f->hv),
			 sim_hv_daemon_log(f->other_hv));
}

static void test_a_full_ring_of_requests_completes(void **state)
{
	struct fixture *f = *state;
	struct image *img = image_create(f, 0, IMAGE_SIZE);
	const unsigned int n = 256;
	const uint32_t len = 4 * KiB;
	struct blk_request *reqs = calloc(n, sizeof(*reqs));
	struct guest_virtio *vd = start_with_disk(f, img, "queue-size=256");
	uint64_t bufs;

	blk_init(vd, 1, 256);
	assert_true(vd->use_indirect);

	/* 256 writes, one indirect descriptor each: the ring is full, then one kick. */
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_OUT, (uint64_t)i * (len / SECTOR),
			      guest_pattern(vd, len, 700 + i), len, 1);
		submit(vd, 0, &reqs[i]);
	}
	assert_int_equal(vd->queues[0].num_free, 0);
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);

	/* 256 reads of it, the ring indices now past one wrap. */
	bufs = guest_filled(vd, n * len, 0x5a);
	for (unsigned int i = 0; i < n; i++) {
		request_build(vd, &reqs[i], VIRTIO_BLK_T_IN, (uint64_t)i * (len / SECTOR),
			      bufs + (uint64_t)i * len, len, 1);
		submit(vd, 0, &reqs[i]);
	}
	assert_int_equal(vd->queues[0].num_free, 0);
	guest_virtio_kick(vd, 0);
	wait_done(vd, reqs, n);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *expected = pattern(len, 700 + i);

		assert_int_equal(request_status(vd, &reqs[i]), VIRTIO_BLK_S_OK);
		assert_memory_equal(ram(vd, bufs + (uint64_t)i * len, len), expected, len);
		free(expected);
	}
	assert_int_equal(vd->queues[0].num_free, 256);
	free(reqs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_finds_the_disk_and_reads_its_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_writes_land_in_the_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_reads_what_the_image_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_descriptor_layout_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_id_returns_the_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_and_write_zeroes_leave_zeros, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes_without_zero_range_still_zeroes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_disk_serves_every_request_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nbd_disk_on_qemu_storage_daemon_over_tcp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_read_only_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nbd_server_gone_fails_requests_after_the_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_server_killed_and_restarted_under_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_server_closing_mid_reply_costs_a_reconnect_not_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nbd_server_answering_garbage_is_an_io_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_disk_over_tls_with_a_psk_reconnects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_without_a_server_is_refused_at_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nbd_export_of_partial_sectors_is_rounded_down, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readonly_disk_refuses_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_outside_the_disk_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_request_types_are_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_queues_serve_interleaved_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_io_keeps_data_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_io_bounce_memory_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_io_larger_than_the_bounce_budget_goes_in_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_disks_sharing_one_line_lose_no_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_advertised_limits_are_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_queue_too_small_for_a_request_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_largest_queue_size_costs_little_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_reads_in_flight_then_reinitialise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_reads_waiting_for_bounce_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_written_twice_still_waits_for_the_read_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_added_during_io_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests_need_a_reset_and_the_other_disk_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_image_in_use_or_missing_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_full_ring_of_requests_completes, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio-blk through the daemon", tests, NULL, NULL);
}
