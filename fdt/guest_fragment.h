/* SPDX-License-Identifier: MIT */
/*
 * fdt/guest_fragment.h: the partial device tree that gives a Xen Arm guest
 * the host bridge the daemon serves: /passthrough/pcie@<ECAM base>, built
 * from the same struct guest_layout the daemon serves from, so the guest's
 * view and the daemon's can never disagree.
 *
 * Xen's dom0less builder and libxl copy /passthrough (and /aliases) of a
 * partial device tree into the guest's tree; the /gic node here only stands
 * for the guest's interrupt controller that Xen creates.
 */
#ifndef XVP_FDT_GUEST_FRAGMENT_H
#define XVP_FDT_GUEST_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ecam/guest_layout.h"

/* GUEST_PHANDLE_GIC in Xen's public arch-arm.h: the guest GIC's phandle. */
#define GUEST_FRAGMENT_GIC_PHANDLE	65000
/*
 * A dom0less guest's GIC takes the phandle of the fragment's /gic node, and
 * Xen 4.22 refuses a fragment with any phandle of GUEST_PHANDLE_GIC or more:
 * 1 is what dtc gives Xen's documented `gic: gic {}` (docs/dom0less.md).
 */
#define GUEST_FRAGMENT_DOM0LESS_GIC_PHANDLE	1

/* Who merges the fragment into the guest's tree. */
enum guest_fragment_target {
	/* libxl copies /passthrough and names its own GIC GUEST_PHANDLE_GIC. */
	GUEST_FRAGMENT_FOR_XL,
	/* Xen's dom0less builder gives the guest's GIC the /gic node's phandle. */
	GUEST_FRAGMENT_FOR_DOM0LESS,
};

/* Room for the whole fragment (it takes about 1.3 KiB). */
#define GUEST_FRAGMENT_MAX_SIZE		4096

/* No linux,pci-domain property. */
#define GUEST_FRAGMENT_NO_PCI_DOMAIN	(-1L)
/* linux,pci-domain: a PCI segment (domain) number is 16 bits, as in ACPI's _SEG and MCFG. */
#define GUEST_FRAGMENT_PCI_DOMAIN_MAX	0xffffL

struct guest_fragment_config {
	const struct guest_layout *layout;
	long pci_domain;	/* 0..0xffff, or GUEST_FRAGMENT_NO_PCI_DOMAIN */
	enum guest_fragment_target target;
};

/* The phandle of the guest's GIC, as the fragment names it for @target. */
uint32_t guest_fragment_gic_phandle(enum guest_fragment_target target);

/*
 * Write the fragment for @config into @buf (@buf_len bytes, at least
 * GUEST_FRAGMENT_MAX_SIZE is always enough) as a flattened device tree blob;
 * its size is fdt_totalsize(buf). 0, or -EINVAL with a one-line reason in
 * @why when the layout is not one the daemon would serve (the reason is
 * guest_layout_validate()'s) or the PCI domain is out of range, or -ENOSPC.
 */
int guest_fragment_build(const struct guest_fragment_config *config, void *buf, size_t buf_len,
			 char *why, size_t why_len);

/*
 * The value for Xen's nr_spis (xl and dom0less): SPIs are counted from
 * interrupt ID 32, so the guest needs last INTx SPI - 32 + 1 of them.
 */
unsigned int guest_fragment_nr_spis(const struct guest_layout *layout);

#endif
