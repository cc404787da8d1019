// SPDX-License-Identifier: MIT
/* daemon/privileges.c: --user, parsed before Xen is touched, applied once serving. */
#include "daemon/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/parse.h"
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
	if (user->uid == 0) {
		snprintf(why, why_len, "--user '%s': is root; give an unprivileged user", text);
		return -EINVAL;
	}
	user->set = true;
	return 0;
}

int privileges_drop(const struct privileges_user *user)
{
	/* Groups first: once the uid is not root, they could no longer be dropped. */
	if (setgroups(0, NULL) || setresgid(user->gid, user->gid, user->gid) ||
	    setresuid(user->uid, user->uid, user->uid)) {
		log_error("cannot become uid %u gid %u: %s", (unsigned int)user->uid,
			  (unsigned int)user->gid, strerror(errno));
		return -errno;
	}
	/* There must be no way back. */
	if (setuid(0) == 0) {
		log_error("still able to become root after dropping privileges");
		return -EPERM;
	}
	log_info("running as uid %u gid %u from now on", (unsigned int)user->uid,
		 (unsigned int)user->gid);
	return 0;
}
