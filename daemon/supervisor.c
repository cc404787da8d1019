// SPDX-License-Identifier: MIT
/*
 * daemon/supervisor.c: the supervisor's command line, its event loop and
 * signals, and the match between existing domains and config blocks.
 */
#include "daemon/supervisor.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/config_file.h"
#include "daemon/dm_owner.h"
#include "daemon/options.h"
#include "daemon/privileges.h"
#include "daemon/workers.h"
#include "daemon/xl_userdata.h"
#include "lib/log.h"
#include "xen/domain.h"
#include "xen/domain_watch.h"

#define PROGRAM			"xen-virtio-pcid"
#define MAX_LISTED_DOMAINS	1024
#define DEFAULT_POLL_SECONDS	2.0
#define DEFAULT_RESTART_DELAY	1.0
#define MAX_NOTED		64

static const char usage_text[] =
	"Usage: xen-virtio-pcid --config FILE [--check] [OPTIONS]\n"
	"       xen-virtio-pcid --from-xl[=DIR] [--config FILE] [OPTIONS]\n"
	"Serve the guests FILE describes: wait for each to exist, run one worker\n"
	"(xen-virtio-pcid --domain ID ...) per guest, restart a worker that dies,\n"
	"stop it when its guest goes away. The file's syntax: docs/configuration.md,\n"
	"xen-virtio-pcid(8).\n"
	"\n"
	"  --config FILE          the guests to serve\n"
	"  --check                check FILE and exit: 0 if it is valid, 2 if not\n"
	"  --from-xl[=DIR]        also serve a guest no block names whose xl config\n"
	"                         gives our options in device_model_args, as libxl\n"
	"                         saved it in DIR (default /var/lib/xen): docs/xl.md\n"
	"  --restart-delay SECS   wait before restarting a failed worker, doubling with\n"
	"                         each failure in a row (default 1; at most 60)\n"
	"  --poll SECS            also look for new domains this often (default 2)\n"
	"  --uid-base N           each worker runs as uid and gid N + its domain ID once\n"
	"                         serving (default 1879048192), unless its block says\n"
	"                         otherwise (uid_base = ..., user = ...)\n"
	"  --user USER            workers run as USER instead (root: they stay root, not\n"
	"                         recommended), unless their block says otherwise\n"
	"  --stop-timeout SECS    a worker that has not stopped SECS after SIGTERM is\n"
	"                         killed (default 10)\n"
	"  -v, --verbose          log debug messages (workers too)\n"
	"  -h, --help             print this help and exit\n"
	"  -V, --version          print the version and exit\n"
	"\n"
	"Signals: SIGTERM or SIGINT stops every worker and exits 0; SIGHUP reloads\n"
	"FILE (a file with errors is refused and the running configuration stays).\n"
	"Exit status: 0 after a clean stop, 1 if serving failed, 2 for a bad option\n"
	"or configuration file.\n";

enum { OPT_CONFIG = 256, OPT_CHECK, OPT_RESTART_DELAY, OPT_POLL, OPT_USER, OPT_UID_BASE,
       OPT_STOP_TIMEOUT, OPT_FROM_XL };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "restart-delay", required_argument, NULL, OPT_RESTART_DELAY },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "uid-base", required_argument, NULL, OPT_UID_BASE },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "from-xl", optional_argument, NULL, OPT_FROM_XL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct supervisor_options {
	const char *config;
	bool check;
	double restart_delay;
	double poll;
	const char *user;
	uint32_t uid_base;
	double stop_timeout;
	const char *from_xl;	/* --from-xl: the directory of libxl's saved configurations */
	bool verbose;
};

struct supervisor {
	struct supervisor_options opts;
	struct event_base *base;
	struct config_file config;
	struct workers *workers;
	struct xen_domain_watch *watch;
	struct event *signals[4];
	int stop_signal;
	bool warned_names;	/* about name blocks, without xenstore */
	pid_t noted_device_model[MAX_NOTED];	/* by domid % MAX_NOTED: logged for it */
	uint64_t noted_xl[MAX_NOTED];		/* by domid % MAX_NOTED: the refusal logged */
	struct config_domain xl_block;		/* the last one read (--from-xl) */
};

/* @arg names --config, --check or --from-xl, or an abbreviation getopt_long would take for one. */
static bool names_supervisor_option(const char *arg)
{
	size_t len;

	if (strncmp(arg, "--", 2) || !arg[2])
		return false;
	arg += 2;
	len = strcspn(arg, "=");
	/* "--c" is ambiguous between the two; getopt says so in the supervisor's parser. */
	return !strncmp(arg, "config", len) || !strncmp(arg, "check", len) ||
	       !strncmp(arg, "from-xl", len);
}

