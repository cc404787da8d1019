// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_xenstore.c: the libxenstore functions the daemon and the
 * guest-side rescan helper call, with the real header's signatures, answered
 * by the simulated hypervisor's xenstore. The caller's domain comes from
 * $XENSIM_DOMID (default 0): a guest program under test sets it, so relative
 * paths and permissions work as they do for a guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore.h>

#include "tests/sim/libxen_conn.h"

struct xs_handle {
	struct sim_conn conn;	/* the requests: xenstored's socket or /dev/xen/xenbus */
	int fd;			/* the watch socket */
	uint64_t id;
	struct sim_toolcore_handle tc;
	int device_end;		/* the fallback device: our end of a pipe nobody writes, or -1 */
};

/*
 * tools/libs/store/xs.c registers every handle with libxentoolcore, and
 * its restrict callback dup2()s /dev/null over the connection: after
 * xentoolcore_restrict_all() no xenstore request goes anywhere. Here the
 * watch socket goes the same way, being part of the same connection.
 */
static int restrict_xs(struct sim_toolcore_handle *tc, domid_t domid)
{
	struct xs_handle *h = (struct xs_handle *)((char *)tc - offsetof(struct xs_handle, tc));

	(void)domid;
	if (sim_toolcore_dup2_null(h->conn.fd))
		return -1;
	return sim_toolcore_dup2_null(h->fd);
}

static uint64_t caller_domid(void)
{
	const char *domid = getenv(SIM_DOMID_ENV);

	return domid ? strtoull(domid, NULL, 10) : 0;
}

/*
 * No xenstored: tools/libs/store/xs.c (Xen 4.15..4.22) xs_open() falls back
 * from xenstored's socket to the /dev/xen/xenbus device, which dom0's
 * kernel provides whether or not a xenstore runs; so it returns a handle,
 * and the first request through it never answers. Modelled for dom0 as a
 * pipe nobody writes: every request reads it, for ever.
 */
static struct xs_handle *open_device_fallback(struct xs_handle *h)
{
	int pipe_fds[2];

	if (pipe2(pipe_fds, O_CLOEXEC)) {
		free(h);
		return NULL;
	}
	h->conn.fd = -1;
	h->fd = pipe_fds[0];
	h->device_end = pipe_fds[1];
	h->tc.restrict_callback = restrict_xs;
	sim_toolcore_register(&h->tc);
	return h;
}

/* A request through the fallback device: it never answers. */
static int hang_for_ever(struct xs_handle *h)
{
	char byte;

	while (read(h->fd, &byte, 1) != 0)
		;
	errno = EBADF;	/* only a closed or neutralised fd gets here */
	return -1;
}

struct xs_handle *xs_open(unsigned long flags)
{
	struct sim_request req = { .op = SIM_OP_XS_OPEN, .arg = { caller_domid() } };
	struct sim_reply reply;
	struct xs_handle *h;
	int fd;

	(void)flags;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->device_end = -1;
	if (sim_conn_open(&h->conn, SIM_CONN_XENSTORE))
		goto free_handle;
	if (sim_call(&h->conn, &req, &reply, &fd) < 0) {
		if (errno == ENOENT && caller_domid() == 0) {
			sim_conn_close(&h->conn);
			return open_device_fallback(h);
		}
		goto close_conn;
	}
	h->fd = fd;
	h->id = reply.val[0];
	h->tc.restrict_callback = restrict_xs;
	sim_toolcore_register(&h->tc);
	return h;

close_conn:
	fd = errno;
	sim_conn_close(&h->conn);
	errno = fd;
free_handle:
	free(h);
	return NULL;
}

void xs_close(struct xs_handle *xsh)
{
	if (!xsh)
		return;
	/* The hypervisor drops the handle and its watches when the socket closes. */
	sim_toolcore_deregister(&xsh->tc);
	close(xsh->fd);
	if (xsh->device_end >= 0)
		close(xsh->device_end);
	sim_conn_close(&xsh->conn);
	free(xsh);
}

/* One call with @len bytes of @data after the request; the reply's payload, if asked, in @out. */
static int xs_call(struct xs_handle *h, uint32_t op, uint64_t arg1, const void *data, size_t len,
		   struct sim_payload *out)
{
	struct sim_request req = { .op = op, .arg = { h->id, arg1 } };
	struct sim_payload in = { (void *)data, len, len };
	struct sim_reply reply;

	if (h->device_end >= 0)
		return hang_for_ever(h);
	return sim_call_payload(&h->conn, &req, &in, &reply, out, NULL);
}

