// SPDX-License-Identifier: MIT
/* tests/fuzz/guest_ram.c: the fuzz targets' guest RAM (see guest_ram.h). */
#include "tests/fuzz/guest_ram.h"

#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static struct {
	uint8_t *copies[2];
	unsigned int current;
	uint64_t generation;
	bool revoked;
} ram;

static bool overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a < b + b_len && b < a + a_len;
}

static int translate(void *opaque, uint64_t gpa, uint64_t len, bool writable,
		     struct virtio_mem_refs *refs, void **ptr)
{
	(void)opaque;
	(void)refs;
	if (ram.revoked || len == 0 || len - 1 > UINT64_MAX - gpa)
		return -EFAULT;
	if (gpa < GUEST_RAM_BASE || gpa - GUEST_RAM_BASE >= GUEST_RAM_SIZE ||
	    len > GUEST_RAM_SIZE - (gpa - GUEST_RAM_BASE))
		return -EFAULT;
	if (overlap(gpa, len, GUEST_HOLE, GUEST_HOLE_SIZE))
		return -EFAULT;
	if (writable && overlap(gpa, len, GUEST_ROM, GUEST_ROM_SIZE))
		return -EFAULT;
	*ptr = guest_ram_at(gpa);
	return 0;
}

static uint64_t generation(void *opaque)
{
	(void)opaque;
	return ram.generation;
}

static const struct virtio_mem_ops ops = {
	.translate = translate,
	.generation = generation,
};

const struct virtio_mem guest_ram = { .ops = &ops };

void guest_ram_reset(void)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (!ram.copies[i])
			ram.copies[i] = malloc(GUEST_RAM_SIZE);
		FUZZ_CHECK(ram.copies[i]);
	}
	ram.current = 0;
	ram.generation = 1;
	ram.revoked = false;
	ASAN_UNPOISON_MEMORY_REGION(ram.copies[0], GUEST_RAM_SIZE);
	memset(ram.copies[0], 0, GUEST_RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(ram.copies[1], GUEST_RAM_SIZE);
}

void guest_ram_move(void)
{
	uint8_t *from = ram.copies[ram.current], *to = ram.copies[!ram.current];

	ASAN_UNPOISON_MEMORY_REGION(to, GUEST_RAM_SIZE);
	memcpy(to, from, GUEST_RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(from, GUEST_RAM_SIZE);
	ram.current = !ram.current;
	ram.generation++;
}

void guest_ram_revoke(void)
{
	ASAN_POISON_MEMORY_REGION(ram.copies[ram.current], GUEST_RAM_SIZE);
	ram.revoked = true;
	ram.generation++;
}

bool guest_ram_revoked(void)
{
	return ram.revoked;
}

uint8_t *guest_ram_at(uint64_t gpa)
{
	return ram.copies[ram.current] + (gpa - GUEST_RAM_BASE);
}

bool guest_ram_contains(const void *p, uint64_t len, bool writable)
{
	uintptr_t start = (uintptr_t)ram.copies[ram.current], at = (uintptr_t)p;
	uint64_t gpa;

	if (at < start || at - start >= GUEST_RAM_SIZE || len > GUEST_RAM_SIZE - (at - start))
		return false;
	gpa = GUEST_RAM_BASE + (at - start);
	return len && !overlap(gpa, len, GUEST_HOLE, GUEST_HOLE_SIZE) &&
	       !(writable && overlap(gpa, len, GUEST_ROM, GUEST_ROM_SIZE));
}
