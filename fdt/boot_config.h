/* SPDX-License-Identifier: MIT */
/*
 * fdt/boot_config.h: the other side of the fragment: the lines an xl.cfg
 * and a dom0less /chosen/domU* node need so that Xen gives the guest the
 * fragment, the SPIs its interrupt-map names and the background region for
 * its windows, each annotated with the Xen version that accepts it.
 */
#ifndef XVP_FDT_BOOT_CONFIG_H
#define XVP_FDT_BOOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ecam/guest_layout.h"

struct boot_config {
	const struct guest_layout *layout;
	const char *dtb_path;	/* the fragment as xl should open it (absolute) */
	size_t dtb_size;	/* fdt_totalsize() of the fragment */
	bool for_dom0less;	/* the fragment was written with --for dom0less */
};

/* The xl.cfg lines (device_tree, nr_spis or vuart, trap_unmapped_accesses). 0 or -EIO. */
int boot_config_write_xl(FILE *out, const struct boot_config *config);

/*
 * The properties and module node for the guest's /chosen/domU* node
 * (nr_spis, trap-unmapped-accesses, the multiboot,device-tree module),
 * as device-tree source to merge. 0 or -EIO.
 */
int boot_config_write_dom0less(FILE *out, const struct boot_config *config);

#endif
