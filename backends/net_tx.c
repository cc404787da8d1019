// SPDX-License-Identifier: MIT
/*
 * backends/net_tx.c: frames from the guest's transmit queues to the tap
 * (virtio 1.2, 5.1.6.2). Each chain is one header and one frame; the header
 * is copied out and checked once, and that copy, not the guest's memory, is
 * what the tap gets with the frame (the guest cannot change it between the
 * check and the write). The queue service serves a bounded batch per pass
 * and interrupts once at its end.
 *
 * A malformed frame (a header the features do not allow, offsets beyond
 * the frame, an oversize chain) is dropped, counted and logged, rate-limited:
 * 5.1.6.2.1 puts those rules on the driver without asking the device to
 * reset, and one bad frame should not cost the guest its link.
 */
#include "backends/net_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backends/queue_loop.h"
#include "backends/tap.h"

static struct net_txq *txq_of(struct queue_service *qs)
{
	return qs->opaque;
}

static void drop(struct net_txq *txq, const char *why, uint64_t len)
{
	struct net *net = txq->net;

	txq->dropped++;
	log_ratelimited(&net->log, LOG_LEVEL_WARN, "%s: tx%u: %llu-byte frame dropped: %s",
			net->name, txq->pair, (unsigned long long)len, why);
}

/* The chain's frame after the header, as segments behind @hdr in txq->iov. */
static unsigned int gather(struct net_txq *txq, const struct virtq_chain *chain, struct virtio_net_hdr *hdr)
{
	size_t skip = TAP_VNET_HDR_SIZE;
	unsigned int n = 0;

	txq->iov[n++] = (struct iovec){ hdr, sizeof(*hdr) };
	for (unsigned int i = 0; i < chain->nr_out; i++) {
		const struct iovec *seg = &chain->out[i];

		if (skip >= seg->iov_len) {
			skip -= seg->iov_len;
			continue;
		}
		txq->iov[n++] = (struct iovec){ (uint8_t *)seg->iov_base + skip, seg->iov_len - skip };
		skip = 0;
	}
	return n;
}

static void transmit(struct net_txq *txq, const struct virtq_chain *chain)
{
	struct net *net = txq->net;
	struct virtio_net_hdr hdr;
	uint64_t frame_len = chain->out_bytes - TAP_VNET_HDR_SIZE;
	const char *fault;
	unsigned int n;

	virtq_chain_read(chain, 0, &hdr, sizeof(hdr));
	fault = net_header_tx_fault(virtio_features(net->vdev), &hdr, frame_len);
	if (fault) {
		drop(txq, fault, frame_len);
		return;
	}
	/* 5.1.6.2: num_buffers is unused on transmit; the tap reads it as padding. */
	hdr.num_buffers = 0;
	n = gather(txq, chain, &hdr);
	if (net->tap_gone) {
		txq->dropped++;		/* the link is down: said once, when the tap went */
		return;
	}
	if (writev(net_tap_fd(net, txq->pair), txq->iov, (int)n) < 0) {
		if (errno == EIO || errno == EBADFD || errno == ENODEV || errno == EPIPE)
			net_tap_failed(net, errno, "write");
		else
			drop(txq, strerror(errno), frame_len);
		return;
	}
	txq->frames++;
}

static bool tx_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct net_txq *txq = txq_of(qs);
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);

	if (chain->out_bytes < TAP_VNET_HDR_SIZE)
		drop(txq, "no room for the header", chain->out_bytes);
	else if (chain->out_bytes > TAP_VNET_HDR_SIZE + NET_MAX_FRAME)
		drop(txq, "chain longer than 64 KiB and the header", chain->out_bytes);
	else if (chain->nr_out >= NET_MAX_IOV)
		drop(txq, "too many segments", chain->out_bytes);
	else
		transmit(txq, chain);
	/* 5.1.6.2: the device writes nothing into a transmitted chain. */
	queue_service_push(qs, chain->head, 0);
	virtq_chain_release(vq, chain);
	return true;
}

static const struct queue_service_ops txq_ops = {
	.serve = tx_serve,
};

int net_tx_init(struct net_txq *txq, struct net *net, unsigned int pair)
{
	txq->net = net;
	txq->pair = pair;
	queue_service_init(&txq->service, net->vdev, 2 * pair + 1, &txq_ops, txq, &net->chain);
	return queue_loop_attach(&txq->service, net->base);
}

void net_tx_fini(struct net_txq *txq)
{
	queue_loop_detach(&txq->service);
}
