// SPDX-License-Identifier: MIT
/*
 * xen/xenstore.c: the readiness key and the server record, read and written
 * from a thread of its own so that a store that does not answer never holds
 * up the event loop.
 */
#include "xen/xenstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "lib/log.h"

#define STOP_WAIT_MS 1000

struct xen_xenstore {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	domid_t domid;
	unsigned int pending;	/* raises asked for and not yet written */
	bool stopping;
	bool finished;		/* the thread is about to return: it may be joined */
	char dir[64];		/* /local/domain/<domid>/data/virtio-pci */
	char key[80];
	/* The server record: what a previous process left, then ours. */
	char record_key[80];
	enum { RECORD_UNREAD, RECORD_NONE, RECORD_FOUND } record_read;
	unsigned int recorded_id;
	long recorded_pid;
	bool record_pending;	/* xen_xenstore_record_server() asked for it */
	bool record_done;	/* the thread tried to write it */
	unsigned int record_id;
};

/* The value a previous daemon left (it crashed, or never removed it), or 0. */
static unsigned long long read_generation(struct xs_handle *xsh, const char *key)
{
	char *value = xs_read(xsh, XBT_NULL, key, NULL);
	unsigned long long generation = 0;
	char *end;

	if (value) {
		generation = strtoull(value, &end, 10);
		if (*end || end == value)
			generation = 0;
		free(value);
	}
	return generation;
}

/*
 * The guest becomes the owner of the key and of its directory: the owner
 * reads, watches and writes it, no other guest may (dom0 may do anything).
 * Under data/, which init-dom0less and libxl give to the guest, new nodes
 * are the guest's already; set here so that it holds wherever dom0 wrote.
 * The value is written first: a guest that could not see the key learns of
 * it from the permission change.
 */
static void publish(struct xs_handle *xsh, const struct xen_xenstore *xs,
		    unsigned long long generation)
{
	struct xs_permissions owner = { .id = xs->domid, .perms = XS_PERM_NONE };
	char value[24];
	int len = snprintf(value, sizeof(value), "%llu", generation);

	if (!xs_write(xsh, XBT_NULL, xs->key, value, (unsigned int)len) ||
	    !xs_set_permissions(xsh, XBT_NULL, xs->dir, &owner, 1) ||
	    !xs_set_permissions(xsh, XBT_NULL, xs->key, &owner, 1)) {
		log_warn("xenstore: cannot write %s: %s (the guest's rescan helper polls instead)",
			 xs->key, strerror(errno));
		return;
	}
	log_info("xenstore: %s = %s", xs->key, value);
}

/* What the thread is asked to do next. */
struct work {
	unsigned int raises;
	bool record;
	unsigned int record_id;
	bool stopping;
};

/* Sleep until there is something to write or the daemon stops. */
static void wait_for_work(struct xen_xenstore *xs, struct work *work)
{
	pthread_mutex_lock(&xs->lock);
	while (!xs->pending && !xs->record_pending && !xs->stopping)
		pthread_cond_wait(&xs->changed, &xs->lock);
	work->raises = xs->pending;
	work->record = xs->record_pending;
	work->record_id = xs->record_id;
	work->stopping = xs->stopping;
	xs->pending = 0;
	xs->record_pending = false;
	pthread_mutex_unlock(&xs->lock);
}

/* "<id> <pid>" left by an earlier process for this domain, for xen_xenstore_recorded_server(). */
static void read_record(struct xen_xenstore *xs, struct xs_handle *xsh)
{
	char *value = xs_read(xsh, XBT_NULL, xs->record_key, NULL);
	unsigned int id;
	long pid;
	char extra;
	bool found = value && sscanf(value, "%u %ld %c", &id, &pid, &extra) == 2 && pid > 0;

	if (value && !found)
		log_warn("xenstore: %s = '%s': not '<server id> <pid>', ignored", xs->record_key, value);
	free(value);
	pthread_mutex_lock(&xs->lock);
	xs->record_read = found ? RECORD_FOUND : RECORD_NONE;
	xs->recorded_id = found ? id : 0;
	xs->recorded_pid = found ? pid : 0;
	pthread_cond_broadcast(&xs->changed);
	pthread_mutex_unlock(&xs->lock);
}

static bool write_record(struct xs_handle *xsh, const struct xen_xenstore *xs, unsigned int id)
{
	char value[32];
	int len = snprintf(value, sizeof(value), "%u %ld", id, (long)getpid());

	/* dom0's own area: no guest may read or change it (the parent's permissions). */
	if (!xs_write(xsh, XBT_NULL, xs->record_key, value, (unsigned int)len)) {
		log_warn("xenstore: cannot write %s: %s (a restarted daemon cannot remove "
			 "this server)", xs->record_key, strerror(errno));
		return false;
	}
	log_debug("xenstore: %s = %s", xs->record_key, value);
	return true;
}

static void remove_key(struct xs_handle *xsh, const char *key)
{
	if (!xs_rm(xsh, XBT_NULL, key))
		log_debug("xenstore: cannot remove %s: %s", key, strerror(errno));
}

