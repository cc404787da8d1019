// SPDX-License-Identifier: MIT
/*
 * backends/net_ctrl.c: the control queue (virtio 1.2, 5.1.6.5). A command
 * is class, command and data in device-readable buffers and an ack byte in
 * a device-writable one. Any class, command or length we do not know, or a
 * command of a feature not negotiated, is answered VIRTIO_NET_ERR.
 *
 * A tap does not filter: promiscuous and all-multicast modes and the MAC
 * table are accepted and acknowledged, and the guest's own stack filters
 * what it did not ask for.
 */
#include "backends/net_internal.h"

#include <endian.h>
#include <string.h>

#include "backends/queue_loop.h"

/* The largest command we accept: a MAC table of 1024 entries, both halves. */
#define CTRL_MAX_LEN	(2 + 4 + 6 * 1024 * 2 + 4)

struct ctrl_command {
	uint8_t class;
	uint8_t command;
	const struct virtq_chain *chain;
	uint64_t data_len;		/* after class and command */
};

static bool read_data(const struct ctrl_command *cmd, uint64_t offset, void *dst, uint64_t len)
{
	return offset + len <= cmd->data_len && virtq_chain_read(cmd->chain, 2 + offset, dst, len) == len;
}

/* 5.1.6.5.1: promiscuous and all-multicast take one byte, on or off. */
static uint8_t ctrl_rx(struct net *net, const struct ctrl_command *cmd)
{
	uint8_t on;

	if (!net_has(net, VIRTIO_NET_F_CTRL_RX) || cmd->data_len != 1 || !read_data(cmd, 0, &on, 1))
		return VIRTIO_NET_ERR;
	if (cmd->command != VIRTIO_NET_CTRL_RX_PROMISC && cmd->command != VIRTIO_NET_CTRL_RX_ALLMULTI)
		return VIRTIO_NET_ERR;
	return VIRTIO_NET_OK;
}

/* 5.1.6.5.2: two tables, each a 32-bit count and that many addresses, and nothing after. */
static bool mac_tables_valid(const struct ctrl_command *cmd)
{
	uint64_t offset = 0;

	for (int table = 0; table < 2; table++) {
		uint32_t entries;

		if (!read_data(cmd, offset, &entries, 4))
			return false;
		offset += 4 + 6ULL * le32toh(entries);
	}
	return offset == cmd->data_len;
}

static uint8_t ctrl_mac(struct net *net, const struct ctrl_command *cmd)
{
	uint8_t mac[6];

	switch (cmd->command) {
	case VIRTIO_NET_CTRL_MAC_TABLE_SET:
		if (!net_has(net, VIRTIO_NET_F_CTRL_RX) || !mac_tables_valid(cmd))
			return VIRTIO_NET_ERR;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC_ADDR_SET:
		if (!net_has(net, VIRTIO_NET_F_CTRL_MAC_ADDR) || cmd->data_len != 6 ||
		    !read_data(cmd, 0, mac, 6))
			return VIRTIO_NET_ERR;
		/* 5.1.6.5.2: the address the device uses, and reports in mac, from now on. */
		memcpy(net->mac, mac, 6);
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR;
	}
}

/* 5.1.6.5.4: the driver saw VIRTIO_NET_S_ANNOUNCE and sent its announcement. */
static uint8_t ctrl_announce(struct net *net, const struct ctrl_command *cmd)
{
	if (!net_has(net, VIRTIO_NET_F_GUEST_ANNOUNCE) || cmd->command != VIRTIO_NET_CTRL_ANNOUNCE_ACK ||
	    cmd->data_len)
		return VIRTIO_NET_ERR;
	net->status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
	return VIRTIO_NET_OK;
}

