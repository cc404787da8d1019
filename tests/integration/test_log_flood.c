// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_log_flood.c: a guest cannot fill dom0's journal.
 * Every line a guest can make the daemon print goes through a rate limit
 * owned by the PCI function it is about (or by the domain's host bridge for
 * what belongs to no function), so a guest that repeats a refused action
 * 300 times gets a burst of lines and one "N similar messages suppressed"
 * line per function, and one function's flood leaves another's lines alone.
 * Counted from the daemon's own stderr: printed lines plus the suppressed
 * counts it reports must account for every action, and the printed ones
 * stay within the limit's burst per window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define BAR_STRIDE	0x100000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
#define NR_RNGS		4
#define REPEATS		300

#define VIRTIO_RNG_DEVICE_ID	0x1044
#define REQUESTQ		0
#define PCI_BAR0		0x10
#define VIRTIO_BAR_SIZE		0x4000	/* what the daemon's functions ask for (sized by the probe) */

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio rng[NR_RNGS];
	struct timespec started;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 1 });
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

/* rng0..rng3 at 00:01.0..00:04.0, probed with their BARs in the 64-bit window. */
static void start_with(struct fixture *f, bool verbose)
{
	const char *const args[] = { "--device", "rng", "--device", "rng", "--device", "rng",
				     "--device", "rng", verbose ? "-v" : NULL, NULL };
	struct guest_pci_function found[8];
	int count, rngs = 0;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&f->pci, 0, found, 8);
	for (int i = 0; i < count && i < 8; i++) {
		if (found[i].device_id != VIRTIO_RNG_DEVICE_ID)
			continue;
		assert_true(rngs < NR_RNGS);
		assert_int_equal(guest_virtio_probe(&f->rng[rngs], &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + (uint64_t)rngs * BAR_STRIDE, INTX_SPI_BASE), 0);
		rngs++;
	}
	assert_int_equal(rngs, NR_RNGS);
	clock_gettime(CLOCK_MONOTONIC, &f->started);
}

static void start(struct fixture *f)
{
	start_with(f, false);
}

/* Stop the daemon (limits report what they suppressed as their owners go) and return its log. */
static const char *stop(struct fixture *f, double *elapsed)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	*elapsed = (double)(now.tv_sec - f->started.tv_sec) + (double)(now.tv_nsec - f->started.tv_nsec) / 1e9;
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	return sim_hv_daemon_log(f->hv);
}

/* 3.1.1 done right, DRIVER_OK: one "driver ready" line each time. */
static void rng_init(struct guest_virtio *vd)
{
	assert_int_equal(guest_virtio_negotiate(vd, 0), 0);
	assert_int_equal(guest_virtio_setup_queue(vd, REQUESTQ, 0), 0);
	guest_virtio_driver_ok(vd);
}

/*
 * The driver waits for DEVICE_NEEDS_RESET (2.1.2): the kick is answered
 * before the ring is looked at, so a reset written at once could come first.
 */
static void wait_needs_reset(struct guest_virtio *vd)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!(guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 > WAIT_MS)
			fail_msg("the device never said it needs a reset");
		usleep(100);
	}
}

/* A head out of range (2.7.6): the device needs a reset. */
static void publish_bad_head(struct guest_virtio *vd)
{
	struct guest_virtq *q = &vd->queues[REQUESTQ];
	uint16_t *avail = guest_ram_ptr(vd->ram, q->avail_gpa, 4 + 2ULL * q->size);

	avail[2 + q->avail_idx % q->size] = htole16(q->size + 3);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail_idx++;
	__atomic_store_n(&avail[1], htole16(q->avail_idx), __ATOMIC_RELAXED);
	guest_virtio_notify(vd, REQUESTQ);
	wait_needs_reset(vd);
}

/* Lines of @log holding @text. */
static unsigned int lines_with(const char *log, const char *text)
{
	unsigned int n = 0;

	for (const char *at = strstr(log, text); at; at = strstr(at + 1, text))
		n++;
	return n;
}

