/* SPDX-License-Identifier: MIT */
/*
 * xen/xenstore.h: the daemon's two xenstore keys.
 *
 * The readiness key in the guest's own xenstore area, the daemon's half of
 * interface version 1 with the guest's rescan helper (docs/dom0less.md):
 *
 *   /local/domain/<domid>/data/virtio-pci/generation = "<decimal>"
 *
 * written once the functions answer, raised whenever the set of functions
 * changes, owned by the guest so that it may read and watch it, removed
 * when the daemon stops.
 *
 * The server record in dom0's own area, which no guest can read:
 *
 *   /local/domain/0/data/xen-virtio-pci/<domid> = "<ioreq server id> <pid>"
 *
 * Xen keeps an IOREQ server after the process that created it died (and
 * allows only a few per domain): a daemon killed with SIGKILL leaves its
 * server registered, and the next daemon for the domain destroys it.
 *
 * Xenstore is optional (a guest without it polls), so nothing here may stop
 * or delay serving: the store is used from a thread of its own, because in
 * a dom0 where xenstored is not running a request through /dev/xen/xenbus
 * waits for ever; failures are logged, never returned.
 */
#ifndef XVP_XEN_XENSTORE_H
#define XVP_XEN_XENSTORE_H

#include <stdint.h>
#include <xen/xen.h>

#define XEN_XENSTORE_KEY_FORMAT "/local/domain/%u/data/virtio-pci/generation"
#define XEN_XENSTORE_RECORD_FORMAT "/local/domain/0/data/xen-virtio-pci/%u"

struct xen_xenstore;

/*
 * Start the thread that connects to xenstore for @domid and reads the
 * server record; when there is no xenstore it logs one line and ends. NULL
 * if the thread cannot start (logged): the domain is served all the same.
 */
struct xen_xenstore *xen_xenstore_start(domid_t domid);

/*
 * Wait @timeout_ms at most for the record an earlier process left: 1 with
 * its server @id and @pid, 0 if there is none (or no xenstore, or @xs is
 * NULL), -ETIMEDOUT if the store did not answer in time.
 */
int xen_xenstore_recorded_server(struct xen_xenstore *xs, unsigned int *id, long *pid,
				 int timeout_ms);

/*
 * Record that this process serves the domain with server @id, and wait
 * @timeout_ms at most for it to be written: a process killed after that
 * leaves a server the next one can find.
 */
void xen_xenstore_record_server(struct xen_xenstore *xs, unsigned int id, int timeout_ms);

/*
 * The functions answer for the first time, or their set changed: raise the
 * key's value (1 for the first set; a daemon that finds the key left by one
 * that crashed continues from its value). Never blocks. NULL is ignored.
 */
void xen_xenstore_bump_generation(struct xen_xenstore *xs);

/*
 * Remove the key (the functions stop answering) and the record, and end the thread. Waits
 * a second at most for a store that does not answer. NULL is ignored.
 */
void xen_xenstore_stop(struct xen_xenstore *xs);

#endif
