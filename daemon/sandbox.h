/* SPDX-License-Identifier: MIT */
/*
 * daemon/sandbox.h: what a worker gives up (docs/security.md), in two calls.
 * sandbox_enter(), once its Xen handles are open and restricted and before
 * anything the guest controls is read:
 *   1. no core dumps (they would hold guest memory);
 *   2. an empty root directory (while root may still chroot), with what
 *      glibc would load lazily loaded first (or one holding only the files
 *      its devices read once serving, read-only);
 *   3. the domain's own uid and gid, no supplementary groups (privileges.h);
 *   4. no new privileges, not dumpable;
 *   5. stop when the supervisor dies (PR_SET_PDEATHSIG, after the uid
 *      change, which clears it), checking it is still there.
 * sandbox_lock_down(), once its server, mappings, event channels and
 * devices are set up, right before the event loop serves:
 *   6. file descriptors bounded to what it has plus a margin;
 *   7. the seccomp allow-list (seccomp_policy.h), last, so that set-up needs
 *      no system call the list would have to allow.
 */
#ifndef XVP_DAEMON_SANDBOX_H
#define XVP_DAEMON_SANDBOX_H

#include <sys/types.h>

#include "daemon/privileges.h"

/* File descriptors a worker may open past those it has when it enters (received ones). */
#define SANDBOX_SPARE_FDS	64

/* Files a worker's devices may read once serving (an NBD disk's TLS credentials: 5 each), at most. */
#define SANDBOX_MAX_FILES	160

struct sandbox_config {
	int domid;
	struct privileges_target target;
	pid_t supervisor_pid;	/* 0: started by hand, no supervisor to follow */
	/*
	 * Absolute paths its devices read once serving (backend_type.root_files):
	 * the root holds copies of them (daemon/sandbox_files.c) instead of
	 * nothing, and the seccomp list allows opening files read-only.
	 */
	const char *const *root_files;
	unsigned int nr_root_files;
};

/* Steps 1-5. 0, or -errno (logged): the worker must stop rather than serve unconfined. */
int sandbox_enter(const struct sandbox_config *config);

/* Steps 6-7; logs "sandboxed: ...". 0, or -errno (logged): the worker must stop. */
int sandbox_lock_down(int domid);

/*
 * Step 2 (daemon/sandbox_root.c): with no @files, an empty root; else one
 * holding copies of @files at their paths, @target's, read-only
 * (sandbox_enter_root_with). 0 or -errno (logged).
 */
int sandbox_enter_empty_root(const char *const *files, unsigned int count,
			     const struct privileges_target *target);
int sandbox_enter_root_with(const char *const *files, unsigned int count,
			    const struct privileges_target *target);

#endif
