// SPDX-License-Identifier: MIT
/*
 * daemon/device_model.c: the device-model mode's main: the checks, the QMP
 * sockets, the one worker, the readiness announcement and the stop.
 */
#include "daemon/device_model.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/dm_argv.h"
#include "daemon/dm_fdt_check.h"
#include "daemon/options.h"
#include "daemon/privileges.h"
#include "daemon/qmp_server.h"
#include "daemon/workers.h"
#include "lib/log.h"
#include "xen/device_model_store.h"

#define PROGRAM "xen-virtio-pcid"
#define NR_SIGNALS 5

struct device_model {
	struct dm_argv argv;
	struct event_base *base;
	struct workers *workers;
	struct qmp_server *qmp[2];	/* libxl-cmd, libxenstat-cmd */
	struct event *signals[NR_SIGNALS];
	int worker_status;		/* waitpid status; -1 until it exited */
	int stop_signal;
	bool quit;			/* a QMP client asked */
	bool failed;			/* could not announce readiness */
};

bool device_model_requested(int argc, char **argv)
{
	return dm_argv_requested(argc, argv);
}

static void on_all_stopped(void *opaque)
{
	struct device_model *dm = opaque;

	event_base_loopbreak(dm->base);
}

static void stop(struct device_model *dm)
{
	if (dm->workers)
		workers_stop_all(dm->workers, on_all_stopped, dm);
	/* Nothing more for libxl or anyone: a stopping device model answers no QMP. */
	for (int i = 0; i < 2; i++) {
		qmp_server_stop(dm->qmp[i]);
		dm->qmp[i] = NULL;
	}
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
	struct device_model *dm = arg;

	(void)what;
	if (dm->argv.mode == DM_ARGV_PROBE && signum != SIGCHLD) {
		dm->stop_signal = (int)signum;
		event_base_loopbreak(dm->base);
	} else if (signum == SIGCHLD) {
		workers_reap(dm->workers);
	} else if (!dm->stop_signal && !dm->quit) {
		/* SIGHUP too: libxl stops its device model with it (libxl__kill_xs_path). */
		dm->stop_signal = (int)signum;
		log_info("%s received: stopping (device model of domain %u)",
			 strsignal((int)signum), dm->argv.domid);
		stop(dm);
	}
}

/* After the probe's quit, the longest wait for libxl's SIGHUP. */
#define PROBE_HANGUP_SECONDS 10

static void on_qmp_quit(void *opaque)
{
	struct device_model *dm = opaque;
	const struct timeval wait = { PROBE_HANGUP_SECONDS, 0 };

	if (dm->stop_signal || dm->quit)
		return;
	dm->quit = true;
	if (dm->argv.mode == DM_ARGV_PROBE) {
		/*
		 * libxl answers quit's reply with SIGHUP to the pid it recorded
		 * (device_model_probe_spawn_outcome()) and logs an error if the
		 * probe has exited by then: wait for it, a bounded time.
		 */
		event_base_loopexit(dm->base, &wait);
		return;
	}
	log_info("QMP quit: stopping (device model of domain %u)", dm->argv.domid);
	stop(dm);
}

static void on_worker_exited(void *opaque, uint32_t domid, int status)
{
	struct device_model *dm = opaque;

	(void)domid;
	dm->worker_status = status;
	event_base_loopbreak(dm->base);
}

/* The worker's functions answer: tell libxl, which then unpauses the guest. */
static void on_worker_ready(void *opaque, uint32_t domid)
{
	struct device_model *dm = opaque;

	if (dm->stop_signal || dm->quit)
		return;
	if (xen_device_model_announce(domid)) {
		dm->failed = true;
		stop(dm);
		return;
	}
	log_info("device model of domain %u (%s) ready: the devices answer, libxl may unpause it",
		 domid, dm->argv.name ? dm->argv.name : "no name");
}

static int add_signals(struct device_model *dm)
{
	static const int signums[NR_SIGNALS] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD };

	for (int i = 0; i < NR_SIGNALS; i++) {
		dm->signals[i] = evsignal_new(dm->base, signums[i], on_signal, dm);
		if (!dm->signals[i] || evsignal_add(dm->signals[i], NULL)) {
			log_error("cannot handle signal %d", signums[i]);
			return -1;
		}
	}
	return 0;
}

/* The QMP socket at @path, listening before anything tells libxl to connect. */
static int serve_qmp_path(struct device_model *dm, int slot, const char *path)
{
	int fd = qmp_server_listen_path(path);

	if (fd < 0) {
		log_error("device model: cannot listen on %s: %s", path, strerror(-fd));
		return -1;
	}
	dm->qmp[slot] = qmp_server_start(dm->base, fd, on_qmp_quit, dm);
	if (!dm->qmp[slot])
		return -1;
	log_info("QMP: listening on %s", path);
	return 0;
}

/* libxl's own listening socket (fd=N): the probe's, or dm_restrict's pre-opened one. */
static int serve_qmp_fd(struct device_model *dm, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || !listening) {
		log_error("device model: fd=%d is not a listening socket from libxl", fd);
		return -1;
	}
	dm->qmp[0] = qmp_server_start(dm->base, fd, on_qmp_quit, dm);
	return dm->qmp[0] ? 0 : -1;
}

