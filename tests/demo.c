// SPDX-License-Identifier: MIT
/*
 * tests/demo.c: `make demo`. Runs the daemon (its simulated-hypervisor
 * build) against a simulated Xen guest with 2 vCPUs; the guest enumerates
 * the PCI bus like Linux and prints what it finds, reads entropy from each
 * virtio-rng function, and writes 1 MiB to a virtio-blk disk backed by an
 * image file, flushes, reads it back and asks for the disk's serial; then
 * the daemon is stopped with SIGTERM, the demo shows it left nothing
 * registered in Xen, and that the image file holds what the guest wrote.
 */
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE 0x10000000ULL
#define ECAM_SIZE 0x10000000ULL
#define RAM_BASE 0x40000000ULL
#define MMIO64_BASE 0x100000000ULL
#define INTX_SPI 44
#define RNG_DEVICE_ID 0x1044
#define BLK_DEVICE_ID 0x1042
#define ENTROPY_BYTES 64
#define BAR_STRIDE 0x100000ULL

/* The disk: an 8 MiB image; the guest writes 1 MiB at sector 2048 in 8 requests of 128 KiB. */
#define IMAGE_BYTES (8u << 20)
#define SECTOR 512u
#define DISK_SECTOR 2048u
#define DISK_BYTES (1u << 20)
#define DISK_REQUESTS 8u
#define REQUEST_BYTES (DISK_BYTES / DISK_REQUESTS)
#define REQUEST_SEGMENTS 32u	/* 4 KiB pages, as a guest's page cache hands them over */
#define SERIAL "demo-disk"

/* Virtio 1.2, 5.2.6: request types, status, and the features a Linux guest takes. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_CFG_CAPACITY 0

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_function(struct guest_pci *pci, struct guest_pci_function *fn)
{
	guest_pci_size_bars(pci, fn);
	printf("  %02x:%02x.%x %s [%04x:%04x] rev %02x class %06x%s\n", fn->bus, fn->devfn >> 3,
	       fn->devfn & 7, guest_pci_class_name(fn->class_code), fn->vendor_id, fn->device_id,
	       fn->revision, fn->class_code, fn->interrupt_pin ? "" : ", no interrupt pin");
	for (int bar = 0; bar < 6; bar++)
		if (fn->bars[bar].size)
			printf("      BAR%d: %s%s memory, %llu KiB\n", bar,
			       fn->bars[bar].is_64bit ? "64-bit" : "32-bit",
			       fn->bars[bar].prefetchable ? " prefetchable" : "",
			       (unsigned long long)(fn->bars[bar].size >> 10));
}

/* Drive one virtio-rng as Linux would (virtio 1.2, 3.1.1) and print what it returns. */
static int read_entropy(struct guest_pci *pci, struct guest_pci_function *fn, struct guest_ram *ram,
			uint64_t bar)
{
	struct guest_virtio rng;
	struct guest_buf buf;
	unsigned long seen;
	uint8_t *bytes;
	void *token;
	uint32_t len;

	if (guest_virtio_probe(&rng, pci, fn, ram, bar, INTX_SPI) ||
	    guest_virtio_negotiate(&rng, 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC) ||
	    guest_virtio_setup_queue(&rng, 0, 0))
		return -1;
	guest_virtio_driver_ok(&rng);
	buf = (struct guest_buf){ guest_ram_alloc(ram, ENTROPY_BYTES, 64), ENTROPY_BYTES, true };
	seen = guest_virtio_interrupts(&rng);
	guest_virtio_add(&rng, 0, &buf, 1, &buf);
	guest_virtio_kick(&rng, 0);
	if (guest_virtio_wait_interrupt(&rng, seen, 10000))
		return -1;
	printf("  %02x:%02x.0 virtio-rng: interrupt on SPI %u, ISR 0x%x, features 0x%llx\n", fn->bus,
	       fn->devfn >> 3, rng.spi, guest_virtio_read_isr(&rng),
	       (unsigned long long)rng.driver_features);
	if (guest_virtio_get_used(&rng, 0, &len, &token) != 1)
		return -1;
	bytes = guest_ram_ptr(ram, buf.gpa, len);
	printf("      %u random bytes:", len);
	for (uint32_t i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n        ", bytes[i]);
	printf("\n");
	return 0;
}

/* The byte at offset @i of what the guest writes to the disk. */
static uint8_t disk_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + 1);
}

