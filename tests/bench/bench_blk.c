// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_blk.c: `make bench`. How close does a guest's virtio-blk
 * come to the disk it is served from?
 *
 * 1. The raw limit: fio, io_uring, 4 KiB random reads at queue depth 32 and
 *    at 1 on a page-cached 1 GiB image (tests/bench/bench_fio.c).
 * 2. The same loads through the daemon: the simulated-hypervisor build serves
 *    the image as a virtio-blk function to a simulated guest whose vCPU
 *    behaves like Linux's virtio_blk with EVENT_IDX and indirect descriptors:
 *    32 (then 1) reads in flight, a new one for each completion, a kick only
 *    when the device asks for one, the ISR read on every interrupt. Before
 *    them, the cost of a bare trapped access: an ECAM read the daemon answers
 *    from its register file, the unit the notify path's figures are given in.
 *
 * Both run in the same invocation, so the ratio compares figures from one
 * machine in one state. A benchmark, not a test: the goals are printed next
 * to the figures and never fail the run; only errors do (a failed request,
 * wrong data, a device that stops answering).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/sim/hypervisor.h"
#include "tests/integration/process.h"
#include "tests/bench/bench.h"
/* For the daemon's pid only (its CPU time); the bench is otherwise a plain guest. */
#include "tests/sim/hv_internal.h"

#define IMAGE_SIZE	(1ULL << 30)
#define BLOCK_SIZE	4096u
#define FILL_CHUNK	(1u << 20)
#define DEFAULT_SECONDS	10u
#define WARMUP_SECONDS	1.0
#define SPOT_CHECK_EVERY 1021u	/* compare one completion in this many with the image */
#define TMPFS_MAGIC_NR	0x01021994

/* The simulated guest: the daemon's default windows and INTx SPIs. */
#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define TABLE_POOL_SIZE	(1ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
#define ROUND_TRIPS	2000
#define HOST_BRIDGE_IDS	0x00081b36	/* 1b36:0008 at 00:00.0 */

/* Virtio 1.2, 4.1.2 and 5.2: a modern virtio-blk function, its request format. */
#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_BLK_DEVICE_ID	0x1042
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_S_OK		0
#define SECTOR_SIZE		512
#define REQUESTQ		0
#define BLK_FEATURES		(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX | \
				 1ULL << VIRTIO_F_INDIRECT_DESC)

