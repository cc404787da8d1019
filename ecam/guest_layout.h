/* SPDX-License-Identifier: MIT */
/*
 * ecam/guest_layout.h: where the host bridge sits in an Arm guest's physical
 * address space, and the one function that decides whether a layout is safe.
 *
 * Both serving (daemon/) and the device-tree fragment (fdt/) validate with
 * guest_layout_validate(), so the two can never accept different layouts.
 * Pure data and arithmetic: no libxen call, usable from any layer above lib/.
 */
#ifndef XVP_ECAM_GUEST_LAYOUT_H
#define XVP_ECAM_GUEST_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Defaults: the windows Xen's public header reserves for a guest PCI host
 * bridge (xen/include/public/arch-arm.h, GUEST_VPCI_*), see docs/configuration.md.
 */
#define GUEST_LAYOUT_ECAM_BASE		0x10000000ULL
#define GUEST_LAYOUT_ECAM_SIZE		0x10000000ULL
#define GUEST_LAYOUT_MMIO_BASE		0x23000000ULL
#define GUEST_LAYOUT_MMIO_SIZE		0x10000000ULL
#define GUEST_LAYOUT_MMIO64_BASE	0x100000000ULL
#define GUEST_LAYOUT_MMIO64_SIZE	0x100000000ULL
#define GUEST_LAYOUT_INTX_SPI		44

/* Guest GIC: SPIs are interrupt IDs 32..1019 (GICv3 spec, 2.2.1). */
#define GUEST_LAYOUT_SPI_MIN		32
#define GUEST_LAYOUT_SPI_MAX		1019
#define GUEST_LAYOUT_INTX_LINES		4

/* Arm guests have at most a 48-bit IPA without LPA2 (Armv8.0 stage 2). */
#define GUEST_LAYOUT_IPA_LIMIT		(1ULL << 48)

struct guest_window {
	uint64_t base;
	uint64_t size;
};

struct guest_layout {
	struct guest_window ecam;
	struct guest_window mmio;	/* 32-bit non-prefetchable BAR window */
	struct guest_window mmio64;	/* 64-bit prefetchable BAR window */
	unsigned int intx_spi;		/* INTA..INTD are intx_spi .. intx_spi + 3 */
};

void guest_layout_default(struct guest_layout *layout);

/*
 * 0 if @layout is safe to serve, else -EINVAL with a one-line reason in
 * @why naming the option and the value at fault ("--mmio 0x40000000,...
 * overlaps guest RAM bank 0 (0x40000000-0xffffffff)").
 */
int guest_layout_validate(const struct guest_layout *layout, char *why, size_t why_len);

/* Number of buses the ECAM window covers (size / 1 MiB). */
unsigned int guest_layout_bus_count(const struct guest_layout *layout);

#endif