static void serve_keys(struct xen_xenstore *xs, struct xs_handle *xsh)
{
	unsigned long long generation = read_generation(xsh, xs->key);
	bool written = false, recorded = false;
	struct work work = { 0 };

	while (!work.stopping) {
		wait_for_work(xs, &work);
		if (work.record) {
			recorded = write_record(xsh, xs, work.record_id) || recorded;
			pthread_mutex_lock(&xs->lock);
			xs->record_done = true;
			pthread_cond_broadcast(&xs->changed);
			pthread_mutex_unlock(&xs->lock);
		}
		if (!work.raises)
			continue;
		generation += work.raises;
		publish(xsh, xs, generation);
		written = true;
	}
	/* The functions stop answering: the guest must not take the key for readiness. */
	if (written)
		remove_key(xsh, xs->key);
	if (recorded)
		remove_key(xsh, xs->record_key);
}

static void *xenstore_thread(void *arg)
{
	struct xen_xenstore *xs = arg;
	struct xs_handle *xsh = xs_open(0);

	if (xsh) {
		read_record(xs, xsh);
		serve_keys(xs, xsh);
		xs_close(xsh);
	} else {
		log_info("no xenstore (%s): the guest is not told when its functions answer, "
			 "its rescan helper polls", strerror(errno));
	}
	pthread_mutex_lock(&xs->lock);
	if (xs->record_read == RECORD_UNREAD)
		xs->record_read = RECORD_NONE;
	xs->finished = true;
	pthread_cond_broadcast(&xs->changed);
	pthread_mutex_unlock(&xs->lock);
	return NULL;
}

struct xen_xenstore *xen_xenstore_start(domid_t domid)
{
	struct xen_xenstore *xs = calloc(1, sizeof(*xs));
	int ret;

	if (!xs) {
		log_warn("xenstore: out of memory: the guest is not told when its functions answer");
		return NULL;
	}
	xs->domid = domid;
	snprintf(xs->dir, sizeof(xs->dir), "/local/domain/%u/data/virtio-pci", domid);
	snprintf(xs->key, sizeof(xs->key), XEN_XENSTORE_KEY_FORMAT, domid);
	snprintf(xs->record_key, sizeof(xs->record_key), XEN_XENSTORE_RECORD_FORMAT, domid);
	pthread_mutex_init(&xs->lock, NULL);
	pthread_cond_init(&xs->changed, NULL);
	ret = pthread_create(&xs->thread, NULL, xenstore_thread, xs);
	if (ret) {
		log_warn("xenstore: cannot start its thread: %s: the guest is not told when "
			 "its functions answer", strerror(ret));
		pthread_cond_destroy(&xs->changed);
		pthread_mutex_destroy(&xs->lock);
		free(xs);
		return NULL;
	}
	return xs;
}

void xen_xenstore_bump_generation(struct xen_xenstore *xs)
{
	if (!xs)
		return;
	pthread_mutex_lock(&xs->lock);
	xs->pending++;
	pthread_cond_broadcast(&xs->changed);
	pthread_mutex_unlock(&xs->lock);
}

static void deadline_in(struct timespec *deadline, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, deadline);
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

int xen_xenstore_recorded_server(struct xen_xenstore *xs, unsigned int *id, long *pid,
				 int timeout_ms)
{
	struct timespec deadline;
	int ret;

	if (!xs)
		return 0;
	deadline_in(&deadline, timeout_ms);
	pthread_mutex_lock(&xs->lock);
	while (xs->record_read == RECORD_UNREAD)
		if (pthread_cond_timedwait(&xs->changed, &xs->lock, &deadline) == ETIMEDOUT)
			break;
	ret = xs->record_read == RECORD_UNREAD ? -ETIMEDOUT : xs->record_read == RECORD_FOUND;
	*id = xs->recorded_id;
	*pid = xs->recorded_pid;
	pthread_mutex_unlock(&xs->lock);
	return ret;
}

void xen_xenstore_record_server(struct xen_xenstore *xs, unsigned int id, int timeout_ms)
{
	struct timespec deadline;

	if (!xs)
		return;
	deadline_in(&deadline, timeout_ms);
	pthread_mutex_lock(&xs->lock);
	xs->record_pending = true;
	xs->record_done = false;
	xs->record_id = id;
	pthread_cond_broadcast(&xs->changed);
	while (!xs->record_done && !xs->finished)
		if (pthread_cond_timedwait(&xs->changed, &xs->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&xs->lock);
}

/* With xs->lock held: wait up to STOP_WAIT_MS for the thread to finish. */
static bool wait_finished(struct xen_xenstore *xs)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT_MS / 1000;
	while (!xs->finished)
		if (pthread_cond_timedwait(&xs->changed, &xs->lock, &deadline) == ETIMEDOUT)
			break;
	return xs->finished;
}

void xen_xenstore_stop(struct xen_xenstore *xs)
{
	bool finished;

	if (!xs)
		return;
	pthread_mutex_lock(&xs->lock);
	xs->stopping = true;
	pthread_cond_broadcast(&xs->changed);
	finished = wait_finished(xs);
	pthread_mutex_unlock(&xs->lock);
	if (!finished) {
		/* It is stuck in a request: leave it (and its memory) to the process's exit. */
		log_warn("xenstore does not answer: %s may stay behind", xs->key);
		pthread_detach(xs->thread);
		return;
	}
	pthread_join(xs->thread, NULL);
	pthread_cond_destroy(&xs->changed);
	pthread_mutex_destroy(&xs->lock);
	free(xs);
}
