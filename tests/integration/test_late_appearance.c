// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_late_appearance.c: a dom0less guest boots first and
 * its devices appear later. Before the daemon attaches, Xen answers the ECAM
 * window itself (the background: all-ones, writes ignored); once the daemon's
 * functions answer, it says so in the guest's xenstore area
 * (data/virtio-pci/generation, interface version 1), and the guest's rescan
 * helper (its simulated-hypervisor build, running as a guest program against
 * a fake sysfs tree and a fake proc/interrupts) rescans. Without xenstore,
 * the daemon serves all the same and the helper polls. Before dom0 ran
 * init-dom0less (the guest's proc/interrupts lists xenstore_late_init), the
 * helper leaves xenstore alone and polls, and watches once xenbus is up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define DOMID		1
#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define HOST_BRIDGE	0		/* devfn 00.0 */
#define RNG_DEVFN	(1 << 3)	/* the first device: 00:01.0 */
#define REG_VENDOR	0x00
#define REG_COMMAND	0x04
#define KEY		"/local/domain/1/data/virtio-pci/generation"
#define WAIT_MS		10000
#define QUIET_MS	300		/* how long "nothing happens" is watched for */

/* The guest kernel's xenbus, as its /proc/interrupts shows it (Linux 6.12, arm64). */
#define INTERRUPTS_HEAD \
	"           CPU0       CPU1       \n" \
	" 11:       4123       3991     GICv3  27 Level     arch_timer\n"
#define INTERRUPTS_TAIL \
	"IPI0:       213        250       Rescheduling interrupts\n" \
	"Err:          0\n"
/* Before dom0 ran init-dom0less: nothing may ask xenstore yet. */
#define XENBUS_LATE \
	INTERRUPTS_HEAD "  5:          0          0  xen-dyn    -event     xenstore_late_init\n" INTERRUPTS_TAIL
/* Connected (and from the start in a guest whose xenstore was there at boot). */
#define XENBUS_READY \
	INTERRUPTS_HEAD "  5:         12          3  xen-dyn    -event     xenbus\n" INTERRUPTS_TAIL
/* xen,enhanced = "no-xenstore". */
#define XENBUS_ABSENT INTERRUPTS_HEAD INTERRUPTS_TAIL

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	char dir[64];			/* the fake sysfs under DIR/sys, DIR/proc, the helper's log */
	char rescan_file[128];
	char helper_log[128];
	pid_t helper;
};

static const char *const rng_args[] = { "--device", "rng", NULL };

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

static void make_dir(struct fixture *f, const char *relative)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->dir, relative);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* What Linux shows of a guest whose PCI scan found the daemon's host bridge only (or nothing). */
static void make_fake_sysfs(struct fixture *f)
{
	static const char *const dirs[] = {
		"sys", "sys/bus", "sys/bus/pci", "sys/bus/pci/devices", "proc",
	};

	strcpy(f->dir, "/tmp/xvp-late-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		make_dir(f, dirs[i]);
	snprintf(f->rescan_file, sizeof(f->rescan_file), "%s/sys/bus/pci/rescan", f->dir);
	snprintf(f->helper_log, sizeof(f->helper_log), "%s/helper.log", f->dir);
	write_file(f->rescan_file, "");
}

/* What the guest's proc/interrupts says (XENBUS_*): replaced at once, as a reader sees it. */
static void set_xenbus(struct fixture *f, const char *interrupts)
{
	char path[128], next[128];

	snprintf(path, sizeof(path), "%s/proc/interrupts", f->dir);
	snprintf(next, sizeof(next), "%s/proc/interrupts.new", f->dir);
	write_file(next, interrupts);
	assert_int_equal(rename(next, path), 0);
}

/* The kernel's rescan found a function: its sysfs directory with its vendor ID. */
static void add_fake_function(struct fixture *f, const char *name, const char *vendor)
{
	char path[256];	/* names are short: 0000:00:01.0 */

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", name);
	make_dir(f, path);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/vendor", f->dir, name);
	write_file(path, vendor);
}

static int create(void **state, const struct sim_hv_config *config, const char *interrupts)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(config);
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	make_fake_sysfs(f);
	set_xenbus(f, interrupts);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return create(state, &(struct sim_hv_config){ .domid = DOMID }, XENBUS_READY);
}

