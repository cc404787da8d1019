// SPDX-License-Identifier: MIT
/* daemon/device_config.c: parsing of --device values. */
#include "daemon/device_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backends/blk.h"
#include "backends/blk_bounce.h"
#include "daemon/parse.h"
#include "virtio/virtio_pci.h"

struct device_type_info {
	const char *name;
	const char *keys;	/* for messages */
};

static const struct device_type_info types[] = {
	[DEVICE_RNG] = { "rng", "addr, queue-size, rate" },
	[DEVICE_BLK] = { "blk",
			 "path, readonly, serial, direct, queues, queue-size, addr, bounce-budget" },
};

static int find_type(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len && !strncmp(types[i].name, name, len))
			return (int)i;
	return -1;
}

static int bad(char *why, size_t why_len, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(char *why, size_t why_len, const char *text, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(why, why_len, "--device %s: %s", text, detail);
	return -EINVAL;
}

static int parse_switch(const char *key, const char *value, bool *out, const char *text,
			char *why, size_t why_len)
{
	if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false")) {
		*out = false;
		return 0;
	}
	return bad(why, why_len, text, "%s=%s: expected on or off", key, value);
}

/* Keys whose value is not a number; 1 if @key is not one of them. */
static int apply_text_key(struct device_config *config, const char *key, const char *value,
			  const char *text, char *why, size_t why_len)
{
	if (config->type != DEVICE_BLK)
		return 1;
	if (!strcmp(key, "path")) {
		if (!*value || strlen(value) >= sizeof(config->path))
			return bad(why, why_len, text, "path=%s: empty or too long", value);
		strcpy(config->path, value);
		return 0;
	}
	if (!strcmp(key, "serial")) {
		/* 5.2.6: the ID is 20 bytes. */
		if (strlen(value) >= sizeof(config->serial))
			return bad(why, why_len, text, "serial=%s: at most 20 characters", value);
		strcpy(config->serial, value);
		return 0;
	}
	if (!strcmp(key, "readonly"))
		return parse_switch(key, value, &config->readonly, text, why, why_len);
	if (!strcmp(key, "direct"))
		return parse_switch(key, value, &config->direct, text, why, why_len);
	return 1;
}

static int apply_key(struct device_config *config, const char *key, const char *value,
		     const char *text, char *why, size_t why_len)
{
	char number_text[64];
	size_t len = strlen(value);
	uint64_t number;
	int ret = apply_text_key(config, key, value, text, why, why_len);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "path") || !strcmp(key, "serial") || !strcmp(key, "readonly") ||
	    !strcmp(key, "direct") || (!strcmp(key, "rate") && config->type != DEVICE_RNG) ||
	    ((!strcmp(key, "queues") || !strcmp(key, "bounce-budget")) && config->type != DEVICE_BLK))
		return bad(why, why_len, text, "unknown key '%s' (known: %s)", key,
			   types[config->type].keys);
	/* rate=BYTES/s: the unit may be written out. */
	if (!strcmp(key, "rate") && len > 2 && !strcmp(value + len - 2, "/s"))
		len -= 2;
	if (len >= sizeof(number_text))
		return bad(why, why_len, text, "%s=%s: not a number", key, value);
	memcpy(number_text, value, len);
	number_text[len] = '\0';
	if (!parse_u64(number_text, &number))
		return bad(why, why_len, text, "%s=%s: not a number", key, value);
	if (!strcmp(key, "addr")) {
		if (number < DEVICE_SLOT_FIRST || number > DEVICE_SLOT_LAST)
			return bad(why, why_len, text,
				   "addr=%s: the device number must be 1..31 (0 is the host bridge)",
				   value);
		config->slot = (int)number;
	} else if (!strcmp(key, "queue-size")) {
		/* 2.7: a power of two, at most 32768. */
		if (number == 0 || number > VIRTQ_MAX_SIZE || (number & (number - 1)))
			return bad(why, why_len, text,
				   "queue-size=%s: must be a power of two from 1 to 32768", value);
		config->queue_size = (uint16_t)number;
	} else if (!strcmp(key, "rate")) {
		config->rate = number;
	} else if (!strcmp(key, "queues")) {
		if (number < 1 || number > VIRTIO_MAX_QUEUES)
			return bad(why, why_len, text, "queues=%s: must be 1 to %d", value, VIRTIO_MAX_QUEUES);
		config->queues = (uint16_t)number;
	} else if (!strcmp(key, "bounce-budget")) {
		if (number < BLK_BOUNCE_BUDGET_MIN || number > BLK_BOUNCE_BUDGET_MAX)
			return bad(why, why_len, text, "bounce-budget=%s: must be 64K to 1G", value);
		config->bounce_budget = number;
	} else {
		return bad(why, why_len, text, "unknown key '%s' (known: %s)", key,
			   types[config->type].keys);
	}
	return 0;
}

int device_config_parse(const char *text, struct device_config *config, char *why, size_t why_len)
{
	char copy[256], *save = NULL, *item;
	const char *comma = strchr(text, ',');
	size_t type_len = comma ? (size_t)(comma - text) : strlen(text);
	int type = find_type(text, type_len);

	if (type < 0)
		return bad(why, why_len, text, "unknown device type '%.*s' (known: rng, blk)",
			   (int)type_len, text);
	if (strlen(text) >= sizeof(copy))
		return bad(why, why_len, text, "longer than %zu characters", sizeof(copy) - 1);
	*config = (struct device_config){ .type = (enum device_type)type, .slot = DEVICE_SLOT_AUTO,
					  .queue_size = VIRTIO_QUEUE_SIZE_DEFAULT, .image.fd = -1 };
	strcpy(copy, text);
	strtok_r(copy, ",", &save);	/* the type */
	while ((item = strtok_r(NULL, ",", &save))) {
		char *equals = strchr(item, '=');
		int ret;

		if (!equals)
			return bad(why, why_len, text, "'%s' is not KEY=VALUE", item);
		*equals = '\0';
		ret = apply_key(config, item, equals + 1, text, why, why_len);
		if (ret)
			return ret;
	}
	if (config->type == DEVICE_BLK && !config->path[0])
		return bad(why, why_len, text, "path=FILE is required");
	if (config->type == DEVICE_BLK && config->queue_size < BLK_QUEUE_SIZE_MIN)
		return bad(why, why_len, text,
			   "queue-size=%u: blk needs at least %u (a request is a header, data "
			   "and a status byte)", config->queue_size, BLK_QUEUE_SIZE_MIN);
	return 0;
}

static bool slot_taken(const struct device_config *configs, unsigned int count, int slot)
{
	for (unsigned int i = 0; i < count; i++)
		if (configs[i].slot == slot)
			return true;
	return false;
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
	return 0;
}

int device_configs_open(struct device_config *configs, unsigned int count, char *why, size_t why_len)
{
	for (unsigned int i = 0; i < count; i++) {
		struct device_config *c = &configs[i];
		char reason[320];
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
