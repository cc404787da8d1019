// SPDX-License-Identifier: MIT
/* daemon/device_config.c: parsing of --device values. */
#include "daemon/device_config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/backend_types.h"
#include "lib/parse.h"
#include "virtio/device.h"
#include "virtio/queue_poll.h"
#include "virtio/virtqueue.h"

/* The keys of every type; the rest are the type's own (backend_type.set_key). */
enum common_key { KEY_ADDR, KEY_QUEUE_SIZE, KEY_POLL_MAX, COMMON_KEYS };

static const char *const common_key_names[COMMON_KEYS] = { "addr", "queue-size", "poll-max-ns" };

struct backend_common device_config_common(const struct device_config *config)
{
	return (struct backend_common){ .name = config->name, .queue_size = config->queue_size,
					.index = config->index, .device = config->position,
					.domid = config->domid };
}

static int apply_common_key(struct device_config *config, enum common_key key, const char *value,
			    char *why, size_t why_len)
{
	uint64_t number = 0;
	int ret;

	if (key == KEY_POLL_MAX) {
		/* Bounded: each watch is the daemon's CPU spent on one queue's ring. */
		ret = parse_key_number("poll-max-ns", value, PARSE_NUMBER, 0, DEVICE_POLL_MAX_NS_LIMIT,
				       "nanoseconds from 0 (never watch) to 1000000",
				       &number, why, why_len);
		config->poll_max_ns = number;
		return ret;
	}
	if (key == KEY_ADDR) {
		ret = parse_key_number("addr", value, PARSE_NUMBER, DEVICE_SLOT_FIRST, DEVICE_SLOT_LAST,
				       "a device number from 1 to 31 (0 is the host bridge)",
				       &number, why, why_len);
		config->slot = (int)number;
		return ret;
	}
	/* 2.7: a power of two, at most 32768. */
	ret = parse_key_number("queue-size", value, PARSE_NUMBER, 1, VIRTQ_MAX_SIZE,
			       "a power of two from 1 to 32768", &number, why, why_len);
	if (!ret && (number & (number - 1)))
		return parse_refuse(why, why_len, "queue-size=%s: not a power of two: expected a "
				    "power of two from 1 to 32768", value);
	config->queue_size = (uint16_t)number;
	return ret;
}

/*
 * Keys seen so far, to refuse one given twice: the common ones by number,
 * the type's own by name (a type has a handful, and a key it does not know
 * ends the parse at once).
 */
struct seen_keys {
	bool common[COMMON_KEYS];
	const char *own[32];
	unsigned int nr_own;
};

/* Is @key one of @list ("port, tag")? */
static bool key_listed(const char *list, const char *key)
{
	size_t len = strlen(key);

	for (const char *at = list; at && *at; at += strspn(at, ", ")) {
		size_t word = strcspn(at, ", ");

		if (word == len && !strncmp(at, key, len))
			return true;
		at += word;
	}
	return false;
}

static bool seen_before(const struct backend_type *type, struct seen_keys *seen, const char *key)
{
	for (unsigned int i = 0; i < COMMON_KEYS; i++) {
		if (!strcmp(key, common_key_names[i])) {
			if (seen->common[i])
				return true;
			seen->common[i] = true;
			return false;
		}
	}
	if (key_listed(type->repeatable, key))
		return false;
	for (unsigned int i = 0; i < seen->nr_own; i++)
		if (!strcmp(key, seen->own[i]))
			return true;
	if (seen->nr_own < sizeof(seen->own) / sizeof(seen->own[0]))
		seen->own[seen->nr_own++] = key;
	return false;
}

static int unknown_key(const struct device_config *config, const char *key, char *why,
		       size_t why_len)
{
	return parse_refuse(why, why_len, "unknown key '%.*s' (known: %s)",
			    (int)(strlen(key) > PARSE_SHOWN_MAX ? PARSE_SHOWN_MAX : strlen(key)), key,
			    config->type->keys);
}

static int apply_key(struct device_config *config, const char *key, const char *value,
		     char *why, size_t why_len)
{
	int ret;

	for (unsigned int i = 0; i < COMMON_KEYS; i++)
		if (!strcmp(key, common_key_names[i]))
			return apply_common_key(config, (enum common_key)i, value, why, why_len);
	ret = config->type->set_key(config->options, key, value, why, why_len);
	return ret == -ENOENT ? unknown_key(config, key, why, why_len) : ret;
}

static int apply_item(struct device_config *config, char *item, struct seen_keys *seen, char *why,
		      size_t why_len)
{
	char *equals = strchr(item, '=');

	if (!*item)
		return parse_refuse(why, why_len, "an empty item (two commas in a row, or one at the end)");
	if (!equals)
		return parse_refuse(why, why_len, "'%.*s%s' is not KEY=VALUE", PARSE_SHOWN(item));
	*equals = '\0';
	/* An unknown key is refused on its first appearance, before it could be seen twice. */
	if (seen_before(config->type, seen, item))
		return parse_refuse(why, why_len, "%s=%.*s%s: '%s' given twice", item,
				    PARSE_SHOWN(equals + 1), item);
	return apply_key(config, item, equals + 1, why, why_len);
}

