/* SPDX-License-Identifier: MIT */
/*
 * xen/xenstore.h: the two xenstore keys of one served domain, written by
 * the supervisor for that domain's worker (workers hold no xenstore
 * connection: daemon/worker_protocol.h).
 *
 * The readiness key in the guest's own xenstore area, the daemon's half of
 * interface version 1 with the guest's rescan helper (docs/dom0less.md):
 *
 *   /local/domain/<domid>/data/virtio-pci/generation = "<decimal>"
 *
 * written once the functions answer, raised whenever the set of functions
 * changes, owned by the guest so that it may read and watch it, removed
 * when the worker stops.
 *
 * The server record in dom0's own area, which no guest can read:
 *
 *   /local/domain/0/data/xen-virtio-pci/<domid> = "<ioreq server id> <pid>"
 *
 * Xen keeps an IOREQ server after the process that created it died (and
 * allows only a few per domain): a worker killed with SIGKILL leaves its
 * server registered, and the next worker's supervisor destroys it.
 *
 * Xenstore is optional (a guest without it polls), so nothing here may
 * stop or delay the caller: the store is used from a thread of its own
 * (in a dom0 where xenstored is not running, a request through
 * /dev/xen/xenbus waits for ever), each job is answered by a callback from
 * that thread, failures are logged, never returned.
 */
#ifndef XVP_XEN_XENSTORE_H
#define XVP_XEN_XENSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>

#define XEN_XENSTORE_KEY_FORMAT "/local/domain/%u/data/virtio-pci/generation"
#define XEN_XENSTORE_RECORD_FORMAT "/local/domain/0/data/xen-virtio-pci/%u"

struct xen_xenstore;

enum xen_xenstore_job {
	XEN_XENSTORE_RECORD_READ,	/* xen_xenstore_check_record(): @record says what was found */
	XEN_XENSTORE_RECORDED,		/* xen_xenstore_record_server() was tried */
	XEN_XENSTORE_REMOVED,		/* xen_xenstore_remove() was tried */
	XEN_XENSTORE_RELEASED,		/* the thread ends: the last call, then @opaque is free */
};

/* The record an earlier process left (found) or none (no store, no key, or not readable). */
struct xen_xenstore_record {
	bool found;
	unsigned int id;
	long pid;
};

/* Called from the store's thread, one job at a time, in the order asked. */
typedef void xen_xenstore_done_fn(void *opaque, enum xen_xenstore_job job,
				  const struct xen_xenstore_record *record);

/*
 * Start the thread that connects to xenstore for @domid's keys; when there
 * is no xenstore it logs one line and answers every job at once. NULL if
 * the thread cannot start (logged): the caller answers for it.
 */
struct xen_xenstore *xen_xenstore_start(domid_t domid, xen_xenstore_done_fn *done, void *opaque);

/* Read the record an earlier process left: done(XEN_XENSTORE_RECORD_READ). */
void xen_xenstore_check_record(struct xen_xenstore *xs);

/* Record that process @pid serves the domain with server @id: done(XEN_XENSTORE_RECORDED). */
void xen_xenstore_record_server(struct xen_xenstore *xs, unsigned int id, long pid);

/*
 * The functions answer for the first time, or their set changed: raise the
 * key's value (1 for the first set; one that finds the key left by a
 * worker that crashed continues from its value). No answer.
 */
void xen_xenstore_bump_generation(struct xen_xenstore *xs);

/* Remove the key and the record that were written here: done(XEN_XENSTORE_REMOVED). */
void xen_xenstore_remove(struct xen_xenstore *xs);

/*
 * No more jobs: the thread does what was asked, then ends and frees
 * everything (done(XEN_XENSTORE_RELEASED) last). Never blocks; a thread
 * stuck in a store that does not answer stays until the process exits.
 * NULL is ignored.
 */
void xen_xenstore_release(struct xen_xenstore *xs);

#endif
