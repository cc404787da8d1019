// SPDX-License-Identifier: MIT
/*
 * ecam/pci_config.c: a function's configuration space as bytes with
 * per-byte read-write and write-1-to-clear masks.
 *
 * The guest-side accessors are reached only through the ECAM decoder, which
 * has checked size and alignment; they still refuse anything outside the
 * space, so that no caller mistake can turn into an out-of-bounds access.
 */
#include "ecam/pci_config.h"

#include <errno.h>
#include <string.h>

/* PCI 3.0, 6.7: the first capability sits after the 64-byte header. */
#define FIRST_CAPABILITY_OFFSET	0x40

static bool in_space(uint16_t off, unsigned int len)
{
	return len <= PCI_CONFIG_SPACE_SIZE && off <= PCI_CONFIG_SPACE_SIZE - len;
}

static bool guest_access_ok(uint16_t off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) && in_space(off, size);
}

void pci_config_init(struct pci_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cap_tail = PCI_CAPABILITY_LIST;
	cfg->cap_free = FIRST_CAPABILITY_OFFSET;
}

static uint32_t get_le(const uint8_t *bytes, uint16_t off, unsigned int size)
{
	uint32_t value = 0;

	for (unsigned int i = 0; i < size; i++)
		value |= (uint32_t)bytes[off + i] << (8 * i);
	return value;
}

uint32_t pci_config_read(const struct pci_config *cfg, uint16_t off, unsigned int size)
{
	if (!guest_access_ok(off, size))
		return UINT32_MAX;
	return get_le(cfg->value, off, size);
}

void pci_config_write(struct pci_config *cfg, uint16_t off, unsigned int size, uint32_t value)
{
	if (!guest_access_ok(off, size))
		return;
	for (unsigned int i = 0; i < size; i++) {
		uint8_t in = (uint8_t)(value >> (8 * i));
		uint8_t rw = cfg->rw_mask[off + i];
		uint8_t w1c = cfg->w1c_mask[off + i];
		uint8_t byte = cfg->value[off + i];

		byte = (uint8_t)((byte & ~rw) | (in & rw));
		byte &= (uint8_t)~(in & w1c);
		cfg->value[off + i] = byte;
	}
}

static void set_le(uint8_t *bytes, uint16_t off, unsigned int len, uint32_t value)
{
	if (!in_space(off, len))
		return;
	for (unsigned int i = 0; i < len; i++)
		bytes[off + i] = (uint8_t)(value >> (8 * i));
}

void pci_config_set8(struct pci_config *cfg, uint16_t off, uint8_t value)
{
	set_le(cfg->value, off, 1, value);
}

void pci_config_set16(struct pci_config *cfg, uint16_t off, uint16_t value)
{
	set_le(cfg->value, off, 2, value);
}

void pci_config_set32(struct pci_config *cfg, uint16_t off, uint32_t value)
{
	set_le(cfg->value, off, 4, value);
}

uint8_t pci_config_get8(const struct pci_config *cfg, uint16_t off)
{
	return in_space(off, 1) ? (uint8_t)get_le(cfg->value, off, 1) : 0;
}

uint16_t pci_config_get16(const struct pci_config *cfg, uint16_t off)
{
	return in_space(off, 2) ? (uint16_t)get_le(cfg->value, off, 2) : 0;
}

uint32_t pci_config_get32(const struct pci_config *cfg, uint16_t off)
{
	return in_space(off, 4) ? get_le(cfg->value, off, 4) : 0;
}

/*
 * @mask gives bytes 0..3 of the range, little-endian; a range longer than
 * four bytes repeats it, so a capability body can be made writable in one
 * call with mask 0xffffffff.
 */
static void set_mask(uint8_t *masks, uint16_t off, unsigned int len, uint32_t mask)
{
	if (!in_space(off, len))
		return;
	for (unsigned int i = 0; i < len; i++)
		masks[off + i] = (uint8_t)(mask >> (8 * (i % 4)));
}

void pci_config_set_rw_mask(struct pci_config *cfg, uint16_t off, unsigned int len, uint32_t mask)
{
	set_mask(cfg->rw_mask, off, len, mask);
}

void pci_config_set_w1c_mask(struct pci_config *cfg, uint16_t off, unsigned int len, uint32_t mask)
{
	set_mask(cfg->w1c_mask, off, len, mask);
}

int pci_config_add_capability(struct pci_config *cfg, uint8_t cap_id, unsigned int len)
{
	uint16_t off = cfg->cap_free;

	/* Every capability starts with its ID and next pointer (PCI 3.0, 6.7). */
	if (len < 2)
		return -EINVAL;
	if (off >= PCI_CONFIG_LEGACY_SIZE || len > (unsigned int)(PCI_CONFIG_LEGACY_SIZE - off))
		return -ENOSPC;

	cfg->value[off] = cap_id;
	cfg->value[off + 1] = 0;
	cfg->value[cfg->cap_tail] = (uint8_t)off;
	cfg->cap_tail = off + 1;
	/* PCI 3.0, 6.7: capabilities are DWORD aligned (pointer bits 1:0 reserved). */
	cfg->cap_free = (uint16_t)((off + len + 3) & ~3u);
	pci_config_set16(cfg, PCI_STATUS,
			 pci_config_get16(cfg, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	return off;
}
