// SPDX-License-Identifier: MIT
/*
 * daemon/main.c: which process this is.
 *
 * `xen-virtio-pcid --domain ID ...` by hand: parse the options, check the
 * domain (exit 2 for either), then run as the supervisor of that one domain
 * (daemon/supervisor.h), which starts one worker.
 * `xen-virtio-pcid --worker-channel FD ...` (internal, from a supervisor):
 * the worker: open the images, serve the domain until SIGTERM or SIGINT,
 * tear down, exit 0.
 * `xen-virtio-pcid fdt ...` writes the guest's device-tree fragment;
 * `xen-virtio-pcid --config FILE` is the supervisor of the configured guests.
 * `xen-virtio-pcid -xen-domid N ...` (libxl's command line, or its probe's
 * `-S ...`): a guest's device model (daemon/device_model.h).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "daemon/device_model.h"
#include "daemon/domain.h"
#include "daemon/fdt_command.h"
#include "daemon/options.h"
#include "daemon/sandbox.h"
#include "daemon/supervisor.h"
#include "daemon/worker_channel.h"
#include "daemon/worker_host.h"
#include "daemon/worker_protocol.h"
#include "lib/log.h"
#include "xen/domain.h"

struct stop_request {
	struct event_base *base;
	int signal;
	bool supervisor_gone;
};

static void on_stop_signal(evutil_socket_t signum, short what, void *arg)
{
	struct stop_request *stop = arg;

	(void)what;
	/* Stop taking new work: the loop ends after the callback that is running. */
	stop->signal = (int)signum;
	event_base_loopbreak(stop->base);
}

/* The supervisor died (its end of the channel closed): stop as for a signal. */
static void on_supervisor_gone(void *arg)
{
	struct stop_request *stop = arg;

	stop->supervisor_gone = true;
	event_base_loopbreak(stop->base);
}

