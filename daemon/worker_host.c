// SPDX-License-Identifier: MIT
/* daemon/worker_host.c: a worker's connections, asked of its supervisor. */
#include "daemon/worker_host.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/worker_channel.h"
#include "daemon/worker_peer.h"
#include "daemon/worker_protocol.h"

struct connect_ask {
	backend_connected_fn *done;
	void *opaque;
};

static struct worker_host *host_of(const struct backend_host *host)
{
	return host->opaque;
}

static int connect_now(const struct backend_host *host, unsigned int device)
{
	return worker_channel_ask_fd(host_of(host)->channel, WORKER_MSG_NBD_CONNECT, device,
				     WORKER_HOST_CONNECT_MS);
}

/* The supervisor's answer: its one descriptor, kept (the peer closes what is left). */
static void on_answer(void *opaque, int error, struct worker_payload *answer)
{
	struct connect_ask ask = *(struct connect_ask *)opaque;
	int fd = error;

	free(opaque);
	if (!error && (answer->nfds != 1 || answer->fds[0] < 0))
		fd = -EPROTO;
	else if (!error) {
		fd = answer->fds[0];
		answer->fds[0] = -1;
	}
	ask.done(ask.opaque, fd);
}

static int connect_later(const struct backend_host *host, unsigned int device,
			 backend_connected_fn *done, void *opaque)
{
	struct worker_host *wh = host_of(host);
	struct connect_ask *ask;
	int ret;

	if (!wh->peer)
		return -ENOTCONN;
	ask = malloc(sizeof(*ask));
	if (!ask)
		return -ENOMEM;
	*ask = (struct connect_ask){ done, opaque };
	ret = worker_peer_ask(wh->peer, WORKER_MSG_NBD_CONNECT, device, NULL, 0, NULL, 0,
			      WORKER_HOST_CONNECT_MS, on_answer, ask);
	if (ret)
		free(ask);
	return ret;
}

void worker_host_init(struct worker_host *wh, int channel)
{
	*wh = (struct worker_host){
		.host = { .connect_now = connect_now, .connect = connect_later, .opaque = wh },
		.channel = channel,
	};
}

void worker_host_set_peer(struct worker_host *wh, struct worker_peer *peer)
{
	wh->peer = peer;
}
