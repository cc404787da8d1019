// SPDX-License-Identifier: MIT
/*
 * guest/rescan.c: xen-virtio-pci-rescan, run in a Xen guest whose
 * virtio-pci functions appear after it booted (dom0less): it rescans PCI
 * when xen-virtio-pcid says they answer, through the readiness key in the
 * guest's own xenstore area (interface version 1, docs/dom0less.md), or,
 * for a guest without xenstore, rescans with growing waits until a virtio
 * function appears. It asks xenstore nothing while the kernel still waits
 * for dom0 to run init-dom0less.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "guest/rescan_logic.h"
#include "guest/rescan_options.h"

#define PROGRAM		"xen-virtio-pci-rescan"
#define WATCH_TOKEN	"xen-virtio-pci"
/* While xenbus is not up: how often /proc/interrupts is read, at most (seconds). */
#define XENBUS_CHECK_INTERVAL 1.0

static bool verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Rescan, then count the virtio functions: the count, or -errno. @why goes in the log line. */
static int rescan(const struct rescan_options *opts, const char *why)
{
	int ret = rescan_trigger(opts->sysfs);

	if (ret) {
		say("cannot write %s/bus/pci/rescan: %s", opts->sysfs, strerror(-ret));
		return ret;
	}
	ret = rescan_count_virtio(opts->sysfs);
	if (ret < 0)
		say("cannot read %s/bus/pci/devices: %s", opts->sysfs, strerror(-ret));
	else if (verbose || ret > 0)
		say("%s: rescanned, %d virtio function%s", why, ret, ret == 1 ? "" : "s");
	return ret;
}

/* No xenstore: rescan with growing waits until a virtio function appears or time runs out. */
static int poll_sysfs(const struct rescan_options *opts)
{
	struct rescan_backoff backoff;
	double deadline = now() + opts->timeout;

	rescan_backoff_init(&backoff, opts->poll_first, opts->poll_max);
	for (;;) {
		double wait, left;

		if (rescan(opts, "polling") > 0)
			return EXIT_SUCCESS;
		left = deadline - now();
		if (left <= 0) {
			say("no virtio function after %g s: giving up", opts->timeout);
			return EXIT_FAILURE;
		}
		wait = rescan_backoff_next(&backoff);
		sleep_seconds(wait < left ? wait : left);
	}
}

/* The kernel's xenbus state; a /proc/interrupts that cannot be read counts as no xenbus. */
static enum rescan_xenbus xenbus_state(const struct rescan_options *opts)
{
	int state = rescan_xenbus_state(opts->proc);

	if (state < 0) {
		say("cannot read %s/interrupts: %s: taking it for no xenbus", opts->proc,
		    strerror(-state));
		return RESCAN_XENBUS_ABSENT;
	}
	return state;
}

/*
 * xenbus is not up yet: Linux (6.1, 6.12) probes it in a dom0less guest once
 * dom0 has run init-dom0less, and a request to /dev/xen/xenbus before then
 * wakes that probe too early and breaks xenstore in this guest for good. So
 * nothing opens xenstore here. The daemon may attach before, so rescan with
 * the backoff meanwhile (until a virtio function is there), and read
 * /proc/interrupts every second at most: once "xenbus" is listed, the
 * caller watches the key. Only that ends the wait: "xenstore_late_init" goes
 * a moment before "xenbus" comes. An exit status, or -1 once xenbus is up.
 */
static int wait_xenbus(const struct rescan_options *opts, double deadline)
{
	double check = opts->poll_first < XENBUS_CHECK_INTERVAL ? opts->poll_first
								 : XENBUS_CHECK_INTERVAL;
	double started = now(), next_rescan = started;
	struct rescan_backoff backoff;
	bool found = false;

	rescan_backoff_init(&backoff, opts->poll_first, opts->poll_max);
	for (;;) {
		double wait = check;

		if (!found && now() >= next_rescan) {
			if (rescan(opts, "xenbus not up yet") > 0) {
				if (opts->once)
					return EXIT_SUCCESS;
				found = true;	/* what comes later, the key will say */
			}
			next_rescan = now() + rescan_backoff_next(&backoff);
		}
		if (rescan_xenbus_state(opts->proc) == RESCAN_XENBUS_READY) {
			say("xenbus is up after %.1f s: using xenstore", now() - started);
			return -1;
		}
		/* --timeout as with xenstore: it applies with --once only. */
		if (opts->once && deadline - now() <= 0) {
			say("no virtio function after %g s: giving up", opts->timeout);
			return EXIT_FAILURE;
		}
		if (!found && next_rescan - now() < wait)
			wait = next_rescan - now();
		if (opts->once && deadline - now() < wait)
			wait = deadline - now();
		if (wait > 0)
			sleep_seconds(wait);
	}
}

