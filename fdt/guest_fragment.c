// SPDX-License-Identifier: MIT
/*
 * fdt/guest_fragment.c: the guest's partial device tree, with libfdt's
 * sequential-write API.
 *
 * References for the encodings below:
 *  - PCI Bus Binding to IEEE Std 1275-1994, Rev 2.1 (the "PCI binding"),
 *    2.2.1.1: a PCI address is three cells, phys.hi = npt000ss bbbbbbbb
 *    dddddfff rrrrrrrr, then 64 bits of address; ss = 10 is 32-bit memory
 *    space, ss = 11 64-bit memory space, p = 1 prefetchable.
 *  - Open Firmware Recommended Practice: Interrupt Mapping 0.9, and the
 *    Devicetree Specification 0.4, 2.4.3 (interrupt-map, interrupt-map-mask):
 *    an entry is <child unit address, child interrupt specifier, parent
 *    phandle, parent unit address (#address-cells of the parent), parent
 *    interrupt specifier (#interrupt-cells of the parent)>; for PCI the child
 *    specifier is the INTx pin, 1..4.
 *  - Linux's arm,gic-v3 binding: <0 (SPI) N flags>, N = interrupt ID - 32,
 *    flags 4 = level high.
 *  - Linux's pci-host-ecam-generic binding (host-generic-pci.yaml) and
 *    dt-schema's pci-bus.yaml.
 */
#include "fdt/guest_fragment.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <libfdt.h>

#include "ecam/intx.h"

#define MiB (1ULL << 20)

/* PCI binding 2.2.1.1, phys.hi: space codes. */
#define PCI_SPACE_MEM32			0x02000000U
#define PCI_SPACE_MEM64_PREFETCH	0x43000000U
#define PCI_PHYS_HI_DEVICE_SHIFT	11

/* Linux's arm,gic-v3 binding: first and third interrupt cells. */
#define GIC_SPI				0
#define IRQ_TYPE_LEVEL_HIGH		4

/* Cells per interrupt-map entry: 3 (PCI address) + 1 (pin) + 1 (phandle) + 0 + 3 (GIC). */
#define MAP_ENTRY_CELLS			8

/* Root and /passthrough: Xen builds Arm guests with 2 address and 2 size cells. */
#define ROOT_ADDRESS_CELLS		2
#define ROOT_SIZE_CELLS			2

static fdt32_t *put_u64(fdt32_t *cells, uint64_t value)
{
	cells[0] = cpu_to_fdt32((uint32_t)(value >> 32));
	cells[1] = cpu_to_fdt32((uint32_t)value);
	return cells + 2;
}

static int address_size_cells(void *fdt, uint32_t address_cells, uint32_t size_cells)
{
	int ret = fdt_property_u32(fdt, "#address-cells", address_cells);

	return ret ? ret : fdt_property_u32(fdt, "#size-cells", size_cells);
}

/*
 * A stand-in for the GIC Xen gives the guest, so that the interrupt-map's
 * phandle resolves and the fragment compiles on its own. Xen's guest GIC
 * node has #address-cells = <0> (libxl make_gicv3_node, dom0less
 * make_gicv3_domU_node), which fixes the interrupt-map entry size; a
 * dom0less build also takes the phandle of a top-level "gic" node of the
 * partial tree as the guest GIC's (domain_handle_dtb_bootmodule). For xl
 * it is Xen's own default, GUEST_PHANDLE_GIC (libxl names its GIC that and
 * ignores our /gic); for dom0less a low one, since Xen 4.22 allocates the
 * guest's other phandles above the fragment's highest and fails with
 * -EOVERFLOW once they would reach GUEST_PHANDLE_GIC.
 */
uint32_t guest_fragment_gic_phandle(enum guest_fragment_target target)
{
	return target == GUEST_FRAGMENT_FOR_DOM0LESS ? GUEST_FRAGMENT_DOM0LESS_GIC_PHANDLE :
						      GUEST_FRAGMENT_GIC_PHANDLE;
}

