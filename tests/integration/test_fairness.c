// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_fairness.c: one queue cannot keep the daemon from
 * everything else. A guest may keep a whole ring of requests that complete
 * at once (UNSUPP for virtio-blk, one-byte reads for virtio-rng); the
 * daemon serves a queue at most QUEUE_SERVICE_BUDGET chains per pass and
 * goes back to its event loop between passes (as vhost does with its
 * weights, Linux drivers/vhost/vhost.c vhost_exceeds_weight(); CVE-2019-3900
 * is a guest starving a host that did not), so another vCPU's ECAM read,
 * and another device's request, are answered within one pass.
 *
 * Counted, not timed: the simulated hypervisor records each answer the
 * daemon gives a vCPU with the flood queue's used index at that moment
 * (sim_hv_record_events()). The flood and the victim's access are made to
 * wait together while the daemon is stopped, so both are pending when it
 * looks at them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"
#include "virtio/queue_service.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL	/* the daemon's default 64-bit BAR window */
#define BAR_STRIDE	0x100000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
#define DOMID		1

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_BLK_DEVICE_ID	0x1042	/* 4.1.2: 0x1040 + 2 */
#define VIRTIO_RNG_DEVICE_ID	0x1044	/* 0x1040 + 4 */
#define HOST_BRIDGE_IDS		0x00081b36	/* 1b36:0008 at 00:00.0, what the ECAM read returns */

/* The flood: a whole ring, several passes' worth. */
#define FLOOD_QUEUE_SIZE	512
#define FLOOD_QUEUE_SIZE_ARG	"queue-size=512"

/* 5.2.6: block requests. */
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_UNKNOWN	0xff	/* no such type: answered VIRTIO_BLK_S_UNSUPP at once */
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_UNSUPP	2
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_F_MQ		12	/* 5.2.3 */
#define VICTIM_SERIAL		"victim-disk"

/* The flood goes on vCPU 1, the victim's access on vCPU 2; vCPU 0 set everything up. */
#define FLOOD_VCPU	1
#define VICTIM_VCPU	2

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio flood;	/* at 00:01.0 */
	struct guest_virtio victim;	/* at 00:02.0, if any */
	char image_paths[2][32];
	char specs[2][160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = DOMID, .nr_vcpus = 3 });
	sim_hv_record_events(f->hv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	for (int i = 0; i < 2; i++)
		if (f->image_paths[i][0])
			unlink(f->image_paths[i]);
	free(f);
	return 0;
}

/* "blk,path=IMAGE,addr=SLOT,..." with a fresh 1 MiB image. */
static const char *disk_spec(struct fixture *f, int i, unsigned int slot, const char *extra)
{
	char path[sizeof(f->image_paths[i])] = "/tmp/xvp-fair-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	strcpy(f->image_paths[i], path);
	snprintf(f->specs[i], sizeof(f->specs[i]), "blk,path=%s,addr=%u,%s", path, slot, extra);
	return f->specs[i];
}

static void probe_slot(struct fixture *f, struct guest_virtio *vd, unsigned int slot, uint16_t device_id)
{
	struct guest_pci_function found[8];
	int count = guest_pci_scan_bus(&f->pci, 0, found, 8);

	for (int i = 0; i < count && i < 8; i++) {
		if (found[i].devfn != slot << 3)
			continue;
		assert_int_equal(found[i].vendor_id, VIRTIO_VENDOR_ID);
		assert_int_equal(found[i].device_id, device_id);
		assert_int_equal(guest_virtio_probe(vd, &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + slot * BAR_STRIDE, INTX_SPI_BASE), 0);
		return;
	}
	fail_msg("no function at 00:%02x.0", slot);
}

static void start(struct fixture *f, const char *const args[])
{
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
}

/* 3.1.1 with indirect descriptors (a blk request is one ring entry), one queue, DRIVER_OK. */
static void driver_init(struct guest_virtio *vd, uint16_t queue_size)
{
	assert_int_equal(guest_virtio_negotiate(vd, 1ULL << VIRTIO_F_INDIRECT_DESC), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, 0, queue_size), 0);
	guest_virtio_driver_ok(vd);
}

/* ---- filling a ring without telling the device */

/*
 * A whole ring of requests that complete at once; for virtio-blk they share
 * one header and one status byte (where that status goes is returned, 0 for
 * virtio-rng's one-byte reads).
 */