/* One virtio-blk request as the guest tracks it: where its header, data and status live. */
struct disk_request {
	struct guest_buf bufs[REQUEST_SEGMENTS + 2];
	unsigned int n;
	uint64_t status_gpa;
	bool done;
};

/* 5.2.6: header {le32 type, le32 reserved, le64 sector}, the data in @segments pieces, a status byte. */
static void disk_request(struct guest_ram *ram, struct disk_request *req, uint32_t type, uint64_t sector,
			 uint64_t data, uint32_t len, unsigned int segments)
{
	uint64_t header = guest_ram_alloc(ram, 16, 16);
	uint32_t le_type = htole32(type);
	uint64_t le_sector = htole64(sector);
	uint8_t *h = guest_ram_ptr(ram, header, 16);
	bool writable = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

	memset(req, 0, sizeof(*req));
	memcpy(h, &le_type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &le_sector, 8);
	req->bufs[req->n++] = (struct guest_buf){ header, 16, false };
	for (unsigned int i = 0; i < segments; i++)
		req->bufs[req->n++] = (struct guest_buf){ data + (uint64_t)i * (len / segments),
							  len / segments, writable };
	req->status_gpa = guest_ram_alloc(ram, 1, 1);
	*(uint8_t *)guest_ram_ptr(ram, req->status_gpa, 1) = 0xff;
	req->bufs[req->n++] = (struct guest_buf){ req->status_gpa, 1, true };
}

/*
 * Put @n requests in queue 0, notify the device if it asks for it, and
 * handle interrupts (read the ISR, drain the used ring) until all are back.
 * 0 if every one completed with VIRTIO_BLK_S_OK.
 */
static int disk_run(struct guest_virtio *blk, struct disk_request *reqs, unsigned int n)
{
	unsigned int done = 0;
	int failed = 0;

	for (unsigned int i = 0; i < n; i++)
		if (guest_virtio_add(blk, 0, reqs[i].bufs, reqs[i].n, &reqs[i]))
			return -1;
	guest_virtio_kick(blk, 0);
	while (done < n) {
		unsigned long seen = guest_virtio_interrupts(blk);
		struct disk_request *req;
		uint32_t len;

		guest_virtio_read_isr(blk);
		while (guest_virtio_get_used(blk, 0, &len, (void **)&req) == 1) {
			req->done = true;
			failed |= *(uint8_t *)guest_ram_ptr(blk->ram, req->status_gpa, 1) != VIRTIO_BLK_S_OK;
			done++;
		}
		if (done < n && !sim_hv_irq_level(blk->pci->hv, blk->spi) &&
		    guest_virtio_wait_interrupt(blk, seen, 10000))
			return -1;
	}
	return failed ? -1 : 0;
}

