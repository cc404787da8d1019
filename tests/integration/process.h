/* SPDX-License-Identifier: MIT */
/* tests/integration/process.h: what /proc says about a daemon process. */
#ifndef XVP_TESTS_INTEGRATION_PROCESS_H
#define XVP_TESTS_INTEGRATION_PROCESS_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The real uid of @pid (the first number of its "Uid:" line), or -1. */
static inline long process_uid(pid_t pid)
{
	char path[64], line[256];
	long uid = -1;
	FILE *status;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = fopen(path, "r");
	while (status && fgets(line, sizeof(line), status))
		if (sscanf(line, "Uid: %ld", &uid) == 1)
			break;
	if (status)
		fclose(status);
	return uid;
}

/* Does @pid exist (any state, zombies too)? */
static inline bool process_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Wait up to @timeout_ms for @pid to be gone: true if it is. */
static inline bool process_wait_gone(pid_t pid, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && process_exists(pid); waited += 10)
		usleep(10000);
	return !process_exists(pid);
}

/* The state letter of @pid's /proc/PID/stat ("pid (comm) S ..."): 'T' when stopped, 0 if unknown. */
static inline char process_state(pid_t pid)
{
	char path[64], text[512];
	const char *after_name;
	FILE *stat;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = fopen(path, "r");
	if (!stat)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, stat);
	fclose(stat);
	text[n] = '\0';
	/* The name may hold spaces and parentheses: the state follows the last ')'. */
	after_name = strrchr(text, ')');
	return after_name && after_name[1] == ' ' ? after_name[2] : 0;
}

#endif
