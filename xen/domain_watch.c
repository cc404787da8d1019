// SPDX-License-Identifier: MIT
/*
 * xen/domain_watch.c: xenstore's domain watches and a poll timer, both
 * turned into one "domains may have changed" callback; domain names from a
 * snapshot. Every xenstore request is made by a thread of its own: a store
 * that does not answer (xen/xenstore_probe.h) never holds up the loop.
 */
#include "xen/domain_watch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xenstore.h>

#include "lib/log.h"
#include "xen/xenstore_probe.h"

#define TOKEN		"xen-virtio-pcid"
#define NAMES_MAX	1024	/* domains whose names are remembered */
#define NAME_MAX_LEN	64
#define STOP_WAIT_S	1

struct known_name {
	uint32_t domid;
	bool wanted;		/* asked for by the loop, not looked up yet */
	bool known;		/* looked up: @name, or no name */
	char name[NAME_MAX_LEN];
	bool has_name;
};

struct xen_domain_watch {
	struct event *poll_event;
	struct event *notify_event;	/* notify_fd readable: the thread has news */
	int notify_fd;			/* eventfd: thread -> loop */
	int wake_fd;			/* eventfd: loop -> thread */
	xen_domains_changed_fn *changed;
	void *opaque;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;		/* guards what follows */
	enum xen_domain_watch_store store;
	bool stopping;
	bool finished;
	struct known_name names[NAMES_MAX];
	unsigned int nr_names;
};

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct xen_domain_watch *w = arg;

	(void)fd;
	(void)what;
	w->changed(w->opaque);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct xen_domain_watch *w = arg;
	uint64_t count;

	(void)what;
	if (read(fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
		w->changed(w->opaque);
}

static void poke(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_debug("domain watch: cannot wake: %s", strerror(errno));
}

/* ---- the thread */

/* Look up the names the loop asked for; true if there were any. */
static bool look_up_wanted(struct xen_domain_watch *w, struct xs_handle *xsh)
{
	bool any = false;

	for (unsigned int i = 0;; i++) {
		char path[64], *name;
		uint32_t domid;

		pthread_mutex_lock(&w->lock);
		while (i < w->nr_names && !w->names[i].wanted)
			i++;
		if (i >= w->nr_names) {
			pthread_mutex_unlock(&w->lock);
			return any;
		}
		domid = w->names[i].domid;
		pthread_mutex_unlock(&w->lock);
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		name = xs_read(xsh, XBT_NULL, path, NULL);
		pthread_mutex_lock(&w->lock);
		w->names[i].wanted = false;
		w->names[i].known = true;
		w->names[i].has_name = name != NULL;
		snprintf(w->names[i].name, NAME_MAX_LEN, "%s", name ? name : "");
		pthread_mutex_unlock(&w->lock);
		free(name);
		any = true;
	}
}

/* Domains came or went: every name is looked up again when next asked for (IDs are reused). */
static void forget_names(struct xen_domain_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->nr_names = 0;
	pthread_mutex_unlock(&w->lock);
}

static bool stopping(struct xen_domain_watch *w)
{
	bool stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void serve_store(struct xen_domain_watch *w, struct xs_handle *xsh, bool watching)
{
	while (!stopping(w)) {
		struct pollfd fds[2] = { { w->wake_fd, POLLIN, 0 }, { xs_fileno(xsh), POLLIN, 0 } };
		bool fired = false;
		uint64_t count;
		char **event;

		if (poll(fds, watching ? 2 : 1, -1) < 0 && errno != EINTR)
			return;
		if (fds[0].revents && read(w->wake_fd, &count, sizeof(count)) < 0)
			return;
		/* libxenstore: once the fd is readable, take events until there are none. */
		while (watching && fds[1].revents && (event = xs_check_watch(xsh))) {
			fired = true;
			free(event);
		}
		if (fired)
			forget_names(w);
		if (look_up_wanted(w, xsh) || fired)
			poke(w->notify_fd);
	}
}

static void set_store(struct xen_domain_watch *w, enum xen_domain_watch_store store)
{
	pthread_mutex_lock(&w->lock);
	w->store = store;
	pthread_mutex_unlock(&w->lock);
	poke(w->notify_fd);
}

static void *watch_thread(void *arg)
{
	struct xen_domain_watch *w = arg;
	struct xs_handle *xsh = NULL;
	const char *why;
	bool watching;

	if (!xen_xenstore_probe(&why) || !(xsh = xs_open(0))) {
		log_info("no xenstore (%s): domains are found by polling, and only "
			 "[domain N] blocks can match (names are unknown)", why);
		set_store(w, XEN_DOMAIN_WATCH_NO_STORE);
	} else {
		watching = xs_watch(xsh, "@introduceDomain", TOKEN) &&
			   xs_watch(xsh, "@releaseDomain", TOKEN);
		if (!watching)
			log_warn("xenstore: cannot watch for domains: %s: polling", strerror(errno));
		set_store(w, XEN_DOMAIN_WATCH_STORE);
		serve_store(w, xsh, watching);
		xs_close(xsh);
	}
	pthread_mutex_lock(&w->lock);
	w->finished = true;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ---- the loop's side */

int xen_domain_watch_start(struct xen_domain_watch **out, struct event_base *base, int poll_ms,
			   xen_domains_changed_fn *changed, void *opaque)
{
	struct xen_domain_watch *w = calloc(1, sizeof(*w));
	struct timeval period = { poll_ms / 1000, (poll_ms % 1000) * 1000 };
	struct timeval soon = { 0, 0 };

	if (!w)
		return -ENOMEM;
	w->changed = changed;
	w->opaque = opaque;
	pthread_mutex_init(&w->lock, NULL);
	w->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->poll_event = event_new(base, -1, EV_PERSIST, on_poll, w);
	w->notify_event = event_new(base, w->notify_fd, EV_READ | EV_PERSIST, on_notify, w);
	if (w->notify_fd < 0 || w->wake_fd < 0 || !w->poll_event || !w->notify_event ||
	    event_add(w->poll_event, &period) || event_add(w->notify_event, NULL) ||
	    pthread_create(&w->thread, NULL, watch_thread, w)) {
		xen_domain_watch_stop(w);
		return -ENOMEM;
	}
	w->thread_started = true;
	/* The first look, from the loop. */
	event_base_once(base, -1, EV_TIMEOUT, on_poll, w, &soon);
	*out = w;
	return 0;
}

enum xen_domain_watch_store xen_domain_watch_store(struct xen_domain_watch *w)
{
	enum xen_domain_watch_store store;

	pthread_mutex_lock(&w->lock);
	store = w->store;
	pthread_mutex_unlock(&w->lock);
	return store;
}

/* With w->lock held: domid's entry, added (wanted) if new; NULL when the table is full. */
static struct known_name *entry_of(struct xen_domain_watch *w, uint32_t domid, bool *added)
{
	*added = false;
	for (unsigned int i = 0; i < w->nr_names; i++)
		if (w->names[i].domid == domid)
			return &w->names[i];
	if (w->nr_names == NAMES_MAX)
		return NULL;
	*added = true;
	w->names[w->nr_names] = (struct known_name){ .domid = domid, .wanted = true };
	return &w->names[w->nr_names++];
}

int xen_domain_watch_name(struct xen_domain_watch *w, uint32_t domid, char **name)
{
	struct known_name *entry;
	bool added = false;
	int ret = 1;

	*name = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->store == XEN_DOMAIN_WATCH_STORE) {
		entry = entry_of(w, domid, &added);
		if (!entry || !entry->known)
			ret = entry ? 0 : 1;	/* a full table: no name */
		else if (entry->has_name)
			*name = strdup(entry->name);
	} else if (w->store == XEN_DOMAIN_WATCH_UNKNOWN) {
		ret = 0;	/* the thread says soon whether there is a store */
	}
	pthread_mutex_unlock(&w->lock);
	if (added)
		poke(w->wake_fd);
	return ret;
}

/* The thread is stuck in a store that stopped answering: leave it, and its memory, behind. */
static bool join_thread(struct xen_domain_watch *w)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT_S;
	if (pthread_timedjoin_np(w->thread, NULL, &deadline) == 0)
		return true;
	log_warn("xenstore does not answer: its watch thread is left behind");
	pthread_detach(w->thread);
	return false;
}

void xen_domain_watch_stop(struct xen_domain_watch *w)
{
	if (!w)
		return;
	if (w->poll_event)
		event_free(w->poll_event);
	if (w->notify_event)
		event_free(w->notify_event);
	if (w->thread_started) {
		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		pthread_mutex_unlock(&w->lock);
		poke(w->wake_fd);
		if (!join_thread(w))
			return;
	}
	if (w->notify_fd >= 0)
		close(w->notify_fd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
