// SPDX-License-Identifier: MIT
/* daemon/device_config.c: parsing of --device values. */
#include "daemon/device_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/blk.h"
#include "backends/blk_bounce.h"
#include "lib/parse.h"
#include "virtio/device.h"
#include "virtio/virtqueue.h"

#define XVP_STRINGIFY_(x) #x
#define XVP_STRINGIFY(x) XVP_STRINGIFY_(x)

enum device_key {
	KEY_ADDR, KEY_QUEUE_SIZE, KEY_RATE, KEY_PATH, KEY_READONLY, KEY_SERIAL, KEY_DIRECT,
	KEY_QUEUES, KEY_BOUNCE_BUDGET, KEY_COUNT,
};

static const char *const key_names[KEY_COUNT] = {
	[KEY_ADDR] = "addr", [KEY_QUEUE_SIZE] = "queue-size", [KEY_RATE] = "rate",
	[KEY_PATH] = "path", [KEY_READONLY] = "readonly", [KEY_SERIAL] = "serial",
	[KEY_DIRECT] = "direct", [KEY_QUEUES] = "queues", [KEY_BOUNCE_BUDGET] = "bounce-budget",
};

#define KEY(k) (1u << KEY_##k)

struct device_type_info {
	const char *name;
	unsigned int keys;	/* KEY() bits */
	const char *known;	/* for messages */
};

static const struct device_type_info types[] = {
	[DEVICE_RNG] = { "rng", KEY(ADDR) | KEY(QUEUE_SIZE) | KEY(RATE), "addr, queue-size, rate" },
	[DEVICE_BLK] = { "blk", KEY(PATH) | KEY(READONLY) | KEY(SERIAL) | KEY(DIRECT) | KEY(QUEUES) |
			 KEY(QUEUE_SIZE) | KEY(ADDR) | KEY(BOUNCE_BUDGET),
			 "path, readonly, serial, direct, queues, queue-size, addr, bounce-budget" },
};

static int find_type(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len && !strncmp(types[i].name, name, len))
			return (int)i;
	return -1;
}


