/* SPDX-License-Identifier: MIT */
/*
 * daemon/uid_reaper.h: kill everything that runs as a worker's uid.
 *
 * A worker's uid is its domain's own (daemon/privileges.h), so whatever a
 * compromised worker left behind (a forked child, in a build without the
 * seccomp filter) runs as that uid and nothing else does. Before the uid
 * serves again (a restart, or a new domain with the same ID), a reaper
 * process takes it as its effective uid and sends SIGKILL to every process
 * it may signal: kill(-1) is one call, so a fork loop cannot outrun it.
 * As libxl's device-model reaper (tools/libs/light/libxl_dm.c,
 * kill_device_model_uid_child), its real uid is another one (UID_BASE + 0,
 * which no worker has) and its saved uid 0, so the processes it kills
 * cannot signal or trace it, and kill(-1) reaches no one else.
 */
#ifndef XVP_DAEMON_UID_REAPER_H
#define XVP_DAEMON_UID_REAPER_H

#include <sys/types.h>

/* Fork the reaper of @target (real uid @reaper_uid): its pid, or -errno. Exit 0 when done. */
pid_t uid_reaper_start(uid_t reaper_uid, uid_t target);

#endif
