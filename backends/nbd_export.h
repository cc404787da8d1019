/* SPDX-License-Identifier: MIT */
/*
 * backends/nbd_export.h: a connection to an NBD export through libnbd,
 * made before privileges drop (the serving worker needs no network), its
 * constraints read once: size, read-only, flush/trim/zero, block sizes.
 */
#ifndef XVP_BACKENDS_NBD_EXPORT_H
#define XVP_BACKENDS_NBD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nbd_handle;

/* libnbd itself refuses longer reads and writes (nbd_get_block_size(3)). */
#define NBD_EXPORT_MAX_TRANSFER		(32u << 20)
/* The largest block the guest can be asked to align to: its page. */
#define NBD_EXPORT_MAX_MIN_BLOCK	4096u

struct nbd_export {
	struct nbd_handle *handle;	/* NULL when closed */
	const char *uri;		/* the caller's, for messages */
	bool readonly;			/* asked for, or the server's */
	uint64_t size;			/* bytes, rounded down to 512 */
	bool can_flush, can_trim, can_zero;
	uint32_t min_block;		/* >= 512 */
	uint32_t max_transfer;		/* one read or write at most */
};

/*
 * Connect to @uri (nbd://, nbd+unix://, nbds://...; libnbd parses it) and
 * read the export's constraints; @uri must outlive the export. A writable export asked for that the server
 * offers read-only, a block size beyond a page, an export smaller than a
 * sector: refused. 0, or -errno with the reason in @why naming the URI.
 */
int nbd_export_open(struct nbd_export *export, const char *uri, bool readonly, char *why,
		    size_t why_len);
void nbd_export_close(struct nbd_export *export);

#endif
