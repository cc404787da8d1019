// SPDX-License-Identifier: MIT
/* backends/console_ring.c: a byte ring that keeps the newest bytes. */
#include "backends/console_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int console_ring_init(struct console_ring *ring, size_t capacity)
{
	*ring = (struct console_ring){ .capacity = capacity };
	ring->bytes = malloc(capacity);
	return ring->bytes ? 0 : -ENOMEM;
}

void console_ring_free(struct console_ring *ring)
{
	free(ring->bytes);
	*ring = (struct console_ring){ 0 };
}

void console_ring_consume(struct console_ring *ring, size_t len)
{
	if (len > ring->used)
		len = ring->used;
	ring->start = (ring->start + len) % ring->capacity;
	ring->used -= len;
}

/* Copy @len bytes in at the end (room was made). */
static void put(struct console_ring *ring, const uint8_t *src, size_t len)
{
	size_t end = (ring->start + ring->used) % ring->capacity;
	size_t first = ring->capacity - end < len ? ring->capacity - end : len;

	memcpy(ring->bytes + end, src, first);
	memcpy(ring->bytes, src + first, len - first);
	ring->used += len;
}

void console_ring_append(struct console_ring *ring, const struct iovec *iov, unsigned int nr,
			 uint64_t skip, uint64_t len)
{
	/* Bytes that would be overwritten anyway are neither copied nor held. */
	if (len > ring->capacity) {
		ring->dropped += len - ring->capacity;
		skip += len - ring->capacity;
		len = ring->capacity;
	}
	if (len > console_ring_room(ring)) {
		size_t drop = len - console_ring_room(ring);

		ring->dropped += drop;
		console_ring_consume(ring, drop);
	}
	for (unsigned int i = 0; i < nr && len; i++) {
		size_t seg = iov[i].iov_len, take;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		take = seg - skip < len ? seg - skip : len;
		put(ring, (const uint8_t *)iov[i].iov_base + skip, take);
		skip = 0;
		len -= take;
	}
}

unsigned int console_ring_peek(const struct console_ring *ring, struct iovec iov[2])
{
	size_t first = ring->capacity - ring->start;

	if (!ring->used)
		return 0;
	if (first >= ring->used) {
		iov[0] = (struct iovec){ ring->bytes + ring->start, ring->used };
		return 1;
	}
	iov[0] = (struct iovec){ ring->bytes + ring->start, first };
	iov[1] = (struct iovec){ ring->bytes, ring->used - first };
	return 2;
}
