// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_supervisor.c: `xen-virtio-pcid --config FILE`
 * against a simulated host whose guests come and go: a worker per
 * configured guest that exists, found by name or ID; restarted when it dies
 * (its stale IOREQ server destroyed); stopped when its guest goes; one
 * guest's failure leaves the other served; SIGHUP applies a changed file;
 * SIGTERM leaves nothing registered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/daemon_path.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define WAIT_MS		10000

struct fixture {
	struct sim_hv *hv;
	char config[64];
};

static void write_config(struct fixture *f, const char *text)
{
	FILE *file = fopen(f->config, "w");

	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_hv_config config = { .domid = 1, .name = "first" };
	int fd;

	if (!f)
		return -1;
	strcpy(f->config, "/tmp/xvp-supervisor-XXXXXX");
	fd = mkstemp(f->config);
	if (fd < 0)
		return -1;
	close(fd);
	f->hv = sim_hv_create(&config);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	unlink(f->config);
	free(f);
	return 0;
}

static void start_supervisor(struct fixture *f)
{
	const char *args[] = { "--config", f->config, "--restart-delay", "0.05", "--poll", "0.1",
			       NULL };

	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
}

static void add_domain(struct fixture *f, uint32_t domid, const char *name)
{
	struct sim_hv_config config = { .domid = domid, .name = name };

	assert_int_equal(sim_hv_create_domain(f->hv, &config), 0);
}

/* The host bridge answers in @domid's ECAM window: a worker serves it. */
static void assert_served(struct fixture *f, uint32_t domid)
{
	uint64_t vendor = 0;

	assert_int_equal(sim_dom_mmio_read(f->hv, domid, 0, ECAM_BASE, 2, &vendor),
			 SIM_ACCESS_SERVED);
	assert_int_equal(vendor, 0x1b36);
}

static pid_t wait_served(struct fixture *f, uint32_t domid, pid_t not_by)
{
	pid_t pid = sim_hv_wait_domain_served(f->hv, domid, not_by, WAIT_MS);

	if (pid <= 0) {
		fprintf(stderr, "%s", sim_hv_daemon_log(f->hv));
		fail_msg("domain %u is not served (the daemon's log is above)", domid);
	}
	assert_served(f, domid);
	return pid;
}

static unsigned int servers_of(struct fixture *f, uint32_t domid)
{
	struct sim_hv_domain_state state;

	assert_int_equal(sim_hv_get_domain_state(f->hv, domid, &state), 0);
	return state.servers;
}

static void wait_process_gone(pid_t pid)
{
	assert_true(process_wait_gone(pid, WAIT_MS));
}

static void stop_supervisor(struct fixture *f)
{
	struct sim_hv_state state;

	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	sim_hv_get_state(f->hv, &state);
	/* Every worker tore its server down: nothing stays registered with Xen. */
	assert_int_equal(state.servers, 0);
	assert_int_equal(state.ports_bound, 0);
}

static void test_a_guest_created_after_the_supervisor_is_served(void **state)
{
	struct fixture *f = *state;

	write_config(f, "[domain \"late\"]\ndevice = [ \"rng\" ]\n");
	start_supervisor(f);
	usleep(300000);
	/* The first domain is not in the file: nobody serves it. */
	assert_int_equal(servers_of(f, 1), 0);
	add_domain(f, 2, "late");
	wait_served(f, 2, 0);
	assert_int_equal(servers_of(f, 1), 0);
	stop_supervisor(f);
}

/* Does process @pid's command line hold the arguments @a and then @b? */
static bool cmdline_has_pair(pid_t pid, const char *a, const char *b)
{
	char path[64], buf[8192];
	size_t len;
	FILE *file;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	file = fopen(path, "r");
	assert_non_null(file);
	len = fread(buf, 1, sizeof(buf) - 1, file);
	fclose(file);
	buf[len] = '\0';
	for (size_t at = 0; at < len; at += strlen(buf + at) + 1)
		if (!strcmp(buf + at, a) && at + strlen(a) + 1 < len && !strcmp(buf + at + strlen(a) + 1, b))
			return true;
	return false;
}

