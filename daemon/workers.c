// SPDX-License-Identifier: MIT
/*
 * daemon/workers.c: start, restart with backoff, and stop the worker
 * processes; each worker's state is one of four (enum worker_state).
 */
#include "daemon/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/nbd_dialer.h"
#include "daemon/options.h"
#include "daemon/privileges.h"
#include "daemon/seccomp_policy.h"
#include "daemon/uid_reaper.h"
#include "daemon/worker_link.h"
#include "daemon/worker_protocol.h"
#include "lib/log.h"

enum worker_state {
	WORKER_RUNNING,		/* a process serves the domain */
	WORKER_STOPPING,	/* sent SIGTERM, waiting for it to exit */
	WORKER_WAITING,		/* it failed: restart when the timer fires */
	WORKER_GAVE_UP,		/* failed WORKERS_MAX_FAILURES times in a row */
	WORKER_REAPING,		/* it exited: killing what is left of its uid first */
};

/* Tries of a reaper that something killed, before the pool goes on without it. */
#define REAPER_TRIES 3

struct worker {
	bool used;
	struct workers *pool;
	uint32_t domid;
	char *name;		/* the domain's name, or NULL */
	char **args;		/* the block's options, copied: reloads free blocks */
	char **next_args;	/* stopping to restart with these (a changed block) */
	pid_t pid;		/* 0: no process */
	enum worker_state state;
	unsigned int failures;	/* exits in a row without a stable run */
	time_t started;		/* CLOCK_MONOTONIC seconds */
	struct event *timer;	/* the restart */
	struct worker_link *link;	/* its channel, while a process runs */
	struct nbd_dialer *dialer;	/* its NBD_CONNECT asks, on the link's peer */
	struct event *kill_timer;	/* SIGKILL when a stop takes too long */
	/* Reaping (WORKER_REAPING): the exit being acted on once its uid is clean. */
	bool reap_queued;
	pid_t reaper;		/* its pid while it runs */
	unsigned int reaper_tries;
	int exit_status;
	pid_t exited_pid;	/* the worker's pid, for the log */
	bool exit_was_stop;	/* the exit was asked for (a stop) */
};

struct workers {
	struct event_base *base;
	struct workers_settings settings;
	struct worker table[WORKERS_MAX];
	bool stopping_all;
	struct worker *reaping;	/* the one worker whose reaper runs (one at a time) */
	void (*done)(void *opaque);
	void *done_opaque;
};

static time_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- option lists */

static void free_args(char **args)
{
	for (char **a = args; a && *a; a++)
		free(*a);
	free(args);
}

static char **copy_args(const struct config_domain *block)
{
	char **args = calloc(block->nr_args + 1, sizeof(*args));

	for (unsigned int i = 0; args && i < block->nr_args; i++) {
		args[i] = strdup(block->args[i]);
		if (!args[i]) {
			free_args(args);
			return NULL;
		}
	}
	return args;
}

static bool same_args(char **args, const struct config_domain *block)
{
	unsigned int i = 0;

	for (; args[i]; i++)
		if (i == block->nr_args || strcmp(args[i], block->args[i]))
			return false;
	return i == block->nr_args;
}

/* ---- one worker */

static const char *label(const struct worker *w, char *buf, size_t size)
{
	if (w->name)
		snprintf(buf, size, "domain %u (%s)", w->domid, w->name);
	else
		snprintf(buf, size, "domain %u", w->domid);
	return buf;
}

/* The process is gone: its channel and what serves on it. */
static void unlink_worker(struct worker *w)
{
	nbd_dialer_destroy(w->dialer);
	w->dialer = NULL;
	worker_link_destroy(w->link);
	w->link = NULL;
}

static void forget(struct worker *w)
{
	unlink_worker(w);
	if (w->timer)
		event_free(w->timer);
	if (w->kill_timer)
		event_free(w->kill_timer);
	free(w->name);
	free_args(w->args);
	free_args(w->next_args);
	memset(w, 0, sizeof(*w));
}

static bool has_option(char **args, const char *option)
{
	for (char **a = args; *a; a++)
		if (!strcmp(*a, option))
			return true;
	return false;
}

/* Numbers a worker's command line holds besides its channel: the uid base, our pid. */
struct worker_numbers {
	char uid_base[16];
	char supervisor[16];
};

