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

#include "daemon/worker_link.h"
#include "daemon/worker_protocol.h"
#include "lib/log.h"

enum worker_state {
	WORKER_RUNNING,		/* a process serves the domain */
	WORKER_STOPPING,	/* sent SIGTERM, waiting for it to exit */
	WORKER_WAITING,		/* it failed: restart when the timer fires */
	WORKER_GAVE_UP,		/* failed WORKERS_MAX_FAILURES times in a row */
};

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
};

struct workers {
	struct event_base *base;
	struct workers_settings settings;
	struct worker table[WORKERS_MAX];
	bool stopping_all;
	struct event *kill_timer;
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

static void forget(struct worker *w)
{
	worker_link_destroy(w->link);
	if (w->timer)
		event_free(w->timer);
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

/*
 * The argv of a worker: PROGRAM --worker-channel FD --domain ID ARGS...
 * [--user USER] [--verbose]; by hand, PROGRAM --worker-channel FD ARGS...
 */
static const char **worker_argv(const struct worker *w, char *channel, char *domid, size_t size)
{
	const struct workers_settings *settings = &w->pool->settings;
	size_t n = 0, at = 0;
	const char **argv;

	while (w->args[n])
		n++;
	argv = calloc(n + 9, sizeof(*argv));
	if (!argv)
		return NULL;
	snprintf(domid, size, "%u", w->domid);
	argv[at++] = settings->program;
	argv[at++] = WORKER_CHANNEL_OPTION;
	argv[at++] = channel;
	if (!settings->one_domain) {
		argv[at++] = "--domain";
		argv[at++] = domid;
	}
	memcpy(argv + at, w->args, n * sizeof(*argv));
	at += n;
	if (settings->one_domain)
		return argv;
	if (settings->user && !has_option(w->args, "--user")) {
		argv[at++] = "--user";
		argv[at++] = settings->user;
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

/* In the child: the channel's end survives the exec, nothing else of ours does. */
static void exec_worker(const char **argv, int channel)
{
	if (fcntl(channel, F_SETFD, 0) == 0)
		execv(argv[0], (char *const *)argv);
	log_error("cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

static int spawn(struct worker *w)
{
	char domid[16], channel[16], who[96];
	const char **argv;
	int pair[2], ret;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair)) {
		ret = -errno;
		log_error("%s: cannot create a worker channel: %s", label(w, who, sizeof(who)),
			  strerror(errno));
		return ret;
	}
	snprintf(channel, sizeof(channel), "%d", pair[1]);
	argv = worker_argv(w, channel, domid, sizeof(domid));
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
	w->link = worker_link_create(w->pool->base, pair[0], w->domid, pid, on_hostile, w);
	if (!w->link)
		kill(pid, SIGKILL);	/* it cannot be told anything: reaped as a failure */
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

static void stop(struct worker *w)
{
	if (w->timer)
		event_del(w->timer);
	if (!w->pid) {
		forget(w);
		return;
	}
	kill(w->pid, SIGTERM);
	w->state = WORKER_STOPPING;
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
	log_error("%s: worker %d %s", label(w, who, sizeof(who)), (int)w->pid, how);
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

static void maybe_done(struct workers *pool)
{
	if (pool->stopping_all && workers_running(pool) == 0 && pool->done) {
		void (*done)(void *) = pool->done;

		pool->done = NULL;
		done(pool->done_opaque);
	}
}

static void exited(struct worker *w, int status)
{
	const struct workers_settings *settings = &w->pool->settings;

	worker_link_destroy(w->link);
	w->link = NULL;
	if (settings->exited)
		settings->exited(settings->opaque, w->domid, status);
	if (w->state != WORKER_STOPPING) {
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
	if (pool->kill_timer)
		event_free(pool->kill_timer);
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
		}
	}
	maybe_done(pool);
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	struct workers *pool = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &pool->table[i];

		if (w->used && w->pid) {
			log_warn("domain %u: worker %d did not stop within %d s: killing it",
				 w->domid, (int)w->pid, WORKERS_STOP_SECONDS);
			kill(w->pid, SIGKILL);
		}
	}
}

void workers_stop_all(struct workers *pool, void (*done)(void *opaque), void *opaque)
{
	struct timeval grace = { WORKERS_STOP_SECONDS, 0 };

	pool->stopping_all = true;
	pool->done = done;
	pool->done_opaque = opaque;
	for (int i = 0; i < WORKERS_MAX; i++)
		if (pool->table[i].used)
			stop(&pool->table[i]);
	pool->kill_timer = evtimer_new(pool->base, on_kill_timer, pool);
	if (pool->kill_timer)
		evtimer_add(pool->kill_timer, &grace);
	maybe_done(pool);
}

unsigned int workers_running(const struct workers *pool)
{
	unsigned int running = 0;

	for (int i = 0; i < WORKERS_MAX; i++)
		running += pool->table[i].used && pool->table[i].pid != 0;
	return running;
}
