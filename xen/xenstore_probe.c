// SPDX-License-Identifier: MIT
/* xen/xenstore_probe.c: one xenstore request, from a thread that may wait for ever. */
#include "xen/xenstore_probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER;
static enum { PROBE_NOT_STARTED, PROBE_WAITING, PROBE_ANSWERED, PROBE_NONE } state;
static char none_why[96];
static struct timespec deadline;

static void *probe_thread(void *arg)
{
	struct xs_handle *xsh = xs_open(0);
	int result = PROBE_NONE;

	(void)arg;
	if (xsh) {
		/* Any answer will do, a missing node too: the store is there. */
		free(xs_read(xsh, XBT_NULL, "/local/domain/0/domid", NULL));
		xs_close(xsh);
		result = PROBE_ANSWERED;
	} else {
		strncpy(none_why, strerror(errno), sizeof(none_why) - 1);
	}
	pthread_mutex_lock(&lock);
	if (state == PROBE_WAITING)
		state = result;
	pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* With the lock held. */
static void start(void)
{
	pthread_t thread;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += XEN_XENSTORE_PROBE_MS / 1000;
	deadline.tv_nsec += (XEN_XENSTORE_PROBE_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	state = PROBE_WAITING;
	if (pthread_create(&thread, NULL, probe_thread, NULL)) {
		state = PROBE_NONE;
		strncpy(none_why, "cannot start a thread to ask it", sizeof(none_why) - 1);
		return;
	}
	pthread_detach(thread);
}

int xen_xenstore_probe(const char **why)
{
	int ret;

	pthread_mutex_lock(&lock);
	if (state == PROBE_NOT_STARTED)
		start();
	while (state == PROBE_WAITING)
		if (pthread_cond_timedwait(&answered, &lock, &deadline) == ETIMEDOUT)
			break;
	if (state == PROBE_WAITING) {
		/* Stuck in the fallback device: it stays so, and we do not ask again. */
		state = PROBE_NONE;
		strncpy(none_why, "it does not answer: no xenstored?", sizeof(none_why) - 1);
	}
	ret = state == PROBE_ANSWERED;
	*why = none_why;
	pthread_mutex_unlock(&lock);
	return ret;
}