/*
 * The argv of a worker: PROGRAM --worker-channel FD --domain ID ARGS...
 * [--user USER] [--uid-base N] --supervisor-pid PID [--verbose]; by hand,
 * PROGRAM --worker-channel FD ARGS... --supervisor-pid PID.
 */
static const char **worker_argv(const struct worker *w, char *channel, char *domid, size_t size,
				struct worker_numbers *numbers)
{
	const struct workers_settings *settings = &w->pool->settings;
	size_t n = 0, at = 0;
	const char **argv;

	while (w->args[n])
		n++;
	argv = calloc(n + 15, sizeof(*argv));
	if (!argv)
		return NULL;
	snprintf(domid, size, "%u", w->domid);
	snprintf(numbers->uid_base, sizeof(numbers->uid_base), "%u", settings->uid_base);
	snprintf(numbers->supervisor, sizeof(numbers->supervisor), "%d", (int)getpid());
	argv[at++] = settings->program;
	argv[at++] = WORKER_CHANNEL_OPTION;
	argv[at++] = channel;
	if (!settings->one_domain) {
		argv[at++] = "--domain";
		argv[at++] = domid;
	}
	memcpy(argv + at, w->args, n * sizeof(*argv));
	at += n;
	/* It stops when we die (PR_SET_PDEATHSIG), after a check that we are its parent. */
	argv[at++] = "--supervisor-pid";
	argv[at++] = numbers->supervisor;
	if (settings->one_domain)
		return argv;
	/* Names longer than a worker takes are not passed: its devices fall back to the ID. */
	if (w->name && strlen(w->name) <= OPTIONS_DOMAIN_NAME_MAX) {
		argv[at++] = "--guest-name";
		argv[at++] = w->name;
	}
	if (settings->user && !has_option(w->args, "--user")) {
		argv[at++] = "--user";
		argv[at++] = settings->user;
	}
	if (!has_option(w->args, "--uid-base")) {
		argv[at++] = "--uid-base";
		argv[at++] = numbers->uid_base;
	}
	if (settings->verbose)
		argv[at] = "--verbose";
	return argv;
}

/* It sent what no worker may send: it may be compromised. No SIGTERM: it need not obey. */
static void on_hostile(void *opaque)
{
	struct worker *w = opaque;

	if (w->pid)
		kill(w->pid, SIGKILL);
}

/* Its functions answer: the device-model mode tells libxl (daemon/device_model.h). */
static void on_ready(void *opaque)
{
	struct worker *w = opaque;

	w->pool->settings.ready(w->pool->settings.opaque, w->domid);
}

