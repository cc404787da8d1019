// SPDX-License-Identifier: MIT
/*
 * backends/net.c: virtio-net (virtio 1.2, 5.1) on a tap: features, the
 * configuration space, device reset, and the descriptor the daemon knows
 * the type by (its keys are in net_keys.c, its link state in net_link.c,
 * its queues in net_rx.c, net_tx.c and net_ctrl.c, the host side in tap.c).
 *
 * Queue pair i is receiveq 2i and transmitq 2i+1 on tap file i; the
 * control queue follows the last pair when MQ is negotiated, else it is
 * queue 2 (5.1.2).
 */
#include "backends/net_internal.h"

#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/tap.h"

#define NET_DEVICE_TYPE		1		/* 5: Device Types */
#define NET_CLASS_CODE		0x020000	/* network controller, Ethernet */

unsigned int net_ctrlq_index(const struct net *net)
{
	return net_has(net, VIRTIO_NET_F_MQ) ? 2 * net->pairs : 2;
}

int net_tap_fd(const struct net *net, unsigned int pair)
{
	/*
	 * Transmit only (receiving reads the pair's own file): a detached
	 * queue's file refuses I/O, so a disabled pair's late frame goes out on
	 * pair 0.
	 */
	return net->tap->fds[pair < net->tap->attached ? pair : 0];
}

static uint64_t offered_features(const struct net_config *config)
{
	uint64_t features = NET_FEATURE(VIRTIO_NET_F_CSUM) | NET_FEATURE(VIRTIO_NET_F_GUEST_CSUM) |
		NET_FEATURE(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | NET_FEATURE(VIRTIO_NET_F_MAC) |
		NET_FEATURE(VIRTIO_NET_F_GUEST_TSO4) | NET_FEATURE(VIRTIO_NET_F_GUEST_TSO6) |
		NET_FEATURE(VIRTIO_NET_F_GUEST_ECN) | NET_FEATURE(VIRTIO_NET_F_HOST_TSO4) |
		NET_FEATURE(VIRTIO_NET_F_HOST_TSO6) | NET_FEATURE(VIRTIO_NET_F_HOST_ECN) |
		NET_FEATURE(VIRTIO_NET_F_MRG_RXBUF) | NET_FEATURE(VIRTIO_NET_F_STATUS) |
		NET_FEATURE(VIRTIO_NET_F_CTRL_VQ) | NET_FEATURE(VIRTIO_NET_F_CTRL_RX) |
		NET_FEATURE(VIRTIO_NET_F_GUEST_ANNOUNCE) | NET_FEATURE(VIRTIO_NET_F_CTRL_MAC_ADDR);

	if (config->mtu)
		features |= NET_FEATURE(VIRTIO_NET_F_MTU);
	/* One pair needs no MQ (and no multi-queue tap). */
	if (config->queue_pairs > 1)
		features |= NET_FEATURE(VIRTIO_NET_F_MQ);
	return features;
}

static uint64_t net_features(struct virtio_device *vdev)
{
	return ((struct net *)virtio_backend(vdev))->offered;
}

/* 5.1.4: mac, status, max_virtqueue_pairs, mtu; little-endian. */
static void net_config_read(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	struct net *net = virtio_backend(vdev);
	uint8_t config[NET_CONFIG_SIZE];
	uint16_t status = htole16(net->status), pairs = htole16((uint16_t)net->pairs);
	uint16_t mtu = htole16(net->config.mtu);

	memcpy(config, net->mac, 6);
	memcpy(config + 6, &status, 2);
	memcpy(config + 8, &pairs, 2);
	memcpy(config + 10, &mtu, 2);
	memcpy(buf, config + off, len);
}

/* 5.1.4.2: the driver MUST NOT write the configuration (mac changes by CTRL_MAC_ADDR). */
static void net_config_write(struct virtio_device *vdev, uint32_t off, const void *buf, uint32_t len)
{
	struct net *net = virtio_backend(vdev);

	(void)buf;
	log_ratelimited(&net->log, LOG_LEVEL_DEBUG, "%s: %u-byte config write at %u ignored",
			net->name, len, off);
}

/* The tap hands us what the guest offloads in @features allow (5.1.6.4). */
int net_apply_offloads(struct net *net, uint64_t features)
{
	unsigned int flags = net_header_tun_offloads(features);
	int ret = tap_set_offload(net->tap, flags);
	if (ret)
		log_ratelimited(&net->log, LOG_LEVEL_ERROR, "%s: TUNSETOFFLOAD 0x%x: %s",
				net->name, flags, strerror(-ret));
	/* 5.1.6.3.1: with GSO offloads a frame may be 64 KiB; else an MTU and its headers. */
	net->rx_frame_max = TAP_VNET_HDR_SIZE + ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) ? NET_MAX_FRAME :
			    (net->tap->mtu > net->config.mtu ? net->tap->mtu : net->config.mtu) +
			    NET_FRAME_OVERHEAD);
	return ret;
}

