/* SPDX-License-Identifier: MIT */
/*
 * backends/tap_link.h: the tap's link state from rtnetlink (RTM_NEWLINK and
 * RTM_DELLINK on RTMGRP_LINK), with libmnl; and the one-off request that
 * puts a created tap on its bridge.
 */
#ifndef XVP_BACKENDS_TAP_LINK_H
#define XVP_BACKENDS_TAP_LINK_H

#include <stdbool.h>

struct mnl_socket;

struct tap_link {
	struct mnl_socket *nl;		/* subscribed to RTMGRP_LINK; NULL when closed */
	unsigned int seq;
};

enum tap_link_state {
	TAP_LINK_DOWN,
	TAP_LINK_UP,
	TAP_LINK_GONE,			/* the interface was deleted */
};

/* Open the socket (before privileges drop). 0 or -errno. */
int tap_link_open(struct tap_link *link);
void tap_link_close(struct tap_link *link);
int tap_link_fd(const struct tap_link *link);
/*
 * Read what is pending (non-blocking) and report the last state of interface
 * @ifindex seen in it through @changed. 0, or -errno (-ENOBUFS: messages
 * were lost, tap_link_request() asks for the state again).
 */
int tap_link_read(struct tap_link *link, int ifindex,
		  void (*changed)(void *opaque, enum tap_link_state state), void *opaque);
/* Ask the kernel for the state of @ifindex (the answer arrives as a message). */
int tap_link_request(struct tap_link *link, int ifindex);
/* Put @ifindex on bridge @master_index and bring it up; waits for the kernel's answer. */
int tap_link_attach_bridge(int ifindex, int master_index);
/* Does @flags (ifi_flags) say the link carries frames? */
bool tap_link_flags_up(unsigned int flags);

#endif