static int add_gic(void *fdt, uint32_t phandle)
{
	int ret = fdt_begin_node(fdt, "gic");

	if (!ret)
		ret = fdt_property_u32(fdt, "#interrupt-cells", 3);
	if (!ret)
		ret = fdt_property_u32(fdt, "#address-cells", 0);
	if (!ret)
		ret = fdt_property(fdt, "interrupt-controller", NULL, 0);
	if (!ret)
		ret = fdt_property_u32(fdt, "phandle", phandle);
	return ret ? ret : fdt_end_node(fdt);
}

/* reg and bus-range: 1 MiB of ECAM per bus (PCIe Base 5.0, 7.2.2), buses 0..N-1. */
static int add_ecam(void *fdt, const struct guest_layout *layout)
{
	fdt32_t reg[ROOT_ADDRESS_CELLS + ROOT_SIZE_CELLS];
	fdt32_t bus_range[2] = { cpu_to_fdt32(0),
				 cpu_to_fdt32((uint32_t)(layout->ecam.size / MiB - 1)) };
	int ret;

	put_u64(put_u64(reg, layout->ecam.base), layout->ecam.size);
	ret = fdt_property(fdt, "reg", reg, sizeof(reg));
	return ret ? ret : fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range));
}

/*
 * ranges: <PCI address (3 cells), CPU address (2), size (2)> per window,
 * identity-mapped: a BAR's PCI address is its guest physical address, which
 * is what the daemon's BAR routing compares with the windows.
 */
static int add_ranges(void *fdt, const struct guest_layout *layout)
{
	const struct {
		uint32_t space;
		const struct guest_window *window;
	} windows[] = {
		{ PCI_SPACE_MEM32, &layout->mmio },
		{ PCI_SPACE_MEM64_PREFETCH, &layout->mmio64 },
	};
	fdt32_t ranges[2 * 7], *cells = ranges;

	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		*cells++ = cpu_to_fdt32(windows[i].space);
		cells = put_u64(cells, windows[i].window->base);
		cells = put_u64(cells, windows[i].window->base);
		cells = put_u64(cells, windows[i].window->size);
	}
	return fdt_property(fdt, "ranges", ranges, sizeof(ranges));
}

/*
 * The daemon's swizzle (pci_intx_line(), PCI-to-PCI Bridge 1.2, 9.1): pin P
 * of device D is line (D + P - 1) mod 4, SPI intx_spi + line. It depends on D
 * only modulo 4, so a mask keeping the two low device bits of phys.hi
 * (0x1800) and the pin (7) with 4 x 4 entries covers devices 0..31, as
 * QEMU's virt machine does; bus and function are masked out.
 */
static int add_interrupt_map(void *fdt, const struct guest_layout *layout, uint32_t gic_phandle)
{
	const fdt32_t mask[4] = { cpu_to_fdt32(3U << PCI_PHYS_HI_DEVICE_SHIFT), 0, 0,
				  cpu_to_fdt32(7) };
	fdt32_t map[4 * PCI_INTX_LINES * MAP_ENTRY_CELLS], *cells = map;
	int ret;

	for (uint32_t device = 0; device < 4; device++) {
		for (uint32_t pin = 1; pin <= PCI_INTX_LINES; pin++) {
			uint32_t spi = layout->intx_spi + (uint32_t)pci_intx_line(device, pin);

			*cells++ = cpu_to_fdt32(device << PCI_PHYS_HI_DEVICE_SHIFT);
			*cells++ = 0;
			*cells++ = 0;
			*cells++ = cpu_to_fdt32(pin);
			*cells++ = cpu_to_fdt32(gic_phandle);
			*cells++ = cpu_to_fdt32(GIC_SPI);
			*cells++ = cpu_to_fdt32(spi - GUEST_LAYOUT_SPI_MIN);
			*cells++ = cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH);
		}
	}
	ret = fdt_property_u32(fdt, "#interrupt-cells", 1);
	if (!ret)
		ret = fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask));
	return ret ? ret : fdt_property(fdt, "interrupt-map", map, sizeof(map));
}