/* In the child: the channel's end survives the exec, nothing else of ours does. */
static void exec_worker(const char **argv, int channel)
{
	/* Its own session and process group: a terminal's ^C or hangup reaches us only. */
	setsid();
	if (fcntl(channel, F_SETFD, 0) == 0)
		execv(argv[0], (char *const *)argv);
	log_error("cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

static int spawn(struct worker *w)
{
	char domid[16], channel[16], who[96];
	struct worker_numbers numbers;
	const char **argv;
	int pair[2], ret;
	pid_t pid;

	/*
	 * A worker's PR_SET_PDEATHSIG fires when the thread that forked it
	 * exits, not the process: only the main thread lives as long as we do.
	 */
	if (gettid() != getpid()) {
		log_error("%s: not starting a worker from a thread other than the main one",
			  label(w, who, sizeof(who)));
		return -EDEADLK;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair)) {
		ret = -errno;
		log_error("%s: cannot create a worker channel: %s", label(w, who, sizeof(who)),
			  strerror(errno));
		return ret;
	}
	snprintf(channel, sizeof(channel), "%d", pair[1]);
	argv = worker_argv(w, channel, domid, sizeof(domid), &numbers);
	if (!argv) {
		close(pair[0]);
		close(pair[1]);
		return -ENOMEM;
	}
	pid = fork();
	if (pid == 0)
		exec_worker(argv, pair[1]);
	ret = -errno;
	free(argv);
	close(pair[1]);
	if (pid < 0) {
		close(pair[0]);
		log_error("%s: cannot start a worker: %s", label(w, who, sizeof(who)), strerror(-ret));
		return ret;
	}
	w->pid = pid;
	w->state = WORKER_RUNNING;
	w->started = now_seconds();
	w->link = worker_link_create(w->pool->base, pair[0], w->domid, pid, on_hostile,
				     w->pool->settings.ready ? on_ready : NULL, w);
	if (!w->link)
		kill(pid, SIGKILL);	/* it cannot be told anything: reaped as a failure */
	else
		w->dialer = nbd_dialer_create(w->pool->base, worker_link_peer(w->link), w->domid,
					      w->args);
	log_info("%s: worker %d started", label(w, who, sizeof(who)), (int)pid);
	return 0;
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (spawn(w))
		w->state = WORKER_GAVE_UP;	/* fork failed: logged; a reload tries again */
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char who[96];

	(void)fd;
	(void)what;
	if (!w->pid)
		return;
	log_warn("%s: worker %d did not stop within %.1f s: killing it", label(w, who, sizeof(who)),
		 (int)w->pid, w->pool->settings.stop_seconds);
	/* Its process group too (it is a session leader, exec_worker()). */
	kill(-w->pid, SIGKILL);
	kill(w->pid, SIGKILL);
}

/* SIGKILL after the grace period unless it exited by then (exited() cancels it). */
static void arm_kill_timer(struct worker *w)
{
	double grace = w->pool->settings.stop_seconds;
	struct timeval tv = { (time_t)grace, (suseconds_t)((grace - (double)(time_t)grace) * 1e6) };
	char who[96];

	if (!w->kill_timer)
		w->kill_timer = evtimer_new(w->pool->base, on_kill_timer, w);
	if (!w->kill_timer || evtimer_add(w->kill_timer, &tv)) {
		log_error("%s: cannot time its stop: killing worker %d now", label(w, who, sizeof(who)),
			  (int)w->pid);
		kill(w->pid, SIGKILL);
	}
}

static void stop(struct worker *w)
{
	if (w->timer)
		event_del(w->timer);
	if (w->state == WORKER_REAPING) {
		w->exit_was_stop = true;	/* acted on once its reaper is done */
		return;
	}
	if (!w->pid) {
		forget(w);
		return;
	}
	kill(w->pid, SIGTERM);
	w->state = WORKER_STOPPING;
	arm_kill_timer(w);
}

/* Why a worker ended, for the log. */
static void describe_exit(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) == 2)
		snprintf(buf, size, "exited with status 2 (its configuration or domain: "
			 "see its messages above)");
	else if (WEXITSTATUS(status) == SECCOMP_POLICY_EXIT_STATUS)
		snprintf(buf, size, "was stopped by its seccomp filter (status %d: a forbidden "
			 "system call, named above)", SECCOMP_POLICY_EXIT_STATUS);
	else
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
}

static void schedule_restart(struct worker *w)
{
	double delay = w->pool->settings.restart_delay;
	struct timeval tv;
	char who[96];

	/* Doubling with each failure in a row. */
	for (unsigned int i = 1; i < w->failures && delay < WORKERS_MAX_DELAY; i++)
		delay *= 2;
	if (delay > WORKERS_MAX_DELAY)
		delay = WORKERS_MAX_DELAY;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	if (!w->timer)
		w->timer = evtimer_new(w->pool->base, on_restart_timer, w);
	if (!w->timer || evtimer_add(w->timer, &tv)) {
		log_error("%s: cannot schedule the restart: giving up", label(w, who, sizeof(who)));
		w->state = WORKER_GAVE_UP;
		return;
	}
	w->state = WORKER_WAITING;
	log_warn("%s: restarting its worker in %.1f s (failure %u of %u)",
		 label(w, who, sizeof(who)), delay, w->failures, WORKERS_MAX_FAILURES);
}

/* The worker failed (it exited unasked). */
static void failed(struct worker *w, int status)
{
	char who[96], how[128];

	describe_exit(status, how, sizeof(how));
	log_error("%s: worker %d %s", label(w, who, sizeof(who)), (int)w->exited_pid, how);
	w->pid = 0;
	if (w->pool->settings.one_domain) {
		w->state = WORKER_GAVE_UP;	/* by hand: the caller exits with its status */
		return;
	}
	if (now_seconds() - w->started >= WORKERS_STABLE_SECONDS)
		w->failures = 0;
	if (++w->failures >= WORKERS_MAX_FAILURES) {
		w->state = WORKER_GAVE_UP;
		log_error("%s: its worker failed %u times in a row: giving up on this domain "
			  "until it is recreated or the configuration is reloaded (SIGHUP)",
			  who, w->failures);
		return;
	}
	schedule_restart(w);
}