/* Wait @timeout seconds at most (< 0: for ever) for fired watches and take them all: 1, 0 (time out), -1. */
static int wait_watch(struct xs_handle *xsh, int fd, double timeout)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int ms = timeout < 0 ? -1 : timeout < 0.001 ? 0 : (int)(timeout * 1000);
	char **event;
	int n;

	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	/* libxenstore: after the fd was readable, take events until EAGAIN. */
	while ((event = xs_check_watch(xsh)))
		free(event);
	return errno == EAGAIN ? 1 : -1;
}

/* A watch fired: read the key and rescan if the rule says so. The virtio count after, or 0. */
static int on_watch(struct xs_handle *xsh, const struct rescan_options *opts,
		    struct rescan_generation *generation)
{
	char *value = xs_read(xsh, XBT_NULL, RESCAN_GENERATION_KEY, NULL);
	char why[64];
	int found = 0;

	if (!value && verbose)
		say("%s: %s", RESCAN_GENERATION_KEY, strerror(errno));
	if (rescan_generation_changed(generation, value)) {
		snprintf(why, sizeof(why), "generation %s", value);
		found = rescan(opts, why);
	}
	free(value);
	return found;
}

/*
 * Rescan on every new generation: an exit status, or -1 if xenstore failed
 * (then poll). With --once, gives up at @deadline.
 */
static int watch_generation(struct xs_handle *xsh, const struct rescan_options *opts,
			    double deadline)
{
	struct rescan_generation generation = { 0 };
	int fd = xs_fileno(xsh);

	/* A new watch fires once at once: a key written before we started is seen. */
	if (fd < 0 || !xs_watch(xsh, RESCAN_GENERATION_KEY, WATCH_TOKEN)) {
		say("cannot watch %s: %s: polling instead", RESCAN_GENERATION_KEY, strerror(errno));
		return -1;
	}
	if (verbose)
		say("watching %s", RESCAN_GENERATION_KEY);
	for (;;) {
		int ret = wait_watch(xsh, fd, opts->once ? deadline - now() : -1);

		if (ret == 0) {
			say("no virtio function after %g s: giving up", opts->timeout);
			return EXIT_FAILURE;
		}
		if (ret < 0) {
			say("xenstore failed: %s: polling instead", strerror(errno));
			return -1;
		}
		if (on_watch(xsh, opts, &generation) > 0 && opts->once)
			return EXIT_SUCCESS;
	}
}

/*
 * --no-watch, and the static build: Debian's libxenstore.a is built without the reader
 * thread (Xen's tools/libs/store/Makefile gives -DUSE_PTHREAD to the shared
 * objects only), and without it a watch's first event and the reply to
 * XS_WATCH can arrive in either order through /dev/xen/xenbus: xs_watch()
 * then fails with EINVAL, or the event is never read and poll() waits for
 * ever. So this build reads the key every @poll_first seconds instead: one
 * request and its reply, which needs no thread.
 */
static int read_generation_periodically(struct xs_handle *xsh, const struct rescan_options *opts,
					double deadline)
{
	struct rescan_generation generation = { 0 };

	if (verbose)
		say("reading %s every %g s (no watches in a static build)",
		    RESCAN_GENERATION_KEY, opts->poll_first);
	for (;;) {
		if (on_watch(xsh, opts, &generation) > 0 && opts->once)
			return EXIT_SUCCESS;
		if (opts->once && now() >= deadline) {
			say("no virtio function after %g s: giving up", opts->timeout);
			return EXIT_FAILURE;
		}
		sleep_seconds(opts->poll_first);
	}
}

int main(int argc, char **argv)
{
	struct rescan_options opts;
	struct xs_handle *xsh;
	double deadline;
	int status = -1;

	switch (rescan_options_parse(argc, argv, &opts, stdout, stderr)) {
	case RESCAN_EXIT_OK:
		return EXIT_SUCCESS;
	case RESCAN_EXIT_ERROR:
		return RESCAN_EXIT_USAGE;
	case RESCAN_RUN:
		break;
	}
	verbose = opts.verbose;
#ifdef RESCAN_READ_KEY_PERIODICALLY
	opts.no_watch = true;
#endif
	deadline = now() + opts.timeout;
	switch (xenbus_state(&opts)) {
	case RESCAN_XENBUS_LATE:
		say("xenbus not up yet (xenstore_late_init in %s/interrupts): leaving xenstore "
		    "alone until it is, rescanning meanwhile", opts.proc);
		status = wait_xenbus(&opts, deadline);
		if (status >= 0)
			return status;
		break;
	case RESCAN_XENBUS_READY:
		if (verbose)
			say("xenbus is up");
		break;
	case RESCAN_XENBUS_ABSENT:
		if (verbose)
			say("no xenbus in %s/interrupts", opts.proc);
		break;
	}
	xsh = xs_open(0);
	if (xsh) {
		status = opts.no_watch ? read_generation_periodically(xsh, &opts, deadline)
				       : watch_generation(xsh, &opts, deadline);
		xs_close(xsh);
	} else {
		say("no xenstore (%s): rescanning until a virtio function appears", strerror(errno));
	}
	return status >= 0 ? status : poll_sysfs(&opts);
}
