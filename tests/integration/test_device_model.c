// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_device_model.c: `xl create vm.cfg` against the
 * simulated host: the daemon started with the command line libxl gives a
 * PV/PVH device model, the xenstore nodes libxl wrote for the guest's
 * vfb = [ "vnc=0" ] entry, and the test playing libxl: it waits for
 * device-model/1/state = "running", then holds libxl's QMP conversation.
 * When "running" is there, the QMP socket listens, the host bridge answers
 * and the trigger's nodes are gone. SIGHUP (libxl's stop) and SIGTERM stop
 * it in order; what it cannot honour fails before anything is registered;
 * the 4.20+ probe is answered on libxl's own listening socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define WAIT_MS		10000
#define STATE		"/local/domain/0/device-model/1/state"

struct fixture {
	struct sim_hv *hv;
	char dir[64];
	char qmp[100];
	char stat[100];
	char chardev[256];
	char stat_chardev[256];
	char uid_base[32];
};

/* What libxl__device_vfb_add() and _vkbd_add() write for the trigger, and one disk that stays. */
static const char *const libxl_nodes[][2] = {
	{ "/local/domain/1/device/vfb/0/backend", "/local/domain/0/backend/vfb/1/0" },
	{ "/local/domain/1/device/vfb/0/state", "1" },
	{ "/local/domain/0/backend/vfb/1/0/frontend", "/local/domain/1/device/vfb/0" },
	{ "/local/domain/0/backend/vfb/1/0/vnc", "0" },
	{ "/local/domain/1/device/vkbd/0/backend", "/local/domain/0/backend/vkbd/1/0" },
	{ "/local/domain/0/backend/vkbd/1/0/frontend", "/local/domain/1/device/vkbd/0" },
	{ "/libxl/1/device/vfb/0/frontend", "/local/domain/1/device/vfb/0" },
	{ "/libxl/1/device/vkbd/0/frontend", "/local/domain/1/device/vkbd/0" },
	{ "/local/domain/1/device/vbd/51712/backend", "/local/domain/0/backend/vbd/1/51712" },
	{ "/local/domain/0/device-model/1/physmap", "" },
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_hv_config config = { .domid = 1, .name = "vm1" };

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xvp-dm-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->qmp, sizeof(f->qmp), "%s/qmp-libxl-1", f->dir);
	snprintf(f->stat, sizeof(f->stat), "%s/qmp-libxenstat-1", f->dir);
	snprintf(f->chardev, sizeof(f->chardev), "socket,id=libxl-cmd,path=%s,server=on,wait=off",
		 f->qmp);
	snprintf(f->stat_chardev, sizeof(f->stat_chardev),
		 "socket,id=libxenstat-cmd,path=%s,server=on,wait=off", f->stat);
	snprintf(f->uid_base, sizeof(f->uid_base), "--uid-base=%u", sim_hv_uid_base());
	f->hv = sim_hv_create(&config);
	for (size_t i = 0; i < sizeof(libxl_nodes) / sizeof(libxl_nodes[0]); i++)
		if (sim_hv_xenstore_write(f->hv, libxl_nodes[i][0], libxl_nodes[i][1]))
			return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	unlink(f->qmp);
	unlink(f->stat);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* libxl's Xen 4.20+ command line for domain 1, our @extra tokens in device_model_args. */
static void start_device_model(struct fixture *f, const char *const *extra, size_t nr_extra)
{
	const char *args[64] = {
		"-xen-domid", "1", "-no-shutdown", "-chardev", f->chardev,
		"-mon", "chardev=libxl-cmd,mode=control", "-chardev", f->stat_chardev,
		"-mon", "chardev=libxenstat-cmd,mode=control", "-nodefaults", "-no-user-config",
		"-xen-attach", "-name", "vm1", "-vnc", "none", "-display", "none", "-nographic",
		"--device=rng", f->uid_base,
	};
	size_t n = 0;

	while (args[n])
		n++;
	for (size_t i = 0; i < nr_extra; i++)
		args[n++] = extra[i];
	args[n++] = "-machine";
	args[n++] = "xenpv";
	args[n++] = "-m";
	args[n++] = "64";
	args[n] = NULL;
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
}

