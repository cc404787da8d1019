// SPDX-License-Identifier: MIT
/*
 * daemon/privileges.c: the per-domain uid or the --user override, parsed
 * before Xen is touched, applied once serving (daemon/sandbox.c).
 */
#include "daemon/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/parse.h"
#include "lib/log.h"

/* "UID" or "UID:GID": true with both set. */
static bool parse_numbers(const char *text, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(text, ':');
	char uid_text[32];
	uint64_t u, g;

	if (colon ? (size_t)(colon - text) >= sizeof(uid_text) : strlen(text) >= sizeof(uid_text))
		return false;
	snprintf(uid_text, sizeof(uid_text), "%.*s", colon ? (int)(colon - text) : (int)strlen(text),
		 text);
	if (!parse_u64(uid_text, &u) || u >= (uid_t)-1)
		return false;
	g = u;
	if (colon && (!parse_u64(colon + 1, &g) || g >= (gid_t)-1))
		return false;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return true;
}

int privileges_parse_user(const char *text, struct privileges_user *user, char *why,
			  size_t why_len)
{
	struct passwd *pw;

	if (text[0] >= '0' && text[0] <= '9') {
		if (!parse_numbers(text, &user->uid, &user->gid)) {
			snprintf(why, why_len, "--user '%s': expected a user name or UID[:GID]", text);
			return -EINVAL;
		}
	} else {
		errno = 0;
		pw = getpwnam(text);
		if (!pw) {
			snprintf(why, why_len, "--user '%s': no such user%s%s", text,
				 errno ? ": " : "", errno ? strerror(errno) : "");
			return -EINVAL;
		}
		user->uid = pw->pw_uid;
		user->gid = pw->pw_gid;
	}
	user->root = user->uid == 0;
	user->set = true;
	return 0;
}

int privileges_parse_uid_base(const char *text, uint32_t *base, char *why, size_t why_len)
{
	uint64_t value;

	/* base + 0x7fef must be a uid, and (uid_t)-1 is "no change" to setresuid(). */
	if (!parse_u64(text, &value) || value < 1 ||
	    value >= (uint64_t)(uid_t)-1 - PRIVILEGES_DOMIDS) {
		snprintf(why, why_len, "--uid-base '%s': expected a number from 1 to %u", text,
			 (unsigned int)((uid_t)-1 - PRIVILEGES_DOMIDS - 1));
		return -EINVAL;
	}
	*base = (uint32_t)value;
	return 0;
}

void privileges_target_of(const struct privileges_user *user, uint32_t uid_base, uint32_t domid,
			  struct privileges_target *target)
{
	if (user->set) {
		*target = (struct privileges_target){ .stay_root = user->root, .uid = user->uid,
						      .gid = user->gid };
		return;
	}
	*target = (struct privileges_target){ .per_domain = true, .uid = uid_base + domid,
					      .gid = uid_base + domid };
}

int privileges_drop(const struct privileges_target *target)
{
	if (target->stay_root) {
		log_warn("running as root (--user root): a worker a guest compromises holds "
			 "root's powers over dom0, less what seccomp forbids");
		return 0;
	}
	if (geteuid() != 0) {
		log_warn("not root: staying uid %u (the per-domain uid %u needs root)",
			 (unsigned int)getuid(), (unsigned int)target->uid);
		return 0;
	}
	/* Groups first: once the uid is not root, they could no longer be dropped. */
	if (setgroups(0, NULL) || setresgid(target->gid, target->gid, target->gid) ||
	    setresuid(target->uid, target->uid, target->uid)) {
		log_error("cannot become uid %u gid %u: %s", (unsigned int)target->uid,
			  (unsigned int)target->gid, strerror(errno));
		return -errno;
	}
	/* There must be no way back. */
	if (setuid(0) == 0) {
		log_error("still able to become root after dropping privileges");
		return -EPERM;
	}
	log_info("running as uid %u gid %u%s from now on", (unsigned int)target->uid,
		 (unsigned int)target->gid, target->per_domain ? " (this domain's own)" : "");
	return 0;
}