static int parse_items(struct device_config *config, const char *items, char *why, size_t why_len)
{
	struct seen_keys seen = { 0 };
	char *copy = strdup(items), *item, *next;
	int ret = 0;

	if (!copy)
		return parse_refuse(why, why_len, "out of memory");
	/* By hand, not strtok: "rng,,addr=3" has an empty item that strtok would skip. */
	for (item = copy; item && !ret; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		ret = apply_item(config, item, &seen, why, why_len);
	}
	free(copy);
	return ret;
}

int device_config_parse(const char *text, struct device_config *config, char *why, size_t why_len)
{
	const char *comma = strchr(text, ',');
	size_t type_len = comma ? (size_t)(comma - text) : strlen(text);
	const struct backend_type *type = backend_type_find(text, type_len);
	struct backend_common common;
	int ret;

	if (!type)
		return parse_refuse(why, why_len, "unknown device type '%.*s' (known: %s)",
				    (int)(type_len > PARSE_SHOWN_MAX ? PARSE_SHOWN_MAX : type_len), text,
				    backend_type_names());
	memset(config, 0, sizeof(*config));
	config->type = type;
	config->slot = DEVICE_SLOT_AUTO;
	config->queue_size = VIRTIO_QUEUE_SIZE_DEFAULT;
	config->poll_max_ns = QUEUE_POLL_MAX_NS_DEFAULT;
	type->defaults(config->options);
	if (comma) {
		ret = parse_items(config, comma + 1, why, why_len);
		if (ret)
			return ret;
	}
	common = device_config_common(config);
	return type->check ? type->check(config->options, &common, why, why_len) : 0;
}

static bool slot_taken(const struct device_config *configs, unsigned int count, int slot)
{
	for (unsigned int i = 0; i < count; i++)
		if (configs[i].slot == slot)
			return true;
	return false;
}

bool device_paths_same_image(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	/* stat(), not open(): it neither blocks on a FIFO nor needs the right to read. */
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * One image behind two devices of one guest: two writers the guest thinks
 * independent, or a write the other device's cache never sees. Read-only
 * on both is harmless. (The image lock would refuse the second open with a
 * misleading "another process".) The host files are the types' (host_file).
 */
static int check_host_files(const struct device_config *configs, unsigned int count, char *why,
			    size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		for (unsigned int j = 0; j < i; j++) {
			const struct device_config *a = &configs[j], *b = &configs[i];
			const char *a_file, *b_file;
			bool a_writes, b_writes;

			if (!a->type->host_file || !b->type->host_file)
				continue;
			a_file = a->type->host_file(a->options, &a_writes);
			b_file = b->type->host_file(b->options, &b_writes);
			if (!a_file || !b_file || (!a_writes && !b_writes) ||
			    !device_paths_same_image(a_file, b_file))
				continue;
			return parse_refuse(why, why_len, "--device: %s (path=%.*s%s) is the same image "
					    "as %s (path=%.*s%s): one writable image, one device "
					    "(readonly=on on both to share it)", b->name,
					    PARSE_SHOWN(b_file), a->name, PARSE_SHOWN(a_file));
		}
	}
	return 0;
}

/* "blk1": the type's name and the device's index among devices of that type. */
static void name_device(struct device_config *configs, unsigned int i)
{
	unsigned int index = 0;

	for (unsigned int j = 0; j < i; j++)
		index += configs[j].type == configs[i].type;
	configs[i].index = index;
	configs[i].position = i;
	snprintf(configs[i].name, sizeof(configs[i].name), "%s%u", configs[i].type->name, index);
}

int device_configs_finish(struct device_config *configs, unsigned int count, char *why, size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (configs[i].slot != DEVICE_SLOT_AUTO && configs[i].slot == configs[j].slot) {
				snprintf(why, why_len, "--device: two devices at addr=%d", configs[i].slot);
				return -EINVAL;
			}
		}
	}
	for (unsigned int i = 0; i < count; i++) {
		if (configs[i].slot == DEVICE_SLOT_AUTO) {
			int slot = DEVICE_SLOT_FIRST;

			while (slot_taken(configs, count, slot))
				slot++;
			configs[i].slot = slot;
		}
		name_device(configs, i);
	}
	return check_host_files(configs, count, why, why_len);
}

int device_configs_open(struct device_config *configs, unsigned int count,
			const struct backend_host *host, char *why, size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		struct device_config *c = &configs[i];
		struct backend_common common = device_config_common(c);
		char reason[PATH_MAX + 256];
		int ret;

		if (!c->type->open)
			continue;
		common.host = host;
		ret = c->type->open(c->options, &common, reason, sizeof(reason));
		if (ret) {
			c->type->close(c->options);
			snprintf(why, why_len, "%s: %s", c->name, reason);
			device_configs_close(configs, i);
			return ret;
		}
		c->opened = true;
	}
	return 0;
}

void device_configs_close(struct device_config *configs, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		if (configs[i].opened)
			configs[i].type->close(configs[i].options);
		configs[i].opened = false;
	}
}
