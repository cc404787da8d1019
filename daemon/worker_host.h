/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_host.h: what a worker's devices may ask of it
 * (backends/backend.h, struct backend_host), carried to the supervisor on
 * the worker's channel: NBD_CONNECT, answered with a connected socket
 * (daemon/worker_protocol.h). Before the loop serves, asks wait on the
 * channel itself (worker_channel_ask_fd); from the loop, they go through
 * its peer (daemon/worker_peer.h).
 */
#ifndef XVP_DAEMON_WORKER_HOST_H
#define XVP_DAEMON_WORKER_HOST_H

#include "backends/backend.h"

struct worker_peer;

/*
 * How long a worker waits for a connection: the supervisor's own deadline
 * (daemon/nbd_dialer.h) and a margin for the channel.
 */
#define WORKER_HOST_CONNECT_MS	7000

struct worker_host {
	struct backend_host host;	/* what devices get */
	int channel;			/* the channel's fd, -1: none */
	struct worker_peer *peer;	/* from the loop, while it serves the channel; else NULL */
};

/* @wh for the channel @channel (or -1); no peer yet. */
void worker_host_init(struct worker_host *wh, int channel);

/*
 * From now on asks from the loop go through @peer; NULL: they are refused
 * (-ENOTCONN). Set it to NULL before destroying the peer, which ends the
 * asks still waiting.
 */
void worker_host_set_peer(struct worker_host *wh, struct worker_peer *peer);

#endif