/* 5.1.6.5.5: 1..max_virtqueue_pairs pairs receive and transmit from now on. */
static uint8_t ctrl_mq(struct net *net, const struct ctrl_command *cmd)
{
	uint16_t pairs;

	if (!net_has(net, VIRTIO_NET_F_MQ) || cmd->command != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    cmd->data_len != 2 || !read_data(cmd, 0, &pairs, 2))
		return VIRTIO_NET_ERR;
	pairs = le16toh(pairs);
	if (pairs < 1 || pairs > net->pairs || net_set_active_pairs(net, pairs))
		return VIRTIO_NET_ERR;
	return VIRTIO_NET_OK;
}

/* 5.1.6.5.6.1: only offloads among the negotiated guest features. */
static uint8_t ctrl_offloads(struct net *net, const struct ctrl_command *cmd)
{
	const uint64_t guest_offloads = NET_FEATURE(VIRTIO_NET_F_GUEST_CSUM) |
		NET_FEATURE(VIRTIO_NET_F_GUEST_TSO4) | NET_FEATURE(VIRTIO_NET_F_GUEST_TSO6) |
		NET_FEATURE(VIRTIO_NET_F_GUEST_ECN);
	uint64_t offloads;

	if (!net_has(net, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) ||
	    cmd->command != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || cmd->data_len != 8 ||
	    !read_data(cmd, 0, &offloads, 8))
		return VIRTIO_NET_ERR;
	offloads = le64toh(offloads);
	if (offloads & ~(virtio_features(net->vdev) & guest_offloads))
		return VIRTIO_NET_ERR;
	return net_apply_offloads(net, offloads) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

static uint8_t execute(struct net *net, const struct ctrl_command *cmd)
{
	switch (cmd->class) {
	case VIRTIO_NET_CTRL_RX:
		return ctrl_rx(net, cmd);
	case VIRTIO_NET_CTRL_MAC:
		return ctrl_mac(net, cmd);
	case VIRTIO_NET_CTRL_ANNOUNCE:
		return ctrl_announce(net, cmd);
	case VIRTIO_NET_CTRL_MQ:
		return ctrl_mq(net, cmd);
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		return ctrl_offloads(net, cmd);
	default:
		return VIRTIO_NET_ERR;
	}
}

static bool ctrl_serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct net_ctrlq *ctrlq = qs->opaque;
	struct net *net = virtio_backend(qs->vdev);
	struct virtqueue *vq = virtio_queue(qs->vdev, qs->index);
	struct ctrl_command cmd = { .chain = chain };
	uint8_t header[2], ack = VIRTIO_NET_ERR;

	if (!chain->in_bytes) {
		virtq_chain_release(vq, chain);
		/* 5.1.6.5: the ack is device-writable: without it the command cannot be answered. */
		virtio_device_needs_reset(qs->vdev, "control command without an ack byte (5.1.6.5)");
		return false;
	}
	ctrlq->commands++;
	if (chain->out_bytes >= 2 && chain->out_bytes <= CTRL_MAX_LEN &&
	    virtq_chain_read(chain, 0, header, 2) == 2) {
		cmd.class = header[0];
		cmd.command = header[1];
		cmd.data_len = chain->out_bytes - 2;
		ack = execute(net, &cmd);
	}
	if (ack != VIRTIO_NET_OK) {
		ctrlq->errors++;
		log_ratelimited(&net->log, LOG_LEVEL_DEBUG, "%s: control class %u command %u (%llu bytes): error",
				net->name, cmd.class, cmd.command, (unsigned long long)chain->out_bytes);
	}
	virtq_chain_write(chain, 0, &ack, 1);
	queue_service_push(qs, chain->head, 1);
	virtq_chain_release(vq, chain);
	return true;
}

static const struct queue_service_ops ctrlq_ops = {
	.serve = ctrl_serve,
};

int net_ctrl_init(struct net_ctrlq *ctrlq, struct net *net, unsigned int index)
{
	queue_service_init(&ctrlq->service, net->vdev, index, &ctrlq_ops, ctrlq, &net->ctrl_chain);
	return queue_loop_attach(&ctrlq->service, net->base);
}

void net_ctrl_fini(struct net_ctrlq *ctrlq)
{
	queue_loop_detach(&ctrlq->service);
}
