// SPDX-License-Identifier: MIT
/* backends/nbd_export.c: connect to an NBD export and read what it allows. */
#include "backends/nbd_export.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnbd.h>

#include "lib/log.h"
#include "lib/parse.h"

#define SECTOR_SIZE 512u
#define NBD_EXPORT_HANDSHAKE_TEXT "10 s"

static int refuse(struct nbd_export *export, int error, char *why, size_t why_len, const char *what)
{
	snprintf(why, why_len, "nbd=%.*s%s: %s", PARSE_SHOWN(export->uri), what);
	nbd_export_close(export);
	return -error;
}

static int libnbd_failed(struct nbd_export *export, char *why, size_t why_len)
{
	int error = nbd_get_errno() ? nbd_get_errno() : EIO;
	char what[512];

	snprintf(what, sizeof(what), "%s", nbd_get_error() ? nbd_get_error() : strerror(error));
	return refuse(export, error, why, why_len, what);
}

/* Block sizes the guest will be told (blk_size) and requests are split at. */
static int read_block_sizes(struct nbd_export *export, char *why, size_t why_len)
{
	int64_t min = nbd_get_block_size(export->handle, LIBNBD_SIZE_MINIMUM);
	int64_t max = nbd_get_block_size(export->handle, LIBNBD_SIZE_MAXIMUM);
	char what[128];

	if (min < 0 || max < 0)
		return libnbd_failed(export, why, why_len);
	if (min > NBD_EXPORT_MAX_MIN_BLOCK) {
		snprintf(what, sizeof(what), "the server's minimum block size is %lld bytes: at most "
			 "%u can be served (a guest page)", (long long)min, NBD_EXPORT_MAX_MIN_BLOCK);
		return refuse(export, EINVAL, why, why_len, what);
	}
	export->min_block = min > SECTOR_SIZE ? (uint32_t)min : SECTOR_SIZE;
	/* Not advertised: 32 MiB, which every server takes (nbd_get_block_size(3)). */
	export->max_transfer = max > 0 && max < NBD_EXPORT_MAX_TRANSFER ? (uint32_t)max :
									  NBD_EXPORT_MAX_TRANSFER;
	if (export->max_transfer < export->min_block)
		export->max_transfer = export->min_block;
	return 0;
}

static int read_constraints(struct nbd_export *export, bool readonly, char *why, size_t why_len)
{
	int64_t size = nbd_get_size(export->handle);
	int server_readonly = nbd_is_read_only(export->handle);

	if (size < 0 || server_readonly < 0)
		return libnbd_failed(export, why, why_len);
	if (server_readonly && !readonly)
		return refuse(export, EROFS, why, why_len, "the export is read-only: give readonly=on");
	export->readonly = readonly || server_readonly;
	export->size = (uint64_t)size & ~(uint64_t)(SECTOR_SIZE - 1);
	if (!export->size)
		return refuse(export, EINVAL, why, why_len, "the export is smaller than one sector");
	if ((uint64_t)size != export->size)
		log_warn("nbd=%s: the export's %lld bytes are not whole sectors: serving %llu",
			 export->uri, (long long)size, (unsigned long long)export->size);
	export->can_flush = nbd_can_flush(export->handle) == 1;
	export->can_trim = !export->readonly && nbd_can_trim(export->handle) == 1;
	export->can_zero = !export->readonly && nbd_can_zero(export->handle) == 1;
	return read_block_sizes(export, why, why_len);
}

/* The handshake on the supervisor's socket, run here by hand under a deadline. */
static int handshake_within(struct nbd_export *export, int fd, int timeout_ms)
{
	struct timespec start, now;

	export->handle = nbd_export_handshake(export, fd);
	if (!export->handle)
		return -EIO;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (nbd_aio_is_connecting(export->handle) == 1) {
		unsigned int dir = nbd_aio_get_direction(export->handle);
		struct pollfd pfd = { .fd = nbd_aio_get_fd(export->handle) };
		int left, ready;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
					  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		pfd.events = (short)((dir & LIBNBD_AIO_DIRECTION_READ ? POLLIN : 0) |
				     (dir & LIBNBD_AIO_DIRECTION_WRITE ? POLLOUT : 0));
		ready = poll(&pfd, 1, left);
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    nbd_aio_notify_read(export->handle))
			return -EIO;
		if (ready > 0 && (pfd.revents & POLLOUT) && nbd_aio_notify_write(export->handle))
			return -EIO;
	}
	return nbd_aio_is_ready(export->handle) == 1 ? 0 : -EIO;
}

