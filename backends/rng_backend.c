// SPDX-License-Identifier: MIT
/* backends/rng_backend.c: virtio-rng as a type of the daemon's table (backends/backend.h). */
#include "backends/rng.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"

/* rate=BYTES or rate=BYTES/s: the unit may be written out; 0 would give nothing. */
static int set_rate(struct rng_options *options, const char *value, char *why, size_t why_len)
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
		return parse_refuse(why, why_len, "rate=%.*s%s: %s", PARSE_SHOWN(value), reason);
	if (!number)
		return parse_refuse(why, why_len, "rate=%s: a rate of 0 would give nothing: leave rate "
				    "out for no limit", value);
	options->rate = number;
	return 0;
}

_Static_assert(sizeof(struct rng_options) <= BACKEND_CONFIG_MAX, "the daemon stores it");

static void rng_defaults(void *config)
{
	*(struct rng_options *)config = (struct rng_options){ 0 };
}

static int rng_set_key(void *config, const char *key, const char *value, char *why, size_t why_len)
{
	if (strcmp(key, "rate"))
		return -ENOENT;
	return set_rate(config, value, why, why_len);
}

static int rng_backend_create(struct virtio_device **out, const struct backend_env *env,
			      const struct backend_common *common, const void *config)
{
	const struct rng_options *options = config;
	struct rng_config rng = { common->name, options->rate, common->queue_size };

	return rng_create(out, &rng, env->mem, env->base, env->transport);
}

const struct backend_type rng_backend = {
	.name = "rng",
	.keys = "addr, queue-size, rate, poll-max-ns",
	.usage = "rng[,addr=DEV][,queue-size=N][,rate=BYTES/s]",
	.help = "rate: rng bytes per second, not 0 (default: unlimited)\n",
	.config_size = sizeof(struct rng_options),
	.defaults = rng_defaults,
	.set_key = rng_set_key,
	.create = rng_backend_create,
	.destroy = rng_destroy,
};
