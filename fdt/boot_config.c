// SPDX-License-Identifier: MIT
/*
 * fdt/boot_config.c: xl.cfg lines and dom0less domain-node properties for a
 * fragment. The Xen versions are those that first accept each setting:
 *  - xl nr_spis: 4.19; before that libxl sizes the guest's SPIs from its own
 *    devices only, and vuart = "sbsa_uart" (one SPI, which the vGIC rounds up
 *    to a block of 32) is the way to get SPIs 32..63;
 *  - dom0less nr_spis: 4.17;
 *  - xl trap_unmapped_accesses and dom0less trap-unmapped-accesses: 4.21
 *    (XEN_DOMCTL_CDF_trap_unmapped_accesses): unclaimed accesses to the
 *    windows read all-ones and writes are ignored instead of a data abort.
 * xl ignores keys it does not know, so the lines are harmless on older Xen.
 */
#include "fdt/boot_config.h"

#include <errno.h>

#include "fdt/guest_fragment.h"

/* The SPIs vuart = "sbsa_uart" gives an xl guest before Xen 4.19. */
#define SBSA_UART_LAST_SPI 63

static unsigned int last_spi(const struct guest_layout *layout)
{
	return layout->intx_spi + GUEST_LAYOUT_INTX_LINES - 1;
}

static void write_xl_spis(FILE *out, const struct guest_layout *layout)
{
	fprintf(out, "# Xen 4.19+: the guest's SPIs 32..%u (nr_spis counts from SPI 32)\n",
		last_spi(layout));
	fprintf(out, "nr_spis = %u\n", guest_fragment_nr_spis(layout));
	if (last_spi(layout) <= SBSA_UART_LAST_SPI) {
		fprintf(out, "# Xen before 4.19 has no nr_spis: instead, this gives the guest SPIs\n"
			     "# 32..63 (and an SBSA UART on SPI 32):\n"
			     "#vuart = \"sbsa_uart\"\n");
	} else {
		fprintf(out, "# Xen before 4.19 has no nr_spis, and vuart = \"sbsa_uart\" only gives\n"
			     "# SPIs 32..63: SPI %u needs Xen 4.19+ (or --intx-spi 44..60)\n",
			last_spi(layout));
	}
}

int boot_config_write_xl(FILE *out, const struct boot_config *config)
{
	const struct guest_layout *layout = config->layout;

	fprintf(out, "# xl.cfg lines for the PCI host bridge in %s\n"
		     "# (INTx on SPIs %u..%u), from xen-virtio-pcid fdt.\n",
		config->dtb_path, layout->intx_spi, last_spi(layout));
	if (config->for_dom0less)
		fprintf(out, "# WARNING: that fragment is for dom0less (--for dom0less): libxl names\n"
			     "# the guest's GIC 65000, so its interrupts would name no controller.\n"
			     "# Write it again without --for dom0less for an xl guest.\n");
	fprintf(out, "# The partial device tree; libxl copies its /passthrough node into the guest.\n");
	fprintf(out, "device_tree = \"%s\"\n", config->dtb_path);
	write_xl_spis(out, layout);
	fprintf(out, "# Xen 4.21+: the host bridge's windows read as all-ones until the daemon\n"
		     "# attaches, instead of a data abort in the guest.\n"
		     "trap_unmapped_accesses = 0\n");
	return ferror(out) ? -EIO : 0;
}

int boot_config_write_dom0less(FILE *out, const struct boot_config *config)
{
	const struct guest_layout *layout = config->layout;

	fprintf(out, "/*\n"
		     " * dom0less: merge into the guest's node under /chosen (compatible =\n"
		     " * \"xen,domain\") for the PCI host bridge in %s (%zu bytes).\n"
		     " * Replace LOAD_ADDRESS with where the boot loader puts that file; reg\n"
		     " * assumes #address-cells = <2> and #size-cells = <2> in the domain node\n"
		     " * (as ImageBuilder sets them).\n"
		     " */\n",
		config->dtb_path, config->dtb_size);
	if (!config->for_dom0less)
		fprintf(out, "/*\n"
			     " * WARNING: that fragment is for xl: its GIC phandle is 65000, which\n"
			     " * Xen 4.22's dom0less builder refuses (it panics). Write it again\n"
			     " * with --for dom0less for a dom0less guest (any Xen takes that one).\n"
			     " */\n");
	fprintf(out, "domU1 {\n");
	fprintf(out, "\t/* Xen 4.17+: the guest's SPIs 32..%u (nr_spis counts from SPI 32). */\n"
		     "\tnr_spis = <%u>;\n",
		last_spi(layout), guest_fragment_nr_spis(layout));
	fprintf(out, "\t/*\n"
		     "\t * Xen 4.21+: the windows read as all-ones until the daemon attaches;\n"
		     "\t * without it a guest that touches them first takes a data abort.\n"
		     "\t */\n"
		     "\ttrap-unmapped-accesses = <0>;\n");
	fprintf(out, "\t/* The partial device tree: Xen copies its /passthrough node. */\n"
		     "\tmodule@LOAD_ADDRESS {\n"
		     "\t\tcompatible = \"multiboot,device-tree\", \"multiboot,module\";\n"
		     "\t\treg = <0x0 LOAD_ADDRESS 0x0 0x%zx>;\n"
		     "\t};\n"
		     "};\n",
		config->dtb_size);
	return ferror(out) ? -EIO : 0;
}
