/* SPDX-License-Identifier: MIT */
/*
 * xen/xenstore_probe.h: is there a xenstore that answers?
 *
 * libxenstore's xs_open() cannot tell: when xenstored's socket is missing,
 * it falls back to /dev/xen/xenbus (tools/libs/store/xs.c, Xen
 * 4.15..4.22), which dom0's kernel provides with or without a xenstore, and
 * the first request through it then waits for ever. So the answer comes
 * from one request made on a thread of its own, once per process, waited
 * for a bounded time.
 */
#ifndef XVP_XEN_XENSTORE_PROBE_H
#define XVP_XEN_XENSTORE_PROBE_H

/* How long the first answer may take before xenstore counts as absent. */
#define XEN_XENSTORE_PROBE_MS 1000

/*
 * 1 if a xenstore answered, 0 if there is none or it did not answer within
 * XEN_XENSTORE_PROBE_MS of the first call (then *why says which, a static
 * string). Thread-safe; waits that long at most, once per process.
 */
int xen_xenstore_probe(const char **why);

#endif
