// SPDX-License-Identifier: MIT
/*
 * xen/xenstore.c: the readiness key and the server record, read and written
 * from a thread of its own so that a store that does not answer never holds
 * up the supervisor's event loop; each job is answered by a callback.
 */
#include "xen/xenstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "lib/log.h"
#include "xen/xenstore_probe.h"

struct xen_xenstore {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	domid_t domid;
	xen_xenstore_done_fn *done;
	void *opaque;
	/* Jobs asked for and not yet done. */
	unsigned int pending;	/* raises */
	bool check_pending;
	bool record_pending;
	unsigned int record_id;
	long record_pid;
	bool remove_pending;
	bool released;
	char dir[64];		/* /local/domain/<domid>/data/virtio-pci */
	char key[80];
	char record_key[80];
	struct xen_xenstore_record earlier;	/* what a previous process left */
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
	bool check;
	bool record;
	unsigned int record_id;
	long record_pid;
	bool remove;
	bool released;
};

/* Sleep until there is something to do. */
static void wait_for_work(struct xen_xenstore *xs, struct work *work)
{
	pthread_mutex_lock(&xs->lock);
	while (!xs->pending && !xs->check_pending && !xs->record_pending && !xs->remove_pending &&
	       !xs->released)
		pthread_cond_wait(&xs->changed, &xs->lock);
	*work = (struct work){ xs->pending, xs->check_pending, xs->record_pending, xs->record_id,
			       xs->record_pid, xs->remove_pending, xs->released };
	xs->pending = 0;
	xs->check_pending = xs->record_pending = xs->remove_pending = false;
	pthread_mutex_unlock(&xs->lock);
}

/* "<id> <pid>" left by an earlier process for this domain. */
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
	if (found)
		xs->earlier = (struct xen_xenstore_record){ true, id, pid };
}

static bool write_record(struct xs_handle *xsh, const struct xen_xenstore *xs, unsigned int id,
			 long pid)
{
	char value[32];
	int len = snprintf(value, sizeof(value), "%u %ld", id, pid);

	/* dom0's own area: no guest may read or change it (the parent's permissions). */
	if (!xs_write(xsh, XBT_NULL, xs->record_key, value, (unsigned int)len)) {
		log_warn("xenstore: cannot write %s: %s (a restarted worker cannot remove "
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

/* @xsh is NULL without a store: every job is answered, nothing written. */
static void serve_jobs(struct xen_xenstore *xs, struct xs_handle *xsh)
{
	unsigned long long generation = xsh ? read_generation(xsh, xs->key) : 0;
	bool written = false, recorded = false;
	struct work work = { 0 };

	while (!work.released) {
		wait_for_work(xs, &work);
		if (work.check)
			xs->done(xs->opaque, XEN_XENSTORE_RECORD_READ, &xs->earlier);
		if (work.record) {
			recorded = (xsh && write_record(xsh, xs, work.record_id, work.record_pid)) ||
				   recorded;
			xs->done(xs->opaque, XEN_XENSTORE_RECORDED, NULL);
		}
		if (work.raises && xsh) {
			generation += work.raises;
			publish(xsh, xs, generation);
			written = true;
		}
		if (work.remove) {
			/* The functions stop answering: the guest must not take the key for readiness. */
			if (written)
				remove_key(xsh, xs->key);
			if (recorded)
				remove_key(xsh, xs->record_key);
			written = recorded = false;
			xs->done(xs->opaque, XEN_XENSTORE_REMOVED, NULL);
		}
	}
}

static void *xenstore_thread(void *arg)
{
	struct xen_xenstore *xs = arg;
	struct xs_handle *xsh = NULL;
	const char *why;

	/* xs_open() returns a handle even without xenstored: ask the probe first. */
	if (xen_xenstore_probe(&why) && !(xsh = xs_open(0)))
		why = strerror(errno);
	if (xsh)
		read_record(xs, xsh);
	else
		log_info("no xenstore (%s): domain %u's guest is not told when its functions "
			 "answer, its rescan helper polls", why, xs->domid);
	serve_jobs(xs, xsh);
	if (xsh)
		xs_close(xsh);
	xs->done(xs->opaque, XEN_XENSTORE_RELEASED, NULL);
	pthread_cond_destroy(&xs->changed);
	pthread_mutex_destroy(&xs->lock);
	free(xs);
	return NULL;
}

struct xen_xenstore *xen_xenstore_start(domid_t domid, xen_xenstore_done_fn *done, void *opaque)
{
	struct xen_xenstore *xs = calloc(1, sizeof(*xs));
	int ret;

	if (!xs) {
		log_warn("xenstore: out of memory: domain %u's guest is not told when its "
			 "functions answer", domid);
		return NULL;
	}
	xs->domid = domid;
	xs->done = done;
	xs->opaque = opaque;
	snprintf(xs->dir, sizeof(xs->dir), "/local/domain/%u/data/virtio-pci", domid);
	snprintf(xs->key, sizeof(xs->key), XEN_XENSTORE_KEY_FORMAT, domid);
	snprintf(xs->record_key, sizeof(xs->record_key), XEN_XENSTORE_RECORD_FORMAT, domid);
	pthread_mutex_init(&xs->lock, NULL);
	pthread_cond_init(&xs->changed, NULL);
	ret = pthread_create(&xs->thread, NULL, xenstore_thread, xs);
	if (ret) {
		log_warn("xenstore: cannot start its thread: %s: domain %u's guest is not told "
			 "when its functions answer", strerror(ret), domid);
		pthread_cond_destroy(&xs->changed);
		pthread_mutex_destroy(&xs->lock);
		free(xs);
		return NULL;
	}
	pthread_detach(xs->thread);
	return xs;
}

/* Ask for a job: @set runs with the lock held. */
#define ASK(xs, set)					\
	do {						\
		pthread_mutex_lock(&(xs)->lock);	\
		set;					\
		pthread_cond_broadcast(&(xs)->changed);	\
		pthread_mutex_unlock(&(xs)->lock);	\
	} while (0)

void xen_xenstore_check_record(struct xen_xenstore *xs)
{
	ASK(xs, xs->check_pending = true);
}

void xen_xenstore_record_server(struct xen_xenstore *xs, unsigned int id, long pid)
{
	ASK(xs, (xs->record_pending = true, xs->record_id = id, xs->record_pid = pid));
}

void xen_xenstore_bump_generation(struct xen_xenstore *xs)
{
	ASK(xs, xs->pending++);
}

void xen_xenstore_remove(struct xen_xenstore *xs)
{
	ASK(xs, xs->remove_pending = true);
}

void xen_xenstore_release(struct xen_xenstore *xs)
{
	if (xs)
		ASK(xs, xs->released = true);
}
