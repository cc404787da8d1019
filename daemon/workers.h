/* SPDX-License-Identifier: MIT */
/*
 * daemon/workers.h: the supervisor's worker processes, one per served
 * domain: each is this program in single-domain mode
 * (`xen-virtio-pcid --domain ID ARGS...`), so a guest that crashes its
 * worker, or a bad disk image, touches that domain only.
 *
 * A worker that exits unasked is restarted after restart_delay, doubling
 * with each failure in a row (a run of WORKERS_STABLE_SECONDS resets the
 * count); after WORKERS_MAX_FAILURES in a row the pool gives up on that
 * domain, loudly, until the domain comes back or the config is reloaded.
 *
 * Each worker is its own session (setsid), forked from the main thread,
 * and told the supervisor's pid (--supervisor-pid) so that it stops when
 * the supervisor dies. Every stop escalates to SIGKILL after stop_seconds.
 * A worker that runs as its domain's own uid (daemon/privileges.h) is
 * followed, whenever it exits, by a reaper that kills whatever else runs
 * as that uid (daemon/uid_reaper.h); only then is it restarted, or
 * forgotten so that a new domain may take the ID.
 *
 * Each worker inherits one end of a socket pair (WORKER_CHANNEL_OPTION FD,
 * daemon/worker_protocol.h); the pool serves the other end
 * (daemon/worker_link.h) and kills a worker that breaks the protocol.
 */
#ifndef XVP_DAEMON_WORKERS_H
#define XVP_DAEMON_WORKERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/config_file.h"

#define WORKERS_MAX		CONFIG_DOMAINS_MAX
#define WORKERS_MAX_FAILURES	5
#define WORKERS_STABLE_SECONDS	30
#define WORKERS_MAX_DELAY	60.0	/* seconds between restarts at most */
#define WORKERS_STOP_SECONDS	10.0	/* default: SIGTERM, then SIGKILL after this */

struct event_base;
struct workers;

struct workers_settings {
	const char *program;	/* what a worker runs: this program's path */
	double restart_delay;	/* seconds before the first restart */
	bool verbose;		/* pass --verbose to workers */
	const char *user;	/* pass --user USER to workers whose block has no user; or NULL */
	uint32_t uid_base;	/* pass --uid-base N to workers whose block has none */
	double stop_seconds;	/* every stop: SIGTERM, then SIGKILL after this */
	/*
	 * By hand (xen-virtio-pcid --domain ID ...): the block's args are the
	 * whole command line, passed as they are, and a worker that exits is
	 * not restarted.
	 */
	bool one_domain;
	/* Called for every worker that exited, with its waitpid status; or NULL. */
	void (*exited)(void *opaque, uint32_t domid, int status);
	/* Called when a worker's functions answer for the first time; or NULL. */
	void (*ready)(void *opaque, uint32_t domid);
	void *opaque;
};

struct workers *workers_create(struct event_base *base, const struct workers_settings *settings);
void workers_destroy(struct workers *pool);

/*
 * Domain @domid (named @name, or NULL) exists: start its worker with
 * @block's options, unless it has one (running, waiting to restart, or
 * given up on). 0 or -errno.
 */
int workers_domain_present(struct workers *pool, uint32_t domid, const char *name,
			   const struct config_domain *block);

/* Is there a worker (in any state) for @domid? */
bool workers_has(const struct workers *pool, uint32_t domid);

/*
 * The domains that exist now (@domids, @count): stop the workers of the
 * others (their domain is gone) and forget them.
 */
void workers_domains_exist(struct workers *pool, const uint32_t *domids, unsigned int count);

/*
 * The config was reloaded: for each worker, @lookup gives its new block
 * (NULL: removed from the file). A removed block stops the worker, a
 * changed one restarts it with the new options, an equal one is left
 * alone; a worker given up on is tried again.
 */
typedef const struct config_domain *workers_lookup_fn(void *opaque, uint32_t domid,
							const char *name);
void workers_reconfigure(struct workers *pool, workers_lookup_fn *lookup, void *opaque);

/* A child exited (SIGCHLD): reap every exited worker and act on it. */
void workers_reap(struct workers *pool);

/*
 * Stop every worker (SIGTERM, SIGKILL after stop_seconds, as every stop) and call
 * @done from the loop once none runs.
 */
void workers_stop_all(struct workers *pool, void (*done)(void *opaque), void *opaque);

/* How many workers run (a process exists). */
unsigned int workers_running(const struct workers *pool);

#endif