static void test_a_recreated_guest_gets_a_new_worker(void **state)
{
	struct fixture *f = *state;
	pid_t first, second;

	write_config(f, "[domain \"vm\"]\ndevice = [ \"rng\" ]\n");
	add_domain(f, 2, "vm");
	start_supervisor(f);
	first = wait_served(f, 2, 0);
	/* xl destroy; xl create: the same name, a new domid. */
	assert_int_equal(sim_hv_destroy_domain_id(f->hv, 2), 0);
	wait_process_gone(first);
	add_domain(f, 3, "vm");
	second = wait_served(f, 3, 0);
	assert_int_not_equal(first, second);
	/* Both were told the name, which outlives the domid (virtio-net derives its MAC from it). */
	assert_true(cmdline_has_pair(second, "--guest-name", "vm"));
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "domain 2 (vm) is gone"));
	stop_supervisor(f);
}

static void test_a_failing_guest_leaves_the_other_served(void **state)
{
	struct fixture *f = *state;
	const char *log;

	write_config(f, "[domain \"good\"]\ndevice = [ \"rng\" ]\n\n"
			"[domain \"bad\"]\ndevice = [ \"blk,path=/nonexistent/disk.img\" ]\n");
	add_domain(f, 2, "good");
	add_domain(f, 3, "bad");
	start_supervisor(f);
	wait_served(f, 2, 0);
	/* 0.05 + 0.1 + 0.2 + 0.4 s of backoff, then the supervisor gives up on it. */
	for (int waited = 0; waited < WAIT_MS; waited += 50) {
		if (strstr(sim_hv_daemon_log(f->hv), "giving up on this domain"))
			break;
		usleep(50000);
	}
	log = sim_hv_daemon_log(f->hv);
	assert_non_null(strstr(log, "domain 3 (bad): its worker failed 5 times in a row"));
	assert_non_null(strstr(log, "/nonexistent/disk.img"));
	assert_int_equal(servers_of(f, 3), 0);
	/* The good one never stopped. */
	assert_served(f, 2);
	stop_supervisor(f);
}

static void test_a_killed_worker_is_restarted_and_its_server_destroyed(void **state)
{
	struct fixture *f = *state;
	pid_t first, second;

	write_config(f, "[domain 2]\ndevice = [ \"rng\" ]\n");
	add_domain(f, 2, NULL);
	start_supervisor(f);
	first = wait_served(f, 2, 0);
	assert_int_equal(kill(first, SIGKILL), 0);
	second = wait_served(f, 2, first);
	/* The killed worker's server (Xen kept it) was destroyed by the new one. */
	assert_int_equal(servers_of(f, 2), 1);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "was killed by signal 9"));
	assert_int_not_equal(first, second);
	stop_supervisor(f);
}

static void test_sighup_applies_the_changed_file(void **state)
{
	struct fixture *f = *state;
	pid_t kept, changed, removed;
	uint64_t value;

	write_config(f, "[domain \"kept\"]\ndevice = [ \"rng\" ]\n\n"
			"[domain \"changed\"]\ndevice = [ \"rng\" ]\n\n"
			"[domain \"removed\"]\ndevice = [ \"rng\" ]\n");
	add_domain(f, 2, "kept");
	add_domain(f, 3, "changed");
	add_domain(f, 4, "removed");
	add_domain(f, 5, "added");
	start_supervisor(f);
	kept = wait_served(f, 2, 0);
	changed = wait_served(f, 3, 0);
	removed = wait_served(f, 4, 0);
	assert_int_equal(servers_of(f, 5), 0);

	/* "changed" moves its ECAM window; "removed" goes; "added" comes. */
	write_config(f, "[domain \"kept\"]\ndevice = [ \"rng\" ]\n\n"
			"[domain \"changed\"]\necam = \"0x34000000,0x1000000\"\n"
			"device = [ \"rng\" ]\n\n"
			"[domain \"added\"]\ndevice = [ \"rng\" ]\n");
	assert_int_equal(sim_hv_signal_daemon(f->hv, SIGHUP), 0);
	wait_served(f, 5, 0);
	assert_true(sim_hv_wait_domain_served(f->hv, 3, changed, WAIT_MS) > 0);
	assert_int_equal(sim_dom_mmio_read(f->hv, 3, 0, 0x34000000, 2, &value), SIM_ACCESS_SERVED);
	assert_int_equal(value, 0x1b36);
	wait_process_gone(removed);
	assert_int_equal(servers_of(f, 4), 0);
	/* The unchanged one was left alone. */
	assert_int_equal(sim_hv_wait_domain_served(f->hv, 2, 0, WAIT_MS), kept);

	/* A broken file is refused; the running configuration stays. */
	write_config(f, "[domain \"kept\"]\nintx_spi = 2000\n");
	assert_int_equal(sim_hv_signal_daemon(f->hv, SIGHUP), 0);
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		if (strstr(sim_hv_daemon_log(f->hv), "not reloaded"))
			break;
		usleep(20000);
	}
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), ":2: intx_spi '2000'"));
	assert_int_equal(sim_hv_wait_domain_served(f->hv, 2, 0, WAIT_MS), kept);
	stop_supervisor(f);
}