/* What @name's lines say: how many were printed, and how many suppressed by its own count. */
static void account(const char *log, const char *name, unsigned int *printed, unsigned int *suppressed)
{
	char prefix[64];
	const char *line = log;

	snprintf(prefix, sizeof(prefix), ": %s: ", name);
	*printed = *suppressed = 0;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *at = memmem(line, len, prefix, strlen(prefix));
		unsigned int n;

		if (at && sscanf(at + strlen(prefix), "%u similar messages suppressed", &n) == 1)
			*suppressed += n;
		else if (at && memmem(line, len, "idle-ring watches: ", 19))
			;	/* the device's stop line, not one of the refusals */
		else if (at)
			(*printed)++;
		line += len + (end ? 1 : 0);
	}
}

/* A limit lets LOG_RATELIMIT_BURST lines through per window; the run spanned a few at most. */
static unsigned int allowed_lines(double elapsed)
{
	return LOG_RATELIMIT_BURST * ((unsigned int)(elapsed / LOG_RATELIMIT_INTERVAL) + 2);
}

static void assert_accounted(const char *log, const char *name, unsigned int actions, double elapsed)
{
	unsigned int printed, suppressed;

	account(log, name, &printed, &suppressed);
	print_message("%s: %u actions, %u lines, %u reported suppressed\n", name, actions, printed,
		      suppressed);
	if (printed > allowed_lines(elapsed))
		fail_msg("%s: %u lines for %u actions in %.1f s (a limit allows %u)", name, printed,
			 actions, elapsed, allowed_lines(elapsed));
	assert_int_equal(printed + suppressed, actions);
}

static void test_repeated_refusals_give_a_burst_and_a_count(void **state)
{
	struct fixture *f = *state;
	const char *log;
	double elapsed;

	start(f);
	for (int i = 0; i < REPEATS; i++) {
		/* A legacy-minded driver without VIRTIO_F_VERSION_1: FEATURES_OK refused (3.1.1 step 6). */
		assert_int_equal(guest_virtio_negotiate_exact(&f->rng[0], 0), -EPROTO);
		/* A driver that starts the device over and over: one "driver ready" each time. */
		rng_init(&f->rng[1]);
	}
	log = stop(f, &elapsed);
	assert_accounted(log, "rng0", REPEATS, elapsed);
	assert_accounted(log, "rng1", REPEATS, elapsed);
	assert_true(lines_with(log, "rng0: driver features 0x") >= 1);
	assert_true(lines_with(log, "rng1: driver ready") >= 1);
}

static void test_one_functions_flood_leaves_another_functions_lines(void **state)
{
	struct fixture *f = *state;
	const char *log;
	double elapsed;

	start(f);
	for (int i = 0; i < REPEATS; i++) {
		rng_init(&f->rng[2]);
		publish_bad_head(&f->rng[2]);
	}
	/* Right after the flood, in the same window: rng3's first broken ring is still reported. */
	rng_init(&f->rng[3]);
	publish_bad_head(&f->rng[3]);
	log = stop(f, &elapsed);
	/* rng2: a "driver ready" and a broken ring per round, through one limit. */
	assert_accounted(log, "rng2", 2 * REPEATS, elapsed);
	assert_accounted(log, "rng3", 2, elapsed);
	assert_int_equal(lines_with(log, "rng3: virtqueue: "), 1);
}

static void test_repeated_bar_refusals_give_a_burst_and_a_count(void **state)
{
	struct fixture *f = *state;
	unsigned int printed, ignored, suppressed;
	struct guest_virtio *vd;
	const char *log;
	double elapsed;

	start(f);
	vd = &f->rng[0];
	/* The 64-bit BAR below 4 GiB, then over the ECAM window at a new place each time. */
	guest_pci_write(&f->pci, 0, vd->fn.devfn, PCI_BAR0 + 4 * vd->bar + 4, 4, 0);
	for (unsigned int i = 0; i < REPEATS; i++)
		guest_pci_write(&f->pci, 0, vd->fn.devfn, PCI_BAR0 + 4 * vd->bar, 4,
				(uint32_t)(ECAM_BASE + i * VIRTIO_BAR_SIZE));
	log = stop(f, &elapsed);
	printed = lines_with(log, " not routed: ");
	/* BAR routing belongs to the domain's host bridge: its limit reports the rest. */
	account(log, "ecam", &ignored, &suppressed);
	print_message("BAR refused %u times: %u lines, %u reported suppressed\n", REPEATS, printed,
		      suppressed);
	assert_true(printed >= 1);
	if (printed > allowed_lines(elapsed))
		fail_msg("%u lines for %u refused BARs in %.1f s", printed, REPEATS, elapsed);
	/* Each placement is refused once (and the first, half-programmed one may be too). */
	assert_in_range(printed + suppressed, REPEATS, REPEATS + 1);
}