static int bad(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int apply_text_key(struct device_config *config, enum device_key key, const char *value,
			  char *why, size_t why_len)
{
	switch (key) {
	case KEY_PATH:
		if (!*value)
			return bad(why, why_len, "path=: empty");
		if (strlen(value) >= sizeof(config->path))
			return bad(why, why_len, "path=%.*s%s: the path is longer than %zu bytes",
				   PARSE_SHOWN(value), sizeof(config->path) - 1);
		strcpy(config->path, value);
		return 0;
	case KEY_SERIAL:
		/* 5.2.6: the ID is 20 bytes. */
		if (strlen(value) >= sizeof(config->serial))
			return bad(why, why_len, "serial=%.*s%s: at most 20 characters", PARSE_SHOWN(value));
		strcpy(config->serial, value);
		return 0;
	case KEY_READONLY:
		return parse_key_switch("readonly", value, &config->readonly, why, why_len);
	default:
		return parse_key_switch("direct", value, &config->direct, why, why_len);
	}
}

/* rate=BYTES or rate=BYTES/s: the unit may be written out; 0 would give nothing. */
static int apply_rate(struct device_config *config, const char *value, char *why, size_t why_len)
{
	size_t len = strlen(value);
	char number_text[64], reason[256];
	uint64_t number;

	if (len > 2 && !strcmp(value + len - 2, "/s"))
		len -= 2;
	snprintf(number_text, sizeof(number_text), "%.*s", (int)len, value);
	if (len >= sizeof(number_text))
		number_text[0] = '\0';	/* not a number */
	if (parse_number(number_text, PARSE_SIZE, 0, UINT64_MAX, "bytes per second, such as 64K",
			 &number, reason, sizeof(reason)))
		return bad(why, why_len, "rate=%.*s%s: %s", PARSE_SHOWN(value), reason);
	if (!number)
		return bad(why, why_len, "rate=%s: a rate of 0 would give nothing: leave rate out "
			   "for no limit", value);
	config->rate = number;
	return 0;
}

static int apply_key(struct device_config *config, enum device_key key, const char *value,
		     char *why, size_t why_len)
{
	uint64_t number = 0;
	int ret;

	switch (key) {
	case KEY_ADDR:
		ret = parse_key_number("addr", value, PARSE_NUMBER, DEVICE_SLOT_FIRST, DEVICE_SLOT_LAST,
				       "a device number from 1 to 31 (0 is the host bridge)",
				       &number, why, why_len);
		config->slot = (int)number;
		return ret;
	case KEY_QUEUE_SIZE:
		/* 2.7: a power of two, at most 32768. */
		ret = parse_key_number("queue-size", value, PARSE_NUMBER, 1, VIRTQ_MAX_SIZE,
				       "a power of two from 1 to 32768", &number, why, why_len);
		if (!ret && (number & (number - 1)))
			return bad(why, why_len, "queue-size=%s: not a power of two: expected a "
				   "power of two from 1 to 32768", value);
		config->queue_size = (uint16_t)number;
		return ret;
	case KEY_QUEUES:
		ret = parse_key_number("queues", value, PARSE_NUMBER, 1, VIRTIO_MAX_QUEUES,
				       "from 1 to " XVP_STRINGIFY(VIRTIO_MAX_QUEUES), &number, why,
				       why_len);
		config->queues = (uint16_t)number;
		return ret;
	case KEY_BOUNCE_BUDGET:
		ret = parse_key_number("bounce-budget", value, PARSE_SIZE, BLK_BOUNCE_BUDGET_MIN,
				       BLK_BOUNCE_BUDGET_MAX, "a size from 64K to 1G", &number, why,
				       why_len);
		config->bounce_budget = number;
		return ret;
	case KEY_RATE:
		return apply_rate(config, value, why, why_len);
	default:
		return apply_text_key(config, key, value, why, why_len);
	}
}

/* "KEY=VALUE" of @type: the key, or -1 after a message in @why. */
static int find_key(const struct device_type_info *type, const char *item, size_t key_len,
		    char *why, size_t why_len)
{
	for (int key = 0; key < KEY_COUNT; key++)
		if ((type->keys & (1u << key)) && strlen(key_names[key]) == key_len &&
		    !strncmp(key_names[key], item, key_len))
			return key;
	bad(why, why_len, "unknown key '%.*s' (known: %s)", (int)(key_len > PARSE_SHOWN_MAX ? PARSE_SHOWN_MAX :
	    key_len), item, type->known);
	return -1;
}

static int apply_item(struct device_config *config, char *item, unsigned int *seen, char *why,
		      size_t why_len)
{
	const struct device_type_info *type = &types[config->type];
	char *equals = strchr(item, '=');
	int key;

	if (!*item)
		return bad(why, why_len, "an empty item (two commas in a row, or one at the end)");
	if (!equals)
		return bad(why, why_len, "'%.*s%s' is not KEY=VALUE", PARSE_SHOWN(item));
	key = find_key(type, item, (size_t)(equals - item), why, why_len);
	if (key < 0)
		return -EINVAL;
	*equals = '\0';
	if (*seen & (1u << key))
		return bad(why, why_len, "%s=%.*s%s: '%s' given twice", item, PARSE_SHOWN(equals + 1), item);
	*seen |= 1u << key;
	return apply_key(config, (enum device_key)key, equals + 1, why, why_len);
}

int device_config_parse(const char *text, struct device_config *config, char *why, size_t why_len)
{
	const char *comma = strchr(text, ',');
	size_t type_len = comma ? (size_t)(comma - text) : strlen(text);
	int type = find_type(text, type_len);
	unsigned int seen = 0;
	char *copy, *item, *next;
	int ret = 0;

	if (type < 0)
		return bad(why, why_len, "unknown device type '%.*s' (known: rng, blk)",
			   (int)(type_len > PARSE_SHOWN_MAX ? PARSE_SHOWN_MAX : type_len), text);
	*config = (struct device_config){ .type = (enum device_type)type, .slot = DEVICE_SLOT_AUTO,
					  .queue_size = VIRTIO_QUEUE_SIZE_DEFAULT, .image.fd = -1 };
	if (!comma)
		goto check;
	copy = strdup(comma + 1);
	if (!copy)
		return bad(why, why_len, "out of memory");
	/* By hand, not strtok: "rng,,addr=3" has an empty item that strtok would skip. */
	for (item = copy; item && !ret; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		ret = apply_item(config, item, &seen, why, why_len);
	}
	free(copy);
	if (ret)
		return ret;
check:
	if (config->type == DEVICE_BLK && !config->path[0])
		return bad(why, why_len, "path=FILE is required");
	if (config->type == DEVICE_BLK && config->queue_size < BLK_QUEUE_SIZE_MIN)
		return bad(why, why_len, "queue-size=%u: blk needs at least %u (a request is a "
			   "header, data and a status byte)", config->queue_size, BLK_QUEUE_SIZE_MIN);
	return 0;
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
 * misleading "another process".)
 */
static int check_images(const struct device_config *configs, unsigned int count, char *why,
			size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		for (unsigned int j = 0; j < i; j++) {
			const struct device_config *a = &configs[j], *b = &configs[i];

			if (a->type != DEVICE_BLK || b->type != DEVICE_BLK || (a->readonly && b->readonly) ||
			    !device_paths_same_image(a->path, b->path))
				continue;
			return bad(why, why_len, "--device: %s (path=%.*s%s) is the same image as %s "
				   "(path=%.*s%s): one writable image, one device (readonly=on on "
				   "both to share it)", b->name, PARSE_SHOWN(b->path), a->name, PARSE_SHOWN(a->path));
		}
	}
	return 0;
}

int device_configs_finish(struct device_config *configs, unsigned int count, char *why, size_t why_len)
{
	unsigned int per_type[sizeof(types) / sizeof(types[0])] = { 0 };

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
		snprintf(configs[i].name, sizeof(configs[i].name), "%s%u", types[configs[i].type].name,
			 per_type[configs[i].type]++);
	}
	return check_images(configs, count, why, why_len);
}

int device_configs_open(struct device_config *configs, unsigned int count, char *why, size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		struct device_config *c = &configs[i];
		char reason[PATH_MAX + 256];
		int ret;

		if (c->type != DEVICE_BLK)
			continue;
		ret = blk_image_open(&c->image, c->path, c->readonly, c->direct, reason, sizeof(reason));
		if (ret) {
			snprintf(why, why_len, "%s: %s", c->name, reason);
			device_configs_close(configs, i);
			return ret;
		}
	}
	return 0;
}

void device_configs_close(struct device_config *configs, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		if (configs[i].type == DEVICE_BLK)
			blk_image_close(&configs[i].image);
}
