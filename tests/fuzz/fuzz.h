/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz.h: what the fuzz targets share. The libFuzzer entry
 * points (run_corpus.c calls the same two without libFuzzer), a reader that
 * turns the input into values (zeros once it runs out, so every input is a
 * complete run), and FUZZ_CHECK: an invariant that does not hold aborts, so
 * libFuzzer saves the input as a crash.
 */
#ifndef XVP_TESTS_FUZZ_FUZZ_H
#define XVP_TESTS_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

struct fuzz_input {
	const uint8_t *data;
	size_t size;
	size_t pos;
};

static inline bool fuzz_done(const struct fuzz_input *in)
{
	return in->pos >= in->size;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

/* Little-endian, as the seed files are written. */
static inline uint64_t fuzz_le(struct fuzz_input *in, unsigned int bytes)
{
	uint64_t value = 0;

	for (unsigned int i = 0; i < bytes; i++)
		value |= (uint64_t)fuzz_u8(in) << (8 * i);
	return value;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	return (uint16_t)fuzz_le(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
	return (uint32_t)fuzz_le(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
	return fuzz_le(in, 8);
}

/* Copy up to @len bytes of input into @dst; the rest of @dst is left as it was. Bytes copied. */
static inline size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t len)
{
	size_t n = in->size - in->pos < len ? in->size - in->pos : len;

	memcpy(dst, in->data + in->pos, n);
	in->pos += n;
	return n;
}

/* 1, 2, 4 or 8: the access sizes an ioreq can carry. */
static inline unsigned int fuzz_access_size(struct fuzz_input *in)
{
	return 1u << (fuzz_u8(in) & 3);
}

#endif
