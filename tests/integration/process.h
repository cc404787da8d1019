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

/*
 * The fields of @pid's /proc/PID/stat after "pid (comm) ", read into @text:
 * the name may hold spaces and parentheses, so they start after the last ')'.
 * NULL if unknown.
 */
static inline const char *process_stat_fields(pid_t pid, char *text, size_t size)
{
	char path[64];
	const char *after_name;
	FILE *stat;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = fopen(path, "r");
	if (!stat)
		return NULL;
	n = fread(text, 1, size - 1, stat);
	fclose(stat);
	text[n] = '\0';
	after_name = strrchr(text, ')');
	return after_name && after_name[1] == ' ' ? after_name + 2 : NULL;
}

/* The state letter of @pid ('T' when stopped), 0 if unknown. */
static inline char process_state(pid_t pid)
{
	char text[512];
	const char *fields = process_stat_fields(pid, text, sizeof(text));

	return fields ? fields[0] : 0;
}

#endif
