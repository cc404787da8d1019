// SPDX-License-Identifier: MIT
/*
 * ecam/pci_function.c: a function's type 0 header, its memory BARs and its
 * Interrupt Status.
 */
#include "ecam/pci_function.h"

#include <errno.h>
#include <string.h>

#include "ecam/host_bridge.h"

/*
 * PCI 3.0, 6.2.2: the Command bits an emulated function honours. I/O Space
 * (bit 0) stays read-only 0: there are no I/O BARs (guests have no I/O window).
 */
#define COMMAND_WRITABLE	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
				 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* PCI 3.0, 6.2.5.1: bits 3:0 of a memory BAR are flags, the address starts at bit 4. */
#define BAR_FLAGS_MASK		0xfULL
#define BAR_MIN_SIZE		4096ULL

static uint16_t bar_offset(unsigned int bar)
{
	return (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
}

void pci_function_init(struct pci_function *fn, const struct pci_function_ids *ids,
		       const struct pci_function_ops *ops, void *opaque)
{
	struct pci_config *cfg = &fn->config;

	memset(fn, 0, sizeof(*fn));
	pci_config_init(cfg);
	fn->ops = ops;
	fn->opaque = opaque;

	pci_config_set16(cfg, PCI_VENDOR_ID, ids->vendor_id);
	pci_config_set16(cfg, PCI_DEVICE_ID, ids->device_id);
	pci_config_set32(cfg, PCI_REVISION_ID, (ids->class_code & 0xffffff) << 8 | ids->revision);
	pci_config_set16(cfg, PCI_SUBSYSTEM_VENDOR_ID, ids->subsystem_vendor_id);
	pci_config_set16(cfg, PCI_SUBSYSTEM_ID, ids->subsystem_id);
	pci_config_set8(cfg, PCI_INTERRUPT_PIN, ids->interrupt_pin);
	/* Header Type 0, BIST 0, Latency Timer 0 (PCIe Base 7.5.1.1.6: RO 0). */

	pci_config_set_rw_mask(cfg, PCI_COMMAND, 2, COMMAND_WRITABLE);
	pci_config_set_w1c_mask(cfg, PCI_STATUS, 2, PCI_STATUS_W1C_MASK);
	/* PCI 3.0, 6.2.4: software's scratch registers, no effect on the function. */
	pci_config_set_rw_mask(cfg, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_config_set_rw_mask(cfg, PCI_INTERRUPT_LINE, 1, 0xff);
	/* Expansion ROM BAR (0x30) stays read-only 0: no ROM (PCI 3.0, 6.2.5.2). */
}

static bool is_upper_half(const struct pci_function *fn, unsigned int bar)
{
	return bar > 0 && fn->bars[bar - 1].size && fn->bars[bar - 1].is_64bit;
}

static bool bar_size_valid(uint64_t size, bool is_64bit)
{
	if (size < BAR_MIN_SIZE || (size & (size - 1)))
		return false;
	/* A 32-bit BAR's size mask must leave at least bit 31 for the address. */
	return is_64bit || size <= (1ULL << 31);
}

int pci_function_add_bar(struct pci_function *fn, unsigned int bar, uint64_t size,
			 bool is_64bit, bool prefetchable)
{
	uint64_t size_mask = ~(size - 1);
	uint32_t flags = 0;

	if (bar >= PCI_NUM_BARS || (is_64bit && bar + 1 >= PCI_NUM_BARS))
		return -EINVAL;
	if (!bar_size_valid(size, is_64bit))
		return -EINVAL;
	if (fn->bars[bar].size || is_upper_half(fn, bar) || (is_64bit && fn->bars[bar + 1].size))
		return -EINVAL;

	fn->bars[bar] = (struct pci_bar){
		.size = size,
		.is_64bit = is_64bit,
		.prefetchable = prefetchable,
	};
	if (is_64bit)
		flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (prefetchable)
		flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;

	/*
	 * PCI 3.0, 6.2.5.1: software sizes a BAR by writing all-ones and reading
	 * back; only the address bits above the size take the write, so the
	 * readback is the size mask with the read-only flag bits.
	 */
	pci_config_set32(&fn->config, bar_offset(bar), flags);
	pci_config_set_rw_mask(&fn->config, bar_offset(bar), 4,
			       (uint32_t)(size_mask & ~BAR_FLAGS_MASK));
	if (is_64bit) {
		pci_config_set32(&fn->config, bar_offset(bar + 1), 0);
		pci_config_set_rw_mask(&fn->config, bar_offset(bar + 1), 4,
				       (uint32_t)(size_mask >> 32));
	}
	return 0;
}

uint64_t pci_function_bar_address(const struct pci_function *fn, unsigned int bar)
{
	uint64_t address;

	if (bar >= PCI_NUM_BARS || !fn->bars[bar].size)
		return 0;
	address = pci_config_get32(&fn->config, bar_offset(bar)) & ~BAR_FLAGS_MASK;
	if (fn->bars[bar].is_64bit)
		address |= (uint64_t)pci_config_get32(&fn->config, bar_offset(bar + 1)) << 32;
	return address;
}

void pci_function_set_intx(struct pci_function *fn, bool pending)
{
	uint16_t status = pci_config_get16(&fn->config, PCI_STATUS);

	/* PCI 3.0, 6.2.3: Interrupt Status reflects the function's request whatever INTx Disable says. */
	if (pending)
		status |= PCI_STATUS_INTERRUPT;
	else
		status &= (uint16_t)~PCI_STATUS_INTERRUPT;
	pci_config_set16(&fn->config, PCI_STATUS, status);
	fn->intx_pending = pending;
	if (fn->host)
		ecam_host_update_intx(fn->host, fn, pending);
}
