// SPDX-License-Identifier: MIT
/*
 * backends/net_keys.c: --device net's keys (tap, bridge, ifname, mac, mtu,
 * queues), the checks across them, and opening the tap before privileges
 * drop.
 */
#include "backends/net_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/tap.h"
#include "lib/parse.h"

/* 5.1.4: mtu is at least 68 (IPv4's minimum, RFC 791) and fits 16 bits. */
#define NET_MTU_MIN	68
#define NET_MTU_MAX	65535

void net_config_defaults(void *config)
{
	struct net_config *net = config;

	*net = (struct net_config){ .queue_pairs = 1 };
}

static int set_name(char dst[IFNAMSIZ], const char *key, const char *value, char *why, size_t why_len)
{
	if (!tap_name_valid(value)) {
		snprintf(why, why_len, "%s=%.*s%s: expected an interface name of 1 to %d bytes "
			 "without '/', ':' or blanks", key, PARSE_SHOWN(value), IFNAMSIZ - 1);
		return -EINVAL;
	}
	snprintf(dst, IFNAMSIZ, "%s", value);
	return 0;
}

static int set_mac(struct net_config *net, const char *value, char *why, size_t why_len)
{
	unsigned int bytes[6];
	char end;

	if (sscanf(value, "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3],
		   &bytes[4], &bytes[5], &end) != 6 || strlen(value) != 17) {
		snprintf(why, why_len, "mac=%.*s%s: expected six hexadecimal bytes, 00:16:3e:12:34:56",
			 PARSE_SHOWN(value));
		return -EINVAL;
	}
	/* The low bit of the first byte marks a group address: never a station's (IEEE 802, 8.2). */
	if (bytes[0] & 1 || !(bytes[0] | bytes[1] | bytes[2] | bytes[3] | bytes[4] | bytes[5])) {
		snprintf(why, why_len, "mac=%s: expected a unicast address, not zero", value);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		net->mac[i] = (uint8_t)bytes[i];
	net->has_mac = true;
	return 0;
}

int net_config_set_key(void *config, const char *key, const char *value, char *why, size_t why_len)
{
	struct net_config *net = config;
	uint64_t number;
	int ret;

	if (!strcmp(key, "tap"))
		return set_name(net->tap, key, value, why, why_len);
	if (!strcmp(key, "bridge"))
		return set_name(net->bridge, key, value, why, why_len);
	if (!strcmp(key, "ifname"))
		return set_name(net->ifname, key, value, why, why_len);
	if (!strcmp(key, "mac"))
		return set_mac(net, value, why, why_len);
	if (!strcmp(key, "mtu")) {
		ret = parse_key_number(key, value, PARSE_NUMBER, NET_MTU_MIN, NET_MTU_MAX,
				       "an MTU from 68 to 65535", &number, why, why_len);
		net->mtu = (uint16_t)number;
		return ret;
	}
	if (!strcmp(key, "queues")) {
		ret = parse_key_number(key, value, PARSE_NUMBER, 0, NET_MAX_QUEUE_PAIRS,
				       "queue pairs from 1 to 8 (0: 1)", &number, why, why_len);
		net->queue_pairs = number ? (uint16_t)number : 1;
		return ret;
	}
	return -ENOENT;
}

int net_config_check(void *config, const struct backend_common *common, char *why, size_t why_len)
{
	struct net_config *net = config;

	(void)common;
	if (!net->tap[0] == !net->bridge[0]) {
		snprintf(why, why_len, net->tap[0] ? "tap= and bridge= exclude each other" :
			 "tap=NAME or bridge=BRIDGE is required");
		return -EINVAL;
	}
	if (net->ifname[0] && !net->bridge[0]) {
		snprintf(why, why_len, "ifname=%s: only with bridge= (tap= names the tap)", net->ifname);
		return -EINVAL;
	}
	return 0;
}

int net_config_open(void *config, const struct backend_common *common, char *why, size_t why_len)
{
	struct net_config *net = config;
	char name[IFNAMSIZ];
	int ret;

	if (net->tap[0]) {
		ret = tap_open_existing(&net->tap_host, net->tap, net->queue_pairs, why, why_len);
	} else {
		if (net->ifname[0])
			snprintf(name, sizeof(name), "%s", net->ifname);
		else
			snprintf(name, sizeof(name), "vpci%u.%u", common->domid, common->index);
		ret = tap_create_on_bridge(&net->tap_host, name, net->bridge, net->queue_pairs,
					   why, why_len);
	}
	net->opened = !ret;
	return ret;
}

void net_config_close(void *config)
{
	struct net_config *net = config;

	if (net->opened)
		tap_close(&net->tap_host);
	net->opened = false;
}

void net_config_describe(const void *config, char *buf, size_t len)
{
	const struct net_config *net = config;

	if (net->bridge[0])
		snprintf(buf, len, ", tap %s on bridge %s", net->tap_host.name, net->bridge);
	else
		snprintf(buf, len, ", tap %s", net->tap);
}

/* FNV-1a (32 bits): small, well mixed, and the same on every build. */
static uint32_t fnv1a(uint32_t hash, const void *data, size_t len)
{
	const uint8_t *bytes = data;

	for (size_t i = 0; i < len; i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	return hash;
}

void net_default_mac(uint8_t mac[6], const struct backend_env *env, const struct backend_common *common)
{
	uint32_t hash = 2166136261u;
	uint32_t index = common->index;

	/* The name, else the UUID, else the domid: what survives the guest's reboot first. */
	if (env->domain_name && env->domain_name[0])
		hash = fnv1a(hash, env->domain_name, strlen(env->domain_name));
	else if (env->domain_handle)
		hash = fnv1a(hash, env->domain_handle, 16);
	else
		hash = fnv1a(hash, &env->domid, sizeof(env->domid));
	hash = fnv1a(hash, &index, sizeof(index));
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)(hash >> 16) & 0x7f;	/* Xen's tools keep the top bit clear in this range */
	mac[4] = (uint8_t)(hash >> 8);
	mac[5] = (uint8_t)hash;
}