static int setup_no_xenstore(void **state)
{
	return create(state, &(struct sim_hv_config){ .domid = DOMID, .no_xenstore = true },
		      XENBUS_ABSENT);
}

static int setup_abort_background(void **state)
{
	return create(state, &(struct sim_hv_config){ .domid = DOMID,
						      .background = SIM_BACKGROUND_ABORT },
		      XENBUS_READY);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->helper > 0) {
		kill(f->helper, SIGKILL);
		waitpid(f->helper, NULL, 0);
	}
	sim_hv_destroy(f->hv);
	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- the daemon and the helper */

static void start_daemon(struct fixture *f)
{
	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), rng_args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
}

/* The helper as a program of the guest, on the fake sysfs and proc, with @extra (NULL-terminated). */
static void start_helper(struct fixture *f, const char *const extra[])
{
	char sysfs[96], proc[96];
	const char *argv[16] = { sim_rescan_path(), "--sysfs", sysfs, "--proc", proc, "--verbose" };
	size_t argc = 6;

	snprintf(sysfs, sizeof(sysfs), "%s/sys", f->dir);
	snprintf(proc, sizeof(proc), "%s/proc", f->dir);
	for (size_t i = 0; extra && extra[i]; i++)
		argv[argc++] = extra[i];
	f->helper = sim_hv_spawn_guest_program(f->hv, argv, f->helper_log);
	assert_true(f->helper > 0);
}

static char *helper_log(struct fixture *f)
{
	static char text[8192];
	FILE *file = fopen(f->helper_log, "r");
	size_t n = file ? fread(text, 1, sizeof(text) - 1, file) : 0;

	if (file)
		fclose(file);
	text[n] = '\0';
	return text;
}

/* The helper's exit status, or -ETIMEDOUT (still running after @timeout_ms). */
static int wait_helper(struct fixture *f, int timeout_ms)
{
	int status;

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (waitpid(f->helper, &status, WNOHANG) == f->helper) {
			f->helper = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Wait until the helper's log has @text: 0, or -ETIMEDOUT. */
static int wait_log(struct fixture *f, const char *text, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (strstr(helper_log(f), text))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * Whether the running helper holds a socket: its simulated libxenstore
 * reaches the hypervisor through one, opened at its first call and kept
 * until it exits (as the real one keeps /dev/xen/xenbus or xenstored's
 * socket). Its standard streams do not count.
 */
static bool helper_has_socket(struct fixture *f)
{
	char dir[32], path[320], target[64];
	struct dirent *entry;
	bool found = false;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)f->helper);
	fds = opendir(dir);
	assert_non_null(fds);
	while ((entry = readdir(fds))) {
		ssize_t n;

		if (entry->d_name[0] == '.' || atoi(entry->d_name) <= STDERR_FILENO)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found |= !strncmp(target, "socket:", 7);
		}
	}
	closedir(fds);
	return found;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Wait until the helper wrote the fake rescan file: 0, or -ETIMEDOUT. */
static int wait_rescan(struct fixture *f, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (file_size(f->rescan_file) > 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* What the helper wrote, then empty the file again so that the next rescan shows. */
static void take_rescan(struct fixture *f, const char *expected)
{
	char text[16] = "";
	FILE *file = fopen(f->rescan_file, "r");

	assert_non_null(file);
	assert_non_null(fgets(text, sizeof(text), file));
	fclose(file);
	assert_string_equal(text, expected);
	assert_int_equal(truncate(f->rescan_file, 0), 0);
}

static int scan_bus(struct fixture *f, struct guest_pci_function found[], int max)
{
	int count = guest_pci_scan_bus(&f->pci, 0, found, max);

	assert_int_equal(f->pci.errors, 0);
	return count;
}

/* ---- the background */

/*
 * The guest boots before the daemon: its scan of the ECAM window finds an
 * empty bus, and what it writes goes nowhere; Xen answers, not the daemon.
 * Once the daemon attaches, the host bridge and the device answer, and the
 * early write left no trace.
 */
static void before_attach_the_window_reads_all_ones_and_ignores_writes(void **state)
{
	struct fixture *f = *state;
	struct guest_pci_function found[8];
	uint64_t value = 0;

	assert_int_equal(scan_bus(f, found, 8), 0);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, ECAM_BASE + REG_VENDOR, 4, &value),
			 SIM_ACCESS_UNCLAIMED);
	assert_int_equal(value, 0xffffffff);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 1, ECAM_BASE + ECAM_SIZE - 8, 8, &value),
			 SIM_ACCESS_UNCLAIMED);
	assert_true(value == ~0ULL);
	assert_int_equal(sim_vcpu_mmio_write(f->hv, 0, ECAM_BASE + REG_COMMAND, 2, 0x0006),
			 SIM_ACCESS_UNCLAIMED);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, MMIO64_BASE, 4, &value), SIM_ACCESS_UNCLAIMED);
	assert_int_equal(value, 0xffffffff);

	start_daemon(f);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, ECAM_BASE + REG_VENDOR, 4, &value),
			 SIM_ACCESS_SERVED);
	assert_int_equal(value, 0x00081b36);	/* the host bridge, 1b36:0008 */
	assert_int_equal(guest_pci_read(&f->pci, 0, HOST_BRIDGE, REG_COMMAND, 2), 0);
	assert_int_equal(scan_bus(f, found, 8), 2);
	assert_int_equal(found[1].devfn, RNG_DEVFN);
	assert_int_equal(found[1].vendor_id, 0x1af4);
}