static uint64_t fill_flood(struct fixture *f, bool rng)
{
	uint64_t header_gpa, status_gpa;
	uint32_t type = htole32(VIRTIO_BLK_T_UNKNOWN);

	if (rng) {
		for (unsigned int i = 0; i < FLOOD_QUEUE_SIZE; i++) {
			struct guest_buf one_byte = { guest_ram_alloc(&f->ram, 1, 1), 1, true };

			assert_int_equal(guest_virtio_add(&f->flood, 0, &one_byte, 1, NULL), 0);
		}
		return 0;
	}
	header_gpa = guest_ram_alloc(&f->ram, 16, 16);
	status_gpa = guest_ram_alloc(&f->ram, 1, 1);
	memcpy(guest_ram_ptr(&f->ram, header_gpa, 16), &type, sizeof(type));
	for (unsigned int i = 0; i < FLOOD_QUEUE_SIZE; i++) {
		struct guest_buf bufs[2] = { { header_gpa, 16, false }, { status_gpa, 1, true } };

		assert_int_equal(guest_virtio_add(&f->flood, 0, bufs, 2, NULL), 0);
	}
	return status_gpa;
}

/* A GET_ID request on the victim disk (5.2.6): header, 20 bytes of serial, status. */
static uint64_t add_get_id(struct fixture *f, struct guest_virtio *vd, uint16_t queue,
			   uint64_t *status_gpa)
{
	uint64_t header_gpa = guest_ram_alloc(&f->ram, 16, 16);
	uint64_t id_gpa = guest_ram_alloc(&f->ram, VIRTIO_BLK_ID_BYTES, 4);
	uint32_t type = htole32(VIRTIO_BLK_T_GET_ID);
	struct guest_buf bufs[3] = { { header_gpa, 16, false }, { id_gpa, VIRTIO_BLK_ID_BYTES, true },
				     { 0, 1, true } };

	*status_gpa = bufs[2].gpa = guest_ram_alloc(&f->ram, 1, 1);
	memcpy(guest_ram_ptr(&f->ram, header_gpa, 16), &type, sizeof(type));
	*(uint8_t *)guest_ram_ptr(&f->ram, *status_gpa, 1) = 0xff;
	assert_int_equal(guest_virtio_add(vd, queue, bufs, 3, NULL), 0);
	return id_gpa;
}

/* ---- two vCPUs trapping while the daemon is stopped */

struct access {
	pthread_t thread;
	struct sim_hv *hv;
	unsigned int vcpu;
	uint64_t addr;
	bool write;
	uint64_t value;
	int result;
};

static void *do_access(void *arg)
{
	struct access *a = arg;

	if (a->write)
		a->result = sim_vcpu_mmio_write(a->hv, a->vcpu, a->addr, 2, a->value);
	else
		a->result = sim_vcpu_mmio_read(a->hv, a->vcpu, a->addr, 4, &a->value);
	return NULL;
}

static void begin_access(struct fixture *f, struct access *a)
{
	a->hv = f->hv;
	assert_int_equal(pthread_create(&a->thread, NULL, do_access, a), 0);
	/* Its request is in the slot and its event sent before the next one's. */
	assert_int_equal(sim_hv_wait_vcpu_blocked(f->hv, a->vcpu, WAIT_MS), 0);
}

static pid_t serving_pid(struct fixture *f)
{
	struct sim_hv_domain_state st;

	assert_int_equal(sim_hv_get_domain_state(f->hv, DOMID, &st), 0);
	assert_true(st.serving_pid > 0);
	return st.serving_pid;
}

