/* SPDX-License-Identifier: MIT */
/*
 * xen/isolation.h: a worker's Xen handles, restricted to its domain.
 *
 * xentoolcore_restrict_all() (tools/libs/toolcore/handlereg.c) walks every
 * handle every Xen library of this process has open and calls its restrict
 * callback: devicemodel, foreignmemory and evtchn handles are restricted to
 * the domain (IOCTL_PRIVCMD_RESTRICT, IOCTL_EVTCHN_RESTRICT_DOMID), the
 * handles that have no such restriction (every libxencall handle, such as
 * the private one inside each devicemodel handle, libxenctrl's, xenstore's,
 * gnttab's) get /dev/null dup2()ed over their fds, so every later call on
 * them fails. The per-handle *_restrict() calls miss the private libxencall
 * handle, which takes any hypercall about any domain (Xen's
 * docs/designs/qemu-deprivilege.md; QEMU calls restrict_all too).
 */
#ifndef XVP_XEN_ISOLATION_H
#define XVP_XEN_ISOLATION_H

#include <stdint.h>
#include <xen/xen.h>

/*
 * Restrict every open Xen handle of the process to @domid: 0, or -errno
 * (logged): then the caller must not serve, since some handle may still
 * reach every domain.
 */
int xen_isolation_restrict_all(domid_t domid);

#endif