/* Xen before 4.21 (or trap-unmapped-accesses left at 1): the early scan is a data abort. */
static void without_the_background_an_early_access_aborts(void **state)
{
	struct fixture *f = *state;
	uint64_t value = 0;

	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, ECAM_BASE + REG_VENDOR, 4, &value), -EFAULT);
	start_daemon(f);
	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, ECAM_BASE + REG_VENDOR, 4, &value),
			 SIM_ACCESS_SERVED);
}

/* ---- the readiness key */

/*
 * Once the functions answer, the guest finds generation "1" in its own
 * area, owned by it (so it may read and watch it) and hidden from other
 * guests; when the daemon stops, the key goes.
 */
static void attach_writes_generation_1_owned_by_the_guest(void **state)
{
	struct fixture *f = *state;
	struct guest_pci_function found[8];

	assert_null(sim_hv_xenstore_read(f->hv, KEY));
	start_daemon(f);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, "1", WAIT_MS), 0);
	/* The daemon logs it once the value and then the permissions are written. */
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		if (strstr(sim_hv_daemon_log(f->hv), "xenstore: " KEY " = 1"))
			break;
		usleep(10000);
	}
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "xenstore: " KEY " = 1"));
	assert_int_equal(sim_hv_xenstore_owner(f->hv, KEY), DOMID);
	assert_true(sim_hv_xenstore_readable(f->hv, KEY, DOMID));
	assert_false(sim_hv_xenstore_readable(f->hv, KEY, DOMID + 1));
	assert_int_equal(sim_hv_xenstore_owner(f->hv, "/local/domain/1/data/virtio-pci"), DOMID);
	assert_int_equal(scan_bus(f, found, 8), 2);

	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, NULL, 0), 0);
}

/*
 * A daemon that died without removing the key (killed) is followed by one
 * that raises it: the guest sees a change and rescans, although the new
 * daemon's functions are the first set it serves.
 */
static void a_daemon_after_a_crash_raises_the_generation(void **state)
{
	struct fixture *f = *state;

	start_daemon(f);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, "1", WAIT_MS), 0);
	/* The worker crashes; its supervisor, started by hand, exits 1. */
	assert_int_equal(sim_hv_kill_serving_worker(f->hv, WAIT_MS), 1);
	start_daemon(f);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, "2", WAIT_MS), 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* ---- the guest's rescan helper */

