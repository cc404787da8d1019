// SPDX-License-Identifier: MIT
/*
 * daemon/stale_server.c: the earlier daemon's IOREQ server, destroyed
 * before ours is created, unless that daemon is alive.
 */
#include "daemon/stale_server.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "xen/ioreq_server.h"

/*
 * The program's name in @link, a /proc/PID/exe target: its last component,
 * without the " (deleted)" Linux adds once the file was replaced (a package
 * upgrade while the daemon runs). Into @name.
 */
static void program_name(const char *link, char *name, size_t size)
{
	const char *base = strrchr(link, '/');
	size_t len;

	base = base ? base + 1 : link;
	len = strlen(base);
	if (len > sizeof(" (deleted)") - 1 &&
	    !strcmp(base + len - (sizeof(" (deleted)") - 1), " (deleted)"))
		len -= sizeof(" (deleted)") - 1;
	snprintf(name, size, "%.*s", (int)len, base);
}

/*
 * Does @pid run this program (by name: an upgraded or relocated binary is
 * still this program)? A recycled pid running something else does not
 * count; one we may not inspect does (better refuse than destroy a server
 * that is in use).
 */
bool stale_server_runs_this_program(long pid)
{
	char path[64], exe[PATH_MAX], self[PATH_MAX], exe_name[NAME_MAX + 1], self_name[NAME_MAX + 1];
	ssize_t len, self_len;

	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	if (len < 0)
		return errno == EACCES || errno == EPERM;
	self_len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (self_len < 0)
		return true;
	exe[len] = '\0';
	self[self_len] = '\0';
	program_name(exe, exe_name, sizeof(exe_name));
	program_name(self, self_name, sizeof(self_name));
	return !strcmp(exe_name, self_name);
}

int stale_server_clear(uint32_t domid, const struct xen_xenstore_record *record)
{
	if (!record->found)
		return 0;
	if (record->pid != (long)getpid() && stale_server_runs_this_program(record->pid)) {
		log_error("domain %u is served by process %ld already (ioreq server %u): "
			  "stop it first", domid, record->pid, record->id);
		return -EBUSY;
	}
	log_info("domain %u: process %ld, which served it with ioreq server %u, is gone",
		 domid, record->pid, record->id);
	/* A failure is logged; the worker creates its own all the same (Xen allows a few). */
	xen_ioreq_server_destroy_stale((domid_t)domid, record->id);
	return 0;
}
