// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_daemon.c: start, watch and stop the daemon process under
 * test, and start programs that run in the guest (the rescan helper).
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/protocol.h"

#define MAX_DAEMON_ARGS 64

int sim_hv_start_daemon(struct sim_hv *hv, const char *daemon_path, const char *const extra_args[])
{
	const char *args[MAX_DAEMON_ARGS];
	char domid[16];
	size_t argc = 0;

	snprintf(domid, sizeof(domid), "%u", hv->guest->config.domid);
	args[argc++] = "--domain";
	args[argc++] = domid;
	for (size_t i = 0; extra_args && extra_args[i] && argc < MAX_DAEMON_ARGS - 1; i++)
		args[argc++] = extra_args[i];
	args[argc] = NULL;
	return sim_hv_start_daemon_argv(hv, daemon_path, args);
}

/*
 * The uid base of this test run: workers run as base + domid and the
 * supervisor kills everything of that uid when a domain goes, while other
 * worktrees run the same suites with the same small domids at the same
 * time. base + 0..63 is this process's own (pids are unique while it runs).
 */
unsigned int sim_hv_uid_base(void)
{
	return 0x10000000u + (unsigned int)getpid() * 64u;
}

/* @arg, or @arg=VALUE in one word (the device-model mode's spelling). */
static bool has_arg(const char *const args[], const char *arg)
{
	size_t len = strlen(arg);

	for (size_t i = 0; args && args[i]; i++)
		if (!strncmp(args[i], arg, len) && (!args[i][len] || args[i][len] == '='))
			return true;
	return false;
}

/*
 * Guest RAM may be secret memory (hv_domain.c), which counts as locked
 * memory; Xen's foreign mappings do not (privcmd maps them VM_IO|VM_PFNMAP,
 * Linux drivers/xen/privcmd.c). Without CAP_IPC_LOCK, as a worker is once
 * it dropped root, RLIMIT_MEMLOCK would then refuse mappings Xen allows.
 */
static void allow_locked_guest_ram(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_MEMLOCK, &unlimited);
}

int sim_hv_start_daemon_argv(struct sim_hv *hv, const char *daemon_path, const char *const args[])
{
	const char *argv[MAX_DAEMON_ARGS];
	char uid_base[16];
	size_t argc = 0;
	pid_t pid;

	argv[argc++] = daemon_path;
	for (size_t i = 0; args && args[i] && argc < MAX_DAEMON_ARGS - 3; i++)
		argv[argc++] = args[i];
	if (!has_arg(args, "--uid-base") && !has_arg(args, "--check")) {
		snprintf(uid_base, sizeof(uid_base), "%u", sim_hv_uid_base());
		argv[argc++] = "--uid-base";
		argv[argc++] = uid_base;
	}
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int log = open(hv->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (log >= 0)
			dup2(log, STDERR_FILENO);
		setenv(SIM_SOCKET_ENV, hv->socket_path, 1);
		allow_locked_guest_ram();
		execv(daemon_path, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", daemon_path, strerror(errno));
		_exit(127);
	}
	pthread_mutex_lock(&hv->lock);
	hv->daemon_pid = pid;
	hv->daemon_exited = false;
	pthread_mutex_unlock(&hv->lock);
	return 0;
}

bool hv_daemon_gone(struct sim_hv *hv)
{
	int status;

	if (!hv->daemon_pid || hv->daemon_exited)
		return true;
	if (waitpid(hv->daemon_pid, &status, WNOHANG) == hv->daemon_pid) {
		hv->daemon_exited = true;
		hv->daemon_status = status;
	}
	return hv->daemon_exited;
}

/* The pid of the process whose enabled server of @d has every vCPU's port bound, or 0. */
static pid_t serving(struct sim_hv *hv, const struct sim_domain *d)
{
	for (int s = 0; d && s < SIM_MAX_SERVERS; s++) {
		const struct sim_server *srv = &d->servers[s];
		unsigned int bound = 0;

		if (!srv->used || !srv->enabled)
			continue;
		for (unsigned int v = 0; v < d->config.nr_vcpus; v++)
			for (int p = 0; p < SIM_MAX_PORTS; p++)
				bound += hv->ports[p].used && hv->ports[p].guest_port == srv->guest_ports[v];
		if (bound == d->config.nr_vcpus)
			return srv->creator ? srv->creator : 1;
	}
	return 0;
}

/* Wait until @domid is served by a process other than @not_by: its pid, or -errno. */
static int wait_serving(struct sim_hv *hv, uint32_t domid, pid_t not_by, bool daemon_must_live,
			int timeout_ms)
{
	int ret = -ETIMEDOUT;

	pthread_mutex_lock(&hv->lock);
	/* Poll in short steps: the daemon exiting does not signal the condition. */
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		pid_t by = serving(hv, hv_find_domain(hv, domid));
		struct timespec step;

		if (by && by != not_by) {
			ret = by;
			break;
		}
		if (daemon_must_live && hv_daemon_gone(hv)) {
			ret = -ECHILD;
			break;
		}
		hv_deadline(&step, 20);
		pthread_cond_timedwait(&hv->changed, &hv->lock, &step);
	}
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_hv_wait_serving(struct sim_hv *hv, int timeout_ms)
{
	int ret = wait_serving(hv, hv->guest->config.domid, 0, true, timeout_ms);

	return ret > 0 ? 0 : ret;
}

pid_t sim_hv_wait_domain_served(struct sim_hv *hv, uint32_t domid, pid_t not_by, int timeout_ms)
{
	return wait_serving(hv, domid, not_by, false, timeout_ms);
}

static int exit_result(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -EINTR;
}

int sim_hv_wait_daemon_exit(struct sim_hv *hv, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		bool gone;

		pthread_mutex_lock(&hv->lock);
		gone = hv_daemon_gone(hv);
		pthread_mutex_unlock(&hv->lock);
		if (gone)
			return hv->daemon_pid ? exit_result(hv->daemon_status) : -ECHILD;
		usleep(10000);
	}
	kill(hv->daemon_pid, SIGKILL);
	waitpid(hv->daemon_pid, &hv->daemon_status, 0);
	hv->daemon_exited = true;
	return -ETIMEDOUT;
}

