// SPDX-License-Identifier: MIT
/*
 * daemon/seccomp_policy.c: the allow-list of a serving worker.
 *
 * Found with `strace -f -c` on the simulated-hypervisor build under the
 * integration suites and on the real build in the boot test, and reasoned
 * from what the Xen 4.17 libraries call once a server runs
 * (tools/libs/devicemodel/core.c, foreignmemory/linux.c, evtchn/linux.c):
 * ioctls on /dev/xen/privcmd and /dev/xen/evtchn, read/write on the evtchn
 * fd, mmap/munmap for foreign mappings. Everything a worker needs only to
 * start (open, socket, io_uring_setup, clone, ...) is done by then and is
 * not here. Names are resolved per architecture: a call an architecture
 * lacks (poll and epoll_wait on arm64) is skipped.
 */
#include "daemon/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/privcmd.h>

#include "lib/log.h"

static const char *const allowed[] = {
	/*
	 * The event loop: libevent's epoll (glibc's epoll_wait is epoll_pwait
	 * on arm64), its signal socketpair, eventfds, the evtchn fd (read:
	 * xenevtchn_pending, write: xenevtchn_unmask), stderr.
	 */
	"epoll_wait", "epoll_pwait", "epoll_ctl", "read", "write",
	/*
	 * Sockets it holds: the supervisor's channel (daemon/worker_channel.c,
	 * which waits for an answer with poll, ppoll on arm64); the simulated
	 * hypervisor's in tests.
	 */
	"recvfrom", "sendto", "recvmsg", "sendmsg", "poll", "ppoll",
	/*
	 * Disk I/O: io_uring only (its operations are confined by the ring,
	 * backends/blk_io.c); io_uring_register only for the one call the ring
	 * allows, giving its image up at teardown.
	 */
	"io_uring_enter", "io_uring_register",
	/* virtio-rng. */
	"getrandom",
	/*
	 * virtio-net: one frame per readv/writev on its tap (a header and the
	 * guest's buffers); its link-state netlink socket uses recvmsg and
	 * sendto, above. virtio-console: its ports' ptys, files and socket
	 * clients (readv/writev), the next client of a listening socket it
	 * holds (accept4: the socket was bound before the sandbox).
	 */
	"readv", "writev", "accept4",
	/* Time (where the vDSO falls back), threads (futex), malloc. */
	"clock_gettime", "gettimeofday", "futex", "brk", "munmap", "madvise", "mremap",
	/*
	 * Signals: handlers run and return, a call they interrupt restarts;
	 * libevent restores the handlers at teardown; a thread blocks them to exit.
	 */
	"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "restart_syscall",
	/* Teardown and exit (a thread's, the process's). */
	"close", "exit", "exit_group",
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * The sanitizer build only: LeakSanitizer's exit-time check stops the
	 * threads from a clone it ptraces, listing /proc/self/task.
	 */
	"clone", "clone3", "ptrace", "wait4", "prctl", "open", "openat", "getdents64",
	"getdents", "fstat", "stat", "lstat", "newfstatat", "readlink", "sigaltstack",
	"sched_getaffinity", "sched_yield", "tgkill", "getpid", "gettid", "getppid", "lseek",
	"set_robust_list", "rseq", "nanosleep", "clock_nanosleep",
#endif
};

/* The privcmd and evtchn ioctls of a running server (Linux include/uapi/xen/). */
static const unsigned long allowed_ioctls[] = {
	IOCTL_PRIVCMD_DM_OP,		/* dm_ops: set_irq_level, ranges, server state */
	IOCTL_PRIVCMD_MMAPBATCH_V2,	/* xenforeignmemory_map */
	IOCTL_PRIVCMD_MMAP_RESOURCE,	/* xenforeignmemory_map_resource */
	IOCTL_EVTCHN_NOTIFY,		/* xenevtchn_notify */
	IOCTL_EVTCHN_UNBIND,		/* xenevtchn_unbind, at teardown */
	TUNSETQUEUE,			/* virtio-net's queue pairs (its argument is a pointer) */
	TIOCGWINSZ,			/* virtio-console: a pty's size, for SIZE */
};

/* TUNSETOFFLOAD's argument is the flags: only those virtio-net's guest offloads map to. */
static int allow_tap_offload(scmp_filter_ctx ctx)
{
	const scmp_datum_t offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				SCMP_A1(SCMP_CMP_EQ, TUNSETOFFLOAD),
				SCMP_A2(SCMP_CMP_MASKED_EQ, ~offloads, 0));
}

