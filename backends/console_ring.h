/* SPDX-License-Identifier: MIT */
/*
 * backends/console_ring.h: the bounded output buffer of one console port.
 * Guest output waits here while the dom0 side cannot take it; when it is
 * full and nobody reads, the oldest bytes make room and are counted.
 */
#ifndef XVP_BACKENDS_CONSOLE_RING_H
#define XVP_BACKENDS_CONSOLE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct console_ring {
	uint8_t *bytes;
	size_t capacity;
	size_t start;		/* oldest byte */
	size_t used;
	uint64_t dropped;	/* bytes overwritten before anyone read them */
};

int console_ring_init(struct console_ring *ring, size_t capacity);
void console_ring_free(struct console_ring *ring);
static inline size_t console_ring_room(const struct console_ring *ring)
{
	return ring->capacity - ring->used;
}
/*
 * Append @len bytes gathered from @iov (skipping its first @skip bytes),
 * dropping the oldest bytes held (and, for more than the capacity, the
 * first of @iov's) to make room: what is kept is always the newest.
 */
void console_ring_append(struct console_ring *ring, const struct iovec *iov, unsigned int nr,
			 uint64_t skip, uint64_t len);
/* The held bytes as at most two segments (oldest first): how many. */
unsigned int console_ring_peek(const struct console_ring *ring, struct iovec iov[2]);
/* Forget the @len oldest bytes (written out). */
void console_ring_consume(struct console_ring *ring, size_t len);

#endif
