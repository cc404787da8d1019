/* SPDX-License-Identifier: MIT */
/* tests/integration/process.h: what /proc says about a daemon process. */
#ifndef XVP_TESTS_INTEGRATION_PROCESS_H
#define XVP_TESTS_INTEGRATION_PROCESS_H

#include <stdio.h>
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

#endif
