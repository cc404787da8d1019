/* SPDX-License-Identifier: MIT */
/*
 * backends/nbd_export.h: a connection to an NBD export through libnbd, on
 * a socket the supervisor connected (backend_host, so the serving worker
 * needs no network), the handshake run here; the export's constraints read
 * once: size, read-only, flush/trim/zero, block sizes. A later connection
 * (backends/disk_nbd.c reconnects) must offer what the first one did.
 */
#ifndef XVP_BACKENDS_NBD_EXPORT_H
#define XVP_BACKENDS_NBD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "backends/nbd_uri.h"

struct nbd_handle;

/* libnbd itself refuses longer reads and writes (nbd_get_block_size(3)). */
#define NBD_EXPORT_MAX_TRANSFER		(32u << 20)
/* The largest block the guest can be asked to align to: its page. */
#define NBD_EXPORT_MAX_MIN_BLOCK	4096u
/* A server that takes longer to shake hands is as good as down. */
#define NBD_EXPORT_HANDSHAKE_MS		10000

struct nbd_export {
	struct nbd_handle *handle;	/* NULL when closed */
	const char *uri;		/* the caller's, for messages */
	struct nbd_uri parsed;		/* what the handshake sends */
	const struct backend_host *host;	/* asked for connections */
	unsigned int device;		/* ... as this device */
	bool readonly;			/* asked for, or the server's */
	uint64_t size;			/* bytes, rounded down to 512 */
	bool can_flush, can_trim, can_zero;
	uint32_t min_block;		/* >= 512 */
	uint32_t max_transfer;		/* one read or write at most */
};

/*
 * Ask @host for a connection to @uri (nbd://, nbd+unix://, nbds://...) as
 * device @device, shake hands within NBD_EXPORT_HANDSHAKE_MS and read the
 * export's constraints; @uri and @host must outlive the export. A writable
 * export asked for that the server offers read-only, a block size beyond a
 * page, an export smaller than a sector: refused. 0, or -errno with the
 * reason in @why naming the URI.
 */
int nbd_export_open(struct nbd_export *export, const char *uri, bool readonly,
		    const struct backend_host *host, unsigned int device, char *why, size_t why_len);
void nbd_export_close(struct nbd_export *export);

/*
 * The files a TLS handshake of @export reads (nbds://: tls-psk-file=, and
 * what libnbd reads of tls-certificates=, lib/crypto.c's load_certificates),
 * each given to @keep; none without TLS.
 */
void nbd_export_credentials(const struct nbd_export *export,
			    void (*keep)(void *ctx, const char *path), void *ctx);

/*
 * A new handle for @export, set up for the handshake on socket @fd (which
 * it then owns, whatever happens): export name, TLS. NULL with libnbd's
 * error set.
 */
struct nbd_handle *nbd_export_handshake(const struct nbd_export *export, int fd);

/*
 * After a reconnect's handshake on @h: does the export still offer what the
 * guest was told (size, writability, flush, trim, zero, block sizes)? 0, or
 * -EIO with what changed in @why.
 */
int nbd_export_same(const struct nbd_export *export, struct nbd_handle *h, char *why,
		    size_t why_len);

#endif
