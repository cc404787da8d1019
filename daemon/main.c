// SPDX-License-Identifier: MIT
/*
 * daemon/main.c: xen-virtio-pcid in single-domain mode: parse the options,
 * check the domain, serve it until SIGTERM or SIGINT, tear down, exit 0.
 * `xen-virtio-pcid fdt ...` writes the guest's device-tree fragment instead;
 * `xen-virtio-pcid --config FILE` is the supervisor (daemon/supervisor.h).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/domain.h"
#include "daemon/fdt_command.h"
#include "daemon/options.h"
#include "daemon/sandbox.h"
#include "daemon/supervisor.h"
#include "lib/log.h"
#include "xen/domain.h"

#define STOP_SIGNALS 4

struct stop_request {
	struct event_base *base;
	int signal;
};

static void on_stop_signal(evutil_socket_t signum, short what, void *arg)
{
	struct stop_request *stop = arg;

	(void)what;
	/* Stop taking new work: the loop ends after the callback that is running. */
	stop->signal = (int)signum;
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

static int enter_sandbox(const struct daemon_options *opts)
{
	struct sandbox_config config = { .domid = (int)opts->domid,
					 .supervisor_pid = opts->supervisor_pid };

	privileges_target_of(&opts->user, opts->uid_base, opts->domid, &config.target);
	return sandbox_enter(&config);
}

static int serve(const struct daemon_options *opts)
{
	struct stop_request stop = { 0 };
	struct event *signals[STOP_SIGNALS] = { NULL };
	struct served_domain *domain = NULL;
	int ret, status = EXIT_FAILURE;

	stop.base = event_base_new();
	if (!stop.base) {
		log_error("cannot create the event loop");
		return EXIT_FAILURE;
	}
	if (add_stop_signals(&stop, signals))
		goto free_signals;
	ret = served_domain_start(&domain, opts, stop.base);
	if (ret) {
		log_error("cannot serve domain %u: %s", opts->domid, strerror(-ret));
		goto free_signals;
	}
	/* Everything is set up and restricted: give up the rest before the first request. */
	if (enter_sandbox(opts)) {
		served_domain_stop(domain);
		goto free_signals;
	}
	if (event_base_dispatch(stop.base) < 0)
		log_error("the event loop failed");
	else if (stop.signal)
		log_info("%s received, stopping", strsignal(stop.signal));
	else
		log_error("serving ended without a stop signal: see the errors above");
	served_domain_stop(domain);
	status = stop.signal ? EXIT_SUCCESS : EXIT_FAILURE;

free_signals:
	for (int i = 0; i < STOP_SIGNALS; i++)
		if (signals[i])
			event_free(signals[i]);
	event_base_free(stop.base);
	return status;
}

/* Disk images: opened and locked before anything is registered with Xen. */
static int open_images(struct daemon_options *opts)
{
	char why[PATH_MAX + 512];

	if (device_configs_open(opts->devices, opts->nr_devices, why, sizeof(why))) {
		log_error("%s", why);
		return EXIT_CONFIG_ERROR;
	}
	return EXIT_SUCCESS;
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
	struct daemon_options opts;
	int status;

	if (argc > 1 && !strcmp(argv[1], "fdt"))
		return fdt_command_main(argc - 1, argv + 1);
	if (supervisor_requested(argc, argv))
		return names_domain(argc, argv) ? refuse_two_modes() : supervisor_main(argc, argv);
	switch (options_parse(argc, argv, &opts, stderr)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_ERROR:
		return EXIT_CONFIG_ERROR;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(opts.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	log_set_domain((int)opts.domid);
	/* A closed socket must be an error return, never a fatal signal. */
	signal(SIGPIPE, SIG_IGN);

	status = check_domain(opts.domid);
	if (status == EXIT_SUCCESS)
		status = open_images(&opts);
	if (status != EXIT_SUCCESS)
		return status;
	status = serve(&opts);
	device_configs_close(opts.devices, opts.nr_devices);
	return status;
}
