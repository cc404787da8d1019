/* SPDX-License-Identifier: MIT */
/*
 * daemon/nbd_dialer.h: the supervisor's side of NBD_CONNECT
 * (daemon/worker_protocol.h) for one worker. The worker names only a
 * device, by its position among the domain's devices; the address is the
 * supervisor's own copy of the configuration's nbd= URI (never anything
 * the worker says: it may be compromised), connected without blocking the
 * loop (a unix socket, or TCP after a name lookup through libevent's
 * evdns), within NBD_DIALER_DEADLINE_MS; the answer carries the connected
 * socket, the handshake is the worker's.
 *
 * Bounded, per device: one connect at a time (EBUSY), and at most
 * NBD_DIALER_BURST at once, then one per NBD_DIALER_REFILL_MS (EAGAIN); a
 * position that is no NBD disk: ENODEV. Refusals are logged, rate-limited.
 */
#ifndef XVP_DAEMON_NBD_DIALER_H
#define XVP_DAEMON_NBD_DIALER_H

#include <stdint.h>

struct event_base;
struct nbd_dialer;
struct worker_peer;

#define NBD_DIALER_DEADLINE_MS	5000
#define NBD_DIALER_BURST	8
#define NBD_DIALER_REFILL_MS	500

/*
 * Serve NBD_CONNECT on @peer for domain @domid's worker, whose options
 * (after --domain ID, as daemon/config_file.h's config_domain holds them)
 * are @args, NULL-terminated, parsed here once. NULL if out of memory
 * (logged): the worker's asks are then answered EOPNOTSUPP by the peer.
 */
struct nbd_dialer *nbd_dialer_create(struct event_base *base, struct worker_peer *peer,
				     uint32_t domid, char *const *args);

/* Connects in progress end, answered ECANCELED. Before the peer is destroyed. NULL is ignored. */
void nbd_dialer_destroy(struct nbd_dialer *dialer);

#endif
