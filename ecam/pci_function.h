/* SPDX-License-Identifier: MIT */
/*
 * ecam/pci_function.h: a PCI function as the host bridge sees it: its
 * configuration space, its memory BARs and its INTx state. What the function
 * does with its BARs is the owner's business (the ops table); the host
 * bridge decides when a BAR decodes and asks the platform to route it.
 */
#ifndef XVP_ECAM_PCI_FUNCTION_H
#define XVP_ECAM_PCI_FUNCTION_H

#include <stdbool.h>
#include <stdint.h>

#include "ecam/pci_config.h"

#define PCI_NUM_BARS		6
#define PCI_DEVFN(dev, fn)	((uint8_t)(((dev) << 3) | (fn)))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)

struct pci_function;
struct ecam_host;

struct pci_function_ops {
	/* Guest access to @bar at @offset; @size is 1, 2, 4 or 8, the access lies inside the BAR. */
	uint64_t (*bar_read)(struct pci_function *fn, unsigned int bar, uint64_t offset,
			     unsigned int size);
	void (*bar_write)(struct pci_function *fn, unsigned int bar, uint64_t offset,
			  unsigned int size, uint64_t value);
	/*
	 * Optional: called after every guest config write that the register
	 * file accepted (for registers with side effects beyond the masks).
	 */
	void (*config_written)(struct pci_function *fn, uint16_t off, unsigned int size);
	/*
	 * Optional: a guest config read of a register whose value is not in the
	 * register file (a window onto something else, such as virtio's
	 * VIRTIO_PCI_CAP_PCI_CFG data). True if it produced *value.
	 */
	bool (*config_read)(struct pci_function *fn, uint16_t off, unsigned int size, uint32_t *value);
};

struct pci_function_ids {
	uint16_t vendor_id;
	uint16_t device_id;
	uint8_t revision;
	uint32_t class_code;	/* 24 bits: base class, sub-class, prog-if */
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint8_t interrupt_pin;	/* 0: none, 1..4: INTA..INTD */
};

struct pci_bar {
	uint64_t size;		/* 0: BAR not implemented; else a power of two >= 4 KiB */
	bool is_64bit;
	bool prefetchable;
	/* Where the host bridge currently routes it (valid when mapped). */
	bool mapped;
	uint64_t mapped_base;
	/* The host bridge logged that it refuses to route the BAR at this address. */
	bool refusal_logged;
	uint64_t refused_base;
};

struct pci_function {
	struct pci_config config;
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_function_ops *ops;
	void *opaque;		/* owner's data */
	/* Set by the host bridge while the function is on its bus. */
	struct ecam_host *host;
	uint8_t bus;
	uint8_t devfn;
	/* Interrupt Status: the function wants its INTx pin asserted. */
	bool intx_pending;
	/* What the host bridge last reported for this function's pin. */
	bool intx_asserted;
	char name[32];		/* "00:03.0", for log lines */
};

/*
 * A type 0 header with @ids: Command has Memory Space, Bus Master, Parity,
 * SERR and INTx Disable writable; Status error bits are W1C; Cache Line Size
 * and Interrupt Line are writable; no I/O space (guests have no I/O window: no I/O BAR).
 */
void pci_function_init(struct pci_function *fn, const struct pci_function_ids *ids,
		       const struct pci_function_ops *ops, void *opaque);

/*
 * Declare memory BAR @bar of @size bytes (a power of two, at least 4 KiB).
 * A 64-bit BAR takes @bar and @bar + 1. Returns 0 or -EINVAL.
 */
int pci_function_add_bar(struct pci_function *fn, unsigned int bar, uint64_t size,
			 bool is_64bit, bool prefetchable);

/* The address the guest programmed into @bar (flags masked off). */
uint64_t pci_function_bar_address(const struct pci_function *fn, unsigned int bar);

/*
 * Set or clear the function's Interrupt Status (Status bit 3). The pin is
 * asserted while Interrupt Status is set and Command.INTx Disable is clear;
 * each change, and each new event while asserted (@pending true again), is
 * reported to the host bridge's platform ops.
 */
void pci_function_set_intx(struct pci_function *fn, bool pending);

#endif
