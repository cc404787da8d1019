/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/guest_ram.h: 1 MiB of guest RAM for the virtio targets, as
 * struct virtio_mem (virtio/virtio_mem.h) sees it: guest-physical
 * GUEST_RAM_BASE on, with a hole that is not RAM and a part that is
 * read-only. guest_ram_move() is Xen replacing the mapping: the generation
 * changes and, under ASan, the old copy is poisoned, so a pointer kept
 * across the change is reported the moment it is used. guest_ram_revoke()
 * takes it away altogether.
 */
#ifndef XVP_TESTS_FUZZ_GUEST_RAM_H
#define XVP_TESTS_FUZZ_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"

#define GUEST_RAM_BASE	0x40000000ULL
#define GUEST_RAM_SIZE	0x100000ULL
#define GUEST_HOLE	(GUEST_RAM_BASE + 0xe0000)	/* not RAM */
#define GUEST_HOLE_SIZE	0x10000ULL
#define GUEST_ROM	(GUEST_RAM_BASE + 0xf0000)	/* RAM the device may only read */
#define GUEST_ROM_SIZE	0x10000ULL

extern const struct virtio_mem guest_ram;

/* All zeros, at generation 1. */
void guest_ram_reset(void);
/* The same contents somewhere else, at a new generation; the old place is gone. */
void guest_ram_move(void);
/* Xen takes the mapping away for good: a new generation, nothing translates. */
void guest_ram_revoke(void);
bool guest_ram_revoked(void);
/* Where guest-physical @gpa is now (inside the RAM; no checks). */
uint8_t *guest_ram_at(uint64_t gpa);
/* Is [p, p + len) guest RAM now, and writable if @writable? */
bool guest_ram_contains(const void *p, uint64_t len, bool writable);

#endif
