// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_xenstore_calls.c: the SIM_OP_XS_* calls of simulated
 * libxenstore, decoded and answered from the simulated xenstore
 * (tests/sim/hv_xenstore.c), and the handles whose sockets carry the
 * watches that fire.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore_lib.h>

static int xs_fail(struct call *c, int error)
{
	c->reply->ret = -1;
	c->reply->error = error;
	return -1;
}

static struct sim_xs_handle *handle_of(struct call *c)
{
	uint64_t h = c->req->arg[0];

	if (h >= SIM_XS_MAX_HANDLES || !c->hv->xenstore.handles[h].used)
		return NULL;
	return &c->hv->xenstore.handles[h];
}

/* The first string of the payload (nul-terminated within it), or NULL. */
static const char *first_string(const struct call *c)
{
	if (c->in_len == 0 || !memchr(c->in, '\0', c->in_len))
		return NULL;
	return c->in;
}

/* The call's handle and its path argument made absolute (malloc'd); the error answered if NULL. */
static char *call_path(struct call *c, struct sim_xs_handle **h)
{
	const char *path = first_string(c);
	char *abs;

	*h = handle_of(c);
	if (!*h || !path) {
		xs_fail(c, *h ? EINVAL : EBADF);
		return NULL;
	}
	abs = hv_xs_absolute_path((*h)->domid, path);
	if (!abs)
		xs_fail(c, errno);
	return abs;
}

static int answer(struct call *c, int ret)
{
	return ret < 0 ? xs_fail(c, -ret) : 0;
}

int hv_op_xs_open(struct call *c)
{
	struct sim_xenstore *xs = &c->hv->xenstore;
	int pair[2];

	if (c->hv->config.no_xenstore)
		return xs_fail(c, ENOENT);
	for (int h = 0; h < SIM_XS_MAX_HANDLES; h++) {
		if (xs->handles[h].used)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair))
			return xs_fail(c, errno);
		xs->handles[h] = (struct sim_xs_handle){ true, pair[0], (uint32_t)c->req->arg[0] };
		c->fd_to_pass = pair[1];
		c->close_passed_fd = true;
		c->reply->val[0] = (uint64_t)h;
		hv_note_passed_socket(c, SIM_SOCKET_XENSTORE_WATCH, h);
		return 0;
	}
	return xs_fail(c, EMFILE);
}

int hv_op_xs_read(struct call *c)
{
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	struct sim_xs_node *n;
	int ret = 0;

	if (!path)
		return -1;
	n = hv_xs_find_node(&c->hv->xenstore, path);
	if (!n)
		ret = -ENOENT;
	else if (!hv_xs_allowed(n, h->domid, XS_PERM_READ))
		ret = -EACCES;
	else if (n->len > SIM_PAYLOAD_MAX)
		ret = -E2BIG;
	else
		memcpy(c->out, n->value, c->out_len = n->len);
	free(path);
	return answer(c, ret);
}

int hv_op_xs_write(struct call *c)
{
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	size_t value_len = c->req->arg[1];
	int ret;

	if (!path)
		return -1;
	if (strlen(c->in) + 1 + value_len != c->in_len)
		ret = -EINVAL;
	else
		ret = hv_xs_write(c->hv, h->domid, path, c->in + c->in_len - value_len, value_len);
	free(path);
	return answer(c, ret);
}

int hv_op_xs_rm(struct call *c)
{
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	int ret;

	if (!path)
		return -1;
	ret = hv_xs_rm(c->hv, h->domid, path);
	free(path);
	return answer(c, ret);
}

/* "n1\0r0\0": the xenstore wire's permission strings, after the path. */
static int parse_perms(const struct call *c, struct sim_xs_perm *perms)
{
	const char *p = c->in + strlen(c->in) + 1, *end = c->in + c->in_len;
	unsigned int num = 0;

	while (p < end) {
		const char *letters = "nrwb", *letter = strchr(letters, *p);
		size_t len = strnlen(p, (size_t)(end - p));

		if (!*p || !letter || len == (size_t)(end - p) || num == SIM_XS_MAX_PERMS)
			return -EINVAL;
		perms[num++] = (struct sim_xs_perm){ (uint32_t)strtoul(p + 1, NULL, 10),
						     (uint32_t)(letter - letters) };
		p += len + 1;
	}
	return num ? (int)num : -EINVAL;
}

int hv_op_xs_set_perms(struct call *c)
{
	struct sim_xs_perm perms[SIM_XS_MAX_PERMS];
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	int ret;

	if (!path)
		return -1;
	ret = parse_perms(c, perms);
	if (ret > 0)
		ret = hv_xs_set_perms(c->hv, h->domid, path, perms, (unsigned int)ret);
	free(path);
	return answer(c, ret);
}

/* The token after the path, or NULL. */
static const char *watch_token(const struct call *c)
{
	const char *token = c->in + strlen(c->in) + 1;

	if (token >= c->in + c->in_len || !memchr(token, '\0', (size_t)(c->in + c->in_len - token)))
		return NULL;
	return token;
}

static struct sim_xs_watch *new_watch(int handle, char *path, const char *token, bool relative)
{
	struct sim_xs_watch *w = calloc(1, sizeof(*w));

	if (!w || !(w->token = strdup(token))) {
		free(w);
		return NULL;
	}
	w->handle = handle;
	w->path = path;
	w->relative = relative;
	return w;
}

int hv_op_xs_watch(struct call *c)
{
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	const char *token = path ? watch_token(c) : NULL;
	struct sim_xs_watch *w;

	if (!path)
		return -1;
	w = token ? new_watch((int)(h - c->hv->xenstore.handles), path, token, c->in[0] != '/') : NULL;
	if (!w) {
		free(path);
		return xs_fail(c, token ? ENOMEM : EINVAL);
	}
	w->next = c->hv->xenstore.watches;
	c->hv->xenstore.watches = w;
	/* xenstore.txt: a new watch fires once straight away, with the path as given. */
	hv_xs_send_event(h, c->in, token);
	return 0;
}

int hv_op_xs_unwatch(struct call *c)
{
	struct sim_xs_handle *h;
	char *path = call_path(c, &h);
	const char *token = path ? watch_token(c) : NULL;
	int ret = token ? -ENOENT : -EINVAL;

	if (!path)
		return -1;
	for (struct sim_xs_watch **link = &c->hv->xenstore.watches; token && *link;
	     link = &(*link)->next) {
		struct sim_xs_watch *w = *link;

		if (&c->hv->xenstore.handles[w->handle] != h || strcmp(w->path, path) ||
		    strcmp(w->token, token))
			continue;
		*link = w->next;
		hv_xs_free_watch(w);
		ret = 0;
		break;
	}
	free(path);
	return answer(c, ret);
}

/* ---- handles */

void hv_xs_close_handle(struct sim_hv *hv, int handle)
{
	struct sim_xenstore *xs = &hv->xenstore;

	for (struct sim_xs_watch **link = &xs->watches; *link;) {
		struct sim_xs_watch *w = *link;

		if (w->handle != handle) {
			link = &w->next;
			continue;
		}
		*link = w->next;
		hv_xs_free_watch(w);
	}
	close(xs->handles[handle].fd);
	xs->handles[handle].used = false;
}

void hv_xenstore_handle_readable(struct sim_hv *hv, int h)
{
	char byte;
	ssize_t n;

	if (!hv->xenstore.handles[h].used)
		return;
	n = recv(hv->xenstore.handles[h].fd, &byte, 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Nothing is sent this way: anything but EAGAIN means xs_close() or exit. */
	hv_xs_close_handle(hv, h);
}