static int check_domain(uint32_t domid)
{
	int exists = xen_domain_exists(domid);

	if (exists == 0) {
		log_error("domain %u does not exist", domid);
		return EXIT_CONFIG_ERROR;
	}
	return exists < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define STOP_SIGNALS 4

/*
 * SIGTERM and SIGINT, SIGHUP (libxl stops a device model with it) and
 * SIGQUIT: each stops in order (teardown runs), never by the default action.
 */
static const int stop_signals[STOP_SIGNALS] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static int add_stop_signals(struct stop_request *stop, struct event *events[STOP_SIGNALS])
{
	for (int i = 0; i < STOP_SIGNALS; i++) {
		events[i] = evsignal_new(stop->base, stop_signals[i], on_stop_signal, stop);
		if (!events[i] || evsignal_add(events[i], NULL)) {
			log_error("cannot handle signal %d", stop_signals[i]);
			return -1;
		}
	}
	return 0;
}

/* The files the devices read once serving (backend_type.root_files), copied for the sandbox. */
struct root_files {
	char *paths[SANDBOX_MAX_FILES];
	unsigned int count;
	bool lost;		/* one did not fit, or out of memory */
};

static void keep_root_file(void *ctx, const char *path)
{
	struct root_files *files = ctx;

	if (files->count < SANDBOX_MAX_FILES && (files->paths[files->count] = strdup(path)))
		files->count++;
	else
		files->lost = true;
}

static int enter_sandbox(const struct daemon_options *opts)
{
	struct sandbox_config config = { .domid = (int)opts->domid,
					 .supervisor_pid = opts->supervisor_pid };
	struct root_files files = { .count = 0 };
	int ret = -ENOMEM;

	for (unsigned int i = 0; i < opts->nr_devices; i++) {
		const struct device_config *d = &opts->devices[i];

		if (d->opened && d->type->root_files)
			d->type->root_files(d->options, keep_root_file, &files);
	}
	privileges_target_of(&opts->user, opts->uid_base, opts->domid, &config.target);
	config.root_files = (const char *const *)files.paths;
	config.nr_root_files = files.count;
	if (files.lost)
		log_error("sandbox: more files to keep than %d (or out of memory)", SANDBOX_MAX_FILES);
	else
		ret = sandbox_enter(&config);
	for (unsigned int i = 0; i < files.count; i++)
		free(files.paths[i]);
	return ret;
}

static int serve(const struct daemon_options *opts, struct worker_host *host)
{
	int channel = host->channel;
	struct stop_request stop = { 0 };
	struct event *signals[STOP_SIGNALS] = { NULL };
	struct served_domain *domain = NULL;
	struct worker_peer *supervisor = NULL;
	int ret, status = EXIT_FAILURE;

	stop.base = event_base_new();
	if (!stop.base) {
		log_error("cannot create the event loop");
		return EXIT_FAILURE;
	}
	if (add_stop_signals(&stop, signals))
		goto free_signals;
	ret = served_domain_open(&domain, opts, channel, stop.base);
	if (ret) {
		log_error("cannot serve domain %u: %s", opts->domid, strerror(-ret));
		goto free_signals;
	}
	/*
	 * Every handle is open and restricted, nothing the guest controls was
	 * read: the worker gives up what it needs no more here, before the
	 * first request is served (and before any pending one is).
	 */
	if (enter_sandbox(opts)) {
		served_domain_stop(domain);
		goto free_signals;
	}
	ret = served_domain_serve(domain, opts, stop.base);
	if (ret) {
		log_error("cannot serve domain %u: %s", opts->domid, strerror(-ret));
		goto free_signals;
	}
	/* Set up: only the system calls of serving from here on (daemon/sandbox.h). */
	if (sandbox_lock_down((int)opts->domid)) {
		served_domain_stop(domain);
		goto free_signals;
	}
	supervisor = worker_channel_open(stop.base, channel, on_supervisor_gone, &stop);
	/* Disks ask for new connections from the loop now. */
	worker_host_set_peer(host, supervisor);
	if (event_base_dispatch(stop.base) < 0)
		log_error("the event loop failed");
	else if (stop.signal)
		log_info("%s received, stopping", strsignal(stop.signal));
	else if (stop.supervisor_gone)
		log_warn("the supervisor is gone: stopping");
	else
		log_error("serving ended without a stop signal: see the errors above");
	/* Before the stop: its STOPPING request reads the channel itself. */
	worker_host_set_peer(host, NULL);
	worker_peer_destroy(supervisor);
	served_domain_stop(domain);
	status = stop.signal || stop.supervisor_gone ? EXIT_SUCCESS : EXIT_FAILURE;

free_signals:
	for (int i = 0; i < STOP_SIGNALS; i++)
		if (signals[i])
			event_free(signals[i]);
	event_base_free(stop.base);
	return status;
}

/*
 * Disk images, taps, NBD connections (the supervisor makes them): opened
 * (and locked) before anything is registered with Xen.
 */
static int open_images(struct daemon_options *opts, const struct worker_host *host)
{
	char why[PATH_MAX + 512];

	for (unsigned int i = 0; i < opts->nr_devices; i++)
		opts->devices[i].domid = opts->domid;

	if (device_configs_open(opts->devices, opts->nr_devices, &host->host, why, sizeof(why))) {
		log_error("%s", why);
		return EXIT_CONFIG_ERROR;
	}
	return EXIT_SUCCESS;
}

/* The channel's fd: a number, open, a socket (the supervisor passed it). */
static int parse_channel(const char *text)
{
	char *end;
	long fd;
	int type;
	socklen_t len = sizeof(type);

	errno = 0;
	fd = strtol(text, &end, 10);
	if (errno || end == text || *end || fd < 3 || fd > 65535 ||
	    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_SEQPACKET) {
		fprintf(stderr, "xen-virtio-pcid: " WORKER_CHANNEL_OPTION " '%s': not a channel "
			"from a supervisor (this option is internal)\n", text);
		return -1;
	}
	return (int)fd;
}

/* The command line into @opts: -1 to go on, else the exit status (--help, an error). */
static int parse_options(int argc, char **argv, struct daemon_options *opts)
{
	switch (options_parse(argc, argv, opts, stderr)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_ERROR:
		return EXIT_CONFIG_ERROR;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(opts->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	/* A closed socket must be an error return, never a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	return -1;
}

/* A worker: argv is PROGRAM --worker-channel FD OPTIONS..., checked by its supervisor. */
static int worker_main(int argc, char **argv)
{
	static struct worker_host host;	/* its address is in the disks */
	struct daemon_options opts;
	int channel = parse_channel(argv[2]), status;

	if (channel < 0)
		return EXIT_CONFIG_ERROR;
	worker_host_init(&host, channel);
	argv[2] = argv[0];
	status = parse_options(argc - 2, argv + 2, &opts);
	if (status >= 0)
		return status;
	log_set_domain((int)opts.domid);

	status = open_images(&opts, &host);
	if (status != EXIT_SUCCESS)
		return status;
	status = serve(&opts, &host);
	device_configs_close(opts.devices, opts.nr_devices);
	return status;
}

/* By hand: what is wrong with the command line or the domain is said here, before any worker. */
static int by_hand_main(int argc, char **argv)
{
	struct daemon_options opts;
	int status;

	status = parse_options(argc, argv, &opts);
	if (status >= 0)
		return status;
	log_set_domain((int)opts.domid);
	status = check_domain(opts.domid);
	if (status != EXIT_SUCCESS)
		return status;
	return supervisor_one_domain_main(argc, argv, opts.domid, opts.verbose);
}

/*
 * --domain ID (this process serves one guest) or --config FILE (the
 * supervisor): one mode at a time. The supervisor's own parser would only
 * call --domain unknown.
 */
static bool names_domain(int argc, char **argv)
{
	static const char option[] = "--domain";

	for (int i = 1; i < argc; i++) {
		size_t len = strcspn(argv[i], "=");

		/* "--do" and longer abbreviations, "--domain=5". */
		if (len >= 4 && len <= strlen(option) && !strncmp(argv[i], option, len))
			return true;
	}
	return false;
}

static int refuse_two_modes(void)
{
	fprintf(stderr, "xen-virtio-pcid: --domain and --config/--check are different modes: "
		"--domain ID serves one guest by hand, --config FILE is the supervisor of the "
		"guests the file describes (give the guest a [domain ...] block there)\n");
	fprintf(stderr, "Try 'xen-virtio-pcid --help'.\n");
	return EXIT_CONFIG_ERROR;
}

int main(int argc, char **argv)
{
	if (device_model_requested(argc, argv))
		return device_model_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "fdt"))
		return fdt_command_main(argc - 1, argv + 1);
	if (supervisor_requested(argc, argv))
		return names_domain(argc, argv) ? refuse_two_modes() : supervisor_main(argc, argv);
	if (argc > 2 && !strcmp(argv[1], WORKER_CHANNEL_OPTION))
		return worker_main(argc, argv);
	return by_hand_main(argc, argv);
}