/* Drive the virtio-blk as Linux's virtio_blk would: write, flush, read back, GET_ID. */
static int use_disk(struct guest_pci *pci, struct guest_pci_function *fn, struct guest_ram *ram,
		    uint64_t bar)
{
	struct disk_request reqs[DISK_REQUESTS];
	struct guest_virtio blk;
	unsigned long interrupts;
	uint64_t out, in, id, capacity;
	uint8_t *bytes;
	char serial[VIRTIO_BLK_ID_BYTES + 1] = "";

	if (guest_virtio_probe(&blk, pci, fn, ram, bar, INTX_SPI) ||
	    guest_virtio_negotiate(&blk, 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC |
				   1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
				   1ULL << VIRTIO_BLK_F_FLUSH) ||
	    guest_virtio_setup_queue(&blk, 0, 0))
		return -1;
	guest_virtio_driver_ok(&blk);
	capacity = guest_virtio_config_read(&blk, VIRTIO_BLK_CFG_CAPACITY, 4) |
		   (uint64_t)guest_virtio_config_read(&blk, VIRTIO_BLK_CFG_CAPACITY + 4, 4) << 32;
	printf("  %02x:%02x.0 virtio-blk: %llu sectors (%llu MiB), SPI %u, %u-entry queue, features 0x%llx\n",
	       fn->bus, fn->devfn >> 3, (unsigned long long)capacity,
	       (unsigned long long)(capacity * SECTOR >> 20), blk.spi, blk.queues[0].size,
	       (unsigned long long)blk.driver_features);
	interrupts = guest_virtio_interrupts(&blk);

	out = guest_ram_alloc(ram, DISK_BYTES, 4096);
	in = guest_ram_alloc(ram, DISK_BYTES, 4096);
	id = guest_ram_alloc(ram, VIRTIO_BLK_ID_BYTES, 8);
	if (!out || !in || !id)
		return -1;
	bytes = guest_ram_ptr(ram, out, DISK_BYTES);
	for (size_t i = 0; i < DISK_BYTES; i++)
		bytes[i] = disk_byte(i);

	for (unsigned int i = 0; i < DISK_REQUESTS; i++)
		disk_request(ram, &reqs[i], VIRTIO_BLK_T_OUT, DISK_SECTOR + i * (REQUEST_BYTES / SECTOR),
			     out + (uint64_t)i * REQUEST_BYTES, REQUEST_BYTES, REQUEST_SEGMENTS);
	if (disk_run(&blk, reqs, DISK_REQUESTS))
		return -1;
	printf("      wrote %u KiB at sector %u: %u requests of %u x 4 KiB, all in flight at once\n",
	       DISK_BYTES >> 10, DISK_SECTOR, DISK_REQUESTS, REQUEST_SEGMENTS);

	disk_request(ram, &reqs[0], VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	if (disk_run(&blk, reqs, 1))
		return -1;
	printf("      flushed\n");

	for (unsigned int i = 0; i < DISK_REQUESTS; i++)
		disk_request(ram, &reqs[i], VIRTIO_BLK_T_IN, DISK_SECTOR + i * (REQUEST_BYTES / SECTOR),
			     in + (uint64_t)i * REQUEST_BYTES, REQUEST_BYTES, REQUEST_SEGMENTS);
	if (disk_run(&blk, reqs, DISK_REQUESTS))
		return -1;
	if (memcmp(guest_ram_ptr(ram, in, DISK_BYTES), bytes, DISK_BYTES)) {
		printf("      read back %u KiB: DIFFERENT from what was written\n", DISK_BYTES >> 10);
		return -1;
	}
	printf("      read back %u KiB in %u requests: identical\n", DISK_BYTES >> 10, DISK_REQUESTS);

	disk_request(ram, &reqs[0], VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, 1);
	if (disk_run(&blk, reqs, 1))
		return -1;
	memcpy(serial, guest_ram_ptr(ram, id, VIRTIO_BLK_ID_BYTES), VIRTIO_BLK_ID_BYTES);
	printf("      GET_ID: \"%s\"\n", serial);
	printf("      %u requests, %lu interrupts, %llu kicks (%llu more found unnecessary)\n",
	       2 * DISK_REQUESTS + 2, guest_virtio_interrupts(&blk) - interrupts,
	       (unsigned long long)blk.queues[0].kicks, (unsigned long long)blk.queues[0].kicks_suppressed);
	return strcmp(serial, SERIAL) ? -1 : 0;
}

static int enumerate(struct sim_hv *hv)
{
	struct guest_pci_function found[256];
	struct guest_ram ram;
	struct guest_pci pci;
	double start = now_seconds();
	int count, rngs = 0, disks = 0, bars = 0;

	guest_pci_init(&pci, hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&ram, hv, RAM_BASE, 16 << 20);
	count = guest_pci_scan_bus(&pci, 0, found, 256);
	printf("guest: scanned bus 00 through ECAM at 0x%llx in %.1f ms: %d function%s\n",
	       (unsigned long long)ECAM_BASE, (now_seconds() - start) * 1e3, count,
	       count == 1 ? "" : "s");
	for (int i = 0; i < count && i < 256; i++)
		print_function(&pci, &found[i]);
	printf("guest: reading entropy from every virtio-rng\n");
	for (int i = 0; i < count && i < 256; i++) {
		if (found[i].device_id != RNG_DEVICE_ID)
			continue;
		rngs++;
		if (read_entropy(&pci, &found[i], &ram, MMIO64_BASE + (uint64_t)bars++ * BAR_STRIDE)) {
			printf("guest: %02x:%02x.0 did not deliver entropy\n", found[i].bus, found[i].devfn >> 3);
			return -1;
		}
	}
	printf("guest: writing to and reading from every virtio-blk\n");
	for (int i = 0; i < count && i < 256; i++) {
		if (found[i].device_id != BLK_DEVICE_ID)
			continue;
		disks++;
		if (use_disk(&pci, &found[i], &ram, MMIO64_BASE + (uint64_t)bars++ * BAR_STRIDE)) {
			printf("guest: %02x:%02x.0 failed\n", found[i].bus, found[i].devfn >> 3);
			return -1;
		}
	}
	if (rngs == 0 || disks == 0 || pci.errors) {
		printf("guest: %d virtio-rng, %d virtio-blk, %u config accesses not answered\n", rngs,
		       disks, pci.errors);
		return -1;
	}
	return 0;
}

/*
 * A sparse image of IMAGE_BYTES at @wanted (kept afterwards, for the user to
 * look at), or in a new directory under /tmp (removed afterwards); 0 or -1.
 */
static int create_image(const char *wanted, char *dir, char *path, size_t path_len)
{
	int fd;

	if (wanted) {
		snprintf(path, path_len, "%s", wanted);
		dir[0] = '\0';
	} else if (!mkdtemp(dir)) {
		return -1;
	} else {
		snprintf(path, path_len, "%s/disk.img", dir);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, IMAGE_BYTES)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* After the daemon has gone: does the image hold, at sector 2048, what the guest wrote? */
static bool image_holds_pattern(const char *path)
{
	uint8_t *bytes = malloc(DISK_BYTES);
	bool same = bytes != NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !bytes ||
	    pread(fd, bytes, DISK_BYTES, (off_t)DISK_SECTOR * SECTOR) != (ssize_t)DISK_BYTES)
		same = false;
	for (size_t i = 0; same && i < DISK_BYTES; i++)
		same = bytes[i] == disk_byte(i);
	if (fd >= 0)
		close(fd);
	free(bytes);
	return same;
}

/* Only a temporary image goes; one the user named stays. */
static void remove_image(const char *image, const char *dir)
{
	if (!dir[0])
		return;
	unlink(image);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const char *daemon = argc > 1 ? argv[1] : "build/tests/xen-virtio-pcid-sim";
	struct sim_hv_config config = { .domid = 1, .nr_vcpus = 2 };
	const char *wanted_image = argc > 2 ? argv[2] : NULL;
	char dir[] = "/tmp/xvp-demo-XXXXXX", image[256], disk[320];
	const char *const args[] = { "--device", "rng", "--device", "rng,addr=5,rate=64K",
				     "--device", disk, NULL };
	struct sim_hv_state state;
	struct sim_hv *hv;
	int status, failed = 0;
	bool holds;

	if (create_image(wanted_image, dir, image, sizeof(image))) {
		perror("demo: creating the disk image");
		return 1;
	}
	snprintf(disk, sizeof(disk), "blk,path=%s,serial=" SERIAL, image);
	printf("disk image: %s, %u MiB\n", image, IMAGE_BYTES >> 20);
	hv = sim_hv_create(&config);
	printf("simulated Xen: domain %u, %u vCPUs; starting %s --domain %u --device rng "
	       "--device rng,addr=5,rate=64K --device %s\n", config.domid, config.nr_vcpus, daemon,
	       config.domid, disk);
	if (sim_hv_start_daemon(hv, daemon, args) || sim_hv_wait_serving(hv, 10000)) {
		fprintf(stderr, "demo: the daemon did not start serving; its log:\n%s",
			sim_hv_daemon_log(hv));
		sim_hv_destroy(hv);
		remove_image(image, dir);
		return 1;
	}
	sim_hv_get_state(hv, &state);
	printf("daemon: IOREQ server enabled, %u range%s registered, %u event channels bound\n",
	       state.ranges, state.ranges == 1 ? "" : "s", state.ports_bound);

	failed |= enumerate(hv) != 0;

	status = sim_hv_stop_daemon(hv, SIGTERM, 10000);
	sim_hv_get_state(hv, &state);
	printf("daemon: SIGTERM -> exit status %d; left in Xen: %u servers, %u ranges, %u event channels\n",
	       status, state.servers, state.ranges, state.ports_bound);
	failed |= status != 0 || state.servers || state.ranges || state.ports_bound;
	holds = image_holds_pattern(image);
	printf("host: %s %s the %u KiB the guest wrote at sector %u\n", image,
	       holds ? "holds" : "does NOT hold", DISK_BYTES >> 10, DISK_SECTOR);
	failed |= !holds;
	printf("\ndaemon log:\n%s", sim_hv_daemon_log(hv));
	sim_hv_destroy(hv);
	if (dir[0])
		remove_image(image, dir);
	else
		printf("the image stays at %s: od -A d -t x1 -j %u -N 64 %s\n", image,
		       DISK_SECTOR * SECTOR, image);
	printf("%s\n", failed ? "demo FAILED" : "demo OK");
	return failed;
}