/* A changed block: its options replace the old ones, and the count starts again. */
static void start_with_next_args(struct worker *w)
{
	free_args(w->args);
	w->args = w->next_args;
	w->next_args = NULL;
	w->failures = 0;
	if (spawn(w))
		w->state = WORKER_GAVE_UP;	/* fork failed: logged; a reload tries again */
}

/* Processes of the pool: workers and the reaper. */
static unsigned int processes(const struct workers *pool)
{
	return workers_running(pool) + (pool->reaping != NULL);
}

static void maybe_done(struct workers *pool)
{
	if (pool->stopping_all && processes(pool) == 0 && pool->done) {
		void (*done)(void *) = pool->done;

		pool->done = NULL;
		done(pool->done_opaque);
	}
}

/* What an exit means, once nothing of the worker's uid is left. */
static void act_on_exit(struct worker *w, int status, bool was_stop)
{
	if (!was_stop) {
		failed(w, status);
		return;
	}
	w->pid = 0;
	if (!w->next_args || w->pool->stopping_all) {
		forget(w);
		return;
	}
	/* Stopped to take a changed block: start again with it. */
	start_with_next_args(w);
}

/* ---- reaping a worker's uid */

/*
 * The uid @w ran as if it is its domain's own (only those are reaped), and
 * the base it lies on (the reaper's real uid), else false.
 */
static bool per_domain_uid(const struct worker *w, uid_t *uid, uid_t *base_uid)
{
	uint32_t base = w->pool->settings.uid_base;
	char why[128];

	/*
	 * By hand (one domain) no reaper: a second daemon for a domain another
	 * one serves is refused, and its reaper would kill the first's worker.
	 */
	if (w->pool->settings.one_domain || w->pool->settings.user ||
	    has_option(w->args, "--user") || geteuid() != 0)
		return false;
	for (char **a = w->args; a[0]; a++)
		if (!strcmp(a[0], "--uid-base") && a[1] &&
		    privileges_parse_uid_base(a[1], &base, why, sizeof(why)))
			return false;	/* cannot happen: the options were checked */
	*uid = base + w->domid;
	*base_uid = base;
	return true;
}

/* Start the reaper of the first worker waiting for one, if none runs. */
static void start_next_reaper(struct workers *pool)
{
	for (int i = 0; i < WORKERS_MAX && !pool->reaping; i++) {
		struct worker *w = &pool->table[i];
		uid_t uid, base;
		pid_t pid;

		if (!w->used || !w->reap_queued || !per_domain_uid(w, &uid, &base))
			continue;
		/* Its real uid is base + 0: no worker has it (domain 0 is never served). */
		pid = uid_reaper_start(base, uid);
		if (pid < 0) {
			log_error("domain %u: cannot start the reaper of uid %u: %s: going on without",
				  w->domid, (unsigned int)uid, strerror((int)-pid));
			w->reap_queued = false;
			act_on_exit(w, w->exit_status, w->exit_was_stop);
			continue;
		}
		w->reap_queued = false;
		w->reaper = pid;
		pool->reaping = w;
	}
}

static void reaped(struct worker *w, int status)
{
	struct workers *pool = w->pool;
	char who[96];

	w->reaper = 0;
	pool->reaping = NULL;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && ++w->reaper_tries < REAPER_TRIES) {
		w->reap_queued = true;	/* something killed it first: again */
	} else {
		if (w->reaper_tries >= REAPER_TRIES)
			log_error("%s: the reaper of its uid failed %u times: going on",
				  label(w, who, sizeof(who)), w->reaper_tries);
		w->reaper_tries = 0;
		act_on_exit(w, w->exit_status, w->exit_was_stop);
	}
	start_next_reaper(pool);
}

static void exited(struct worker *w, int status)
{
	const struct workers_settings *settings = &w->pool->settings;
	uid_t uid, base;

	unlink_worker(w);
	if (w->kill_timer)
		event_del(w->kill_timer);
	w->exited_pid = w->pid;
	if (settings->exited)
		settings->exited(settings->opaque, w->domid, status);
	if (!per_domain_uid(w, &uid, &base)) {
		act_on_exit(w, status, w->state == WORKER_STOPPING);
		return;
	}
	w->exit_status = status;
	w->exit_was_stop = w->state == WORKER_STOPPING;
	w->pid = 0;
	w->state = WORKER_REAPING;
	w->reap_queued = true;
	start_next_reaper(w->pool);
}

/* ---- the pool */