int net_set_active_pairs(struct net *net, unsigned int pairs)
{
	int ret = tap_set_queues(net->tap, pairs);

	if (ret) {
		log_ratelimited(&net->log, LOG_LEVEL_ERROR, "%s: TUNSETQUEUE for %u pairs: %s",
				net->name, pairs, strerror(-ret));
		return ret;
	}
	/* 5.1.6.5.5: no frame goes to a receiveq beyond @pairs once the command is answered. */
	for (unsigned int i = pairs; i < net->active_pairs; i++)
		net_rx_stop(&net->rxq[i]);
	net->active_pairs = pairs;
	for (unsigned int i = 0; i < pairs; i++)
		net_rx_kick(&net->rxq[i]);
	return 0;
}

/* The first DRIVER_OK (its queue notifications): the negotiated features reach the tap. */
static void start(struct net *net)
{
	if (net->started)
		return;
	net->started = true;
	net_apply_offloads(net, virtio_features(net->vdev));
}

static void net_queue_notify(struct virtio_device *vdev, unsigned int index)
{
	struct net *net = virtio_backend(vdev);

	start(net);
	if (index == net_ctrlq_index(net))
		queue_service_run(index == 2 * net->pairs ? &net->ctrlq_multi.service :
				  &net->ctrlq_single.service);
	else if (index >= 2 * net->pairs)
		return;
	else if (index % 2)
		queue_service_run(&net->txq[index / 2].service);
	else
		net_rx_kick(&net->rxq[index / 2]);
}

static void net_reset(struct virtio_device *vdev)
{
	struct net *net = virtio_backend(vdev);
	bool was_started = net->started;

	net->started = false;
	for (unsigned int i = 0; i < net->pairs; i++)
		net_rx_stop(&net->rxq[i]);
	if (was_started && !net->tap_gone) {
		/* 5.1.6.4: offloads are what the next driver negotiates; none until then. */
		net_apply_offloads(net, 0);
		/* 5.1.6.5.5: after a reset only the first pair is in use. */
		if (tap_set_queues(net->tap, 1))
			log_ratelimited(&net->log, LOG_LEVEL_ERROR, "%s: TUNSETQUEUE at reset failed",
					net->name);
	}
	net->active_pairs = 1;
	memcpy(net->mac, net->config.mac, 6);
	net->status &= VIRTIO_NET_S_LINK_UP;
}

static const struct virtio_device_ops net_ops = {
	.features = net_features,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
};

static int init_queues(struct net *net)
{
	int ret = 0;

	for (unsigned int i = 0; i < net->pairs && !ret; i++) {
		ret = net_rx_init(&net->rxq[i], net, i);
		if (!ret)
			ret = net_tx_init(&net->txq[i], net, i);
	}
	if (!ret)
		ret = net_ctrl_init(&net->ctrlq_single, net, 2);
	if (!ret)
		ret = net_ctrl_init(&net->ctrlq_multi, net, 2 * net->pairs);
	if (ret)
		return ret;
	/*
	 * With MQ offered, queue 2 is the control queue or the second pair's
	 * receiveq, as the driver negotiates (5.1.2): its notifications come to
	 * net_queue_notify(), which knows which, and not to the control
	 * service that queue_service_init() made their receiver.
	 */
	if (net->pairs > 1)
		virtio_queue_set_service(net->vdev, 2, NULL);
	return net_link_start(net);
}

static void fini_queues(struct net *net)
{
	net_link_stop(net);
	for (unsigned int i = 0; i < net->pairs; i++) {
		net_rx_fini(&net->rxq[i]);
		net_tx_fini(&net->txq[i]);
	}
	net_ctrl_fini(&net->ctrlq_single);
	net_ctrl_fini(&net->ctrlq_multi);
}