/* What the URI asks of the handshake: export name, TLS and its credentials (nbd_connect_uri(3)). */
static int set_up(const struct nbd_export *export, struct nbd_handle *h)
{
	const struct nbd_uri *uri = &export->parsed;

	if (nbd_set_export_name(h, uri->export_name))
		return -1;
	if (!uri->tls)
		return 0;
	if (nbd_set_tls(h, LIBNBD_TLS_REQUIRE) ||
	    (uri->user && nbd_set_tls_username(h, uri->user)) ||
	    (uri->tls_certificates && nbd_set_tls_certificates(h, uri->tls_certificates)) ||
	    (uri->tls_psk_file && nbd_set_tls_psk_file(h, uri->tls_psk_file)))
		return -1;
	return 0;
}

struct nbd_handle *nbd_export_handshake(const struct nbd_export *export, int fd)
{
	struct nbd_handle *h = nbd_create();

	if (!h) {
		close(fd);
		return NULL;
	}
	if (set_up(export, h) || nbd_aio_connect_socket(h, fd)) {
		/* libnbd owns @fd once the call is made, not before it. */
		if (nbd_aio_is_created(h) == 1)
			close(fd);
		nbd_close(h);
		return NULL;
	}
	return h;
}

/* The supervisor's socket, the handshake, the constraints. */
static int connect_export(struct nbd_export *export, bool readonly, char *why, size_t why_len)
{
	int fd = export->host ? export->host->connect_now(export->host, export->device) : -ENOTCONN;
	char what[300];
	int ret;

	if (fd < 0) {
		snprintf(what, sizeof(what), "cannot connect: %s", strerror(-fd));
		return refuse(export, -fd, why, why_len, what);
	}
	ret = handshake_within(export, fd, NBD_EXPORT_HANDSHAKE_MS);
	if (ret == -ETIMEDOUT)
		return refuse(export, ETIMEDOUT, why, why_len, "the server did not finish the "
			      "handshake within " NBD_EXPORT_HANDSHAKE_TEXT);
	if (ret)
		return ret == -EIO ? libnbd_failed(export, why, why_len) :
				     refuse(export, -ret, why, why_len, strerror(-ret));
	return read_constraints(export, readonly, why, why_len);
}

int nbd_export_open(struct nbd_export *export, const char *uri, bool readonly,
		    const struct backend_host *host, unsigned int device, char *why, size_t why_len)
{
	char reason[256];
	int ret;

	/* It shares blk_options' union with an image: nothing in it is ours yet. */
	*export = (struct nbd_export){ .uri = uri, .host = host, .device = device };
	ret = nbd_uri_parse(uri, &export->parsed, reason, sizeof(reason));
	if (ret)
		return refuse(export, -ret, why, why_len, reason);
	return connect_export(export, readonly, why, why_len);
}

void nbd_export_close(struct nbd_export *export)
{
	if (export->handle)
		nbd_close(export->handle);
	export->handle = NULL;
	nbd_uri_free(&export->parsed);
}

/* What the guest was told and a new connection no longer offers, or NULL. */
static const char *what_changed(const struct nbd_export *export, struct nbd_handle *h)
{
	int64_t size = nbd_get_size(h);
	int64_t min = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	int64_t max = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);

	if (size < 0 || min < 0 || max < 0)
		return nbd_get_error() ? nbd_get_error() : "the server's export cannot be read";
	if ((uint64_t)size < export->size)
		return "the export is smaller than the disk the guest has";
	if (!export->readonly && nbd_is_read_only(h) != 0)
		return "the export is read-only now";
	if ((export->can_flush && nbd_can_flush(h) != 1) ||
	    (export->can_trim && nbd_can_trim(h) != 1) ||
	    (export->can_zero && nbd_can_zero(h) != 1))
		return "the export no longer offers flush, trim or zero as it did";
	if ((uint64_t)min > export->min_block ||
	    (max > 0 && (uint64_t)max < export->max_transfer))
		return "the export's block sizes no longer fit the guest's";
	return NULL;
}

int nbd_export_same(const struct nbd_export *export, struct nbd_handle *h, char *why,
		    size_t why_len)
{
	const char *what = what_changed(export, h);

	if (!what)
		return 0;
	snprintf(why, why_len, "%s", what);
	return -EIO;
}

void nbd_export_credentials(const struct nbd_export *export,
			    void (*keep)(void *ctx, const char *path), void *ctx)
{
	static const char *const names[] = { "ca-cert.pem", "client-cert.pem", "client-key.pem",
					      "ca-crl.pem" };
	const struct nbd_uri *uri = &export->parsed;
	char path[PATH_MAX];

	if (!uri->tls)
		return;
	if (uri->tls_psk_file)
		keep(ctx, uri->tls_psk_file);
	for (size_t i = 0; uri->tls_certificates && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", uri->tls_certificates, names[i]);
		keep(ctx, path);
	}
}
