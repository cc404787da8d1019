// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_xenstore.c: the simulated host's xenstore, the part of
 * docs/misc/xenstore.txt the daemon and the guest's rescan helper rely on:
 * nodes with values and permissions (the first entry names the owner, who
 * may do anything, and what every other domain may do; dom0 may do anything
 * anywhere), paths relative to the caller's /local/domain/<domid>, parents
 * created on write with their parent's permissions (a guest owns what it
 * creates, C xenstored's construct_node()), watches that fire once when set
 * and then on every change at or below their path, for watchers that may read
 * the node. The calls that reach it from simulated libxenstore are in
 * tests/sim/hv_xenstore_calls.c.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xenstore_lib.h>

#define HOME_MAX 64	/* "/local/domain/65535/" */

/* ---- paths */

static bool valid_path(const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len > XENSTORE_ABS_PATH_MAX || strstr(path, "//") ||
	    (len > 1 && path[len - 1] == '/'))
		return false;
	return strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_@") == len;
}

static void home_of(uint32_t domid, char *home, size_t size)
{
	snprintf(home, size, "/local/domain/%u", domid);
}

/* @path made absolute for @domid (malloc'd), or NULL with errno EINVAL. */
char *hv_xs_absolute_path(uint32_t domid, const char *path)
{
	char home[HOME_MAX];
	char *abs;

	if (!valid_path(path)) {
		errno = EINVAL;
		return NULL;
	}
	/* "@introduceDomain", "@releaseDomain": special watch paths, never relative. */
	if (path[0] == '/' || path[0] == '@')
		return strdup(path);
	home_of(domid, home, sizeof(home));
	if (asprintf(&abs, "%s/%s", home, path) < 0)
		return NULL;
	return abs;
}

/* xenstore.txt: a path is its own child; every path is a child of "/". */
static bool is_child(const char *parent, const char *child)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return true;
	return !strncmp(parent, child, len) && (child[len] == '\0' || child[len] == '/');
}

/* ---- nodes */

