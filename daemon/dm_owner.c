// SPDX-License-Identifier: MIT
/*
 * daemon/dm_owner.c: a walk of /proc for this program's device-model
 * command line naming the domain.
 */
#include "daemon/dm_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/stale_server.h"

/* libxl's argv begins "DM -xen-domid ID" (libxl__build_device_model_args_new()). */
static bool names_domain(long pid, const char *domid)
{
	char path[64], cmdline[256];
	const char *word;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (len <= 0)
		return false;
	cmdline[len] = '\0';
	word = cmdline + strlen(cmdline) + 1;	/* argv[1] */
	if (word >= cmdline + len || strcmp(word, "-xen-domid"))
		return false;
	word += strlen(word) + 1;		/* argv[2] */
	return word < cmdline + len && !strcmp(word, domid);
}

pid_t dm_owner_find(uint32_t domid)
{
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	char text[16];
	pid_t found = 0;

	if (!proc)
		return 0;
	snprintf(text, sizeof(text), "%u", domid);
	while (!found && (entry = readdir(proc))) {
		char *end;
		long pid = strtol(entry->d_name, &end, 10);

		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		if (names_domain(pid, text) && stale_server_runs_this_program(pid))
			found = (pid_t)pid;
	}
	closedir(proc);
	return found;
}
