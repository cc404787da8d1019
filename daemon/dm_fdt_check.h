/* SPDX-License-Identifier: MIT */
/*
 * daemon/dm_fdt_check.h: `--fdt=PATH` in device_model_args: the guest's
 * device_tree fragment must describe the host bridge these options serve
 * (the same windows and SPIs), else the guest would look for the devices
 * where they are not. One installed fragment serves every guest on the
 * default layout; a guest whose options change the layout needs its own.
 */
#ifndef XVP_DAEMON_DM_FDT_CHECK_H
#define XVP_DAEMON_DM_FDT_CHECK_H

#include <stdio.h>

#include "ecam/guest_layout.h"

/*
 * Compare the fragment at @path with the one `xen-virtio-pcid fdt --for xl`
 * writes for @layout (with the file's own linux,pci-domain, if any): 0, or
 * -1 after a message on @err naming the file and what differs.
 */
int dm_fdt_check(const char *path, const struct guest_layout *layout, FILE *err);

#endif