static int serve_qmp(struct device_model *dm)
{
	if (dm->argv.qmp_fd >= 0)
		return serve_qmp_fd(dm, dm->argv.qmp_fd);
	if (serve_qmp_path(dm, 0, dm->argv.qmp_path))
		return -1;
	return dm->argv.stat_path[0] ? serve_qmp_path(dm, 1, dm->argv.stat_path) : 0;
}

static void unlink_sockets(const struct device_model *dm)
{
	if (dm->argv.qmp_path[0])
		unlink(dm->argv.qmp_path);
	if (dm->argv.stat_path[0])
		unlink(dm->argv.stat_path);
}

/* The program's own path, for the worker (the same binary). */
static int find_program(char *path, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", path, size - 1);

	if (len <= 0) {
		log_error("cannot find this program's path: %s", strerror(errno));
		return -1;
	}
	path[len] = '\0';
	return 0;
}

static void free_loop(struct device_model *dm)
{
	for (int i = 0; i < 2; i++)
		qmp_server_stop(dm->qmp[i]);
	workers_destroy(dm->workers);
	for (int i = 0; i < NR_SIGNALS; i++)
		if (dm->signals[i])
			event_free(dm->signals[i]);
	event_base_free(dm->base);
}

/* The probe: QMP until quit or a stop signal; no domain, no worker. */
static int run_probe(struct device_model *dm)
{
	int status = EXIT_FAILURE;

	dm->base = event_base_new();
	if (dm->base && !add_signals(dm) && !serve_qmp(dm)) {
		log_info("device model: answering libxl's probe");
		/* Until SIGHUP (or another stop signal), or a while after quit. */
		if (event_base_dispatch(dm->base) == 0)
			status = EXIT_SUCCESS;
		if (dm->stop_signal)
			log_info("device model: %s received: the probe ends", strsignal(dm->stop_signal));
	}
	free_loop(dm);
	return status;
}

/* The worker's status as ours, or 1 if readiness could not be announced. */
static int status_of(const struct device_model *dm)
{
	if (dm->failed || dm->worker_status < 0 || !WIFEXITED(dm->worker_status))
		return EXIT_FAILURE;
	return WEXITSTATUS(dm->worker_status);
}

static int run_serving(struct device_model *dm, const char *const *args, unsigned int nr_args,
		       bool verbose)
{
	char program[PATH_MAX];
	struct workers_settings settings = {
		.program = program, .restart_delay = 1.0, .verbose = verbose,
		.uid_base = PRIVILEGES_DEFAULT_UID_BASE, .stop_seconds = WORKERS_STOP_SECONDS,
		.one_domain = true, .exited = on_worker_exited, .ready = on_worker_ready,
		.opaque = dm,
	};
	struct config_domain block = { .domid = dm->argv.domid, .args = (char **)args,
				       .nr_args = nr_args };
	int status = EXIT_FAILURE;

	dm->worker_status = -1;
	dm->base = event_base_new();
	if (find_program(program, sizeof(program)) || !dm->base || add_signals(dm) ||
	    serve_qmp(dm))
		goto out;
	dm->workers = workers_create(dm->base, &settings);
	if (!dm->workers || workers_domain_present(dm->workers, dm->argv.domid, dm->argv.name,
						   &block))
		goto out;
	if (event_base_dispatch(dm->base) < 0)
		log_error("the event loop failed");
	/* The worker exited (or the loop failed): what is left of it, its uid's reaper, ends. */
	workers_stop_all(dm->workers, on_all_stopped, dm);
	while (workers_running(dm->workers) && event_base_dispatch(dm->base) == 0)
		;
	status = status_of(dm);
out:
	free_loop(dm);
	unlink_sockets(dm);
	return status;
}

/* Our tokens as the serving command line: PROGRAM --domain N TOKENS..., checked. */
static int check_options(const struct device_model *dm, const char **argv, unsigned int *argc,
			 char *domid, size_t domid_len, bool *verbose)
{
	static struct daemon_options opts;

	snprintf(domid, domid_len, "%u", dm->argv.domid);
	argv[0] = PROGRAM;
	argv[1] = "--domain";
	argv[2] = domid;
	memcpy(argv + 3, dm->argv.own, dm->argv.nr_own * sizeof(*argv));
	*argc = 3 + dm->argv.nr_own;
	argv[*argc] = NULL;
	if (options_parse((int)*argc, (char **)argv, &opts, stderr) != OPTIONS_RUN)
		return -1;
	*verbose = opts.verbose;
	if (dm->argv.fdt_path && dm_fdt_check(dm->argv.fdt_path, &opts.layout, stderr))
		return -1;
	return 0;
}

int device_model_main(int argc, char **argv)
{
	static struct device_model dm;
	const char *args[DM_ARGV_OWN_MAX + 4];
	char why[1024], domid[16];
	unsigned int nr_args;
	bool verbose = false;

	if (dm_argv_parse(argc, argv, &dm.argv, why, sizeof(why))) {
		fprintf(stderr, PROGRAM ": device model: %s\n", why);
		return EXIT_CONFIG_ERROR;
	}
	signal(SIGPIPE, SIG_IGN);
	if (dm.argv.mode == DM_ARGV_PROBE)
		return run_probe(&dm);
	if (check_options(&dm, args, &nr_args, domid, sizeof(domid), &verbose))
		return EXIT_CONFIG_ERROR;
	log_set_level(verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	log_set_domain((int)dm.argv.domid);
	/* The worker's command line: what follows the program. */
	return run_serving(&dm, args + 1, nr_args - 1, verbose);
}