static void wait_running(struct fixture *f)
{
	if (sim_hv_xenstore_wait(f->hv, STATE, "running", WAIT_MS)) {
		fprintf(stderr, "%s", sim_hv_daemon_log(f->hv));
		fail_msg("no device-model state \"running\" (the daemon's log is above)");
	}
}

static int connect_qmp(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval guard = { WAIT_MS / 1000, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
	return fd;
}

static void read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size && read(fd, buf + len, 1) == 1) {
		len++;
		if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
}

static void exchange(int fd, const char *request, const char *answer)
{
	char line[512];

	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, answer);
}

/* What libxl does once "running" is there (device_model_spawn_outcome() on). */
static void libxl_startup_conversation(int fd)
{
	char line[512];

	read_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"QMP\""));
	exchange(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n",
		 "{ \"return\": { }, \"id\": 1 }\r\n");
	exchange(fd, "{\"execute\":\"query-chardev\",\"id\":2}\r\n",
		 "{ \"return\": [ ], \"id\": 2 }\r\n");
	exchange(fd, "{\"execute\":\"query-vnc\",\"id\":3}\r\n",
		 "{ \"return\": { \"enabled\": false }, \"id\": 3 }\r\n");
}

static void assert_host_bridge_answers(struct fixture *f)
{
	uint64_t vendor = 0;

	assert_int_equal(sim_vcpu_mmio_read(f->hv, 0, ECAM_BASE, 2, &vendor), SIM_ACCESS_SERVED);
	assert_int_equal(vendor, 0x1b36);
}

static void assert_present(struct fixture *f, const char *path)
{
	char *value = sim_hv_xenstore_read(f->hv, path);

	if (!value)
		fail_msg("%s is gone", path);
	free(value);
}

static void assert_absent(struct fixture *f, const char *path)
{
	char *value = sim_hv_xenstore_read(f->hv, path);

	if (value)
		fail_msg("%s is still there (\"%s\")", path, value);
}

static void assert_log_order(struct fixture *f, const char *first, const char *second)
{
	const char *log = sim_hv_daemon_log(f->hv);
	const char *a = strstr(log, first), *b = strstr(log, second);

	if (!a || !b || a > b)
		fail_msg("the log lacks '%s' before '%s':\n%s", first, second, log);
}

static void test_running_means_qmp_listens_devices_answer_trigger_gone(void **state)
{
	struct fixture *f = *state;
	int fd;

	start_device_model(f, NULL, 0);
	wait_running(f);
	/* libxl connects at once, one attempt, as libxl__ev_qmp does. */
	fd = connect_qmp(f->qmp);
	assert_true(fd >= 0);
	/* The line follows the state node: running can be seen a moment before it is logged. */
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "ready: the devices answer", WAIT_MS), 0);
	assert_log_order(f, "QMP: listening on", "ready: the devices answer");
	assert_host_bridge_answers(f);
	for (size_t i = 0; i < 8; i++)
		assert_absent(f, libxl_nodes[i][0]);
	assert_absent(f, "/libxl/1/device/vfb");
	assert_absent(f, "/local/domain/0/backend/vkbd/1");
	/* What is not the trigger's stays: a disk, libxl's device-model directory. */
	assert_present(f, libxl_nodes[8][0]);
	assert_present(f, libxl_nodes[9][0]);
	libxl_startup_conversation(fd);
	close(fd);
	/* libxenstat's monitor answers too. */
	fd = connect_qmp(f->stat);
	assert_true(fd >= 0);
	libxl_startup_conversation(fd);
	close(fd);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* xl destroy, poweroff and reboot: libxl removes the directory and sends SIGHUP. */
static void test_sighup_stops_in_order(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_state hv_state;

	start_device_model(f, NULL, 0);
	wait_running(f);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGHUP, WAIT_MS), 0);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv),
			       "Hangup received: stopping (device model of domain 1)"));
	/* libxl's --device=SPEC tokens parse everywhere (the boot test fails on an error: line). */
	if (strstr(sim_hv_daemon_log(f->hv), "error:"))
		fail_msg("the device model logged an error:\n%s", sim_hv_daemon_log(f->hv));
	sim_hv_get_state(f->hv, &hv_state);
	assert_int_equal(hv_state.servers, 0);
	assert_int_equal(hv_state.ports_bound, 0);
	/* Its sockets are gone with it. */
	assert_int_equal(connect_qmp(f->qmp), -ENOENT);
}

