/* SPDX-License-Identifier: MIT */
/*
 * daemon/privileges.h: --user: the account a worker runs as once it serves
 * (DESIGN.md 7). Everything that needs root is done by then: the images
 * are open, the IOREQ server exists with its ports bound, the Xen handles
 * are restricted to the domain. A compromised worker is then an
 * unprivileged process that can reach one guest through handles it cannot
 * widen, and cannot open new ones (/dev/xen/privcmd is root's).
 */
#ifndef XVP_DAEMON_PRIVILEGES_H
#define XVP_DAEMON_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privileges_user {
	bool set;
	uid_t uid;
	gid_t gid;
};

/*
 * @text: a user name (its uid and primary group from the password
 * database) or UID[:GID] numbers (GID defaults to UID), not root. 0, or
 * -EINVAL with a message in @why.
 */
int privileges_parse_user(const char *text, struct privileges_user *user, char *why,
			  size_t why_len);

/*
 * Become @user for good: no supplementary groups, then the group, then the
 * user (real, effective and saved). 0, or -errno (logged): the caller must
 * stop serving rather than go on as root.
 */
int privileges_drop(const struct privileges_user *user);

#endif