/*
 * The helper starts first and waits; the daemon attaches; the helper
 * rescans once (and, with --once, exits since a virtio function is there),
 * and the guest's scan now finds the device.
 */
static void the_helper_rescans_when_the_daemon_attaches(void **state)
{
	struct fixture *f = *state;
	const char *const once[] = { "--once", NULL };
	struct guest_pci_function found[8];

	/* What the guest's next scan will find, as the kernel would show it. */
	add_fake_function(f, "0000:00:01.0", "0x1af4\n");
	start_helper(f, once);
	assert_int_equal(wait_helper(f, QUIET_MS), -ETIMEDOUT);
	assert_int_equal(file_size(f->rescan_file), 0);

	start_daemon(f);
	assert_int_equal(wait_helper(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
	assert_non_null(strstr(helper_log(f), "generation 1: rescanned, 1 virtio function"));
	assert_int_equal(scan_bus(f, found, 8), 2);
}

/* As a service, the helper rescans on every new value and only then. */
static void the_helper_rescans_on_every_new_generation(void **state)
{
	struct fixture *f = *state;

	start_daemon(f);
	start_helper(f, NULL);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");

	assert_int_equal(sim_hv_xenstore_write(f->hv, KEY, "2"), 0);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");

	assert_int_equal(sim_hv_xenstore_write(f->hv, KEY, "2"), 0);
	assert_int_equal(wait_rescan(f, QUIET_MS), -ETIMEDOUT);
	assert_int_equal(wait_helper(f, 0), -ETIMEDOUT);	/* still watching */
}

/* --no-watch (the static build's way): the key is read every FIRST seconds. */
static void the_helper_without_watches_reads_the_key_periodically(void **state)
{
	struct fixture *f = *state;
	const char *const no_watch[] = { "--no-watch", "--poll", "0.05", NULL };

	start_helper(f, no_watch);
	assert_int_equal(wait_rescan(f, QUIET_MS), -ETIMEDOUT);
	start_daemon(f);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
	assert_non_null(strstr(helper_log(f), "every 0.05 s"));

	assert_int_equal(sim_hv_xenstore_write(f->hv, KEY, "7"), 0);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
	/* The same value again is no reason to rescan. */
	assert_int_equal(wait_rescan(f, QUIET_MS), -ETIMEDOUT);
	assert_int_equal(wait_helper(f, 0), -ETIMEDOUT);
}

/* ---- before dom0 ran init-dom0less */

/*
 * The guest's kernel waits for init-dom0less (xenstore_late_init), and the
 * daemon attached already: the key is there, but a request now would break
 * xenstore in this guest for good. The helper asks nothing and rescans
 * through sysfs; once the kernel's xenbus is up, it watches the key, acts
 * on its value and on every new one.
 */
static void before_xenbus_is_up_the_helper_polls_then_watches(void **state)
{
	struct fixture *f = *state;
	const char *const fast[] = { "--poll", "0.02,0.1", NULL };

	set_xenbus(f, XENBUS_LATE);
	start_daemon(f);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, "1", WAIT_MS), 0);
	start_helper(f, fast);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);	/* and again: still nothing */
	take_rescan(f, "1\n");
	for (int waited = 0; waited < QUIET_MS; waited += 10) {
		assert_false(helper_has_socket(f));
		usleep(10000);
	}
	assert_non_null(strstr(helper_log(f), "xenbus not up yet: rescanned, 0 virtio functions"));
	assert_null(strstr(helper_log(f), "generation"));

	/* The kernel's next rescan will find the device: polling stops there. */
	add_fake_function(f, "0000:00:01.0", "0x1af4\n");
	assert_int_equal(wait_log(f, "xenbus not up yet: rescanned, 1 virtio function", WAIT_MS), 0);
	assert_false(helper_has_socket(f));
	assert_int_equal(wait_helper(f, 0), -ETIMEDOUT);	/* a service: it goes on */

	set_xenbus(f, XENBUS_READY);
	assert_int_equal(wait_log(f, "generation 1: rescanned, 1 virtio function", WAIT_MS), 0);
	assert_true(helper_has_socket(f));
	assert_non_null(strstr(helper_log(f), "xenbus is up after"));
	assert_non_null(strstr(helper_log(f), "watching data/virtio-pci/generation"));
	assert_int_equal(truncate(f->rescan_file, 0), 0);
	assert_int_equal(sim_hv_xenstore_write(f->hv, KEY, "2"), 0);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
}

