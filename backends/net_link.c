// SPDX-License-Identifier: MIT
/*
 * backends/net_link.c: virtio-net's link state (5.1.4, VIRTIO_NET_S_LINK_UP
 * and VIRTIO_NET_S_ANNOUNCE): the tap's, as rtnetlink reports it
 * (tap_link.c), told to the driver with a configuration interrupt; and a
 * tap that fails or disappears, which takes the link down for good.
 */
#include "backends/net_internal.h"

#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "backends/tap.h"

static void set_link(struct net *net, bool up)
{
	uint16_t old = net->status;

	if (up)
		net->status |= VIRTIO_NET_S_LINK_UP;
	else
		net->status &= (uint16_t)~VIRTIO_NET_S_LINK_UP;
	/* 5.1.4: announce on a link that came back, so the network relearns where the guest is. */
	if (up && !(old & VIRTIO_NET_S_LINK_UP) && net->started && net_has(net, VIRTIO_NET_F_GUEST_ANNOUNCE))
		net->status |= VIRTIO_NET_S_ANNOUNCE;
	if (net->status != old && net->started && net_has(net, VIRTIO_NET_F_STATUS))
		virtio_config_changed(net->vdev);
}

void net_link_changed(struct net *net, bool up)
{
	bool was_up = net->status & VIRTIO_NET_S_LINK_UP;

	if (net->tap_gone || up == was_up)
		return;
	log_info("%s: link %s (tap %s)", net->name, up ? "up" : "down", net->tap->name);
	set_link(net, up);
	if (up)
		for (unsigned int i = 0; i < net->active_pairs; i++)
			net_rx_kick(&net->rxq[i]);
}

void net_tap_failed(struct net *net, int err, const char *what)
{
	if (net->tap_gone)
		return;
	log_error("%s: tap %s: %s: %s: link down", net->name, net->tap->name, what, strerror(err));
	set_link(net, false);
	net->tap_gone = true;
	for (unsigned int i = 0; i < net->pairs; i++)
		net_rx_stop(&net->rxq[i]);
}

static void on_link_changed(void *opaque, enum tap_link_state state)
{
	struct net *net = opaque;

	if (state == TAP_LINK_GONE)
		net_tap_failed(net, ENODEV, "interface deleted");
	else
		net_link_changed(net, state == TAP_LINK_UP);
}

static void on_link_readable(evutil_socket_t fd, short what, void *arg)
{
	struct net *net = arg;
	int ret = tap_link_read(&net->tap->link, net->tap->ifindex, on_link_changed, net);

	(void)fd;
	(void)what;
	/* Messages were lost: ask for the tap's state again rather than guess. */
	if (ret == -ENOBUFS)
		ret = tap_link_request(&net->tap->link, net->tap->ifindex);
	if (ret)
		log_ratelimited(&net->log, LOG_LEVEL_WARN, "%s: link state: %s", net->name, strerror(-ret));
}

int net_link_start(struct net *net)
{
	net->link_event = event_new(net->base, tap_link_fd(&net->tap->link), EV_READ | EV_PERSIST,
				    on_link_readable, net);
	if (!net->link_event || event_add(net->link_event, NULL))
		return -ENOMEM;
	return 0;
}

void net_link_stop(struct net *net)
{
	if (net->link_event)
		event_free(net->link_event);
	net->link_event = NULL;
}
