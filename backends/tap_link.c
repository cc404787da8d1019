// SPDX-License-Identifier: MIT
/*
 * backends/tap_link.c: rtnetlink through libmnl (Debian libmnl-dev), the
 * netfilter project's small netlink library: it builds and walks messages
 * with bounds checks we would otherwise write by hand.
 *
 * The link-state socket is opened before privileges drop and joins
 * RTMGRP_LINK, so every change of every interface reaches it; only the
 * tap's index counts. At serve time it only receives (recvmsg) and, after
 * an overrun, sends one RTM_GETLINK (sendto).
 */
#include "backends/tap_link.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

int tap_link_open(struct tap_link *link)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int ret;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	if (fcntl(mnl_socket_get_fd(nl), F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	link->nl = nl;
	link->seq = (unsigned int)time(NULL);
	return 0;

fail:
	ret = -errno;
	mnl_socket_close(nl);
	return ret;
}

void tap_link_close(struct tap_link *link)
{
	if (link->nl)
		mnl_socket_close(link->nl);
	link->nl = NULL;
}

int tap_link_fd(const struct tap_link *link)
{
	return mnl_socket_get_fd(link->nl);
}

bool tap_link_flags_up(unsigned int flags)
{
	/* IFF_UP: administratively up; IFF_RUNNING: carrier and operational state up (RFC 2863). */
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

struct link_walk {
	int ifindex;
	bool seen;
	enum tap_link_state state;
};

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	struct link_walk *walk = data;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index != walk->ifindex)
		return MNL_CB_OK;
	walk->seen = true;
	if (nlh->nlmsg_type == RTM_DELLINK)
		walk->state = TAP_LINK_GONE;
	else
		walk->state = tap_link_flags_up(ifi->ifi_flags) ? TAP_LINK_UP : TAP_LINK_DOWN;
	return MNL_CB_OK;
}

int tap_link_read(struct tap_link *link, int ifindex,
		  void (*changed)(void *opaque, enum tap_link_state state), void *opaque)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_walk walk = { .ifindex = ifindex };

	/* A bounded number of reads per wake-up: the socket sees every interface's changes. */
	for (unsigned int i = 0; i < 16; i++) {
		ssize_t len = mnl_socket_recvfrom(link->nl, buf, sizeof(buf));

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		/* Multicast messages carry seq 0 and our requests' answers our portid: check neither. */
		if (mnl_cb_run(buf, (size_t)len, 0, 0, on_message, &walk) < 0 && errno != ESRCH)
			continue;	/* a malformed or error message: the next one may be fine */
	}
	if (walk.seen)
		changed(opaque, walk.state);
	return 0;
}

int tap_link_request(struct tap_link *link, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++link->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (mnl_socket_sendto(link->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/* Send @nlh on a fresh socket and wait for the kernel's acknowledgement. */
static int request_acked(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int portid;
	ssize_t len;
	int ret = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (len < 0 || mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, portid, NULL, NULL) < 0)
		goto fail;
	mnl_socket_close(nl);
	return 0;

fail:
	ret = errno ? -errno : -EIO;
	mnl_socket_close(nl);
	return ret;
}

int tap_link_attach_bridge(int ifindex, int master_index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_index);
	return request_acked(nlh);
}
