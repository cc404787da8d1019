/* SPDX-License-Identifier: MIT */
/*
 * daemon/privileges.h: the uid and gid a worker runs as once it serves.
 *
 * By default each domain has its own: uid = gid = UID_BASE + domid, with no
 * supplementary groups, no password-database entry needed and nothing
 * resolved by name after the change. So two workers cannot signal, trace or
 * starve each other, and everything left running as that uid can be killed
 * when the domain goes (daemon/uid_reaper.h). UID_BASE + 0 is never a
 * worker's (domain 0 is not served): the reaper takes it as its real uid.
 *
 * --user USER (or a block's `user`) overrides this with one account for
 * every worker that is given it; `--user root` keeps root, with a warning.
 */
#ifndef XVP_DAEMON_PRIVILEGES_H
#define XVP_DAEMON_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The default base: 0x70000000. It lies in the range systemd documents as
 * unused (1879048192..2147352575, between its container ranges and the
 * uids with the sign bit set), above useradd's subordinate-uid range
 * (100000..600100000), so no account or container shares a worker's uid.
 * (libxl takes its base from an account the administrator creates,
 * xen-qemuuser-range-base, docs/features/qemu-deprivilege.pandoc; we need
 * none.)
 */
#define PRIVILEGES_DEFAULT_UID_BASE	0x70000000u
/* Domain IDs end below DOMID_FIRST_RESERVED (0x7ff0, xen/include/public/xen.h). */
#define PRIVILEGES_DOMIDS		0x7ff0u

/* --user: an override of the per-domain uid. */
struct privileges_user {
	bool set;
	bool root;		/* `--user root` (or 0): stay root */
	uid_t uid;
	gid_t gid;
};

/* What a worker becomes: resolved before anything is dropped. */
struct privileges_target {
	bool stay_root;
	bool per_domain;	/* uid = base + domid (the reaper may kill it) */
	uid_t uid;
	gid_t gid;
};

/*
 * @text: a user name (its uid and primary group from the password
 * database, read now: never after the drop) or UID[:GID] numbers (GID
 * defaults to UID); root or 0 means stay root. 0, or -EINVAL with a
 * message in @why.
 */
int privileges_parse_user(const char *text, struct privileges_user *user, char *why,
			  size_t why_len);

/*
 * @text: a uid base (a number from 1 such that base + 0x7fef fits a uid).
 * 0, or -EINVAL with a message in @why.
 */
int privileges_parse_uid_base(const char *text, uint32_t *base, char *why, size_t why_len);

/* The target of domain @domid: @user if set, else @uid_base + @domid. */
void privileges_target_of(const struct privileges_user *user, uint32_t uid_base, uint32_t domid,
			  struct privileges_target *target);

/*
 * Become @target for good: no supplementary groups, then the group, then
 * the user (real, effective and saved), then check there is no way back.
 * Staying root, or running unprivileged already (no CAP_SETUID: a
 * developer's run), only logs a warning. 0, or -errno (logged): the caller
 * must stop serving rather than go on as root.
 */
int privileges_drop(const struct privileges_target *target);

#endif