struct workers *workers_create(struct event_base *base, const struct workers_settings *settings)
{
	struct workers *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->base = base;
	pool->settings = *settings;
	return pool;
}

void workers_destroy(struct workers *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < WORKERS_MAX; i++)
		if (pool->table[i].used)
			forget(&pool->table[i]);
	free(pool);
}

static struct worker *find(struct workers *pool, uint32_t domid)
{
	for (int i = 0; i < WORKERS_MAX; i++)
		if (pool->table[i].used && pool->table[i].domid == domid)
			return &pool->table[i];
	return NULL;
}

bool workers_has(const struct workers *pool, uint32_t domid)
{
	return find((struct workers *)pool, domid) != NULL;
}

int workers_domain_present(struct workers *pool, uint32_t domid, const char *name,
			   const struct config_domain *block)
{
	struct worker *w = NULL;
	int ret;

	if (pool->stopping_all || find(pool, domid))
		return 0;
	for (int i = 0; i < WORKERS_MAX && !w; i++)
		if (!pool->table[i].used)
			w = &pool->table[i];
	if (!w)
		return -ENOSPC;
	*w = (struct worker){ .used = true, .pool = pool, .domid = domid };
	w->name = name ? strdup(name) : NULL;
	w->args = copy_args(block);
	if (!w->args || (name && !w->name)) {
		forget(w);
		return -ENOMEM;
	}
	ret = spawn(w);
	if (ret)
		forget(w);
	return ret;
}

static bool listed(uint32_t domid, const uint32_t *domids, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		if (domids[i] == domid)
			return true;
	return false;
}

void workers_domains_exist(struct workers *pool, const uint32_t *domids, unsigned int count)
{
	char who[96];

	for (int i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &pool->table[i];

		if (!w->used || w->state == WORKER_STOPPING || listed(w->domid, domids, count))
			continue;
		log_info("%s is gone: stopping its worker", label(w, who, sizeof(who)));
		free_args(w->next_args);
		w->next_args = NULL;
		stop(w);
	}
}

/* Reloaded: the worker's new block is @block (NULL: removed). */
static void reconfigure_one(struct worker *w, const struct config_domain *block)
{
	char who[96];

	label(w, who, sizeof(who));
	if (!block) {
		log_info("%s: no longer in the configuration: stopping its worker", who);
		stop(w);
		return;
	}
	if (same_args(w->args, block) && w->state != WORKER_GAVE_UP)
		return;
	free_args(w->next_args);
	w->next_args = copy_args(block);
	if (!w->next_args)
		return;		/* out of memory: keep the old options */
	if (w->state == WORKER_REAPING) {
		w->exit_was_stop = true;	/* once reaped, start with next_args */
		return;
	}
	log_info("%s: configuration %s: %s its worker", who,
		 w->state == WORKER_GAVE_UP ? "reloaded" : "changed",
		 w->pid ? "restarting" : "starting");
	if (w->pid) {
		stop(w);	/* exited() starts it again with next_args */
		return;
	}
	if (w->timer)
		event_del(w->timer);
	start_with_next_args(w);
}

void workers_reconfigure(struct workers *pool, workers_lookup_fn *lookup, void *opaque)
{
	for (int i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &pool->table[i];

		if (w->used && w->state != WORKER_STOPPING)
			reconfigure_one(w, lookup(opaque, w->domid, w->name));
	}
}

void workers_reap(struct workers *pool)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < WORKERS_MAX; i++) {
			struct worker *w = &pool->table[i];

			if (w->used && w->pid == pid) {
				exited(w, status);
				break;
			}
			if (w->used && w->reaper == pid) {
				reaped(w, status);
				break;
			}
		}
	}
	maybe_done(pool);
}

void workers_stop_all(struct workers *pool, void (*done)(void *opaque), void *opaque)
{
	pool->stopping_all = true;
	pool->done = done;
	pool->done_opaque = opaque;
	/* Each stop escalates to SIGKILL on its own (stop()); reapers finish first. */
	for (int i = 0; i < WORKERS_MAX; i++)
		if (pool->table[i].used && pool->table[i].state != WORKER_STOPPING)
			stop(&pool->table[i]);
	maybe_done(pool);
}

unsigned int workers_running(const struct workers *pool)
{
	unsigned int running = 0;

	for (int i = 0; i < WORKERS_MAX; i++)
		running += pool->table[i].used && pool->table[i].pid != 0;
	return running;
}
