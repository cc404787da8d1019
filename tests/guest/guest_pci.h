/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/guest_pci.h: a guest's PCI driver, for tests: config accesses
 * through ECAM, bus enumeration and BAR sizing as an operating system does
 * them (PCI Local Bus 3.0 6.1, 6.2.5.1; PCIe Base 7.2.2), written against the
 * specifications and issued by a simulated vCPU; it uses none of the
 * daemon's device code, so a test compares the daemon with the spec.
 */
#ifndef XVP_TESTS_GUEST_GUEST_PCI_H
#define XVP_TESTS_GUEST_GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct sim_hv;

struct guest_pci {
	struct sim_hv *hv;
	unsigned int vcpu;	/* the vCPU that issues every access */
	uint64_t ecam_base;
	unsigned int nr_buses;
	unsigned int errors;	/* accesses that failed (timeout) rather than answered */
};

void guest_pci_init(struct guest_pci *pci, struct sim_hv *hv, unsigned int vcpu,
		    uint64_t ecam_base, uint64_t ecam_size);

/* Guest physical address of a config register. */
uint64_t guest_pci_config_addr(const struct guest_pci *pci, unsigned int bus, unsigned int devfn,
			       unsigned int reg);

/* Config read/write of @size (1, 2, 4) bytes; a failed access reads all-ones. */
uint32_t guest_pci_read(struct guest_pci *pci, unsigned int bus, unsigned int devfn,
			unsigned int reg, unsigned int size);
void guest_pci_write(struct guest_pci *pci, unsigned int bus, unsigned int devfn,
		     unsigned int reg, unsigned int size, uint32_t value);

struct guest_pci_bar {
	uint64_t size;		/* 0: not implemented */
	bool is_64bit;
	bool prefetchable;
	bool is_io;
};

struct guest_pci_function {
	unsigned int bus;
	unsigned int devfn;
	uint16_t vendor_id;
	uint16_t device_id;
	uint8_t revision;
	uint32_t class_code;
	uint8_t header_type;
	uint8_t interrupt_pin;
	struct guest_pci_bar bars[6];
};

/*
 * Enumerate @bus the way Linux does (pci_scan_slot): function 0 of each
 * device, functions 1..7 only when function 0 is multi-function. Fills up
 * to @max entries, returns how many functions were found.
 */
int guest_pci_scan_bus(struct guest_pci *pci, unsigned int bus, struct guest_pci_function *found,
		       int max);

/*
 * Size every BAR of @fn (PCI 3.0, 6.2.5.1): memory decoding off, write
 * all-ones, read back, restore the original value and the command register.
 */
void guest_pci_size_bars(struct guest_pci *pci, struct guest_pci_function *fn);

/* "Host bridge" etc. for a 24-bit class code, for printing. */
const char *guest_pci_class_name(uint32_t class_code);

#endif
