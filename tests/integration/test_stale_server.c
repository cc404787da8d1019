// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_stale_server.c: Xen keeps an IOREQ server after the
 * process that created it died, and allows only a few per domain (the
 * simulated hypervisor too: 8). The supervisor records its worker's server
 * in dom0's xenstore; the next one for the domain destroys a server whose
 * process is gone, and its worker refuses to serve while that process
 * still serves. A daemon started by hand is a supervisor of one worker.
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
#include <sys/wait.h>
#include <unistd.h>

#include "tests/guest/guest_pci.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define DOMID		1
#define ECAM_BASE	0x10000000ULL
#define RECORD		"/local/domain/0/data/xen-virtio-pci/1"
#define WAIT_MS		10000
#define RESTARTS	10	/* more than the 8 servers a domain may have */

static const char *const rng_args[] = { "--device", "rng", NULL };

static int setup(void **state)
{
	struct sim_hv_config config = { .domid = DOMID };

	*state = sim_hv_create(&config);
	return *state ? 0 : -1;
}

/* A daemon the hypervisor no longer tracks (test 3's first one), killed whatever happened. */
static pid_t untracked;

/* Stop the first daemon (our child, no longer tracked) with SIGTERM: its exit status. */
static int stop_untracked(void)
{
	int status;

	assert_int_equal(kill(untracked, SIGTERM), 0);
	assert_int_equal(waitpid(untracked, &status, 0), untracked);
	untracked = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int teardown(void **state)
{
	if (untracked > 0) {
		kill(untracked, SIGKILL);
		waitpid(untracked, NULL, 0);
		untracked = 0;
	}
	sim_hv_destroy(*state);
	return 0;
}

static uint64_t host_bridge_vendor(struct sim_hv *hv)
{
	uint64_t value = 0;

	assert_int_equal(sim_vcpu_mmio_read(hv, 0, ECAM_BASE, 2, &value), SIM_ACCESS_SERVED);
	return value;
}

static unsigned int domain_servers(struct sim_hv *hv)
{
	struct sim_hv_domain_state state;

	assert_int_equal(sim_hv_get_domain_state(hv, DOMID, &state), 0);
	return state.servers;
}

/* Wait until the record names @pid's server ("<id> <pid>"); a guest may not read it. */
static void assert_record_names(struct sim_hv *hv, pid_t pid)
{
	long recorded_pid = 0;

	/* It follows the server's creation from the daemon's xenstore thread. */
	for (int waited = 0; waited < WAIT_MS && recorded_pid != pid; waited += 10) {
		char *record = sim_hv_xenstore_read(hv, RECORD);
		unsigned int id;

		if (!record || sscanf(record, "%u %ld", &id, &recorded_pid) != 2)
			recorded_pid = 0;
		free(record);
		if (recorded_pid != pid)
			usleep(10000);
	}
	assert_int_equal(recorded_pid, pid);
	assert_false(sim_hv_xenstore_readable(hv, RECORD, DOMID));
}

static void test_a_killed_daemons_server_is_destroyed_by_the_next(void **state)
{
	struct sim_hv *hv = *state;
	pid_t previous = 0;

	for (int round = 0; round < RESTARTS; round++) {
		pid_t serving;

		assert_int_equal(sim_hv_start_daemon(hv, sim_daemon_path(), rng_args), 0);
		/* Not the killed one's server: its ports may still look bound for a moment. */
		serving = sim_hv_wait_domain_served(hv, DOMID, previous, WAIT_MS);
		assert_true(serving > 0);
		/* Its own server only: the one the killed daemon left was destroyed first. */
		assert_int_equal(domain_servers(hv), 1);
		assert_int_equal(host_bridge_vendor(hv), 0x1b36);
		assert_record_names(hv, serving);
		/* Its worker killed, the daemon by hand exits 1, the server stays. */
		assert_int_equal(sim_hv_kill_serving_worker(hv, WAIT_MS), 1);
		/* Xen keeps the dead process's server, ranges and all. */
		assert_int_equal(domain_servers(hv), 1);
		previous = serving;
	}
	assert_non_null(strstr(sim_hv_daemon_log(hv), "of an earlier process destroyed"));
}

static void test_a_clean_stop_removes_the_record(void **state)
{
	struct sim_hv *hv = *state;
	struct sim_hv_domain_state domain;

	assert_int_equal(sim_hv_start_daemon(hv, sim_daemon_path(), rng_args), 0);
	assert_int_equal(sim_hv_wait_serving(hv, WAIT_MS), 0);
	assert_int_equal(sim_hv_get_domain_state(hv, DOMID, &domain), 0);
	assert_record_names(hv, domain.serving_pid);
	assert_int_equal(sim_hv_stop_daemon(hv, SIGTERM, WAIT_MS), 0);
	assert_int_equal(sim_hv_xenstore_wait(hv, RECORD, NULL, WAIT_MS), 0);
	assert_int_equal(domain_servers(hv), 0);
}

static void test_a_second_daemon_for_a_served_domain_refuses(void **state)
{
	struct sim_hv *hv = *state;
	struct sim_hv_domain_state domain;
	pid_t first;

	assert_int_equal(sim_hv_start_daemon(hv, sim_daemon_path(), rng_args), 0);
	assert_int_equal(sim_hv_wait_serving(hv, WAIT_MS), 0);
	assert_int_equal(sim_hv_get_domain_state(hv, DOMID, &domain), 0);
	first = domain.serving_pid;
	untracked = sim_hv_daemon_pid(hv);
	/* kill(0, ...) would signal our whole process group (make, the other tests). */
	assert_true(first > 0 && untracked > 0);
	assert_record_names(hv, first);

	/* The hypervisor now watches the second one; the first is still our child. */
	assert_int_equal(sim_hv_start_daemon(hv, sim_daemon_path(), rng_args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(hv, WAIT_MS), 1);
	assert_non_null(strstr(sim_hv_daemon_log(hv), "served by process"));
	/* The first one was left alone and still serves. */
	assert_int_equal(domain_servers(hv), 1);
	assert_int_equal(host_bridge_vendor(hv), 0x1b36);
	assert_int_equal(stop_untracked(), 0);
}

/*
 * The serving daemon's binary was replaced (a package upgrade): its
 * /proc/PID/exe now ends in " (deleted)" and names another file; the new
 * daemon must still see that the domain is served, not destroy its server.
 */
static void test_a_daemon_whose_binary_was_replaced_still_counts(void **state)
{
	struct sim_hv *hv = *state;
	struct sim_hv_domain_state domain;
	char dir[] = "/tmp/xvp-upgrade-XXXXXX", old_binary[64], command[1200];
	pid_t first;

	assert_non_null(mkdtemp(dir));
	snprintf(old_binary, sizeof(old_binary), "%s/xen-virtio-pcid-sim", dir);
	snprintf(command, sizeof(command), "cp %s %s", sim_daemon_path(), old_binary);
	assert_int_equal(system(command), 0);
	assert_int_equal(sim_hv_start_daemon(hv, old_binary, rng_args), 0);
	assert_int_equal(sim_hv_wait_serving(hv, WAIT_MS), 0);
	assert_int_equal(sim_hv_get_domain_state(hv, DOMID, &domain), 0);
	first = domain.serving_pid;
	untracked = sim_hv_daemon_pid(hv);
	assert_true(first > 0 && untracked > 0);
	assert_record_names(hv, first);
	assert_int_equal(unlink(old_binary), 0);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(sim_hv_start_daemon(hv, sim_daemon_path(), rng_args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(hv, WAIT_MS), 1);
	assert_non_null(strstr(sim_hv_daemon_log(hv), "served by process"));
	assert_int_equal(domain_servers(hv), 1);
	assert_int_equal(host_bridge_vendor(hv), 0x1b36);
	assert_int_equal(stop_untracked(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_killed_daemons_server_is_destroyed_by_the_next,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_clean_stop_removes_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_second_daemon_for_a_served_domain_refuses,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_daemon_whose_binary_was_replaced_still_counts,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
