// SPDX-License-Identifier: MIT
/* daemon/uid_reaper.c: the reaper process (daemon/uid_reaper.h). */
#include "daemon/uid_reaper.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

pid_t uid_reaper_start(uid_t reaper_uid, uid_t target)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	/* The child: system calls only (the supervisor may have threads). */
	if (setresuid(reaper_uid, target, 0))
		_exit(2);
	/* ESRCH: nothing ran as @target any more, which is what we wanted. */
	if (kill(-1, SIGKILL) && errno != ESRCH)
		_exit(1);
	_exit(0);
}