static int add_host_bridge(void *fdt, const struct guest_fragment_config *config)
{
	const struct guest_layout *layout = config->layout;
	char name[32];
	int ret;

	/* The unit address is reg's first address, in hex (DT spec 2.2.1). */
	snprintf(name, sizeof(name), "pcie@%" PRIx64, layout->ecam.base);
	ret = fdt_begin_node(fdt, name);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "pci-host-ecam-generic");
	if (!ret)
		ret = fdt_property_string(fdt, "device_type", "pci");
	if (!ret)
		ret = add_ecam(fdt, layout);
	if (!ret)
		ret = address_size_cells(fdt, 3, 2);
	if (!ret)
		ret = add_ranges(fdt, layout);
	if (!ret)
		ret = add_interrupt_map(fdt, layout, guest_fragment_gic_phandle(config->target));
	/* The daemon reads and writes guest memory coherently (no cache maintenance). */
	if (!ret)
		ret = fdt_property(fdt, "dma-coherent", NULL, 0);
	if (!ret && config->pci_domain != GUEST_FRAGMENT_NO_PCI_DOMAIN)
		ret = fdt_property_u32(fdt, "linux,pci-domain", (uint32_t)config->pci_domain);
	return ret ? ret : fdt_end_node(fdt);
}

/* /passthrough: a simple-bus whose empty ranges maps it 1:1 onto the root. */
static int add_passthrough(void *fdt, const struct guest_fragment_config *config)
{
	int ret = fdt_begin_node(fdt, "passthrough");

	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "simple-bus");
	if (!ret)
		ret = fdt_property(fdt, "ranges", NULL, 0);
	if (!ret)
		ret = address_size_cells(fdt, ROOT_ADDRESS_CELLS, ROOT_SIZE_CELLS);
	if (!ret)
		ret = add_host_bridge(fdt, config);
	return ret ? ret : fdt_end_node(fdt);
}

static int write_tree(void *fdt, size_t len, const struct guest_fragment_config *config)
{
	int ret = fdt_create(fdt, (int)len);

	if (!ret)
		ret = fdt_finish_reservemap(fdt);
	if (!ret)
		ret = fdt_begin_node(fdt, "");
	if (!ret)
		ret = address_size_cells(fdt, ROOT_ADDRESS_CELLS, ROOT_SIZE_CELLS);
	if (!ret)
		ret = add_gic(fdt, guest_fragment_gic_phandle(config->target));
	if (!ret)
		ret = add_passthrough(fdt, config);
	if (!ret)
		ret = fdt_end_node(fdt);
	return ret ? ret : fdt_finish(fdt);
}

int guest_fragment_build(const struct guest_fragment_config *config, void *buf, size_t buf_len,
			 char *why, size_t why_len)
{
	long domain = config->pci_domain;
	int ret = guest_layout_validate(config->layout, why, why_len);

	if (ret)
		return ret;
	if (domain != GUEST_FRAGMENT_NO_PCI_DOMAIN &&
	    (domain < 0 || domain > GUEST_FRAGMENT_PCI_DOMAIN_MAX)) {
		snprintf(why, why_len, "--pci-domain %ld: expected a PCI domain from 0 to %ld",
			 domain, GUEST_FRAGMENT_PCI_DOMAIN_MAX);
		return -EINVAL;
	}
	if (buf_len > INT32_MAX)
		buf_len = INT32_MAX;
	ret = write_tree(buf, buf_len, config);
	if (ret == -FDT_ERR_NOSPACE) {
		snprintf(why, why_len, "the device tree needs more than %zu bytes", buf_len);
		return -ENOSPC;
	}
	if (ret) {
		/* Not reachable with a well-formed sequence of calls; say what libfdt said. */
		snprintf(why, why_len, "libfdt: %s", fdt_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

unsigned int guest_fragment_nr_spis(const struct guest_layout *layout)
{
	return layout->intx_spi + GUEST_LAYOUT_INTX_LINES - 1 - GUEST_LAYOUT_SPI_MIN + 1;
}
