/* SPDX-License-Identifier: MIT */
/*
 * backends/blk_bounce.h: the bounce memory of one O_DIRECT disk, a fixed
 * budget. Foreign mappings of guest RAM cannot be the target of direct I/O
 * (VM_PFNMAP), so requests are copied through daemon memory; however large
 * a request claims to be, and however many are in flight, the device never
 * holds more than its budget: a request takes a chunk, does its I/O, gives
 * it back and takes the next, and waits when the budget is in use.
 */
#ifndef XVP_BACKENDS_BLK_BOUNCE_H
#define XVP_BACKENDS_BLK_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_BOUNCE_BUDGET_DEFAULT	(16ULL << 20)
#define BLK_BOUNCE_BUDGET_MIN		(64ULL << 10)
#define BLK_BOUNCE_BUDGET_MAX		(1ULL << 30)
/* The largest chunk one request takes at a time, so that large requests share the budget. */
#define BLK_BOUNCE_CHUNK_MAX		(2ULL << 20)

struct blk_bounce;

/*
 * @budget bytes (BLK_BOUNCE_BUDGET_MIN..MAX), every chunk aligned to and a
 * multiple of @align (the image's O_DIRECT alignments, at most 64 KiB).
 * 0, -EINVAL or -ENOMEM. The memory is reserved, not touched.
 */
int blk_bounce_create(struct blk_bounce **out, uint64_t budget, uint32_t align);
void blk_bounce_destroy(struct blk_bounce *bounce);

/*
 * A chunk for up to @want bytes (@want a multiple of @align): the first free
 * run of memory, at most BLK_BOUNCE_CHUNK_MAX, so possibly less than asked;
 * its length in *@len. NULL when the whole budget is in use.
 */
void *blk_bounce_take(struct blk_bounce *bounce, uint64_t want, uint64_t *len);
/* Give back a chunk of blk_bounce_take(), with the length it had. */
void blk_bounce_give(struct blk_bounce *bounce, void *chunk, uint64_t len);

/* Copy @len bytes between @flat and the bytes of @iov from @offset on (into @iov if @to_iov). */
void blk_bounce_copy(const struct iovec *iov, unsigned int nr, uint64_t offset, void *flat,
		     uint64_t len, bool to_iov);

#endif