/* --user for every worker, unless its block names its own; handles restricted in any case. */
static void test_workers_run_restricted_as_the_given_user(void **state)
{
	struct fixture *f = *state;
	const char *args[] = { "--config", f->config, "--user", "65534", NULL };
	pid_t a, b;

	write_config(f, "[domain 2]\ndevice = [ \"rng\" ]\n\n"
			"[domain 3]\ndevice = [ \"rng\" ]\nuser = \"65533:65533\"\n");
	add_domain(f, 2, NULL);
	add_domain(f, 3, NULL);
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
	a = wait_served(f, 2, 0);
	b = wait_served(f, 3, 0);
	/* Restricted, then unprivileged, right after the ports were bound. */
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "dom2: running as uid 65534", WAIT_MS), 0);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "dom3: running as uid 65533", WAIT_MS), 0);
	assert_int_equal(process_uid(a), 65534);
	assert_int_equal(process_uid(b), 65533);
	assert_int_equal(sim_hv_restriction(f->hv, a), 2);
	assert_int_equal(sim_hv_restriction(f->hv, b), 3);
	/* The supervisor itself keeps its privileges and its unrestricted view. */
	assert_int_equal(process_uid(getpid()), process_uid(sim_hv_daemon_pid(f->hv)));
	stop_supervisor(f);
	assert_null(strstr(sim_hv_daemon_log(f->hv), "error:"));
}

/*
 * A dom0 without xenstored, as real libxenstore meets it: xs_open() falls
 * back to /dev/xen/xenbus and its first request never answers. The
 * supervisor still starts, finds guests by polling libxenctrl, serves a
 * [domain ID] block (its worker's keys are not written), says a name block
 * cannot match, and stops on SIGTERM.
 */
static void test_without_xenstore_guests_are_found_by_polling(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_config host = { .domid = 1, .no_xenstore = true };

	sim_hv_destroy(f->hv);
	f->hv = sim_hv_create(&host);
	write_config(f, "[domain 2]\ndevice = [ \"rng\" ]\n\n[domain \"named\"]\ndevice = \"rng\"\n");
	start_supervisor(f);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "cannot match without xenstore", WAIT_MS), 0);
	add_domain(f, 2, NULL);
	wait_served(f, 2, 0);
	assert_int_equal(servers_of(f, 1), 0);
	assert_int_equal(sim_hv_destroy_domain_id(f->hv, 2), 0);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "domain 2 is gone: stopping its worker",
						WAIT_MS), 0);
	stop_supervisor(f);
}

/* --check: 0 for a valid file, 2 with FILE:LINE for a bad one; nothing is started. */
/* libxl's saved configuration of domain @domid named @name, with @extra as its device_model_args. */
static void write_saved_xl_config(const char *dir, uint32_t domid, const char *name,
				  const char *extra)
{
	char path[256];
	FILE *file;

	snprintf(path, sizeof(path), "%s/userdata-d.%u.5b3ae6b0-24b1-4c1e-a0c1-5ab4cfa5fc%02u.libxl-json",
		 dir, domid, domid % 100);
	file = fopen(path, "w");
	assert_non_null(file);
	fprintf(file, "{\n    \"c_info\": {\n        \"type\": \"pvh\",\n        \"name\": \"%s\"\n"
		"    },\n    \"b_info\": {\n        \"extra\": %s\n    }\n}\n", name, extra);
	assert_int_equal(fclose(file), 0);
}