static void stop_daemon(pid_t pid)
{
	assert_int_equal(kill(pid, SIGSTOP), 0);
	for (int i = 0; process_state(pid) != 'T'; i++) {
		assert_true(i < WAIT_MS);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

/*
 * The flood's kick on FLOOD_VCPU, then @victim on VICTIM_VCPU, both
 * trapped while the daemon is stopped: it finds both waiting when it
 * goes on, the flood first.
 */
static void flood_with_victim(struct fixture *f, struct access *victim)
{
	struct access kick = { .vcpu = FLOOD_VCPU, .write = true, .value = 0,
			       .addr = f->flood.queues[0].notify_gpa };
	pid_t pid = serving_pid(f);

	stop_daemon(pid);
	begin_access(f, &kick);
	victim->vcpu = VICTIM_VCPU;
	begin_access(f, victim);
	assert_int_equal(kill(pid, SIGCONT), 0);
	pthread_join(kick.thread, NULL);
	pthread_join(victim->thread, NULL);
	assert_int_equal(kick.result, SIM_ACCESS_SERVED);
	assert_int_equal(victim->result, SIM_ACCESS_SERVED);
}

/* The flood's used index when the daemon answered @vcpu's access at @addr (watch 0). */
static const struct sim_hv_event *answer_to(struct fixture *f, unsigned int vcpu, uint64_t addr)
{
	static struct sim_hv_event events[1 << 14];
	size_t n = sim_hv_events(f->hv, events, 1 << 14);

	assert_true(n <= 1 << 14);
	for (size_t i = n; i-- > 0;)
		if (events[i].vcpu == vcpu && events[i].addr == addr)
			return &events[i];
	fail_msg("no answer to vCPU %u at 0x%llx recorded", vcpu, (unsigned long long)addr);
	return NULL;
}

/* The rest of the flood is served without another kick: every entry comes back. */
static void wait_flood_done(struct fixture *f, uint64_t blk_status_gpa)
{
	uint16_t *used_idx = guest_ram_ptr(&f->ram, f->flood.queues[0].used_gpa + 2, 2);
	unsigned int completed = 0;
	uint32_t len;
	void *token;

	for (int i = 0; le16toh(__atomic_load_n(used_idx, __ATOMIC_ACQUIRE)) != FLOOD_QUEUE_SIZE; i++) {
		if (i >= WAIT_MS)
			fail_msg("flood stopped at %u of %u; log:\n%s", le16toh(*used_idx), FLOOD_QUEUE_SIZE,
				 sim_hv_daemon_log(f->hv));
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	while (guest_virtio_get_used(&f->flood, 0, &len, &token) == 1) {
		assert_int_equal(len, 1);
		completed++;
	}
	assert_int_equal(completed, FLOOD_QUEUE_SIZE);
	if (blk_status_gpa)
		assert_int_equal(*(uint8_t *)guest_ram_ptr(&f->ram, blk_status_gpa, 1), VIRTIO_BLK_S_UNSUPP);
}

/*
 * The victim's request completes too. Its kick was answered before its
 * queue was served (the notify path answers first), and the pass it
 * scheduled runs behind the flood's current one: the status byte is read
 * from guest RAM until the device wrote it.
 */
static void wait_victim_status(struct fixture *f, uint64_t status_gpa, uint8_t expected)
{
	volatile uint8_t *status = guest_ram_ptr(&f->ram, status_gpa, 1);

	for (int i = 0; *status != expected; i++) {
		if (i >= WAIT_MS)
			fail_msg("the victim's request has status %u, not %u; log:\n%s", *status, expected,
				 sim_hv_daemon_log(f->hv));
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

static void assert_answered_within_one_pass(struct fixture *f, const struct access *victim)
{
	const struct sim_hv_event *kick = answer_to(f, FLOOD_VCPU, f->flood.queues[0].notify_gpa);
	const struct sim_hv_event *answer = answer_to(f, victim->vcpu, victim->addr);

	print_message("flood requests completed before the kick was answered: %u, before vCPU %u "
		      "was: %u (one pass: %u)\n", kick->watched[0], victim->vcpu, answer->watched[0],
		      QUEUE_SERVICE_BUDGET);
	/* The kick itself waited for one pass at most, and so did the access behind it. */
	if (kick->watched[0] > QUEUE_SERVICE_BUDGET || answer->watched[0] > QUEUE_SERVICE_BUDGET)
		fail_msg("flood requests completed before the answers: %u before the kick's, %u before "
			 "vCPU %u's; one pass is %u", kick->watched[0], answer->watched[0], victim->vcpu,
			 QUEUE_SERVICE_BUDGET);
}

/* ---- the tests */

/* The flood device at 00:01.0 and, if @victim_spec, the victim at 00:02.0. */
static void start_flood(struct fixture *f, bool rng, const char *victim_spec)
{
	const char *args[5] = { "--device", NULL, NULL, NULL, NULL };

	args[1] = rng ? "rng,addr=1," FLOOD_QUEUE_SIZE_ARG : disk_spec(f, 0, 1, FLOOD_QUEUE_SIZE_ARG);
	if (victim_spec) {
		args[2] = "--device";
		args[3] = victim_spec;
	}
	start(f, args);
	probe_slot(f, &f->flood, 1, rng ? VIRTIO_RNG_DEVICE_ID : VIRTIO_BLK_DEVICE_ID);
	driver_init(&f->flood, FLOOD_QUEUE_SIZE);
	assert_int_equal(sim_hv_watch_u16(f->hv, f->flood.queues[0].used_gpa + 2), 0);
}

static void flood_and_read_ecam(void **state, bool rng)
{
	struct fixture *f = *state;
	struct access ecam_read = { .addr = ECAM_BASE, .write = false };
	uint64_t status_gpa;

	start_flood(f, rng, NULL);
	status_gpa = fill_flood(f, rng);

	flood_with_victim(f, &ecam_read);
	assert_int_equal(ecam_read.value, HOST_BRIDGE_IDS);
	assert_answered_within_one_pass(f, &ecam_read);
	wait_flood_done(f, status_gpa);
}

static void test_a_disk_flood_lets_an_ecam_read_through(void **state)
{
	flood_and_read_ecam(state, false);
}

static void test_an_entropy_flood_lets_an_ecam_read_through(void **state)
{
	flood_and_read_ecam(state, true);
}

static void flood_and_ask_the_other_disk(void **state, bool rng)
{
	struct fixture *f = *state;
	struct access kick_victim = { .write = true, .value = 0 };
	char serial[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	uint64_t id_gpa, status_gpa, flood_status_gpa;

	start_flood(f, rng, disk_spec(f, 1, 2, "serial=" VICTIM_SERIAL));
	probe_slot(f, &f->victim, 2, VIRTIO_BLK_DEVICE_ID);
	driver_init(&f->victim, 0);
	assert_int_equal(sim_hv_watch_u16(f->hv, f->victim.queues[0].used_gpa + 2), 1);
	flood_status_gpa = fill_flood(f, rng);
	id_gpa = add_get_id(f, &f->victim, 0, &status_gpa);

	kick_victim.addr = f->victim.queues[0].notify_gpa;
	flood_with_victim(f, &kick_victim);
	assert_answered_within_one_pass(f, &kick_victim);
	wait_victim_status(f, status_gpa, VIRTIO_BLK_S_OK);
	memcpy(serial, guest_ram_ptr(&f->ram, id_gpa, VIRTIO_BLK_ID_BYTES), VIRTIO_BLK_ID_BYTES);
	assert_string_equal(serial, VICTIM_SERIAL);
	wait_flood_done(f, flood_status_gpa);
}

static void test_a_disk_flood_lets_the_other_disk_through(void **state)
{
	flood_and_ask_the_other_disk(state, false);
}

static void test_an_entropy_flood_lets_a_disk_through(void **state)
{
	flood_and_ask_the_other_disk(state, true);
}

/* Queues of one disk are served apart too: a flood on queue 0 delays queue 1's kick by one pass at most. */
static void test_a_flooded_queue_lets_the_same_disks_other_queue_through(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", disk_spec(f, 0, 1, "queues=2,serial=" VICTIM_SERIAL
							       "," FLOOD_QUEUE_SIZE_ARG), NULL };
	struct access kick_queue_1 = { .write = true, .value = 1 };
	uint64_t status_gpa, flood_status_gpa;

	start(f, args);
	probe_slot(f, &f->flood, 1, VIRTIO_BLK_DEVICE_ID);
	assert_int_equal(guest_virtio_negotiate(&f->flood, 1ULL << VIRTIO_F_INDIRECT_DESC |
						1ULL << VIRTIO_BLK_F_MQ), 0);
	assert_int_equal(guest_virtio_setup_queue(&f->flood, 0, FLOOD_QUEUE_SIZE), 0);
	assert_int_equal(guest_virtio_setup_queue(&f->flood, 1, 0), 0);
	guest_virtio_driver_ok(&f->flood);
	assert_int_equal(sim_hv_watch_u16(f->hv, f->flood.queues[0].used_gpa + 2), 0);
	assert_int_equal(sim_hv_watch_u16(f->hv, f->flood.queues[1].used_gpa + 2), 1);
	flood_status_gpa = fill_flood(f, false);
	add_get_id(f, &f->flood, 1, &status_gpa);

	/* 4.1.5.2: the notify value is the queue's index. */
	kick_queue_1.addr = f->flood.queues[1].notify_gpa;
	flood_with_victim(f, &kick_queue_1);
	assert_answered_within_one_pass(f, &kick_queue_1);
	wait_victim_status(f, status_gpa, VIRTIO_BLK_S_OK);
	wait_flood_done(f, flood_status_gpa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_disk_flood_lets_an_ecam_read_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_entropy_flood_lets_an_ecam_read_through, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_disk_flood_lets_the_other_disk_through, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_entropy_flood_lets_a_disk_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_flooded_queue_lets_the_same_disks_other_queue_through,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("one queue cannot monopolise the daemon", tests, NULL, NULL);
}