/* "a\0b\0" in a malloc'd buffer; NULL with errno E2BIG when it does not fit a message. */
static char *join(const char *a, const char *b, size_t *len)
{
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
	char *buf;

	if (la + lb > SIM_PAYLOAD_MAX) {
		errno = E2BIG;
		return NULL;
	}
	buf = malloc(la + lb);
	if (!buf)
		return NULL;
	memcpy(buf, a, la);
	if (b)
		memcpy(buf + la, b, lb);
	*len = la + lb;
	return buf;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	struct sim_payload out = { malloc(SIM_PAYLOAD_MAX + 1), SIM_PAYLOAD_MAX, 0 };

	(void)t;
	if (!out.data)
		return NULL;
	if (xs_call(h, SIM_OP_XS_READ, 0, path, strlen(path) + 1, &out) < 0) {
		free(out.data);
		return NULL;
	}
	/* As libxenstore: nul-terminated for the caller's convenience. */
	((char *)out.data)[out.len] = '\0';
	if (len)
		*len = (unsigned int)out.len;
	return out.data;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned int len)
{
	size_t path_len = strlen(path) + 1;
	char *buf;
	int ret;

	(void)t;
	if (path_len + len > SIM_PAYLOAD_MAX) {
		errno = E2BIG;
		return false;
	}
	buf = malloc(path_len + len);
	if (!buf)
		return false;
	memcpy(buf, path, path_len);
	memcpy(buf + path_len, data, len);
	ret = xs_call(h, SIM_OP_XS_WRITE, len, buf, path_len + len, NULL);
	free(buf);
	return ret == 0;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	(void)t;
	return xs_call(h, SIM_OP_XS_RM, 0, path, strlen(path) + 1, NULL) == 0;
}

/* The xenstore wire's permission strings: n (none), r, w or b (both), then the domid. */
static int format_perms(char *buf, size_t size, const struct xs_permissions *perms,
			unsigned int num)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	size_t used = 0;

	for (unsigned int i = 0; i < num; i++) {
		int n = snprintf(buf + used, size - used, "%c%u", letter[perms[i].perms & 3],
				 perms[i].id);

		if (n < 0 || (size_t)n + 1 > size - used)
			return -1;
		used += (size_t)n + 1;	/* keep the nul */
	}
	return (int)used;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num_perms)
{
	char buf[SIM_PAYLOAD_MAX];
	size_t path_len = strlen(path) + 1;
	int used;

	(void)t;
	if (num_perms == 0 || path_len >= sizeof(buf)) {
		errno = EINVAL;
		return false;
	}
	memcpy(buf, path, path_len);
	used = format_perms(buf + path_len, sizeof(buf) - path_len, perms, num_perms);
	if (used < 0) {
		errno = E2BIG;
		return false;
	}
	return xs_call(h, SIM_OP_XS_SET_PERMS, 0, buf, path_len + (size_t)used, NULL) == 0;
}

static bool watch_call(struct xs_handle *h, uint32_t op, const char *path, const char *token)
{
	size_t len;
	char *buf = join(path, token, &len);
	int ret;

	if (!buf)
		return false;
	ret = xs_call(h, op, 0, buf, len, NULL);
	free(buf);
	return ret == 0;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	return watch_call(h, SIM_OP_XS_WATCH, path, token);
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	return watch_call(h, SIM_OP_XS_UNWATCH, path, token);
}

int xs_fileno(struct xs_handle *h)
{
	return h->fd;
}

/*
 * One fired watch as libxenstore returns it: one allocation holding the
 * vector and the strings, ret[XS_WATCH_PATH] and ret[XS_WATCH_TOKEN].
 */
char **xs_check_watch(struct xs_handle *h)
{
	char msg[SIM_PAYLOAD_MAX];
	ssize_t n = recv(h->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	size_t path_len;
	char **vec;

	if (n < 0)
		return NULL;	/* EAGAIN: nothing pending */
	if (n == 0) {
		errno = EBADF;	/* the hypervisor closed the handle, as xenstored closing the fd */
		return NULL;
	}
	msg[n] = '\0';
	path_len = strlen(msg) + 1;
	if (path_len >= (size_t)n) {
		errno = EPROTO;
		return NULL;
	}
	vec = malloc(2 * sizeof(char *) + (size_t)n + 1);
	if (!vec)
		return NULL;
	memcpy(&vec[2], msg, (size_t)n + 1);
	vec[XS_WATCH_PATH] = (char *)&vec[2];
	vec[XS_WATCH_TOKEN] = (char *)&vec[2] + path_len;
	return vec;
}
