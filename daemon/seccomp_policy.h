/* SPDX-License-Identifier: MIT */
/*
 * daemon/seccomp_policy.h: the system calls a serving worker may make
 * (libseccomp), and what happens on any other: one line on stderr naming
 * the call, then the process exits with SECCOMP_POLICY_EXIT_STATUS, which
 * the supervisor reports and restarts the worker after.
 */
#ifndef XVP_DAEMON_SECCOMP_POLICY_H
#define XVP_DAEMON_SECCOMP_POLICY_H

#include <stdbool.h>

/* The exit status of a worker its filter stopped (distinct from 0, 1 and 2). */
#define SECCOMP_POLICY_EXIT_STATUS	3
/* The start of the line the worker writes before it exits. */
#define SECCOMP_POLICY_VIOLATION	"seccomp: forbidden system call"

/*
 * Install the allow-list on every thread of the process (TSYNC), after
 * PR_SET_NO_NEW_PRIVS. @domid tags the violation line. @reads_files: its
 * root holds files its devices read (daemon/sandbox_files.c): opening files
 * read-only is allowed too. 0 or -errno (logged).
 */
int seccomp_policy_install(int domid, bool reads_files);

#endif
