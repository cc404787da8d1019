/* SPDX-License-Identifier: MIT */
/*
 * ecam/pci_config.h: one function's 4 KiB configuration space as a register
 * file with per-byte access masks.
 *
 * Every byte has a value and two masks: bits set in rw_mask take what the
 * guest writes, bits set in w1c_mask are cleared when the guest writes 1 to
 * them (PCI Local Bus 3.0, 6.2.3 "Status register"), every other bit is
 * read-only. The device side sets values with pci_config_set*(), which
 * ignore the masks.
 */
#ifndef XVP_ECAM_PCI_CONFIG_H
#define XVP_ECAM_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_SPACE_SIZE		4096
/* Capabilities live in the first 256 bytes (PCI 3.0, 6.7). */
#define PCI_CONFIG_LEGACY_SIZE		256

/* Type 0 header offsets (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID			0x00
#define PCI_DEVICE_ID			0x02
#define PCI_COMMAND			0x04
#define PCI_STATUS			0x06
#define PCI_REVISION_ID			0x08
#define PCI_CLASS_PROG			0x09
#define PCI_CLASS_DEVICE		0x0a
#define PCI_CACHE_LINE_SIZE		0x0c
#define PCI_LATENCY_TIMER		0x0d
#define PCI_HEADER_TYPE			0x0e
#define PCI_BIST			0x0f
#define PCI_BASE_ADDRESS_0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID		0x2c
#define PCI_SUBSYSTEM_ID		0x2e
#define PCI_ROM_ADDRESS			0x30
#define PCI_CAPABILITY_LIST		0x34
#define PCI_INTERRUPT_LINE		0x3c
#define PCI_INTERRUPT_PIN		0x3d

#define PCI_COMMAND_MEMORY		0x0002
#define PCI_COMMAND_MASTER		0x0004
#define PCI_COMMAND_PARITY		0x0040
#define PCI_COMMAND_SERR		0x0100
#define PCI_COMMAND_INTX_DISABLE	0x0400

#define PCI_STATUS_INTERRUPT		0x0008
#define PCI_STATUS_CAP_LIST		0x0010
/* Error bits, all write-1-to-clear (PCI 3.0, 6.2.3). */
#define PCI_STATUS_W1C_MASK		0xf900

#define PCI_HEADER_TYPE_MULTI_FUNCTION	0x80

#define PCI_BASE_ADDRESS_MEM_TYPE_64	0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH	0x08

struct pci_config {
	uint8_t value[PCI_CONFIG_SPACE_SIZE];
	uint8_t rw_mask[PCI_CONFIG_SPACE_SIZE];
	uint8_t w1c_mask[PCI_CONFIG_SPACE_SIZE];
	/* Offset of the last capability's "next" byte (PCI_CAPABILITY_LIST if none). */
	uint16_t cap_tail;
	/* Where the next capability will be placed. */
	uint16_t cap_free;
};

/* All bytes 0 and read-only; the capability list empty, to be placed from 0x40. */
void pci_config_init(struct pci_config *cfg);

/*
 * Guest-side access: @size is 1, 2 or 4 and @off naturally aligned and
 * inside the space; callers (the ECAM decoder) have already checked that.
 * Multi-byte values are little-endian, as on the bus.
 */
uint32_t pci_config_read(const struct pci_config *cfg, uint16_t off, unsigned int size);
void pci_config_write(struct pci_config *cfg, uint16_t off, unsigned int size, uint32_t value);

/* Device-side access: masks ignored. */
void pci_config_set8(struct pci_config *cfg, uint16_t off, uint8_t value);
void pci_config_set16(struct pci_config *cfg, uint16_t off, uint16_t value);
void pci_config_set32(struct pci_config *cfg, uint16_t off, uint32_t value);
uint8_t pci_config_get8(const struct pci_config *cfg, uint16_t off);
uint16_t pci_config_get16(const struct pci_config *cfg, uint16_t off);
uint32_t pci_config_get32(const struct pci_config *cfg, uint16_t off);

/* Mark bits as guest-writable / write-1-to-clear (@len bytes from @off). */
void pci_config_set_rw_mask(struct pci_config *cfg, uint16_t off, unsigned int len, uint32_t mask);
void pci_config_set_w1c_mask(struct pci_config *cfg, uint16_t off, unsigned int len, uint32_t mask);

/*
 * Append a capability of @len bytes (including the two-byte header) with ID
 * @cap_id to the list: sets Status.Capabilities List, links the previous
 * capability (or PCI_CAPABILITY_LIST) to it. Returns its offset (4-byte
 * aligned, inside the first 256 bytes), or -ENOSPC.
 */
int pci_config_add_capability(struct pci_config *cfg, uint8_t cap_id, unsigned int len);

#endif