int sim_hv_kill_serving_worker(struct sim_hv *hv, int timeout_ms)
{
	struct sim_hv_domain_state state;

	if (sim_hv_get_domain_state(hv, hv->guest->config.domid, &state) || state.serving_pid <= 0)
		return -ESRCH;
	kill(state.serving_pid, SIGKILL);
	return sim_hv_wait_daemon_exit(hv, timeout_ms);
}

int sim_hv_stop_daemon(struct sim_hv *hv, int signal, int timeout_ms)
{
	if (!hv->daemon_pid)
		return -ECHILD;
	if (!hv->daemon_exited)
		kill(hv->daemon_pid, signal);
	return sim_hv_wait_daemon_exit(hv, timeout_ms);
}

int sim_hv_wait_daemon_log(struct sim_hv *hv, const char *text, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (strstr(sim_hv_daemon_log(hv), text))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

pid_t sim_hv_daemon_pid(struct sim_hv *hv)
{
	return hv->daemon_pid;
}

int sim_hv_signal_daemon(struct sim_hv *hv, int signal)
{
	if (!hv->daemon_pid || hv->daemon_exited)
		return -ECHILD;
	return kill(hv->daemon_pid, signal) ? -errno : 0;
}

const char *sim_hv_daemon_log(struct sim_hv *hv)
{
	FILE *log = fopen(hv->log_path, "r");
	size_t size = 0;

	free(hv->log_text);
	hv->log_text = NULL;
	if (log) {
		FILE *text = open_memstream(&hv->log_text, &size);

		for (int c; (c = fgetc(log)) != EOF;)
			fputc(c, text);
		fclose(text);
		fclose(log);
	}
	return hv->log_text ? hv->log_text : "";
}

const char *sim_hv_daemon_log_path(struct sim_hv *hv)
{
	return hv->log_path;
}

/* @argv with this hypervisor's socket, as domain @domid's program (NULL: a dom0 one). */
static pid_t spawn_program(struct sim_hv *hv, const char *const argv[], const char *log_path,
			   const char *domid)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int log = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;

		if (log >= 0)
			dup2(log, STDERR_FILENO);
		setenv(SIM_SOCKET_ENV, hv->socket_path, 1);
		if (domid)
			setenv(SIM_DOMID_ENV, domid, 1);
		else
			allow_locked_guest_ram();
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

pid_t sim_hv_spawn_guest_program(struct sim_hv *hv, const char *const argv[], const char *log_path)
{
	char domid[16];

	snprintf(domid, sizeof(domid), "%u", hv->guest->config.domid);
	return spawn_program(hv, argv, log_path, domid);
}

pid_t sim_hv_spawn_dom0_program(struct sim_hv *hv, const char *const argv[], const char *log_path)
{
	return spawn_program(hv, argv, log_path, NULL);
}