struct sim_xs_node *hv_xs_find_node(struct sim_xenstore *xs, const char *path)
{
	for (struct sim_xs_node *n = xs->nodes; n; n = n->next)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

/* The parent of absolute @path ("/" for "/local") into @parent. */
static void parent_of(const char *path, char parent[XENSTORE_ABS_PATH_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	size_t len = slash == path ? 1 : (size_t)(slash - path);

	memcpy(parent, path, len);
	parent[len] = '\0';
}

static struct sim_xs_node *find_parent(struct sim_xenstore *xs, const char *path)
{
	char parent[XENSTORE_ABS_PATH_MAX + 1];

	parent_of(path, parent);
	return hv_xs_find_node(xs, parent);
}

bool hv_xs_allowed(const struct sim_xs_node *n, uint32_t domid, uint32_t want)
{
	if (domid == 0 || n->perms[0].id == domid)
		return true;
	for (unsigned int i = 1; i < n->nr_perms; i++)
		if (n->perms[i].id == domid)
			return (n->perms[i].perms & want) == want;
	return (n->perms[0].perms & want) == want;
}

static struct sim_xs_node *new_node(struct sim_xenstore *xs, const char *path)
{
	struct sim_xs_node *n = calloc(1, sizeof(*n));

	if (!n || !(n->path = strdup(path)) || !(n->value = strdup(""))) {
		if (n)
			free(n->path);
		free(n);
		return NULL;
	}
	n->next = xs->nodes;
	xs->nodes = n;
	return n;
}

/*
 * Create @path and any missing parent: each takes its parent's permissions,
 * except that a guest owns what it creates. NULL with errno on failure.
 */
static struct sim_xs_node *create_node(struct sim_xenstore *xs, const char *path, uint32_t creator)
{
	char parent_path[XENSTORE_ABS_PATH_MAX + 1];
	struct sim_xs_node *parent, *n;

	parent_of(path, parent_path);
	parent = hv_xs_find_node(xs, parent_path);
	if (!parent && !(parent = create_node(xs, parent_path, creator)))
		return NULL;
	n = new_node(xs, path);
	if (!n)
		return NULL;
	memcpy(n->perms, parent->perms, sizeof(n->perms));
	n->nr_perms = parent->nr_perms;
	if (creator != 0)
		n->perms[0].id = creator;
	return n;
}

static void free_node(struct sim_xs_node *n)
{
	free(n->path);
	free(n->value);
	free(n);
}

/* ---- watches */

/* "path\0token\0" on the handle's socket; dropped if the watcher does not read them. */
void hv_xs_send_event(const struct sim_xs_handle *h, const char *path, const char *token)
{
	char msg[SIM_PAYLOAD_MAX];
	int len = snprintf(msg, sizeof(msg), "%s%c%s", path, '\0', token);

	if (len > 0 && (size_t)len < sizeof(msg))
		send(h->fd, msg, (size_t)len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/*
 * Tell every watcher of @path that may read @n. Removing @path also tells
 * the watchers below it, with their own path (xenstore.txt, WATCH_EVENT).
 */
static void fire_watches(struct sim_hv *hv, const char *path, const struct sim_xs_node *n,
			 bool removal)
{
	struct sim_xenstore *xs = &hv->xenstore;

	for (struct sim_xs_watch *w = xs->watches; w; w = w->next) {
		const struct sim_xs_handle *h = &xs->handles[w->handle];
		const char *event = path;
		char home[HOME_MAX];

		if (removal && !is_child(w->path, path) && is_child(path, w->path))
			event = w->path;
		else if (!is_child(w->path, path))
			continue;
		if (!hv_xs_allowed(n, h->domid, XS_PERM_READ))
			continue;
		home_of(h->domid, home, sizeof(home));
		if (w->relative && is_child(home, event) && strcmp(home, event))
			event += strlen(home) + 1;
		hv_xs_send_event(h, event, w->token);
	}
}

void hv_xs_free_watch(struct sim_xs_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

/* ---- operations, as a caller of @domid */

int hv_xs_write(struct sim_hv *hv, uint32_t domid, const char *path, const char *value,
		       size_t len)
{
	struct sim_xs_node *n = hv_xs_find_node(&hv->xenstore, path);
	char *copy;

	if (n && !hv_xs_allowed(n, domid, XS_PERM_WRITE))
		return -EACCES;
	if (!n) {
		struct sim_xs_node *parent = find_parent(&hv->xenstore, path);

		if (parent && !hv_xs_allowed(parent, domid, XS_PERM_WRITE))
			return -EACCES;
		n = create_node(&hv->xenstore, path, domid);
		if (!n)
			return -errno;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, value, len);
	copy[len] = '\0';
	free(n->value);
	n->value = copy;
	n->len = len;
	fire_watches(hv, path, n, false);
	return 0;
}

int hv_xs_set_perms(struct sim_hv *hv, uint32_t domid, const char *path,
			   const struct sim_xs_perm *perms, unsigned int num)
{
	struct sim_xs_node *n = hv_xs_find_node(&hv->xenstore, path);

	if (!n)
		return -ENOENT;
	if (domid != 0 && n->perms[0].id != domid)
		return -EACCES;
	memcpy(n->perms, perms, num * sizeof(*perms));
	n->nr_perms = num;
	fire_watches(hv, path, n, false);
	return 0;
}

/* Remove @path and everything below it. */
int hv_xs_rm(struct sim_hv *hv, uint32_t domid, const char *path)
{
	struct sim_xenstore *xs = &hv->xenstore;
	struct sim_xs_node *n = hv_xs_find_node(xs, path);

	if (!n)
		return find_parent(xs, path) ? 0 : -ENOENT;
	if (!hv_xs_allowed(n, domid, XS_PERM_WRITE) || !strcmp(path, "/"))
		return -EACCES;
	/* Watchers are told while they can still be checked against the node. */
	fire_watches(hv, path, n, true);
	for (struct sim_xs_node **link = &xs->nodes; *link;) {
		struct sim_xs_node *victim = *link;

		if (!is_child(path, victim->path)) {
			link = &victim->next;
			continue;
		}
		*link = victim->next;
		free_node(victim);
	}
	return 0;
}

/* ---- creation, and the domains' homes */

/* A special watch path fires for dom0's watchers only (xenstore.txt: they need privilege). */
static void fire_special(struct sim_hv *hv, const char *special)
{
	struct sim_xenstore *xs = &hv->xenstore;

	for (struct sim_xs_watch *w = xs->watches; w; w = w->next)
		if (!strcmp(w->path, special) && xs->handles[w->handle].domid == 0)
			hv_xs_send_event(&xs->handles[w->handle], special, w->token);
}

static void write_guest_key(struct sim_hv *hv, uint32_t domid, const char *key, const char *value)
{
	/* init-dom0less's do_xs_write_dom(): the guest owns it, dom0 may read it. */
	const struct sim_xs_perm perms[] = { { domid, XS_PERM_NONE }, { 0, XS_PERM_READ } };
	char home[HOME_MAX], path[HOME_MAX + 16];

	home_of(domid, home, sizeof(home));
	snprintf(path, sizeof(path), "%s/%s", home, key);
	if (hv_xs_write(hv, 0, path, value, strlen(value)) ||
	    hv_xs_set_perms(hv, 0, path, perms, 2)) {
		perror("simulated xenstore");
		exit(1);
	}
}

void hv_xenstore_add_domain(struct sim_hv *hv, const struct sim_domain *d)
{
	char domid[16];

	snprintf(domid, sizeof(domid), "%u", d->config.domid);
	write_guest_key(hv, d->config.domid, "domid", domid);
	if (d->config.name)
		write_guest_key(hv, d->config.domid, "name", d->config.name);
	write_guest_key(hv, d->config.domid, "data", "");
	fire_special(hv, "@introduceDomain");
}

void hv_xenstore_remove_domain(struct sim_hv *hv, const struct sim_domain *d)
{
	char home[HOME_MAX];

	home_of(d->config.domid, home, sizeof(home));
	hv_xs_rm(hv, 0, home);
	fire_special(hv, "@releaseDomain");
}

void hv_xenstore_init(struct sim_hv *hv)
{
	struct sim_xs_node *root;

	if (hv->config.no_xenstore)
		return;
	root = new_node(&hv->xenstore, "/");
	if (!root) {
		perror("simulated xenstore");
		exit(1);
	}
	root->perms[0] = (struct sim_xs_perm){ 0, XS_PERM_NONE };
	root->nr_perms = 1;
}

void hv_xenstore_destroy(struct sim_hv *hv)
{
	struct sim_xenstore *xs = &hv->xenstore;

	for (int h = 0; h < SIM_XS_MAX_HANDLES; h++)
		if (xs->handles[h].used)
			hv_xs_close_handle(hv, h);
	while (xs->nodes) {
		struct sim_xs_node *n = xs->nodes;

		xs->nodes = n->next;
		free_node(n);
	}
}

/* ---- the test's view */

char *sim_hv_xenstore_read(struct sim_hv *hv, const char *path)
{
	struct sim_xs_node *n;
	char *value = NULL;

	pthread_mutex_lock(&hv->lock);
	n = hv_xs_find_node(&hv->xenstore, path);
	if (n)
		value = strdup(n->value);
	pthread_mutex_unlock(&hv->lock);
	return value;
}

int sim_hv_xenstore_write(struct sim_hv *hv, const char *path, const char *value)
{
	int ret;

	if (hv->config.no_xenstore || !valid_path(path) || path[0] != '/')
		return hv->config.no_xenstore ? -ENOENT : -EINVAL;
	pthread_mutex_lock(&hv->lock);
	ret = hv_xs_write(hv, 0, path, value, strlen(value));
	pthread_cond_broadcast(&hv->changed);
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_hv_xenstore_owner(struct sim_hv *hv, const char *path)
{
	struct sim_xs_node *n;
	int owner;

	pthread_mutex_lock(&hv->lock);
	n = hv_xs_find_node(&hv->xenstore, path);
	owner = n ? (int)n->perms[0].id : -ENOENT;
	pthread_mutex_unlock(&hv->lock);
	return owner;
}

bool sim_hv_xenstore_readable(struct sim_hv *hv, const char *path, uint32_t domid)
{
	struct sim_xs_node *n;
	bool readable;

	pthread_mutex_lock(&hv->lock);
	n = hv_xs_find_node(&hv->xenstore, path);
	readable = n && hv_xs_allowed(n, domid, XS_PERM_READ);
	pthread_mutex_unlock(&hv->lock);
	return readable;
}

static bool has_value(struct sim_hv *hv, const char *path, const char *value)
{
	struct sim_xs_node *n = hv_xs_find_node(&hv->xenstore, path);

	return value ? n && !strcmp(n->value, value) : !n;
}

int sim_hv_xenstore_wait(struct sim_hv *hv, const char *path, const char *value, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (!has_value(hv, path, value) && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	pthread_mutex_unlock(&hv->lock);
	return ret ? -ETIMEDOUT : 0;
}