/*
 * --from-xl alone, no config file: a guest whose saved xl configuration
 * gives our options is served with them; one whose options are wrong is
 * refused with the file and the reason; one with QEMU's is left alone.
 */
static void test_from_xl_serves_the_guests_whose_xl_config_gives_our_options(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/xvp-xl-XXXXXX", option[64], expected[128];
	const char *args[] = { option, "--restart-delay", "0.05", "--poll", "0.1", NULL };

	assert_non_null(mkdtemp(dir));
	snprintf(option, sizeof(option), "--from-xl=%s", dir);
	write_saved_xl_config(dir, 1, "first", "[ \"--device=rng\" ]");
	add_domain(f, 2, "typo");
	write_saved_xl_config(dir, 2, "typo", "[ \"--device=rgn\" ]");
	add_domain(f, 3, "qemu");
	write_saved_xl_config(dir, 3, "qemu", "[ \"-usb\" ]");
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
	wait_served(f, 1, 0);
	snprintf(expected, sizeof(expected), "domain 2 (typo): %s/userdata-d.2.", dir);
	if (sim_hv_wait_daemon_log(f->hv, expected, WAIT_MS))
		fail_msg("no '%s'; the log:\n%s", expected, sim_hv_daemon_log(f->hv));
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "--device 'rgn'"));
	/* A file libxl writes after the domain appeared (it builds the domain first) is found. */
	add_domain(f, 4, "later");
	usleep(300000);
	assert_int_equal(servers_of(f, 4), 0);
	write_saved_xl_config(dir, 4, "later", "[ \"--device=rng\", \"--device=rng\" ]");
	wait_served(f, 4, 0);
	assert_int_equal(servers_of(f, 2), 0);
	assert_int_equal(servers_of(f, 3), 0);
	stop_supervisor(f);
	for (uint32_t domid = 1; domid <= 4; domid++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/userdata-d.%u.5b3ae6b0-24b1-4c1e-a0c1-5ab4cfa5fc%02u.libxl-json",
			 dir, domid, domid % 100);
		unlink(path);
	}
	rmdir(dir);
}

static int run_check(const char *config, char *output, size_t size)
{
	char command[1200];
	FILE *out;
	size_t n;
	int status;

	snprintf(command, sizeof(command), "%s --check --config %s 2>&1", sim_daemon_path(), config);
	out = popen(command, "r");
	assert_non_null(out);
	n = fread(output, 1, size - 1, out);
	output[n] = '\0';
	status = pclose(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_check_validates_the_file(void **state)
{
	struct fixture *f = *state;
	char output[1024], expected[128];

	write_config(f, "[domain \"a\"]\ndevice = [ \"rng\" ]\n[domain 7]\ndevice = \"rng\"\n");
	assert_int_equal(run_check(f->config, output, sizeof(output)), 0);
	assert_non_null(strstr(output, "2 domain blocks, valid"));
	write_config(f, "[domain \"a\"]\ndevice = [ \"rng\" ]\nspeed = 3\n");
	assert_int_equal(run_check(f->config, output, sizeof(output)), 2);
	snprintf(expected, sizeof(expected), "%s:3:", f->config);
	assert_non_null(strstr(output, expected));
	assert_non_null(strstr(output, "speed"));
	assert_int_equal(run_check("/nonexistent/virtio-pci.cfg", output, sizeof(output)), 2);
	assert_non_null(strstr(output, "/nonexistent/virtio-pci.cfg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_guest_created_after_the_supervisor_is_served,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_recreated_guest_gets_a_new_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_from_xl_serves_the_guests_whose_xl_config_gives_our_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failing_guest_leaves_the_other_served, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_killed_worker_is_restarted_and_its_server_destroyed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sighup_applies_the_changed_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_run_restricted_as_the_given_user, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_xenstore_guests_are_found_by_polling, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_validates_the_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
