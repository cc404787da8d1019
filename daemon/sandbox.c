// SPDX-License-Identifier: MIT
/* daemon/sandbox.c: the order of the sandbox's steps (daemon/sandbox.h). */
#include "daemon/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/seccomp_policy.h"
#include "lib/log.h"

/*
 * The sanitizer build keeps what LeakSanitizer's exit-time check needs:
 * /proc (no empty root) and ptrace of itself (dumpable). Tests of those
 * two steps skip there; the real build always has them.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_KEEPS_PROC	1
#else
#define SANDBOX_KEEPS_PROC	0
#endif

/*
 * The profiling build (`make profile`, under build/profile/ only, never
 * installed) runs its worker under valgrind, which refuses a lower
 * RLIMIT_NOFILE (it keeps descriptors of its own above the limit), makes
 * system calls of its own that no allow-list names, and writes its profile
 * into the file system at exit: that build keeps the root, the descriptor
 * limit and has no seccomp filter, and says so. Every other build has all.
 */
#if defined(XVP_PROFILE_BUILD)
#define SANDBOX_FOR_PROFILER	1
#else
#define SANDBOX_FOR_PROFILER	0
#endif

/* The highest open descriptor, from /proc/self/fd (the root is not empty yet). */
static int highest_fd(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int highest = 2;

	if (!dir)
		return 1023;	/* no /proc: assume the usual soft limit was used up */
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.' && atoi(entry->d_name) > highest)
			highest = atoi(entry->d_name);
	closedir(dir);
	return highest;
}

/*
 * A core dump would hold guest memory. RLIMIT_FSIZE is left alone: stderr
 * may be a log file that grows past any image size. RLIMIT_NPROC too:
 * io_uring's io-wq workers count against it, and seccomp forbids clone()
 * anyway.
 */
static int forbid_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none)) {
		log_error("sandbox: cannot forbid core dumps: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Once set up: the descriptors it has, and a margin for those it is handed. */
static int bound_descriptors(void)
{
	rlim_t files = (rlim_t)highest_fd() + 1 + SANDBOX_SPARE_FDS;
	struct rlimit nofile = { files, files };

	if (setrlimit(RLIMIT_NOFILE, &nofile)) {
		log_error("sandbox: cannot bound file descriptors: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* 1 if the root is now empty (or holds only @config's files), 0 if it was kept (logged), or -errno. */
static int enter_empty_root(const struct sandbox_config *config)
{
	int ret;

	if (SANDBOX_KEEPS_PROC || SANDBOX_FOR_PROFILER) {
		log_warn("sandbox: %s build: no empty root", SANDBOX_KEEPS_PROC ? "sanitizer" : "profiling");
		return 0;
	}
	if (geteuid() != 0) {
		log_warn("sandbox: not root: no empty root");
		return 0;
	}
	ret = sandbox_enter_empty_root(config->root_files, config->nr_root_files, &config->target);
	return ret ? ret : 1;
}

/* After the uid change (it clears the death signal): stop in order when the supervisor goes. */
static int follow_supervisor(pid_t supervisor)
{
	if (!supervisor)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM)) {
		log_error("sandbox: cannot follow the supervisor: %s", strerror(errno));
		return -errno;
	}
	/* It may have died before the call: then no signal will ever come. */
	if (getppid() != supervisor) {
		log_error("sandbox: the supervisor (pid %d) is gone: stopping", (int)supervisor);
		return -ESRCH;
	}
	return 0;
}

static int forbid_new_privileges(void)
{
	/* The uid change already cleared it; the sanitizer build sets it again for ptrace. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, SANDBOX_KEEPS_PROC, 0, 0, 0)) {
		log_error("sandbox: cannot forbid new privileges: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Whether sandbox_enter() emptied the root, for sandbox_lock_down()'s line; and kept files in it. */
static int rooted;
static bool reads_files;

int sandbox_enter(const struct sandbox_config *config)
{
	int ret = forbid_core_dumps();

	reads_files = config->nr_root_files > 0;
	if (!ret)
		ret = rooted = enter_empty_root(config);
	if (ret >= 0)
		ret = privileges_drop(&config->target);
	if (!ret)
		ret = forbid_new_privileges();
	if (!ret)
		ret = follow_supervisor(config->supervisor_pid);
	return ret;
}

int sandbox_lock_down(int domid)
{
	uid_t uid = getuid();	/* not allowed once the filter is in */
	int ret;

	if (SANDBOX_FOR_PROFILER) {
		log_warn("sandbox: profiling build: uid %u, no descriptor bound, no seccomp filter",
			 (unsigned int)uid);
		return 0;
	}
	ret = bound_descriptors();

	if (!ret)
		ret = seccomp_policy_install(domid, reads_files);
	if (!ret)
		log_info("sandboxed: uid %u, %s, no new privileges, seccomp allow-list",
			 (unsigned int)uid, rooted <= 0 ? "root directory kept" :
			 reads_files ? "a read-only root of its devices' files" : "empty root");
	return ret;
}
