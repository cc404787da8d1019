/* SPDX-License-Identifier: MIT */
/*
 * backends/net.h: virtio-net (virtio 1.2, 5.1) on a Linux tap: an existing
 * one (--device net,tap=NAME) or one the daemon creates on a bridge
 * (--device net,bridge=BR[,ifname=NAME]) and removes when it stops.
 */
#ifndef XVP_BACKENDS_NET_H
#define XVP_BACKENDS_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"
#include "backends/tap.h"

/* 5.1.4: max_virtqueue_pairs; queues=N takes 1..NET_MAX_QUEUE_PAIRS. */
#define NET_MAX_QUEUE_PAIRS	8

struct net_config {
	char tap[IFNAMSIZ];	/* tap=: an existing tap */
	char bridge[IFNAMSIZ];	/* bridge=: create a tap and attach it there */
	char ifname[IFNAMSIZ];	/* ifname=: the created tap's name ("" : vpci<domid>.<index>) */
	bool has_mac;
	uint8_t mac[6];
	uint16_t mtu;		/* 0: not given, VIRTIO_NET_F_MTU not offered */
	uint16_t queue_pairs;	/* 1..NET_MAX_QUEUE_PAIRS */
	/* Filled by open(). */
	bool opened;
	struct tap tap_host;
};

extern const struct backend_type net_backend;

#endif