static void test_sigterm_stops_in_order(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_state hv_state;

	start_device_model(f, NULL, 0);
	wait_running(f);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv),
			       "Terminated received: stopping (device model of domain 1)"));
	sim_hv_get_state(f->hv, &hv_state);
	assert_int_equal(hv_state.servers, 0);
}

/* Refused before anything is registered or announced; the reason in the log (qemu-dm-NAME.log). */
static void assert_refused(struct fixture *f, const char *const *extra, size_t nr,
			   const char *reason)
{
	struct sim_hv_state hv_state;

	start_device_model(f, extra, nr);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	if (!strstr(sim_hv_daemon_log(f->hv), reason))
		fail_msg("the log lacks '%s':\n%s", reason, sim_hv_daemon_log(f->hv));
	sim_hv_get_state(f->hv, &hv_state);
	assert_int_equal(hv_state.servers_created, 0);
	assert_absent(f, STATE);
	assert_present(f, libxl_nodes[0][0]);
}

static void test_vnc_on_fails_cleanly(void **state)
{
	const char *vnc[] = { "-vnc", "127.0.0.1:0,to=99" };

	assert_refused(*state, vnc, 2, "VNC is not served by this device model");
}

static void test_channel_fails_cleanly(void **state)
{
	const char *channel[] = { "-chardev", "pty,id=libxl-channel0" };

	assert_refused(*state, channel, 2, "channels are not served");
}

static void test_dm_restrict_fails_cleanly(void **state)
{
	const char *restrict_[] = { "-xen-domid-restrict" };

	assert_refused(*state, restrict_, 1, "dm_restrict is not supported");
}

static void test_bad_device_fails_cleanly(void **state)
{
	const char *device[] = { "--device=blk,path=/nonexistent/vm1.img" };

	/* The image is opened by the worker: it exits 2 and so does the device model. */
	start_device_model(*state, device, 1);
	assert_int_equal(sim_hv_wait_daemon_exit(((struct fixture *)*state)->hv, WAIT_MS), 2);
	assert_non_null(strstr(sim_hv_daemon_log(((struct fixture *)*state)->hv),
			       "/nonexistent/vm1.img"));
	assert_absent(*state, STATE);
}

static void test_fragment_of_another_layout_is_refused(void **state)
{
	struct fixture *f = *state;
	char fdt[160], option[192], command[1024];
	const char *extra[] = { option };

	snprintf(fdt, sizeof(fdt), "%s/other.dtb", f->dir);
	snprintf(option, sizeof(option), "--fdt=%s", fdt);
	snprintf(command, sizeof(command), "%s fdt --for xl --intx-spi 60 -o %s --xl /dev/null --dom0less /dev/null",
		 sim_daemon_path(), fdt);
	assert_int_equal(system(command), 0);
	assert_refused(f, extra, 1, "its host bridge's \"interrupt-map\" is not what these options");
	unlink(fdt);
}

static void test_fragment_of_the_same_layout_is_served(void **state)
{
	struct fixture *f = *state;
	char fdt[160], option[192], command[1024];
	const char *extra[] = { option };

	snprintf(fdt, sizeof(fdt), "%s/default.dtb", f->dir);
	snprintf(option, sizeof(option), "--fdt=%s", fdt);
	snprintf(command, sizeof(command), "%s fdt --for xl -o %s --xl /dev/null --dom0less /dev/null",
		 sim_daemon_path(), fdt);
	assert_int_equal(system(command), 0);
	start_device_model(f, extra, 1);
	wait_running(f);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGHUP, WAIT_MS), 0);
	unlink(fdt);
}

