/* SPDX-License-Identifier: MIT */
/*
 * xen/device_model_store.h: the xenstore nodes of the device-model mode,
 * libxl's side of the start-up handshake (tools/libs/light/libxl_dm.c):
 *
 *   /local/domain/0/device-model/<domid>/state = "running"
 *
 * libxl watches it (LIBXL_DEVICE_MODEL_START_TIMEOUT, 60 s) before its QMP
 * exchange and the guest's unpause. Before it is written, the nodes of the
 * vfb = [ "vnc=0" ] entry that made libxl start a device model at all
 * (libxl__need_xenpv_qemu()) are removed: its frontends device/vfb/0 and
 * device/vkbd/0 in the guest's area, their backends in dom0's, and libxl's
 * own /libxl/<domid>/device/{vfb,vkbd} records (so that `xl destroy` does
 * not wait for backends that never ran). A guest kernel that found them
 * would wait up to 30 s at boot for devices that never connect.
 *
 * Unlike xen/xenstore.h these calls block: in this mode libxl itself is
 * waiting on xenstore for us, so it is there.
 */
#ifndef XVP_XEN_DEVICE_MODEL_STORE_H
#define XVP_XEN_DEVICE_MODEL_STORE_H

#include <stdint.h>

#define XEN_DEVICE_MODEL_STATE_FORMAT "/local/domain/0/device-model/%u/state"

/*
 * Remove the trigger's nodes for @domid, then write state = "running":
 * 0, or -errno (logged) if the store cannot be reached or the state not
 * written (a node already gone is no error).
 */
int xen_device_model_announce(uint32_t domid);

#endif