static char violation_prefix[96];
static size_t violation_prefix_len;

/* Async-signal-safe: one write(2) of the prefix, the number and a newline, then _exit. */
static void on_sigsys(int signum, siginfo_t *info, void *context)
{
	char line[160], digits[16];
	size_t len = violation_prefix_len, n = 0;
	unsigned int nr = (unsigned int)info->si_syscall;

	(void)signum;
	(void)context;
	memcpy(line, violation_prefix, len);
	do
		digits[n++] = (char)('0' + nr % 10);
	while ((nr /= 10) && n < sizeof(digits));
	while (n)
		line[len++] = digits[--n];
	memcpy(line + len, ": stopping\n", 11);
	len += 11;
	if (write(STDERR_FILENO, line, len) < 0)
		_exit(SECCOMP_POLICY_EXIT_STATUS);
	_exit(SECCOMP_POLICY_EXIT_STATUS);
}

static int install_handler(int domid)
{
	struct sigaction action = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigset_t sys;

	snprintf(violation_prefix, sizeof(violation_prefix),
		 "xen-virtio-pcid: error: dom%d: " SECCOMP_POLICY_VIOLATION " ", domid);
	violation_prefix_len = strlen(violation_prefix);
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	if (sigaction(SIGSYS, &action, NULL) || sigprocmask(SIG_UNBLOCK, &sys, NULL))
		return -errno;
	return 0;
}

/*
 * An NBD disk's new connection (seen with strace on the reconnect test):
 * libnbd makes the socket it is handed non-blocking (F_GETFL, then F_SETFL
 * with O_NONBLOCK added) and close-on-exec (F_GETFD, then F_SETFD with
 * FD_CLOEXEC, the one value allowed): the only fcntl(2) commands a worker
 * needs once serving.
 */
static int allow_socket_flags(scmp_filter_ctx ctx)
{
	static const int commands[] = { F_GETFL, F_SETFL, F_GETFD };
	int ret = 0;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !ret; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)commands[i]));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 2,
				       SCMP_A1(SCMP_CMP_EQ, F_SETFD),
				       SCMP_A2(SCMP_CMP_EQ, FD_CLOEXEC));
	return ret;
}

/*
 * A worker whose root holds its devices' files (daemon/sandbox_files.c: a
 * read-only tmpfs of copies, nothing else) may open them read-only, as
 * libnbd does at each TLS handshake (lib/crypto.c: access(2), then
 * gnutls's and fopen's openat, fstat, read): nothing else is there to open,
 * and nothing can be made.
 */
static const char *const file_reading[] = { "access", "faccessat", "faccessat2", "fstat",
					    "newfstatat", "lseek" };

static int allow_reading_files(scmp_filter_ctx ctx)
{
	const scmp_datum_t writing = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, writing, 0));

	for (size_t i = 0; i < sizeof(file_reading) / sizeof(file_reading[0]) && !ret; i++) {
		int nr = seccomp_syscall_resolve_name(file_reading[i]);

		if (nr != __NR_SCMP_ERROR)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	return ret;
}

/* No executable mappings: a hijacked worker cannot map or make code of its own. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return ret;
}

static int allow_calls(scmp_filter_ctx ctx, bool reads_files)
{
	int ret = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !ret; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]) && !ret; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, allowed_ioctls[i]));
	if (!ret)
		ret = allow_tap_offload(ctx);
	if (!ret)
		ret = allow_memory(ctx);
	if (!ret)
		ret = allow_socket_flags(ctx);
	if (!ret && reads_files)
		ret = allow_reading_files(ctx);
	return ret;
}

int seccomp_policy_install(int domid, bool reads_files)
{
	scmp_filter_ctx ctx;
	int ret = install_handler(domid);

	if (ret) {
		log_error("seccomp: cannot handle SIGSYS: %s", strerror(-ret));
		return ret;
	}
	/* Anything else raises SIGSYS in the calling thread, which never returns from it. */
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		log_error("seccomp: cannot create the filter");
		return -ENOMEM;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* The kernel logs each violation too (audit, or its log): also when SIGSYS is blocked. */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (!ret)
		ret = allow_calls(ctx, reads_files);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		log_error("seccomp: cannot install the filter: %s", strerror(-ret));
	return ret;
}