/* Xen 4.20+: libxl listens, passes the socket, converses, then quits (and sends SIGHUP). */
static void test_probe_is_answered_on_libxl_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char chardev[128];
	const char *args[] = { "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine",
			       "none,accel=xen", "-chardev", chardev, "-mon",
			       "chardev=libxl-cmd,mode=control", f->uid_base, NULL };
	/* (--uid-base=N: the simulator's, which the probe takes and ignores.) */
	struct sim_hv_state hv_state;
	int listener = socket(AF_UNIX, SOCK_STREAM, 0), fd;
	char line[512];

	assert_true(listener >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->qmp);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 1), 0);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,fd=%d,server=on,wait=off", listener);
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
	close(listener);
	fd = connect_qmp(f->qmp);
	assert_true(fd >= 0);
	read_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"QMP\""));
	exchange(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n",
		 "{ \"return\": { }, \"id\": 1 }\r\n");
	exchange(fd, "{\"execute\":\"query-command-line-options\",\"id\":2}\r\n",
		 "{ \"return\": [ ], \"id\": 2 }\r\n");
	exchange(fd, "{\"execute\":\"quit\",\"id\":3}\r\n", "{ \"return\": { }, \"id\": 3 }\r\n");
	close(fd);
	/* Still there for libxl's SIGHUP (libxl logs an error for a probe that exited). */
	assert_int_equal(kill(sim_hv_daemon_pid(f->hv), 0), 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGHUP, WAIT_MS), 0);
	assert_non_null(strstr(sim_hv_daemon_log(f->hv), "Hangup received: the probe ends"));
	sim_hv_get_state(f->hv, &hv_state);
	assert_int_equal(hv_state.servers_created, 0);
	assert_absent(f, STATE);
}

/* Wait until the file at @path holds @text: true, or false after WAIT_MS. */
static bool wait_file_holds(const char *path, const char *text)
{
	char buf[8192];

	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		FILE *file = fopen(path, "r");
		size_t len = file ? fread(buf, 1, sizeof(buf) - 1, file) : 0;

		if (file)
			fclose(file);
		buf[len] = '\0';
		if (strstr(buf, text))
			return true;
		usleep(20000);
	}
	return false;
}

/* The dom0 service, configured for the same domain, leaves it to its device model. */
static void test_dom0_service_leaves_a_device_model_domain_alone(void **state)
{
	struct fixture *f = *state;
	char config[128], log[128], uid_base[16];
	const char *argv[] = { sim_daemon_path(), "--config", config, "--poll", "0.05",
			       "--uid-base", uid_base, NULL };
	struct sim_hv_domain_state before, after;
	FILE *file;
	pid_t service;
	int status;

	start_device_model(f, NULL, 0);
	wait_running(f);
	assert_int_equal(sim_hv_get_domain_state(f->hv, 1, &before), 0);
	snprintf(config, sizeof(config), "%s/virtio-pci.cfg", f->dir);
	snprintf(log, sizeof(log), "%s/service.log", f->dir);
	snprintf(uid_base, sizeof(uid_base), "%u", sim_hv_uid_base());
	file = fopen(config, "w");
	assert_non_null(file);
	fputs("[domain 1]\ndevice = [ \"rng\" ]\n", file);
	assert_int_equal(fclose(file), 0);
	service = sim_hv_spawn_dom0_program(f->hv, argv, log);
	assert_true(service > 0);
	assert_true(wait_file_holds(log, "domain 1 has its own device model (process"));
	/* Several looks later (--poll 0.05), still the device model's worker alone. */
	assert_true(wait_file_holds(log, "supervising 1 domain block"));
	usleep(300000);
	assert_int_equal(sim_hv_get_domain_state(f->hv, 1, &after), 0);
	assert_int_equal(after.servers, 1);
	assert_int_equal(after.serving_pid, before.serving_pid);
	assert_int_equal(kill(service, SIGTERM), 0);
	assert_int_equal(waitpid(service, &status, 0), service);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_host_bridge_answers(f);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGHUP, WAIT_MS), 0);
	unlink(config);
	unlink(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		TEST(test_running_means_qmp_listens_devices_answer_trigger_gone),
		TEST(test_sighup_stops_in_order),
		TEST(test_sigterm_stops_in_order),
		TEST(test_vnc_on_fails_cleanly),
		TEST(test_channel_fails_cleanly),
		TEST(test_dm_restrict_fails_cleanly),
		TEST(test_bad_device_fails_cleanly),
		TEST(test_fragment_of_another_layout_is_refused),
		TEST(test_fragment_of_the_same_layout_is_served),
		TEST(test_probe_is_answered_on_libxl_socket),
		TEST(test_dom0_service_leaves_a_device_model_domain_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
