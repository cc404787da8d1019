/* SPDX-License-Identifier: MIT */
/*
 * ecam/ecam.h: the emulated pci-host-ecam-generic host bridge.
 *
 * It decodes accesses to the ECAM window (PCIe Base 5.0, 7.2.2: offset =
 * bus << 20 | device << 15 | function << 12 | register), holds the registry
 * of functions (which may change while the guest runs), and decides which
 * BARs decode: a BAR is routed only while its function has Memory Space
 * Enable set and the BAR lies wholly inside one of the configured BAR
 * windows, overlapping neither the ECAM window nor any other decoding BAR.
 * It knows nothing of Xen: routing goes through ecam_platform_ops.
 */
#ifndef XVP_ECAM_ECAM_H
#define XVP_ECAM_ECAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ecam/pci_function.h"

#define ECAM_BUS_SIZE		(1ULL << 20)
#define ECAM_MAX_BUSES		256
#define ECAM_MAX_BAR_WINDOWS	2

struct ecam_window {
	uint64_t base;
	uint64_t size;
};

struct ecam_host_config {
	struct ecam_window ecam;	/* size: a multiple of 1 MiB, at most 256 MiB */
	struct ecam_window bar_windows[ECAM_MAX_BAR_WINDOWS];
	unsigned int nr_bar_windows;
};

/* What the host bridge needs from the platform (xen/ in the daemon, plain memory in tests). */
struct ecam_platform_ops {
	/* Start routing guest accesses to [base, base + size) to fn's BAR @bar. 0 or -errno. */
	int (*map_bar)(void *opaque, struct pci_function *fn, unsigned int bar,
		       uint64_t base, uint64_t size);
	/* Stop routing a range map_bar() routed. */
	void (*unmap_bar)(void *opaque, struct pci_function *fn, unsigned int bar,
			  uint64_t base, uint64_t size);
	/*
	 * The function's INTx pin: @asserted true for a new interrupt event
	 * (also when it already was asserted), false when it deasserts.
	 * During the call fn->intx_asserted still holds the previous state.
	 */
	void (*intx_changed)(void *opaque, struct pci_function *fn, bool asserted);
};

struct ecam_host;

/* Creates the bridge with its host-bridge function at 00:00.0 (class 0x060000). */
int ecam_host_create(struct ecam_host **out, const struct ecam_host_config *config,
		     const struct ecam_platform_ops *ops, void *opaque);
/* Unmaps every routed BAR; the functions other than the host bridge stay their owners'. */
void ecam_host_destroy(struct ecam_host *host);

/*
 * Put @fn at @bus:@devfn. -EEXIST if the slot is taken, -EINVAL if the bus is
 * outside the ECAM window. The function answers from the next access on.
 */
int ecam_host_add_function(struct ecam_host *host, struct pci_function *fn,
			   uint8_t bus, uint8_t devfn);
/* Take @fn off the bus: its BARs are unmapped, its INTx deasserted, its slot reads all-ones. */
void ecam_host_remove_function(struct ecam_host *host, struct pci_function *fn);
struct pci_function *ecam_host_find_function(struct ecam_host *host, uint8_t bus, uint8_t devfn);

/*
 * Guest access at @offset into the ECAM window. Only naturally aligned 1-, 2-
 * and 4-byte accesses reach a register; any other access, and any access to
 * an absent function, reads all-ones (of @size bytes) and is ignored.
 */
uint64_t ecam_host_read(struct ecam_host *host, uint64_t offset, unsigned int size);
void ecam_host_write(struct ecam_host *host, uint64_t offset, unsigned int size, uint64_t value);

/* Re-evaluate which BARs decode (after a function changed them outside config writes). */
void ecam_host_update_bars(struct ecam_host *host);

/* All-ones of @size bytes (size 1..8). */
static inline uint64_t ecam_all_ones(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

#endif
