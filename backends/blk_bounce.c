// SPDX-License-Identifier: MIT
/*
 * backends/blk_bounce.c: one reserved region per disk, handed out in
 * granules tracked by a bitmap. A request takes the first free run (first
 * fit, capped), so a fragmented budget gives smaller chunks rather than
 * none: a request waits only while every granule is in use.
 */
#include "backends/blk_bounce.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* 16 KiB: a 4 KiB request wastes little, and a 16 MiB budget has 1024 granules. */
#define GRANULE_MIN	(16u << 10)
#define ALIGN_MAX	(64u << 10)
#define WORD_BITS	64

struct blk_bounce {
	uint8_t *region;		/* granule-aligned, budget bytes */
	void *mapping;			/* what mmap returned */
	size_t mapping_len;
	uint32_t granule;
	unsigned int granules;
	uint64_t *used;			/* one bit per granule */
};

static bool granule_used(const struct blk_bounce *b, unsigned int i)
{
	return b->used[i / WORD_BITS] >> (i % WORD_BITS) & 1;
}

static void mark(struct blk_bounce *b, unsigned int first, unsigned int count, bool used)
{
	for (unsigned int i = first; i < first + count; i++) {
		if (used)
			b->used[i / WORD_BITS] |= 1ULL << (i % WORD_BITS);
		else
			b->used[i / WORD_BITS] &= ~(1ULL << (i % WORD_BITS));
	}
}

int blk_bounce_create(struct blk_bounce **out, uint64_t budget, uint32_t align)
{
	struct blk_bounce *b;
	uintptr_t base;

	if (budget < BLK_BOUNCE_BUDGET_MIN || budget > BLK_BOUNCE_BUDGET_MAX || !align ||
	    align > ALIGN_MAX || (align & (align - 1)))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->granule = align > GRANULE_MIN ? align : GRANULE_MIN;
	b->granules = (unsigned int)(budget / b->granule);
	b->used = calloc((b->granules + WORD_BITS - 1) / WORD_BITS, sizeof(*b->used));
	/* Reserved, not touched: only what requests use becomes resident. */
	b->mapping_len = (size_t)b->granules * b->granule + b->granule;
	b->mapping = mmap(NULL, b->mapping_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!b->used || b->mapping == MAP_FAILED) {
		if (b->mapping != MAP_FAILED)
			munmap(b->mapping, b->mapping_len);
		free(b->used);
		free(b);
		return -ENOMEM;
	}
	base = ((uintptr_t)b->mapping + b->granule - 1) & ~(uintptr_t)(b->granule - 1);
	b->region = (uint8_t *)base;
	*out = b;
	return 0;
}

void blk_bounce_destroy(struct blk_bounce *b)
{
	if (!b)
		return;
	munmap(b->mapping, b->mapping_len);
	free(b->used);
	free(b);
}

void *blk_bounce_take(struct blk_bounce *b, uint64_t want, uint64_t *len)
{
	uint64_t capped = want < BLK_BOUNCE_CHUNK_MAX ? want : BLK_BOUNCE_CHUNK_MAX;
	unsigned int need = (unsigned int)((capped + b->granule - 1) / b->granule);
	unsigned int first = 0, run = 0;

	for (unsigned int i = 0; i < b->granules && run < need; i++) {
		if (granule_used(b, i)) {
			if (run)
				break;	/* the first free run ends here */
			continue;
		}
		if (!run)
			first = i;
		run++;
	}
	if (!run)
		return NULL;
	mark(b, first, run, true);
	*len = (uint64_t)run * b->granule < capped ? (uint64_t)run * b->granule : capped;
	return b->region + (size_t)first * b->granule;
}

void blk_bounce_give(struct blk_bounce *b, void *chunk, uint64_t len)
{
	size_t first = (size_t)((uint8_t *)chunk - b->region) / b->granule;

	mark(b, (unsigned int)first, (unsigned int)((len + b->granule - 1) / b->granule), false);
}

void blk_bounce_copy(const struct iovec *iov, unsigned int nr, uint64_t offset, void *flat,
		     uint64_t len, bool to_iov)
{
	uint8_t *bytes = flat;

	for (unsigned int i = 0; i < nr && len; i++) {
		uint64_t n;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - offset < len ? iov[i].iov_len - offset : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + offset, bytes, n);
		else
			memcpy(bytes, (const uint8_t *)iov[i].iov_base + offset, n);
		bytes += n;
		len -= n;
		offset = 0;
	}
}
