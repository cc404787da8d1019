// SPDX-License-Identifier: MIT
/*
 * backends/tap.c: opening a tap for virtio-net, or creating one on a
 * bridge. Every file gets IFF_VNET_HDR with a 12-byte header (virtio 1's
 * struct virtio_net_hdr with num_buffers, 5.1.6), so frames and their
 * checksum/segmentation metadata pass between guest and kernel untouched:
 * the daemon neither checksums nor segments.
 */
#include "backends/tap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_queue(const char *name, unsigned int nr_queues, bool must_exist, int *out)
{
	struct ifreq ifr = { 0 };
	int vnet_hdr_size = TAP_VNET_HDR_SIZE;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (nr_queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (must_exist && !if_nametoindex(name)) {
		ret = -ENODEV;
		goto fail;
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &vnet_hdr_size) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		ret = -errno;
		goto fail;
	}
	*out = fd;
	return 0;

fail:
	close(fd);
	return ret;
}

/* The interface's MTU and whether its link is up, by name through an ioctl socket. */
static int query_interface(struct tap *tap)
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (sock < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap->name);
	if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	tap->mtu = (unsigned int)ifr.ifr_mtu;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	tap->link_up = tap_link_flags_up((unsigned short)ifr.ifr_flags);
out:
	close(sock);
	return ret;
}

static int open_queues(struct tap *tap, const char *name, unsigned int nr_queues, bool must_exist,
		       char *why, size_t why_len)
{
	int ret;

	for (unsigned int i = 0; i < TAP_MAX_QUEUES; i++)
		tap->fds[i] = -1;
	snprintf(tap->name, sizeof(tap->name), "%s", name);
	for (unsigned int i = 0; i < nr_queues; i++) {
		ret = open_queue(name, nr_queues, must_exist && i == 0, &tap->fds[i]);
		if (ret) {
			snprintf(why, why_len, "tap %s%s: %s", name,
				 ret == -EINVAL && nr_queues > 1 ? " (multi-queue?)" : "", strerror(-ret));
			return ret;
		}
		tap->nr_queues++;
	}
	/* Until the driver asks for more pairs (5.1.6.5.5) only the first queue receives. */
	tap->attached = nr_queues;
	ret = tap_set_queues(tap, 1);
	if (ret) {
		snprintf(why, why_len, "tap %s: detaching queues: %s", name, strerror(-ret));
		return ret;
	}
	tap->ifindex = (int)if_nametoindex(name);
	if (!tap->ifindex) {
		snprintf(why, why_len, "tap %s: %s", name, strerror(errno));
		return -errno;
	}
	ret = tap_link_open(&tap->link);
	if (ret) {
		snprintf(why, why_len, "netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = query_interface(tap);
	if (ret)
		snprintf(why, why_len, "tap %s: %s", name, strerror(-ret));
	return ret;
}

int tap_open_existing(struct tap *tap, const char *name, unsigned int nr_queues,
		      char *why, size_t why_len)
{
	int ret = open_queues(tap, name, nr_queues, true, why, why_len);

	if (ret)
		tap_close(tap);
	return ret;
}

int tap_create_on_bridge(struct tap *tap, const char *name, const char *bridge,
			 unsigned int nr_queues, char *why, size_t why_len)
{
	int master = (int)if_nametoindex(bridge);
	int ret;

	if (!master) {
		snprintf(why, why_len, "bridge %s: %s", bridge, strerror(errno));
		return -ENODEV;
	}
	if (if_nametoindex(name)) {
		snprintf(why, why_len, "tap %s: already exists", name);
		return -EEXIST;
	}
	/* Not persistent: the tap disappears with its last file, whoever closes it. */
	ret = open_queues(tap, name, nr_queues, false, why, why_len);
	if (ret)
		goto fail;
	tap->created = true;
	ret = tap_link_attach_bridge(tap->ifindex, master);
	if (ret) {
		snprintf(why, why_len, "tap %s on bridge %s: %s", name, bridge, strerror(-ret));
		goto fail;
	}
	ret = query_interface(tap);
	if (ret) {
		snprintf(why, why_len, "tap %s: %s", name, strerror(-ret));
		goto fail;
	}
	return 0;

fail:
	tap_close(tap);
	return ret;
}

void tap_close(struct tap *tap)
{
	for (unsigned int i = 0; i < tap->nr_queues; i++)
		if (tap->fds[i] >= 0)
			close(tap->fds[i]);
	tap->nr_queues = 0;
	tap_link_close(&tap->link);
}

int tap_set_offload(const struct tap *tap, unsigned int tun_flags)
{
	/* TUNSETOFFLOAD is per interface: the first queue, never detached, carries it. */
	if (ioctl(tap->fds[0], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return -errno;
	return 0;
}

static int set_queue(int fd, bool attach)
{
	struct ifreq ifr = { 0 };

	ifr.ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(fd, TUNSETQUEUE, &ifr) < 0)
		return -errno;
	return 0;
}

int tap_set_queues(struct tap *tap, unsigned int count)
{
	int ret;

	if (count < 1 || count > tap->nr_queues)
		return -EINVAL;
	for (unsigned int i = 1; i < tap->nr_queues; i++) {
		bool attach = i < count;

		if (attach == (i < tap->attached))
			continue;
		ret = set_queue(tap->fds[i], attach);
		if (ret)
			return ret;
	}
	tap->attached = count;
	return 0;
}

bool tap_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]))
			return false;
	return true;
}
