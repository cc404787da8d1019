/* SPDX-License-Identifier: MIT */
/*
 * backends/tap.h: the host side of virtio-net: a Linux tap with a virtio
 * net header on every frame (IFF_VNET_HDR), one file per queue pair
 * (IFF_MULTI_QUEUE), the offloads the guest accepts (TUNSETOFFLOAD), and
 * a netlink socket that reports its link state (backends/tap_link.c).
 */
#ifndef XVP_BACKENDS_TAP_H
#define XVP_BACKENDS_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/tap_link.h"

#define TAP_MAX_QUEUES		8
/* The header on every frame: virtio 1's struct virtio_net_hdr, num_buffers included (5.1.6). */
#define TAP_VNET_HDR_SIZE	12

struct tap {
	char name[IFNAMSIZ];
	int ifindex;
	int fds[TAP_MAX_QUEUES];	/* one per queue pair, -1 when closed */
	unsigned int nr_queues;
	unsigned int attached;		/* queues 0..attached-1 receive frames */
	bool created;			/* ours: removed again by tap_close() */
	unsigned int mtu;		/* the interface's when opened */
	bool link_up;			/* IFF_UP and IFF_RUNNING when opened */
	struct tap_link link;
};

/* Open @nr_queues files on the existing tap @name. 0 or -errno, @why says what failed. */
int tap_open_existing(struct tap *tap, const char *name, unsigned int nr_queues,
		      char *why, size_t why_len);
/* Create tap @name with @nr_queues files, attach it to @bridge and bring it up. */
int tap_create_on_bridge(struct tap *tap, const char *name, const char *bridge,
			 unsigned int nr_queues, char *why, size_t why_len);
/* Close every file (a tap we created goes away with the last one). Safe on a zeroed tap. */
void tap_close(struct tap *tap);
/* TUN_F_* flags for frames the tap hands us. 0 or -errno. */
int tap_set_offload(const struct tap *tap, unsigned int tun_flags);
/* Queues 0..@count-1 receive frames, the others are detached (TUNSETQUEUE). 0 or -errno. */
int tap_set_queues(struct tap *tap, unsigned int count);
/* Is @name a valid interface name for us (at most 15 bytes, no '/', ':' or blanks)? */
bool tap_name_valid(const char *name);

#endif
