/* SPDX-License-Identifier: MIT */
/*
 * backends/net_internal.h: what the files of virtio-net share (net.c: the
 * device, features and configuration; net_rx.c, net_tx.c, net_ctrl.c: its
 * queues). Constants keep the names of virtio 1.2, 5.1.
 */
#ifndef XVP_BACKENDS_NET_INTERNAL_H
#define XVP_BACKENDS_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/net.h"
#include "backends/net_header.h"
#include "lib/log.h"
#include "virtio/device.h"
#include "virtio/queue_service.h"

struct event;
struct event_base;

/* 5.1.6.5: control classes and commands. */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_ANNOUNCE	3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK	0
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	5
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

/* 5.1.4: mac, status, max_virtqueue_pairs, mtu. */
#define NET_CONFIG_SIZE			12

/* The largest frame without its header: 64 KiB of GSO payload with Ethernet and a VLAN tag. */
#define NET_MAX_FRAME			(65535 + 14 + 4)
/* Ethernet and VLAN headers around an MTU-sized payload. */
#define NET_FRAME_OVERHEAD		18
/* readv/writev take at most UIO_MAXIOV segments. */
#define NET_MAX_IOV			1024
/* Behind the guest's buffers: the largest frame a tap gives, so none is ever cut short unseen. */
#define NET_RX_OVERFLOW			(TAP_VNET_HDR_SIZE + NET_MAX_FRAME)
/* Buffers one received frame may use (MRG_RXBUF); more than 64 KiB of Linux's smallest. */
#define NET_RX_MAX_BUFFERS		256
/* Frames per tap wake-up, as queue_service's budget bounds chains per pass. */
#define NET_RX_BUDGET			64

struct net;

/* One popped receive buffer (a chain), kept until a frame fills it. */
struct net_rx_buffer {
	uint16_t head;
	uint32_t len;			/* its writable bytes */
	unsigned int iov_first;		/* its segments in rxq->iov */
	unsigned int nr_iov;
	struct virtio_mem_refs refs;
};

struct net_rxq {
	struct net *net;
	unsigned int pair;
	struct event *readable;		/* the tap file; added only while we have buffers */
	bool reading;
	/* Buffers popped and not used yet, oldest first, their segments in iov. */
	struct net_rx_buffer buffers[NET_RX_MAX_BUFFERS];
	unsigned int nr_buffers;
	uint64_t buffered_bytes;
	/* Their segments, and room for one more: the overflow buffer. */
	struct iovec iov[NET_MAX_IOV];
	unsigned int nr_iov;
	uint8_t *overflow;		/* NET_RX_OVERFLOW bytes, where a frame too big ends up */
	bool pushed;
	/* Counters, for tests and logs. */
	uint64_t frames;
	uint64_t dropped_too_big;	/* a frame larger than the buffers (5.1.6.3.1) */
	uint64_t reads;			/* readv calls on the tap */
	uint64_t stalls;		/* times reading stopped: no buffers */
};

struct net_txq {
	struct net *net;
	unsigned int pair;
	struct queue_service service;
	struct iovec iov[NET_MAX_IOV];
	uint64_t frames;
	uint64_t dropped;		/* malformed headers, oversize chains, tap errors */
};

struct net_ctrlq {
	struct queue_service service;
	uint64_t commands;
	uint64_t errors;		/* answered VIRTIO_NET_ERR */
};

struct net {
	struct virtio_device *vdev;
	char name[32];
	struct net_config config;
	struct tap *tap;		/* config.tap_host */
	struct event_base *base;
	const struct virtio_transport *transport;
	struct log_ratelimit log;
	uint64_t offered;
	unsigned int pairs;		/* max_virtqueue_pairs */
	uint16_t queue_size;
	/* Device state, back to its reset values by net_device_reset(). */
	bool started;			/* features applied to the tap (first DRIVER_OK notify) */
	bool tap_gone;
	uint8_t mac[6];
	uint16_t status;
	unsigned int active_pairs;	/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	uint32_t rx_frame_max;		/* header and frame the tap may hand us */
	struct event *link_event;
	/* Scratch for virtq_pop(): one for rx and tx, one for control commands, which start rx. */
	struct virtq_chain chain;
	struct virtq_chain ctrl_chain;
	struct net_rxq rxq[NET_MAX_QUEUE_PAIRS];
	struct net_txq txq[NET_MAX_QUEUE_PAIRS];
	/* The control queue's index is 2 unless MQ is negotiated (5.1.2): one service for each. */
	struct net_ctrlq ctrlq_single;
	struct net_ctrlq ctrlq_multi;
};

static inline bool net_has(const struct net *net, unsigned int bit)
{
	return virtio_features(net->vdev) & NET_FEATURE(bit);
}

/* Which queue the control queue is, with the features negotiated (5.1.2). */
unsigned int net_ctrlq_index(const struct net *net);

/* net_keys.c: the descriptor's configuration hooks. */
void net_config_defaults(void *config);
int net_config_set_key(void *config, const char *key, const char *value, char *why, size_t why_len);
int net_config_check(void *config, const struct backend_common *common, char *why, size_t why_len);
int net_config_open(void *config, const struct backend_common *common, char *why, size_t why_len);
void net_config_close(void *config);
void net_config_describe(const void *config, char *buf, size_t len);
/* 00:16:3e (Xen's prefix) and three bytes of a hash of the domain and the device index. */
void net_default_mac(uint8_t mac[6], const struct backend_env *env, const struct backend_common *common);

/* net.c */
int net_tap_fd(const struct net *net, unsigned int pair);
int net_apply_offloads(struct net *net, uint64_t guest_features);
int net_set_active_pairs(struct net *net, unsigned int pairs);

/* net_link.c */
/* Follow the tap's link state on the event loop (after the queues exist). */
int net_link_start(struct net *net);
void net_link_stop(struct net *net);
/* The tap's link went @up or down: status, interrupt, rx started again. */
void net_link_changed(struct net *net, bool up);
/* The tap failed (@err from @what) or went: link down, rx stopped, tx dropped from now on. */
void net_tap_failed(struct net *net, int err, const char *what);

/* net_rx.c */
int net_rx_init(struct net_rxq *rxq, struct net *net, unsigned int pair);
void net_rx_fini(struct net_rxq *rxq);
/* The driver added buffers, or the device started: read the tap again. */
void net_rx_kick(struct net_rxq *rxq);
/* Stop reading and drop the buffers held (device reset, pair disabled). */
void net_rx_stop(struct net_rxq *rxq);

/* net_tx.c */
int net_tx_init(struct net_txq *txq, struct net *net, unsigned int pair);
void net_tx_fini(struct net_txq *txq);

/* net_ctrl.c */
int net_ctrl_init(struct net_ctrlq *ctrlq, struct net *net, unsigned int index);
void net_ctrl_fini(struct net_ctrlq *ctrlq);

#endif
