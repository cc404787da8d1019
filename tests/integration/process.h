/* SPDX-License-Identifier: MIT */
/* tests/integration/process.h: what /proc says about a daemon process. */
#ifndef XVP_TESTS_INTEGRATION_PROCESS_H
#define XVP_TESTS_INTEGRATION_PROCESS_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

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
