// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_sandbox.c: what a worker gives up before it serves
 * (daemon/sandbox.h), seen from outside as a user would: its uid (its
 * domain's own, with no flag), /proc's view of it (no new privileges, a
 * seccomp filter, no core dumps, an empty root), two workers that cannot
 * signal each other, and a forbidden system call that stops the worker,
 * which the supervisor reports and replaces. The trigger of that call is in
 * the simulated libxenevtchn only: the real binary is shown not to have it.
 * And how workers start and end: the four INTx lines are lowered at start;
 * SIGHUP and SIGQUIT stop a worker in order, as SIGTERM does; a worker
 * stops when its supervisor dies; a stop it does not answer ends in
 * SIGKILL; when a domain goes, whatever still runs as its uid is killed
 * before the ID is served again.
 *
 * Every daemon gets this run's own uid base (sim_hv_uid_base()): other
 * worktrees run these suites at the same time with the same domids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/daemon_path.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"
#include "tests/sim/protocol.h"

#define ECAM_BASE	0x10000000ULL
#define INTX_SPI	44
#define WAIT_MS		10000

struct fixture {
	struct sim_hv *hv;
	char config[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	strcpy(f->config, "/tmp/xvp-sandbox-XXXXXX");
	fd = mkstemp(f->config);
	if (fd < 0)
		return -1;
	close(fd);
	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1 });
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

static void write_config(struct fixture *f, const char *text)
{
	FILE *file = fopen(f->config, "w");

	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

/* The supervisor of @text, with @extra_option @extra_value if not NULL. */
static void start_supervisor_with(struct fixture *f, const char *text, const char *extra_option,
				  const char *extra_value)
{
	const char *args[] = { "--config", f->config, "--restart-delay", "0.05", "--poll", "0.1",
			       extra_option, extra_value, NULL };

	write_config(f, text);
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
}

static void start_supervisor(struct fixture *f, const char *text)
{
	start_supervisor_with(f, text, NULL, NULL);
}

static void add_domain(struct fixture *f, uint32_t domid)
{
	assert_int_equal(sim_hv_create_domain(f->hv, &(struct sim_hv_config){ .domid = domid }), 0);
}

/* Domain 2 (created here), served by a supervisor with @extra_option @extra_value. */
static void serve_domain_2(struct fixture *f, const char *extra_option, const char *extra_value)
{
	add_domain(f, 2);
	start_supervisor_with(f, "[domain 2]\ndevice = \"rng\"\n", extra_option, extra_value);
}

/* Served by a process other than @not_by, which answers in the ECAM window: its pid. */
static pid_t wait_served(struct fixture *f, uint32_t domid, pid_t not_by)
{
	pid_t pid = sim_hv_wait_domain_served(f->hv, domid, not_by, WAIT_MS);
	uint64_t vendor = 0;

	if (pid <= 0)
		fail_msg("domain %u is not served; the log:\n%s", domid, sim_hv_daemon_log(f->hv));
	assert_int_equal(sim_dom_mmio_read(f->hv, domid, 0, ECAM_BASE, 2, &vendor),
			 SIM_ACCESS_SERVED);
	assert_int_equal(vendor, 0x1b36);
	return pid;
}

static void wait_log(struct fixture *f, const char *text)
{
	if (sim_hv_wait_daemon_log(f->hv, text, WAIT_MS))
		fail_msg("no \"%s\" in the log:\n%s", text, sim_hv_daemon_log(f->hv));
}

/* The value of "@key:" in /proc/@pid/status (the first number), or -1. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256], format[64];
	long value = -1;
	FILE *file;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(format, sizeof(format), "%s: %%ld", key);
	file = fopen(path, "r");
	while (file && fgets(line, sizeof(line), file))
		if (sscanf(line, format, &value) == 1)
			break;
	if (file)
		fclose(file);
	return value;
}

/* Does /proc/@pid/limits give @name a soft and hard limit of 0? */
static bool limit_is_zero(pid_t pid, const char *name)
{
	char path[64], line[256];
	bool zero = false;
	FILE *file;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	file = fopen(path, "r");
	while (file && fgets(line, sizeof(line), file)) {
		unsigned long soft, hard;

		if (!strncmp(line, name, strlen(name)) &&
		    sscanf(line + strlen(name), " %lu %lu", &soft, &hard) == 2)
			zero = soft == 0 && hard == 0;
	}
	if (file)
		fclose(file);
	return zero;
}

static void wait_process_gone(pid_t pid)
{
	if (!process_wait_gone(pid, WAIT_MS))
		fail_msg("process %d is still there", (int)pid);
}

/* Reap our child @pid once it exited: 0, or -ETIMEDOUT if it still runs. */
static int wait_child(pid_t pid, int *status)
{
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static unsigned int servers_of(struct fixture *f, uint32_t domid)
{
	struct sim_hv_domain_state state;

	assert_int_equal(sim_hv_get_domain_state(f->hv, domid, &state), 0);
	return state.servers;
}

/* ---- the sandbox of one worker */

/* With no uid option at all (only the run's base), the worker takes its domain's own uid. */
static void test_a_worker_runs_as_its_domains_own_uid_in_an_empty_root(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", NULL };
	unsigned int uid = sim_hv_uid_base() + 1;
	char root[256] = "";
	char expected[96], path[64];
	pid_t pid;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	pid = wait_served(f, 1, 0);
	snprintf(expected, sizeof(expected), "dom1: running as uid %u gid %u (this domain's own)",
		 uid, uid);
	wait_log(f, expected);
	wait_log(f, "dom1: sandboxed:");
	assert_int_equal(process_uid(pid), uid);
	assert_int_equal(status_field(pid, "NoNewPrivs"), 1);
	assert_int_equal(status_field(pid, "Seccomp"), 2);	/* a filter */
	assert_true(limit_is_zero(pid, "Max core file size"));
#if !defined(__SANITIZE_ADDRESS__)
	/* The root is a directory that was removed: nothing in it, nothing can be made. */
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	assert_true(readlink(path, root, sizeof(root) - 1) > 0);
	assert_non_null(strstr(root, "xen-virtio-pcid-root."));
	assert_non_null(strstr(root, "(deleted)"));
#else
	(void)root;
	(void)path;
#endif
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	if (strstr(sim_hv_daemon_log(f->hv), "error:"))
		fail_msg("errors in the sandbox:\n%s", sim_hv_daemon_log(f->hv));
}

/*
 * The workers of domains 2 and 3 have uids of their own: a process of one
 * (as a hijacked worker would be) may signal itself but not the other.
 */
static void test_two_workers_of_two_domains_cannot_signal_each_other(void **state)
{
	struct fixture *f = *state;
	unsigned int uid2 = sim_hv_uid_base() + 2, uid3 = sim_hv_uid_base() + 3;
	pid_t a, b, probe;
	int status;

	add_domain(f, 2);
	add_domain(f, 3);
	start_supervisor(f, "[domain 2]\ndevice = \"rng\"\n\n[domain 3]\ndevice = \"rng\"\n");
	a = wait_served(f, 2, 0);
	b = wait_served(f, 3, 0);
	/* Serving starts with the ports bound; the uid changes right after. */
	wait_log(f, "dom2: sandboxed:");
	wait_log(f, "dom3: sandboxed:");
	assert_int_equal(process_uid(a), uid2);
	assert_int_equal(process_uid(b), uid3);

	probe = fork();
	assert_true(probe >= 0);
	if (probe == 0) {
		/* As domain 2's worker's uid: its own worker yes, the other no. */
		if (setresgid(uid2, uid2, uid2) || setresuid(uid2, uid2, uid2))
			_exit(10);
		if (kill(a, 0))
			_exit(11);
		_exit(kill(b, 0) == -1 && errno == EPERM ? 0 : 12);
	}
	assert_int_equal(waitpid(probe, &status, 0), probe);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* ---- a forbidden system call */

static void test_a_forbidden_system_call_stops_the_worker_and_it_is_replaced(void **state)
{
	struct fixture *f = *state;
	pid_t first, second;
	char expected[96];

	add_domain(f, 2);
	start_supervisor(f, "[domain 2]\ndevice = \"rng\"\n");
	first = wait_served(f, 2, 0);
	wait_log(f, "dom2: sandboxed:");
	assert_int_equal(sim_hv_make_forbidden_syscall(f->hv, first), 0);
	wait_process_gone(first);
	/* The worker's own line, with the call's number, then the supervisor's. */
	snprintf(expected, sizeof(expected), "error: dom2: seccomp: forbidden system call %ld: "
		 "stopping", (long)SYS_personality);
	wait_log(f, expected);
	wait_log(f, "was stopped by its seccomp filter");
	assert_null(strstr(sim_hv_daemon_log(f->hv), "it returned: no seccomp filter"));
	/* A new worker serves the guest again. */
	second = wait_served(f, 2, first);
	assert_int_not_equal(first, second);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* How often @marker occurs in the file at @path (-1: unreadable). */
static long occurrences(const char *path, const char *marker)
{
	size_t len = strlen(marker), size = 0, got;
	char *data = NULL;
	long count = 0;
	FILE *file = fopen(path, "rb");

	if (!file)
		return -1;
	while (!feof(file)) {
		data = realloc(data, size + 65536);
		assert_non_null(data);
		got = fread(data + size, 1, 65536, file);
		size += got;
		if (!got)
			break;
	}
	fclose(file);
	for (size_t i = 0; i + len <= size; i++)
		count += !memcmp(data + i, marker, len);
	free(data);
	return count;
}

/* The trigger is in the simulated library only: the binary that runs on Xen has no such thing. */
static void test_the_real_binary_has_no_forbidden_call_trigger(void **state)
{
	const char *build = getenv("XVP_BUILD");
	char real[512];

	(void)state;
	snprintf(real, sizeof(real), "%s/xen-virtio-pcid", build ? build : "build");
	assert_true(occurrences(sim_daemon_path(), SIM_FORBIDDEN_SYSCALL_MARKER) > 0);
	assert_int_equal(occurrences(real, SIM_FORBIDDEN_SYSCALL_MARKER), 0);
}

/* ---- start */

/* A predecessor may have left a line high: each of the four is lowered once at start. */
static void test_the_four_intx_lines_are_lowered_at_start(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "rng", NULL };

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_serving(f->hv, WAIT_MS), 0);
	for (unsigned int spi = INTX_SPI; spi < INTX_SPI + 4; spi++) {
		assert_int_equal(sim_hv_irq_lowers(f->hv, spi), 1);
		assert_int_equal(sim_hv_irq_level(f->hv, spi), 0);
	}
	assert_int_equal(sim_hv_irq_lowers(f->hv, INTX_SPI + 4), 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* ---- signals */

/* libxl stops a device model with SIGHUP: answer, tear down, exit 0, as for SIGTERM. */
static void stops_in_order_on(struct fixture *f, int signal)
{
	const char *const args[] = { "--device", "rng", NULL };
	struct sim_hv_state after;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_serving(f->hv, WAIT_MS), 0);
	wait_log(f, "sandboxed:");
	assert_int_equal(sim_hv_stop_daemon(f->hv, signal, WAIT_MS), 0);
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.servers, 0);
	assert_int_equal(after.ports_bound, 0);
}

static void test_sighup_and_sigquit_stop_a_worker_in_order(void **state)
{
	struct fixture *f = *state;

	stops_in_order_on(f, SIGHUP);
	stops_in_order_on(f, SIGQUIT);
	assert_null(strstr(sim_hv_daemon_log(f->hv), "error:"));
}

/* ---- the supervisor's end */

/* PR_SET_PDEATHSIG: the worker of a supervisor that is killed stops, and leaves nothing. */
static void test_a_worker_stops_when_its_supervisor_dies(void **state)
{
	struct fixture *f = *state;
	pid_t worker;

	serve_domain_2(f, NULL, NULL);
	worker = wait_served(f, 2, 0);
	wait_log(f, "dom2: sandboxed:");
	assert_int_equal(sim_hv_signal_daemon(f->hv, SIGKILL), 0);
	wait_process_gone(worker);
	assert_int_equal(servers_of(f, 2), 0);
}

/* Every stop, a single one too, ends in SIGKILL when the worker does not exit. */
static void test_a_stop_the_worker_does_not_answer_ends_in_sigkill(void **state)
{
	struct fixture *f = *state;
	pid_t worker;

	serve_domain_2(f, "--stop-timeout", "0.2");
	worker = wait_served(f, 2, 0);
	wait_log(f, "dom2: sandboxed:");
	/* A stopped process cannot act on SIGTERM; only SIGKILL ends it. */
	assert_int_equal(kill(worker, SIGSTOP), 0);
	assert_int_equal(sim_hv_destroy_domain_id(f->hv, 2), 0);
	wait_log(f, "did not stop within 0.2 s: killing it");
	wait_process_gone(worker);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/*
 * What a hijacked worker left behind (here: a process the test starts as
 * that worker's uid) is killed when the domain goes, before a new domain
 * with the same ID is served.
 */
static void test_what_runs_as_a_gone_domains_uid_is_killed(void **state)
{
	struct fixture *f = *state;
	unsigned int uid = sim_hv_uid_base() + 2;
	pid_t worker, leftover, second;
	int status;

	serve_domain_2(f, NULL, NULL);
	worker = wait_served(f, 2, 0);
	wait_log(f, "dom2: sandboxed:");
	leftover = fork();
	assert_true(leftover >= 0);
	if (leftover == 0) {
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(10);
		for (;;)
			pause();
	}
	assert_int_equal(sim_hv_destroy_domain_id(f->hv, 2), 0);
	wait_process_gone(worker);
	if (wait_child(leftover, &status)) {
		kill(leftover, SIGKILL);
		waitpid(leftover, &status, 0);
		fail_msg("the process left as uid %u outlived its domain", uid);
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* The ID comes back: served again, by a new worker. */
	assert_int_equal(sim_hv_create_domain(f->hv, &(struct sim_hv_config){ .domid = 2 }), 0);
	second = wait_served(f, 2, worker);
	assert_int_not_equal(second, worker);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_worker_runs_as_its_domains_own_uid_in_an_empty_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_workers_of_two_domains_cannot_signal_each_other,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_forbidden_system_call_stops_the_worker_and_it_is_replaced, setup, teardown),
		cmocka_unit_test(test_the_real_binary_has_no_forbidden_call_trigger),
		cmocka_unit_test_setup_teardown(test_the_four_intx_lines_are_lowered_at_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sighup_and_sigquit_stop_a_worker_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_worker_stops_when_its_supervisor_dies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_stop_the_worker_does_not_answer_ends_in_sigkill,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_runs_as_a_gone_domains_uid_is_killed, setup,
						teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: needs root (uid changes, chroot)\n");
		return 0;
	}
	return cmocka_run_group_tests_name("the worker's sandbox and life", tests, NULL, NULL);
}