static struct net *net_alloc(const struct backend_env *env, const struct backend_common *common,
			     const struct net_config *config)
{
	struct net *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	net->config = *config;
	net->tap = &net->config.tap_host;
	net->base = env->base;
	net->transport = env->transport;
	snprintf(net->name, sizeof(net->name), "%s", common->name);
	log_ratelimit_init(&net->log, net->name);
	net->pairs = config->queue_pairs;
	net->active_pairs = 1;
	net->offered = offered_features(config);
	memcpy(net->mac, config->mac, 6);
	net->status = net->tap->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	return net;
}

static int net_create(struct virtio_device **out, const struct backend_env *env,
		      const struct backend_common *common, const void *config)
{
	const struct net_config *net_config = config;
	struct net *net = net_alloc(env, common, net_config);
	struct virtio_device_info info = {
		.device_type = NET_DEVICE_TYPE,
		.class_code = NET_CLASS_CODE,
		.queue_size = common->queue_size,
		.config_size = NET_CONFIG_SIZE,
	};
	int ret;

	if (!net)
		return -ENOMEM;
	info.name = net->name;
	info.num_queues = (uint16_t)(2 * net->pairs + 1);
	if (!net_config->has_mac)
		net_default_mac(net->config.mac, env, common);
	memcpy(net->mac, net->config.mac, 6);
	ret = env->transport->create(&net->vdev, &info, &net_ops, net, env->mem);
	if (ret)
		goto free_net;
	ret = init_queues(net);
	if (ret)
		goto destroy;
	*out = net->vdev;
	return 0;

destroy:
	env->transport->destroy(net->vdev);
	fini_queues(net);
free_net:
	free(net);
	return ret;
}

/* What an operator asks after a problem: frames each way, and why some never arrived. */
static void log_stats(const struct net *net)
{
	uint64_t rx = 0, reads = 0, stalls = 0, too_big = 0, tx = 0, dropped = 0;

	for (unsigned int i = 0; i < net->pairs; i++) {
		rx += net->rxq[i].frames;
		reads += net->rxq[i].reads;
		stalls += net->rxq[i].stalls;
		too_big += net->rxq[i].dropped_too_big;
		tx += net->txq[i].frames;
		dropped += net->txq[i].dropped;
	}
	log_info("%s: rx %llu frames in %llu tap reads, %llu waits for buffers, %llu too big; "
		 "tx %llu frames, %llu dropped; %llu control commands, %llu refused", net->name,
		 (unsigned long long)rx, (unsigned long long)reads, (unsigned long long)stalls,
		 (unsigned long long)too_big, (unsigned long long)tx, (unsigned long long)dropped,
		 (unsigned long long)(net->ctrlq_single.commands + net->ctrlq_multi.commands),
		 (unsigned long long)(net->ctrlq_single.errors + net->ctrlq_multi.errors));
}

static void net_destroy(struct virtio_device *vdev)
{
	struct net *net;

	if (!vdev)
		return;
	net = virtio_backend(vdev);
	net->transport->destroy(vdev);
	log_stats(net);
	fini_queues(net);
	log_ratelimit_flush(&net->log);
	free(net);
}

const struct backend_type net_backend = {
	.name = "net",
	.keys = "tap, bridge, ifname, mac, mtu, queues, queue-size, addr, poll-max-ns",
	.usage = "net,tap=NAME|bridge=BR[,ifname=NAME][,mac=MAC][,mtu=N][,queues=N]\n"
		 "   [,queue-size=N][,addr=DEV]",
	.help = "tap: net's existing tap; bridge: a new tap on BR, removed at stop\n"
		"ifname: the new tap's name (default vpciDOMID.N), 15 bytes at most\n"
		"mac: default 00:16:3e and 3 bytes from the domain's name and N\n"
		"mtu: 68..65535, told to the guest; queues: queue pairs, 1..8\n",
	.config_size = sizeof(struct net_config),
	.defaults = net_config_defaults,
	.set_key = net_config_set_key,
	.check = net_config_check,
	.open = net_config_open,
	.close = net_config_close,
	.create = net_create,
	.destroy = net_destroy,
	.describe = net_config_describe,
};