/* PCI 3.0 6.2.2: Memory Space (Command bit 1) maps and unmaps every BAR. */
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2

static void test_memory_space_toggled_gives_a_burst_and_a_count(void **state)
{
	struct fixture *f = *state;
	unsigned int printed, suppressed;
	struct guest_virtio *vd;
	const char *log;
	double elapsed;

	/* Debug level: the BAR lines are debug lines, and only printed lines use a limit. */
	start_with(f, true);
	vd = &f->rng[0];
	for (unsigned int i = 0; i < REPEATS; i++)
		guest_pci_write(&f->pci, 0, vd->fn.devfn, PCI_COMMAND, 2,
				i % 2 ? PCI_COMMAND_MEMORY : 0);
	log = stop(f, &elapsed);
	/*
	 * Each toggle maps or unmaps rng0's one BAR; the probe mapped the four
	 * functions' BARs first, and the stop unmaps them: one limit for all.
	 */
	printed = lines_with(log, ": BAR0 ");
	account(log, "BAR mappings", &(unsigned int){ 0 }, &suppressed);
	print_message("Memory Space toggled %u times: %u BAR lines, %u reported suppressed\n",
		      REPEATS, printed, suppressed);
	if (printed > allowed_lines(elapsed) + 4)
		fail_msg("%u BAR lines for %u toggles in %.1f s", printed, REPEATS, elapsed);
	assert_in_range(printed + suppressed, REPEATS + NR_RNGS, REPEATS + 2 * NR_RNGS);
	/* The IOREQ server's range lines, one per mapping, go through a limit of their own. */
	printed = lines_with(log, "ioreq server 0: serving 0x1");
	account(log, "MMIO ranges", &(unsigned int){ 0 }, &suppressed);
	print_message("... %u range lines, %u reported suppressed\n", printed, suppressed);
	if (printed > allowed_lines(elapsed) + 4)
		fail_msg("%u range lines for %u toggles in %.1f s", printed, REPEATS, elapsed);
}

/*
 * systemd.exec(5): a service whose stderr is the journal gets $JOURNAL_STREAM
 * naming that stream; sd-daemon(3): "<N>" at the start of a line is its
 * priority. The daemon's stderr is made a file the test names that way.
 */
static void test_stderr_as_the_journal_gives_priorities(void **state)
{
	struct fixture *f = *state;
	int fd = open(sim_hv_daemon_log_path(f->hv), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;
	char stream[64];
	const char *log;
	double elapsed;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	start(f);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(guest_virtio_negotiate_exact(&f->rng[0], 0), -EPROTO);
	log = stop(f, &elapsed);

	assert_non_null(strstr(log, "<6>xen-virtio-pcid: info: dom1: serving ECAM"));
	assert_non_null(strstr(log, "<4>xen-virtio-pcid: warning: dom1: rng0: driver features"));
	/* Every line of ours carries its priority. */
	for (const char *at = strstr(log, "xen-virtio-pcid: "); at; at = strstr(at + 1, "xen-virtio-pcid: "))
		if (at < log + 3 || at[-3] != '<' || at[-1] != '>')
			fail_msg("a line without its priority: %.80s", at);
}

static void test_stderr_elsewhere_gives_plain_lines(void **state)
{
	struct fixture *f = *state;
	const char *log;
	double elapsed;

	/* Inherited from a parent whose stderr was the journal; ours is a file. */
	setenv("JOURNAL_STREAM", "0:0", 1);	/* inode 0: no file has it */
	start(f);
	unsetenv("JOURNAL_STREAM");
	log = stop(f, &elapsed);
	assert_non_null(strstr(log, "\nxen-virtio-pcid: info: dom1: serving ECAM"));
	assert_null(strstr(log, "<6>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeated_refusals_give_a_burst_and_a_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_functions_flood_leaves_another_functions_lines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_bar_refusals_give_a_burst_and_a_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_space_toggled_gives_a_burst_and_a_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stderr_as_the_journal_gives_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_elsewhere_gives_plain_lines, setup, teardown),
	};

	return cmocka_run_group_tests_name("guest-triggered log lines are rate-limited", tests, NULL,
					   NULL);
}