bool supervisor_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (names_supervisor_option(argv[i]))
			return true;
	}
	return false;
}

/* ---- the command line */

/*
 * Seconds are written as decimal digits with an optional fraction ("0.5",
 * "10"): strtod() alone would also take hex floats, exponents, "nan" and
 * "inf", and a leading 0 reads as octal everywhere else in this program.
 * 0, or -EINVAL with the reason in @why.
 */
static int parse_seconds(const char *text, double min, double max, double *seconds,
			 char *why, size_t why_size)
{
	size_t digits = strspn(text, "0123456789");
	const char *rest = text + digits;

	if (digits > 1 && text[0] == '0') {
		snprintf(why, why_size, "a leading 0 (write decimal seconds without it)");
		return -EINVAL;
	}
	if (*rest == '.' && rest[1])
		rest += 1 + strspn(rest + 1, "0123456789");
	if (!digits || *rest) {
		snprintf(why, why_size, "expected decimal seconds (digits, an optional fraction)"
			 " from %g to %g", min, max);
		return -EINVAL;
	}
	*seconds = strtod(text, NULL);
	if (*seconds < min || *seconds > max) {
		snprintf(why, why_size, "expected seconds from %g to %g", min, max);
		return -EINVAL;
	}
	return 0;
}

static enum options_result seconds_option(FILE *err, const char *name, const char *arg,
					  double min, double max, double *seconds)
{
	char why[128];

	if (parse_seconds(arg, min, max, seconds, why, sizeof(why)))
		return options_bad_value(err, PROGRAM, name, arg, why);
	return OPTIONS_RUN;
}

static enum options_result apply(int code, const char *arg, void *ctx, FILE *err)
{
	struct supervisor_options *opts = ctx;
	struct privileges_user user;
	char why[256];

	switch (code) {
	case OPT_CONFIG:
		opts->config = arg;
		return OPTIONS_RUN;
	case OPT_CHECK:
		opts->check = true;
		return OPTIONS_RUN;
	case OPT_RESTART_DELAY:
		return seconds_option(err, "--restart-delay", arg, 0.001, 60, &opts->restart_delay);
	case OPT_POLL:
		return seconds_option(err, "--poll", arg, 0.01, 3600, &opts->poll);
	case OPT_USER:
		/* Checked here, before any worker: a typo must not start them all as root. */
		if (privileges_parse_user(arg, &user, why, sizeof(why))) {
			fprintf(err, PROGRAM ": %s\n", why);
			return OPTIONS_EXIT_ERROR;
		}
		opts->user = arg;
		if (user.root)
			log_warn("--user %s: workers stay root: a worker a guest compromises holds "
				 "root's powers over dom0 (docs/security.md)", arg);
		return OPTIONS_RUN;
	case OPT_UID_BASE:
		if (privileges_parse_uid_base(arg, &opts->uid_base, why, sizeof(why))) {
			fprintf(err, PROGRAM ": %s\n", why);
			return OPTIONS_EXIT_ERROR;
		}
		return OPTIONS_RUN;
	case OPT_STOP_TIMEOUT:
		return seconds_option(err, "--stop-timeout", arg, 0.001, 3600, &opts->stop_timeout);
	case OPT_FROM_XL:
		if (arg && arg[0] != '/')
			return options_bad_value(err, PROGRAM, "--from-xl", arg,
						 "an absolute directory");
		opts->from_xl = arg ? arg : XL_USERDATA_DIR;
		return OPTIONS_RUN;
	case 'v':
		opts->verbose = true;
		return OPTIONS_RUN;
	case 'h':
		fputs(usage_text, stdout);
		return OPTIONS_EXIT_OK;
	case 'V':
		printf(PROGRAM " %s\n", XVP_VERSION);
		return OPTIONS_EXIT_OK;
	default:
		return OPTIONS_EXIT_ERROR;
	}
}

static enum options_result parse(int argc, char **argv, struct supervisor_options *opts)
{
	enum options_result result;

