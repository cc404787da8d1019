// SPDX-License-Identifier: MIT
/* tests/guest/guest_pci.c: ECAM config access, enumeration and BAR sizing, guest side. */
#include "tests/guest/guest_pci.h"

#include "tests/sim/hypervisor.h"

/* PCI Local Bus 3.0, 6.1: type 0 header. */
#define REG_VENDOR_ID		0x00
#define REG_COMMAND		0x04
#define REG_REVISION_CLASS	0x08
#define REG_HEADER_TYPE		0x0e
#define REG_BAR0		0x10
#define REG_INTERRUPT_PIN	0x3d
#define COMMAND_MEMORY		0x0002
#define HEADER_MULTI_FUNCTION	0x80

void guest_pci_init(struct guest_pci *pci, struct sim_hv *hv, unsigned int vcpu,
		    uint64_t ecam_base, uint64_t ecam_size)
{
	pci->hv = hv;
	pci->vcpu = vcpu;
	pci->ecam_base = ecam_base;
	pci->nr_buses = (unsigned int)(ecam_size >> 20);
	pci->errors = 0;
}

uint64_t guest_pci_config_addr(const struct guest_pci *pci, unsigned int bus, unsigned int devfn,
			       unsigned int reg)
{
	/* PCIe Base 5.0, 7.2.2: bus << 20 | device << 15 | function << 12 | register. */
	return pci->ecam_base + ((uint64_t)bus << 20) + ((uint64_t)devfn << 12) + reg;
}

uint32_t guest_pci_read(struct guest_pci *pci, unsigned int bus, unsigned int devfn,
			unsigned int reg, unsigned int size)
{
	uint64_t value;

	if (sim_vcpu_mmio_read(pci->hv, pci->vcpu, guest_pci_config_addr(pci, bus, devfn, reg),
			       size, &value) < 0) {
		pci->errors++;
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	}
	return (uint32_t)value;
}

void guest_pci_write(struct guest_pci *pci, unsigned int bus, unsigned int devfn,
		     unsigned int reg, unsigned int size, uint32_t value)
{
	if (sim_vcpu_mmio_write(pci->hv, pci->vcpu, guest_pci_config_addr(pci, bus, devfn, reg),
				size, value) < 0)
		pci->errors++;
}

static bool read_function(struct guest_pci *pci, unsigned int bus, unsigned int devfn,
			  struct guest_pci_function *fn)
{
	uint32_t id = guest_pci_read(pci, bus, devfn, REG_VENDOR_ID, 4);
	uint32_t class_rev;

	/* PCIe Base 7.5.1.1.1: a Vendor ID of FFFFh means no function is present. */
	if ((id & 0xffff) == 0xffff)
		return false;
	class_rev = guest_pci_read(pci, bus, devfn, REG_REVISION_CLASS, 4);
	*fn = (struct guest_pci_function){
		.bus = bus,
		.devfn = devfn,
		.vendor_id = (uint16_t)id,
		.device_id = (uint16_t)(id >> 16),
		.revision = (uint8_t)class_rev,
		.class_code = class_rev >> 8,
		.header_type = (uint8_t)guest_pci_read(pci, bus, devfn, REG_HEADER_TYPE, 1),
		.interrupt_pin = (uint8_t)guest_pci_read(pci, bus, devfn, REG_INTERRUPT_PIN, 1),
	};
	return true;
}

int guest_pci_scan_bus(struct guest_pci *pci, unsigned int bus, struct guest_pci_function *found,
		       int max)
{
	int count = 0;

	for (unsigned int dev = 0; dev < 32; dev++) {
		struct guest_pci_function fn0;

		if (!read_function(pci, bus, dev << 3, &fn0))
			continue;
		if (count < max)
			found[count] = fn0;
		count++;
		if (!(fn0.header_type & HEADER_MULTI_FUNCTION))
			continue;
		for (unsigned int func = 1; func < 8; func++) {
			struct guest_pci_function fn;

			if (!read_function(pci, bus, dev << 3 | func, &fn))
				continue;
			if (count < max)
				found[count] = fn;
			count++;
		}
	}
	return count;
}

/* Size one BAR register pair; returns how many BAR slots it used (1 or 2). */
static unsigned int size_bar(struct guest_pci *pci, struct guest_pci_function *fn, unsigned int bar)
{
	unsigned int reg = REG_BAR0 + 4 * bar;
	uint32_t original = guest_pci_read(pci, fn->bus, fn->devfn, reg, 4);
	uint32_t low, high = 0xffffffff, original_high = 0;
	struct guest_pci_bar *out = &fn->bars[bar];
	uint64_t mask;

	guest_pci_write(pci, fn->bus, fn->devfn, reg, 4, 0xffffffff);
	low = guest_pci_read(pci, fn->bus, fn->devfn, reg, 4);
	guest_pci_write(pci, fn->bus, fn->devfn, reg, 4, original);
	if (low == 0)
		return 1;
	out->is_io = low & 1;
	if (out->is_io) {
		out->size = (~(uint64_t)(low & ~3u) + 1) & 0xffffffff;
		return 1;
	}
	out->is_64bit = ((low >> 1) & 3) == 2;
	out->prefetchable = low & 8;
	if (out->is_64bit && bar < 5) {
		original_high = guest_pci_read(pci, fn->bus, fn->devfn, reg + 4, 4);
		guest_pci_write(pci, fn->bus, fn->devfn, reg + 4, 4, 0xffffffff);
		high = guest_pci_read(pci, fn->bus, fn->devfn, reg + 4, 4);
		guest_pci_write(pci, fn->bus, fn->devfn, reg + 4, 4, original_high);
	}
	mask = (uint64_t)high << 32 | (low & ~0xfu);
	out->size = ~mask + 1;
	return out->is_64bit ? 2 : 1;
}

void guest_pci_size_bars(struct guest_pci *pci, struct guest_pci_function *fn)
{
	uint16_t command = (uint16_t)guest_pci_read(pci, fn->bus, fn->devfn, REG_COMMAND, 2);

	/* Decoding off while the BARs hold the sizing pattern (PCI 3.0, 6.2.5.1). */
	guest_pci_write(pci, fn->bus, fn->devfn, REG_COMMAND, 2, command & ~COMMAND_MEMORY);
	for (unsigned int bar = 0; bar < 6;)
		bar += size_bar(pci, fn, bar);
	guest_pci_write(pci, fn->bus, fn->devfn, REG_COMMAND, 2, command);
}

const char *guest_pci_class_name(uint32_t class_code)
{
	switch (class_code >> 8) {
	case 0x0600: return "Host bridge";
	case 0x0604: return "PCI bridge";
	case 0x0100: return "SCSI storage controller";
	case 0x0180: return "Mass storage controller";
	case 0x0200: return "Ethernet controller";
	case 0x0780: return "Communication controller";
	case 0x00ff: return "Unclassified device";
	case 0xff00: return "Unassigned class";
	default: return "Device";
	}
}