struct blk_req_header {		/* 5.2.6: struct virtio_blk_req, the device-readable part */
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct image {
	const char *path;
	int fd;
	const uint8_t *bytes;		/* all of it, mapped read-only (and locked if we may) */
	bool locked;
};

struct request_slot {
	uint64_t header_gpa, data_gpa, status_gpa;
	uint64_t sector;
	double queued;			/* when the guest put it in the ring */
};

/* Latencies of the requests completed in a phase, in microseconds. */
struct latencies {
	double *us;
	size_t n, capacity;
};

struct guest {
	struct sim_hv *hv;
	const uint8_t *image;		/* to check what the guest got */
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_ram tables;	/* indirect tables, reused round-robin */
	uint64_t tables_base;
	struct guest_virtio vd;
	struct request_slot slots[QUEUE_DEPTH];
	uint64_t random_state;
	bool submitting;		/* false while draining at the end */
	unsigned int in_flight;
	struct counters count;
	struct latencies latencies;	/* of the phase being measured */
	bool measuring;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: the image's contents and the guest's random sectors. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- the image: 1 GiB of varied bytes (no holes, no zero pages), in the page cache */

static void fill_chunk(uint8_t *buf, uint64_t offset)
{
	uint64_t state = offset;

	for (size_t i = 0; i < FILL_CHUNK; i += 8) {
		uint64_t word = splitmix64(&state);

		memcpy(buf + i, &word, 8);
	}
}

/* True if @fd already holds this bench's image (right size, first and last chunks match). */
static bool image_is_ours(int fd, uint8_t *expect, uint8_t *got)
{
	struct stat st;

	if (fstat(fd, &st) || (uint64_t)st.st_size != IMAGE_SIZE)
		return false;
	for (uint64_t offset = 0; offset < IMAGE_SIZE; offset += IMAGE_SIZE - FILL_CHUNK) {
		fill_chunk(expect, offset);
		if (pread(fd, got, FILL_CHUNK, (off_t)offset) != FILL_CHUNK ||
		    memcmp(expect, got, FILL_CHUNK))
			return false;
	}
	return true;
}

static int fill_image(int fd, uint8_t *buf)
{
	for (uint64_t offset = 0; offset < IMAGE_SIZE; offset += FILL_CHUNK) {
		fill_chunk(buf, offset);
		if (pwrite(fd, buf, FILL_CHUNK, (off_t)offset) != FILL_CHUNK)
			return -1;
	}
	/* Written back now, so that writeback does not run during the measurements. */
	return fdatasync(fd);
}

static void warn_if_tmpfs(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC_NR)
		fprintf(stderr, "bench: warning: %s is on tmpfs; the figures are not those of a disk "
			"image in the page cache\n", path);
}

/* Create the image at @path unless it is already there; the fd, or -1. */
static int create_image(const char *path)
{
	uint8_t *buf = malloc(2 * FILL_CHUNK);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0 || !buf) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	warn_if_tmpfs(path);
	if (!image_is_ours(fd, buf, buf + FILL_CHUNK)) {
		printf("bench: writing %llu MiB of data to %s\n",
		       (unsigned long long)(IMAGE_SIZE >> 20), path);
		fflush(stdout);
		ret = ftruncate(fd, (off_t)IMAGE_SIZE) || fill_image(fd, buf);
	}
	if (ret) {
		fprintf(stderr, "bench: %s: cannot write it: %s\n", path, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	free(buf);
	return fd;
}

/*
 * Read the image into the page cache and keep it there for both runs.
 * Reading it once is not enough everywhere: a proactive reclaimer (DAMON
 * pageout, on the VM these figures were first taken on) evicts pages a
 * random load has not touched for a few seconds, and the misses then go to
 * the disk and dominate both figures. Locked pages are never reclaimed.
 */
static int map_image(struct image *img)
{
	void *bytes = mmap(NULL, IMAGE_SIZE, PROT_READ, MAP_SHARED | MAP_POPULATE, img->fd, 0);

	if (bytes == MAP_FAILED) {
		fprintf(stderr, "bench: %s: cannot map it: %s\n", img->path, strerror(errno));
		return -1;
	}
	img->bytes = bytes;
	img->locked = mlock(bytes, IMAGE_SIZE) == 0;
	if (!img->locked)
		fprintf(stderr, "bench: warning: cannot lock the image in the page cache (%s); "
			"reclaim may send reads to the disk\n", strerror(errno));
	return 0;
}

static int prepare_image(struct image *img, const char *path)
{
	img->path = path;
	img->fd = create_image(path);
	if (img->fd < 0)
		return -1;
	if (map_image(img)) {
		close(img->fd);
		return -1;
	}
	return 0;
}

static void release_image(struct image *img)
{
	munmap((void *)img->bytes, IMAGE_SIZE);
	close(img->fd);
}

/* Percentage of the image's pages in the page cache now (mincore), or -1. */
static double image_resident(const struct image *img)
{
	size_t pages = IMAGE_SIZE / (uint64_t)sysconf(_SC_PAGESIZE), resident = 0;
	unsigned char *vec = malloc(pages);

	if (!vec || mincore((void *)img->bytes, IMAGE_SIZE, vec)) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);
	return 100.0 * (double)resident / (double)pages;
}

/* ---- the guest: find and initialise the virtio-blk function */

static int find_blk(struct guest *g)
{
	struct guest_pci_function found[32];
	int count;

	guest_pci_init(&g->pci, g->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&g->ram, g->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&g->pci, 0, found, 32);
	for (int i = 0; i < count && i < 32; i++) {
		if (found[i].vendor_id != VIRTIO_VENDOR_ID || found[i].device_id != VIRTIO_BLK_DEVICE_ID)
			continue;
		return guest_virtio_probe(&g->vd, &g->pci, &found[i], &g->ram, MMIO64_BASE, INTX_SPI_BASE);
	}
	fprintf(stderr, "bench: the guest found no virtio-blk function (%d functions on bus 0)\n", count);
	return -ENODEV;
}

/* 3.1.1 with the features Linux's virtio_blk takes that matter here, one queue, buffers. */
static int init_device(struct guest *g)
{
	int ret = guest_virtio_negotiate(&g->vd, BLK_FEATURES);

	if (ret)
		return ret;
	if ((g->vd.driver_features & BLK_FEATURES) != BLK_FEATURES)
		fprintf(stderr, "bench: warning: the device does not offer all of VERSION_1, "
			"EVENT_IDX and INDIRECT_DESC (offered 0x%llx)\n",
			(unsigned long long)g->vd.device_features);
	ret = guest_virtio_setup_queue(&g->vd, REQUESTQ, 0);
	if (ret)
		return ret;
	guest_virtio_driver_ok(&g->vd);
	for (unsigned int i = 0; i < QUEUE_DEPTH; i++) {
		struct request_slot *slot = &g->slots[i];

		slot->header_gpa = guest_ram_alloc(&g->ram, sizeof(struct blk_req_header), 16);
		slot->data_gpa = guest_ram_alloc(&g->ram, BLOCK_SIZE, BLOCK_SIZE);
		slot->status_gpa = guest_ram_alloc(&g->ram, 1, 1);
		if (!slot->header_gpa || !slot->data_gpa || !slot->status_gpa)
			return -ENOMEM;
	}
	/*
	 * The harness takes every indirect table from vd->ram and never frees
	 * it; give it a pool it can go round: far more tables than are in flight.
	 */
	g->tables_base = guest_ram_alloc(&g->ram, TABLE_POOL_SIZE, 4096);
	if (!g->tables_base)
		return -ENOMEM;
	guest_ram_init(&g->tables, g->hv, g->tables_base, TABLE_POOL_SIZE);
	g->vd.ram = &g->tables;
	return 0;
}

/* ---- the guest: requests */

/* 5.2.6: header (device-readable), data, status (device-writable); VIRTIO_BLK_T_IN. */
static int submit(struct guest *g, struct request_slot *slot)
{
	struct blk_req_header *header = guest_ram_ptr(&g->ram, slot->header_gpa, sizeof(*header));
	uint8_t *status = guest_ram_ptr(&g->ram, slot->status_gpa, 1);
	struct guest_buf bufs[3] = {
		{ slot->header_gpa, sizeof(*header), false },
		{ slot->data_gpa, BLOCK_SIZE, true },
		{ slot->status_gpa, 1, true },
	};

	slot->sector = splitmix64(&g->random_state) % (IMAGE_SIZE / BLOCK_SIZE) *
		       (BLOCK_SIZE / SECTOR_SIZE);
	*header = (struct blk_req_header){ htole32(VIRTIO_BLK_T_IN), 0, htole64(slot->sector) };
	*status = 0xff;		/* not a status the device may write: catches "never written" */
	slot->queued = now_seconds();
	if (g->tables.next + 64 > g->tables.end)
		g->tables.next = g->tables_base;
	if (guest_virtio_add(&g->vd, REQUESTQ, bufs, 3, slot))
		return -1;
	g->in_flight++;
	return 0;
}

/* Check one completed request; every SPOT_CHECK_EVERY-th also against the image's bytes. */
static int check_completion(struct guest *g, const struct request_slot *slot, uint32_t len)
{
	uint8_t status = *(uint8_t *)guest_ram_ptr(&g->ram, slot->status_gpa, 1);

	if (status != VIRTIO_BLK_S_OK || len != BLOCK_SIZE + 1) {
		fprintf(stderr, "bench: read of sector %llu: status %u, used length %u (want %u, %u)\n",
			(unsigned long long)slot->sector, status, len, VIRTIO_BLK_S_OK, BLOCK_SIZE + 1);
		return -1;
	}
	if (g->count.completed % SPOT_CHECK_EVERY != 0)
		return 0;
	g->count.spot_checks++;
	if (memcmp(g->image + slot->sector * SECTOR_SIZE,
		   guest_ram_ptr(&g->ram, slot->data_gpa, BLOCK_SIZE), BLOCK_SIZE)) {
		fprintf(stderr, "bench: read of sector %llu returned other bytes than the image holds\n",
			(unsigned long long)slot->sector);
		return -1;
	}
	return 0;
}

static int record_latency(struct latencies *l, double seconds)
{
	if (l->n == l->capacity) {
		size_t capacity = l->capacity ? 2 * l->capacity : 1 << 16;
		double *bigger = realloc(l->us, capacity * sizeof(*bigger));

		if (!bigger)
			return -1;
		l->us = bigger;
		l->capacity = capacity;
	}
	l->us[l->n++] = seconds * 1e6;
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The @p-th percentile (0..100) of @values (sorted here). */
static double percentile(double *values, size_t n, double p)
{
	size_t at;

	if (n == 0)
		return 0;
	qsort(values, n, sizeof(*values), compare_double);
	at = (size_t)(p / 100 * (double)(n - 1) + 0.5);
	return values[at];
}

/* Take every used entry, submit a new read for each: how many were taken, or -1. */
static int harvest(struct guest *g)
{
	int taken = 0;
	uint32_t len;
	void *token;
	int got;

	while ((got = guest_virtio_get_used(&g->vd, REQUESTQ, &len, &token)) == 1) {
		struct request_slot *slot = token;

		g->in_flight--;
		if (!slot || check_completion(g, slot, len))
			return -1;
		g->count.completed++;
		if (g->measuring && record_latency(&g->latencies, now_seconds() - slot->queued))
			return -1;
		taken++;
		if (g->submitting && submit(g, slot))
			return -1;
	}
	return got < 0 ? -1 : taken;
}

/*
 * Linux's vp_interrupt + virtblk_done + blk-mq, one vCPU: wait for the
 * line, read the ISR (it is level-triggered INTx), take the completions,
 * queue new reads and kick if the device asked for it (EVENT_IDX).
 */
static int serve_interrupt(struct guest *g, unsigned long *handled)
{
	double t0 = now_seconds(), t1, t2, t3;
	int taken;

	if (guest_virtio_interrupts(&g->vd) == *handled &&
	    guest_virtio_wait_interrupt(&g->vd, *handled, WAIT_MS)) {
		fprintf(stderr, "bench: no interrupt for %d ms with %u requests in flight\n", WAIT_MS,
			g->in_flight);
		return -1;
	}
	*handled = guest_virtio_interrupts(&g->vd);
	t1 = now_seconds();
	g->count.isr_reads++;
	guest_virtio_read_isr(&g->vd);
	t2 = now_seconds();
	taken = harvest(g);
	if (taken < 0)
		return -1;
	t3 = now_seconds();
	if (taken == 0)
		g->count.empty_interrupts++;
	else if (g->submitting)
		guest_virtio_kick(&g->vd, REQUESTQ);
	g->count.waiting += t1 - t0;
	g->count.isr += t2 - t1;
	g->count.refilling += t3 - t2;
	g->count.kicking += now_seconds() - t3;
	return 0;
}

static int run_until(struct guest *g, double deadline, unsigned long *handled)
{
	while (now_seconds() < deadline)
		if (serve_interrupt(g, handled))
			return -1;
	return 0;
}

/* Stop submitting and wait for what is in flight. */
static int drain(struct guest *g, unsigned long *handled)
{
	g->submitting = false;
	while (g->in_flight > 0)
		if (serve_interrupt(g, handled))
			return -1;
	return 0;
}

/* ---- measurements */

/* utime + stime of @pid, in seconds (/proc/PID/stat fields 14 and 15); -1 if unknown. */
static double process_cpu_seconds(pid_t pid)
{
	unsigned long long utime, stime;
	char text[1024];
	const char *fields = process_stat_fields(pid, text, sizeof(text));

	if (!fields || sscanf(fields, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			      &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The worker that serves the guest: the daemon started by hand is a
 * supervisor that forks it, and the supervisor's own CPU time is not the
 * daemon's cost per request.
 */
static pid_t serving_pid(struct sim_hv *hv)
{
	struct sim_hv_domain_state state;

	if (!sim_hv_get_domain_state(hv, hv->guest->config.domid, &state) && state.serving_pid > 0)
		return state.serving_pid;
	return hv->daemon_pid;
}

static double own_cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
	       (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void take_sample(struct guest *g, struct sample *s)
{
	struct sim_hv_state state;

	sim_hv_get_state(g->hv, &state);
	s->time = now_seconds();
	s->count = g->count;
	s->kicks = g->vd.queues[REQUESTQ].kicks;
	s->interrupts = guest_virtio_interrupts(&g->vd);
	s->map_calls = state.foreign_map_calls;
	s->daemon_cpu = process_cpu_seconds(serving_pid(g->hv));
	s->bench_cpu = own_cpu_seconds();
}

/* ---- the run through the daemon */

static int start_daemon(struct sim_hv *hv, const char *daemon, const char *device)
{
	const char *args[] = { "--device", device, NULL };

	printf("bench: %s --domain 1 --device %s (simulated Xen guest, 2 vCPUs)\n", daemon, device);
	fflush(stdout);
	if (sim_hv_start_daemon(hv, daemon, args) == 0 && sim_hv_wait_serving(hv, WAIT_MS) == 0)
		return 0;
	fprintf(stderr, "bench: the daemon did not start serving; its log:\n%s", sim_hv_daemon_log(hv));
	return -1;
}

/*
 * The floor of every trapped access: a read of the host bridge's IDs in
 * ECAM, answered by the daemon from its register file (p50 of ROUND_TRIPS).
 */
static int measure_round_trip(struct guest *g, double *p50_us)
{
	static double us[ROUND_TRIPS];

	for (unsigned int i = 0; i < ROUND_TRIPS; i++) {
		double t0 = now_seconds();

		if (guest_pci_read(&g->pci, 0, 0, 0, 4) != HOST_BRIDGE_IDS) {
			fprintf(stderr, "bench: the ECAM read of 00:00.0 did not return the host bridge\n");
			return -1;
		}
		us[i] = (now_seconds() - t0) * 1e6;
	}
	*p50_us = percentile(us, ROUND_TRIPS, 50);
	return 0;
}

/* Keep @depth reads in flight: warm up, then measure for @seconds; drain at the end. */
static int run_phase(struct guest *g, unsigned int depth, double warmup, unsigned int seconds,
		     struct phase *p)
{
	unsigned long handled = guest_virtio_interrupts(&g->vd);
	int ret;

	p->depth = depth;
	g->submitting = true;
	for (unsigned int i = 0; i < depth; i++)
		if (submit(g, &g->slots[i]))
			return -1;
	guest_virtio_kick(&g->vd, REQUESTQ);
	if (run_until(g, now_seconds() + warmup, &handled))
		return -1;
	take_sample(g, &p->start);
	g->latencies.n = 0;
	g->measuring = true;
	ret = run_until(g, p->start.time + seconds, &handled);
	g->measuring = false;
	take_sample(g, &p->end);
	p->p50_us = percentile(g->latencies.us, g->latencies.n, 50);
	p->p99_us = percentile(g->latencies.us, g->latencies.n, 99);
	return ret ? ret : drain(g, &handled);
}

/* Initialise the device; the bare round trip, then the load at QUEUE_DEPTH and (@qd1) at 1. */
static int drive_guest(struct guest *g, unsigned int seconds, bool qd1, struct results *r)
{
	double warmup = seconds >= 2 ? WARMUP_SECONDS : 0;

	if (find_blk(g) || init_device(g)) {
		fprintf(stderr, "bench: the guest could not initialise the virtio-blk function\n");
		return -1;
	}
	if (measure_round_trip(g, &r->round_trip_us))
		return -1;
	if (run_phase(g, QUEUE_DEPTH, warmup, seconds, &r->phase[0]))
		return -1;
	return qd1 ? run_phase(g, 1, warmup / 4, seconds, &r->phase[1]) : 0;
}

int bench_run_daemon(const char *daemon, const char *device, const uint8_t *expect,
		     unsigned int seconds, bool qd1, struct results *r)
{
	struct sim_hv_config config = { .domid = 1, .nr_vcpus = 2, .ram_size = RAM_SIZE };
	struct guest *g = calloc(1, sizeof(*g));
	int ret = -1, status;

	if (!g)
		return -1;
	g->hv = sim_hv_create(&config);
	g->image = expect;
	g->random_state = 42;
	if (start_daemon(g->hv, daemon, device) == 0)
		ret = drive_guest(g, seconds, qd1, r);
	if (g->pci.errors) {
		fprintf(stderr, "bench: %u guest register accesses were not answered\n", g->pci.errors);
		ret = -1;
	}
	status = sim_hv_stop_daemon(g->hv, SIGTERM, WAIT_MS);
	if (status != 0) {
		fprintf(stderr, "bench: the daemon exited with %d\n", status);
		ret = -1;
	}
	if (ret)
		fprintf(stderr, "bench: the daemon's log:\n%s", sim_hv_daemon_log(g->hv));
	sim_hv_destroy(g->hv);
	free(g->latencies.us);
	free(g);
	return ret;
}

static unsigned int bench_seconds(void)
{
	const char *text = getenv("BENCH_SECONDS");
	char *end;
	unsigned long value;

	if (!text || !*text)
		return DEFAULT_SECONDS;
	value = strtoul(text, &end, 10);
	if (*end || value == 0 || value > 3600) {
		fprintf(stderr, "bench: BENCH_SECONDS=%s: want 1 to 3600; using %u\n", text, DEFAULT_SECONDS);
		return DEFAULT_SECONDS;
	}
	return (unsigned int)value;
}

int main(int argc, char **argv)
{
	const char *daemon = argc > 1 ? argv[1] : "build/tests/xen-virtio-pcid-sim";
	const char *path = argc > 2 ? argv[2] : "build/bench/disk.img";
	unsigned int seconds = bench_seconds();
	struct results r = { 0 };
	struct image img;
	char device[512];
	int ret = 1;

	if (argc > 3) {
		fprintf(stderr, "usage: %s [SIM_DAEMON [IMAGE]]  (BENCH_SECONDS=N, default %u)\n",
			argv[0], DEFAULT_SECONDS);
		return 2;
	}
	if (prepare_image(&img, path))
		return 1;
	r.fio_resident[0] = image_resident(&img);
	if (fio_run(path, QUEUE_DEPTH, seconds, &r.fio[0]) == 0 && fio_run(path, 1, seconds, &r.fio[1]) == 0) {
		r.fio_resident[1] = r.daemon_resident[0] = image_resident(&img);
		snprintf(device, sizeof(device), "blk,path=%s,queues=1", path);
		if (bench_run_daemon(daemon, device, img.bytes, seconds, true, &r) == 0) {
			r.daemon_resident[1] = image_resident(&img);
			ret = bench_nbd(daemon, seconds, &r.nbd);
			bench_print_report(&r);
		}
	}
	release_image(&img);
	return ret;
}