	*opts = (struct supervisor_options){ .restart_delay = DEFAULT_RESTART_DELAY,
					     .poll = DEFAULT_POLL_SECONDS,
					     .uid_base = PRIVILEGES_DEFAULT_UID_BASE,
					     .stop_timeout = WORKERS_STOP_SECONDS };
	result = options_getopt(argc, argv, ":vhV", long_options, PROGRAM, apply, opts, stderr);
	if (result != OPTIONS_RUN)
		return result;
	if (!opts->config && (opts->check || !opts->from_xl)) {
		fprintf(stderr, PROGRAM ": %s\n", opts->check ? "--check needs --config FILE" :
			"--config FILE or --from-xl is needed");
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

/* ---- domains and blocks */

/*
 * libxl runs a device model of ours for @domid (daemon/dm_owner.h): its
 * worker serves it. Said once per device model.
 */
static bool leave_to_device_model(struct supervisor *s, uint32_t domid)
{
	pid_t pid = dm_owner_find(domid);

	if (pid && pid != s->noted_device_model[domid % MAX_NOTED])
		log_info("domain %u has its own device model (process %d, started by xl): "
			 "not served here", domid, (int)pid);
	s->noted_device_model[domid % MAX_NOTED] = pid;
	return pid != 0;
}

/* FNV-1a of @text: whether a refusal was logged already for a domain. */
static uint64_t text_hash(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*text)
		h = (h ^ (uint8_t)*text++) * 0x100000001b3ULL;
	return h | 1;	/* never 0, which is "nothing logged" */
}

/*
 * --from-xl: the block @name's saved libxl configuration makes (s->xl_block,
 * until the next call), or NULL: not ours, not saved yet (libxl writes it
 * while it builds the domain: the next look finds it), or refused (logged
 * once per domain and reason).
 */
static const struct config_domain *xl_block_of(struct supervisor *s, uint32_t domid,
					       const char *name)
{
	char why[OPTIONS_WHY_MAX + 4096];
	uint64_t *noted = &s->noted_xl[domid % MAX_NOTED];
	int ret;

	config_domain_free_args(&s->xl_block);
	if (!s->opts.from_xl || !name)
		return NULL;
	ret = xl_userdata_read(s->opts.from_xl, domid, name, &s->xl_block, why, sizeof(why));
	if (ret == -ENOENT)
		return NULL;
	if (ret) {
		if (*noted != text_hash(why))
			log_error("domain %u (%s): %s: not served", domid, name,
				  ret == -ENOMEM ? "out of memory" : why);
		*noted = text_hash(why);
		return NULL;
	}
	*noted = 0;
	return &s->xl_block;
}

/* The domain's block in the file, else (--from-xl) in its saved xl configuration. */
static const struct config_domain *block_of(struct supervisor *s, uint32_t domid, const char *name)
{
	const struct config_domain *block = config_file_match(&s->config, name, domid);

	return block ? block : xl_block_of(s, domid, name);
}

static void serve_if_configured(struct supervisor *s, uint32_t domid)
{
	const struct config_domain *block;
	char *name;
	int ret;

	/* Its name is looked up off the loop: this runs again once it is known. */
	if (!xen_domain_watch_name(s->watch, domid, &name))
		return;
	if (leave_to_device_model(s, domid)) {
		free(name);
		return;
	}
	block = block_of(s, domid, name);
	if (block) {
		if (block == &s->xl_block)
			log_info("domain %u (%s): served with the device_model_args of its xl config",
				 domid, name);
		ret = workers_domain_present(s->workers, domid, name, block);
		if (ret)
			log_error("domain %u: cannot start its worker: %s", domid, strerror(-ret));
	} else {
		log_debug("domain %u (%s): not in %s", domid, name ? name : "no name",
			  s->opts.config ? s->opts.config : "the saved xl configurations");
	}
	free(name);
}

static void warn_unmatchable_names(struct supervisor *s)
{
	if (xen_domain_watch_store(s->watch) != XEN_DOMAIN_WATCH_NO_STORE)
		return;
	for (unsigned int i = 0; i < s->config.nr_domains; i++)
		if (s->config.domains[i].by_name)
			log_warn("%s:%u: [domain \"%s\"] cannot match without xenstore (names "
				 "are unknown): use [domain ID]", s->opts.config,
				 s->config.domains[i].line, s->config.domains[i].name);
}

static void on_domains_changed(void *opaque)
{
	struct supervisor *s = opaque;
	uint32_t domids[MAX_LISTED_DOMAINS];
	int count;

	/* Once: xenstore turned out to be absent. */
	if (!s->warned_names && xen_domain_watch_store(s->watch) == XEN_DOMAIN_WATCH_NO_STORE) {
		s->warned_names = true;
		warn_unmatchable_names(s);
	}
	count = xen_domain_list(domids, MAX_LISTED_DOMAINS);
	if (count < 0)
		return;		/* logged; the next look tries again */
	workers_domains_exist(s->workers, domids, (unsigned int)count);
	for (int i = 0; i < count; i++)
		if (!workers_has(s->workers, domids[i]))
			serve_if_configured(s, domids[i]);
}

/* Reloaded: workers copy the block's args before the next lookup, so one xl_block serves all. */
static const struct config_domain *lookup_block(void *opaque, uint32_t domid, const char *name)
{
	return block_of(opaque, domid, name);
}

static void reload(struct supervisor *s)
{
	struct config_file next = { 0 };
	struct config_file old;

	if (!s->opts.config) {	/* --from-xl alone: each domain's saved configuration again */
		workers_reconfigure(s->workers, lookup_block, s);
		log_info("reloaded: the saved xl configurations read again");
		on_domains_changed(s);
		return;
	}
	if (config_file_load(s->opts.config, &next, stderr)) {
		log_error("%s has errors (above): not reloaded, the running configuration stays",
			  s->opts.config);
		return;
	}
	old = s->config;
	s->config = next;
	workers_reconfigure(s->workers, lookup_block, s);
	config_file_free(&old);
	log_info("%s reloaded: %u domain block%s", s->opts.config, s->config.nr_domains,
		 s->config.nr_domains == 1 ? "" : "s");
	warn_unmatchable_names(s);
	on_domains_changed(s);
}

/* ---- signals and the loop */

static void on_workers_stopped(void *opaque)
{
	struct supervisor *s = opaque;

	event_base_loopbreak(s->base);
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
	struct supervisor *s = arg;

	(void)what;
	if (signum == SIGCHLD) {
		workers_reap(s->workers);
	} else if (signum == SIGHUP) {
		log_info("SIGHUP: reloading %s", s->opts.config);
		reload(s);
	} else if (!s->stop_signal) {
		s->stop_signal = (int)signum;
		log_info("%s received: stopping %u worker%s", strsignal((int)signum),
			 workers_running(s->workers), workers_running(s->workers) == 1 ? "" : "s");
		workers_stop_all(s->workers, on_workers_stopped, s);
	}
}

static int add_signals(struct supervisor *s)
{
	static const int signums[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

	for (size_t i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		s->signals[i] = evsignal_new(s->base, signums[i], on_signal, s);
		if (!s->signals[i] || evsignal_add(s->signals[i], NULL)) {
			log_error("cannot handle signal %d", signums[i]);
			return -1;
		}
	}
	return 0;
}

/* This program, for the workers: they run the same binary. */
static int find_program(char *path, size_t size, const char *argv0)
{
	ssize_t len = readlink("/proc/self/exe", path, size - 1);

	if (len > 0) {
		path[len] = '\0';
		return 0;
	}
	if (realpath(argv0, path))
		return 0;
	log_error("cannot find this program's path: %s", strerror(errno));
	return -1;
}

static int run(struct supervisor *s, const char *argv0)
{
	char program[PATH_MAX];
	struct workers_settings settings = {
		.program = program, .restart_delay = s->opts.restart_delay,
		.verbose = s->opts.verbose, .user = s->opts.user, .uid_base = s->opts.uid_base,
		.stop_seconds = s->opts.stop_timeout,
	};
	int ret = EXIT_FAILURE;

	uint32_t probe;

	if (find_program(program, sizeof(program), argv0))
		return EXIT_FAILURE;
	/* No Xen (or no privilege): say so once and stop, rather than fail every poll. */
	if (xen_domain_list(&probe, 1) < 0)
		return EXIT_FAILURE;
	s->base = event_base_new();
	if (!s->base)
		return EXIT_FAILURE;
	s->workers = workers_create(s->base, &settings);
	if (!s->workers || add_signals(s) ||
	    xen_domain_watch_start(&s->watch, s->base, (int)(s->opts.poll * 1000),
				   on_domains_changed, s)) {
		log_error("cannot start the supervisor");
		goto out;
	}
	if (s->opts.config)
		log_info("supervising %u domain block%s of %s", s->config.nr_domains,
			 s->config.nr_domains == 1 ? "" : "s", s->opts.config);
	if (s->opts.from_xl)
		log_info("serving too the guests whose saved xl configuration in %s gives our "
			 "options in device_model_args", s->opts.from_xl);
	if (event_base_dispatch(s->base) < 0)
		log_error("the event loop failed");
	ret = s->stop_signal ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	xen_domain_watch_stop(s->watch);
	workers_destroy(s->workers);
	for (size_t i = 0; i < sizeof(s->signals) / sizeof(s->signals[0]); i++)
		if (s->signals[i])
			event_free(s->signals[i]);
	event_base_free(s->base);
	return ret;
}

int supervisor_main(int argc, char **argv)
{
	struct supervisor s = { 0 };
	int status;

	switch (parse(argc, argv, &s.opts)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_ERROR:
		return EXIT_CONFIG_ERROR;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(s.opts.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (s.opts.config && config_file_load(s.opts.config, &s.config, stderr))
		return EXIT_CONFIG_ERROR;
	if (s.opts.check) {
		/* A warning may still be right at run time, but it is not "valid". */
		if (s.config.nr_warnings)
			printf("%s: %u domain block%s, %u warning%s (above)\n", s.opts.config,
			       s.config.nr_domains, s.config.nr_domains == 1 ? "" : "s",
			       s.config.nr_warnings, s.config.nr_warnings == 1 ? "" : "s");
		else
			printf("%s: %u domain block%s, valid\n", s.opts.config, s.config.nr_domains,
			       s.config.nr_domains == 1 ? "" : "s");
		config_file_free(&s.config);
		return EXIT_SUCCESS;
	}
	signal(SIGPIPE, SIG_IGN);
	status = run(&s, argv[0]);
	config_file_free(&s.config);
	config_domain_free_args(&s.xl_block);
	return status;
}

/* ---- by hand: one domain, one worker, no restarts */

struct one_domain {
	struct event_base *base;
	struct workers *workers;
	int status;		/* the worker's waitpid status */
	int stop_signal;
};

static void on_one_worker_exited(void *opaque, uint32_t domid, int status)
{
	struct one_domain *od = opaque;

	(void)domid;
	od->status = status;
	event_base_loopbreak(od->base);
}

static void on_one_domain_stopped(void *opaque)
{
	struct one_domain *od = opaque;

	event_base_loopbreak(od->base);
}

static void on_one_domain_signal(evutil_socket_t signum, short what, void *arg)
{
	struct one_domain *od = arg;

	(void)what;
	if (signum == SIGCHLD) {
		workers_reap(od->workers);
	} else if (!od->stop_signal) {
		/* SIGHUP too: xl stops a device model with it. */
		od->stop_signal = (int)signum;
		log_info("%s received, stopping", strsignal((int)signum));
		workers_stop_all(od->workers, on_one_domain_stopped, od);
	}
}

/* The worker's status as ours: its exit code, or 1 if a signal ended it. */
static int status_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EXIT_FAILURE;
}

#define ONE_DOMAIN_SIGNALS 5

static int run_one_domain(struct one_domain *od, uint32_t domid, const struct config_domain *block,
			  struct workers_settings *settings, struct event **signals)
{
	/* SIGQUIT stops in order too, as in a worker. */
	static const int signums[ONE_DOMAIN_SIGNALS] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD };

	for (size_t i = 0; i < ONE_DOMAIN_SIGNALS; i++) {
		signals[i] = evsignal_new(od->base, signums[i], on_one_domain_signal, od);
		if (!signals[i] || evsignal_add(signals[i], NULL)) {
			log_error("cannot handle signal %d", signums[i]);
			return EXIT_FAILURE;
		}
	}
	od->workers = workers_create(od->base, settings);
	if (!od->workers || workers_domain_present(od->workers, domid, NULL, block))
		return EXIT_FAILURE;
	if (event_base_dispatch(od->base) < 0)
		log_error("the event loop failed");
	if (workers_running(od->workers))	/* the loop failed: do not leave it serving */
		workers_stop_all(od->workers, on_one_domain_stopped, od);
	while (workers_running(od->workers) && event_base_dispatch(od->base) == 0)
		;
	return status_of(od->status);
}

int supervisor_one_domain_main(int argc, char **argv, uint32_t domid, bool verbose)
{
	char program[PATH_MAX];
	struct one_domain od = { 0 };
	struct workers_settings settings = {
		.program = program, .restart_delay = 1.0, .verbose = verbose,
		.uid_base = PRIVILEGES_DEFAULT_UID_BASE, .stop_seconds = WORKERS_STOP_SECONDS,
		.one_domain = true, .exited = on_one_worker_exited, .opaque = &od,
	};
	struct config_domain block = { .domid = domid, .args = argv + 1,
				       .nr_args = (unsigned int)(argc - 1) };
	struct event *signals[ONE_DOMAIN_SIGNALS] = { NULL };
	int status = EXIT_FAILURE;

	if (find_program(program, sizeof(program), argv[0]))
		return EXIT_FAILURE;
	od.base = event_base_new();
	if (od.base)
		status = run_one_domain(&od, domid, &block, &settings, signals);
	workers_destroy(od.workers);
	for (size_t i = 0; i < ONE_DOMAIN_SIGNALS; i++)
		if (signals[i])
			event_free(signals[i]);
	if (od.base)
		event_base_free(od.base);
	return status;
}