/* With --once, a virtio function found before xenbus is up ends the helper: xenstore untouched. */
static void before_xenbus_is_up_a_function_found_ends_the_helper_with_once(void **state)
{
	struct fixture *f = *state;
	const char *const once[] = { "--once", "--poll", "0.02,0.1", NULL };
	struct guest_pci_function found[8];

	set_xenbus(f, XENBUS_LATE);
	start_daemon(f);
	assert_int_equal(sim_hv_xenstore_wait(f->hv, KEY, "1", WAIT_MS), 0);
	start_helper(f, once);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	assert_false(helper_has_socket(f));
	add_fake_function(f, "0000:00:01.0", "0x1af4\n");
	assert_int_equal(wait_helper(f, WAIT_MS), 0);
	assert_non_null(strstr(helper_log(f), "xenbus not up yet: rescanned, 1 virtio function"));
	assert_null(strstr(helper_log(f), "generation"));
	assert_null(strstr(helper_log(f), "watching"));
	assert_int_equal(scan_bus(f, found, 8), 2);
}

/* ---- no xenstore */

/* The daemon says once that it cannot tell the guest, and serves. */
static void without_xenstore_the_daemon_serves_and_says_so(void **state)
{
	struct fixture *f = *state;
	struct guest_pci_function found[8];

	start_daemon(f);
	assert_int_equal(scan_bus(f, found, 8), 2);
	for (int waited = 0; waited < WAIT_MS && !strstr(sim_hv_daemon_log(f->hv), "no xenstore");
	     waited += 10)
		usleep(10000);
	if (!strstr(sim_hv_daemon_log(f->hv), "info: dom1: no xenstore (it does not answer: no "
		    "xenstored?): domain 1's guest is not told when its functions answer"))
		fail_msg("no such line; the log:\n%s", sim_hv_daemon_log(f->hv));
	assert_null(sim_hv_xenstore_read(f->hv, KEY));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* The helper rescans with growing waits until the virtio function shows in sysfs. */
static void without_xenstore_the_helper_polls_until_virtio_appears(void **state)
{
	struct fixture *f = *state;
	const char *const fast[] = { "--poll", "0.02,0.1", "--timeout", "20", NULL };

	start_helper(f, fast);
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);
	take_rescan(f, "1\n");
	assert_int_equal(wait_rescan(f, WAIT_MS), 0);	/* and again: still nothing */
	add_fake_function(f, "0000:00:01.0", "0x1af4\n");
	assert_int_equal(wait_helper(f, WAIT_MS), 0);
	assert_non_null(strstr(helper_log(f), "no xenstore"));
	assert_non_null(strstr(helper_log(f), "polling: rescanned, 1 virtio function"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(before_attach_the_window_reads_all_ones_and_ignores_writes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(without_the_background_an_early_access_aborts,
						setup_abort_background, teardown),
		cmocka_unit_test_setup_teardown(attach_writes_generation_1_owned_by_the_guest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_daemon_after_a_crash_raises_the_generation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_helper_rescans_when_the_daemon_attaches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_helper_rescans_on_every_new_generation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_helper_without_watches_reads_the_key_periodically,
						setup, teardown),
		cmocka_unit_test_setup_teardown(before_xenbus_is_up_the_helper_polls_then_watches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(before_xenbus_is_up_a_function_found_ends_the_helper_with_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(without_xenstore_the_daemon_serves_and_says_so,
						setup_no_xenstore, teardown),
		cmocka_unit_test_setup_teardown(without_xenstore_the_helper_polls_until_virtio_appears,
						setup_no_xenstore, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
