// SPDX-License-Identifier: MIT
/*
 * backends/blk_backend.c: virtio-blk as a type of the daemon's table
 * (backends/backend.h): its keys, its image opened before privileges drop,
 * and the device made from them.
 */
#include "backends/blk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/blk_bounce.h"
#include "backends/disk_file.h"
#include "backends/disk_nbd.h"
#include "backends/nbd_uri.h"
#include "lib/parse.h"

#define XVP_STRINGIFY_(x) #x
#define XVP_STRINGIFY(x) XVP_STRINGIFY_(x)

_Static_assert(sizeof(struct blk_options) <= BACKEND_CONFIG_MAX, "the daemon stores it");

static void blk_defaults(void *config)
{
	*(struct blk_options *)config = (struct blk_options){ .image.fd = -1,
							      .timeout = BLK_NBD_TIMEOUT_DEFAULT };
}

/* path=FILE or nbd=URI: one disk, in the one buffer. */
static int set_target(struct blk_options *options, const char *key, const char *value, char *why,
		      size_t why_len)
{
	bool nbd = !strcmp(key, "nbd");

	if (options->path[0])
		return parse_refuse(why, why_len, "%s=%.*s%s: the disk is already %s=%.*s%s: give path= "
				    "or nbd=, not both", key, PARSE_SHOWN(value),
				    options->nbd ? "nbd" : "path", PARSE_SHOWN(options->path));
	if (!*value)
		return parse_refuse(why, why_len, "%s=: empty", key);
	if (strlen(value) >= sizeof(options->path))
		return parse_refuse(why, why_len, "%s=%.*s%s: the %s is longer than %zu bytes", key,
				    PARSE_SHOWN(value), nbd ? "URI" : "path", sizeof(options->path) - 1);
	if (nbd) {
		/* Split again where it is used (the supervisor, the worker): here only checked. */
		struct nbd_uri uri;
		char reason[256];
		int ret = nbd_uri_parse(value, &uri, reason, sizeof(reason));

		nbd_uri_free(&uri);
		if (ret)
			return parse_refuse(why, why_len, "nbd=%.*s%s: %s", PARSE_SHOWN(value), reason);
	}
	strcpy(options->path, value);
	options->nbd = nbd;
	return 0;
}

static int set_serial(struct blk_options *options, const char *value, char *why, size_t why_len)
{
	/* 5.2.6: the ID is 20 bytes. */
	if (strlen(value) >= sizeof(options->serial))
		return parse_refuse(why, why_len, "serial=%.*s%s: at most 20 characters",
				    PARSE_SHOWN(value));
	strcpy(options->serial, value);
	return 0;
}

static int set_number_key(struct blk_options *options, const char *key, const char *value,
			  char *why, size_t why_len)
{
	uint64_t number = 0;
	int ret;

	if (!strcmp(key, "queues")) {
		ret = parse_key_number("queues", value, PARSE_NUMBER, 1, VIRTIO_MAX_QUEUES,
				       "from 1 to " XVP_STRINGIFY(VIRTIO_MAX_QUEUES), &number, why,
				       why_len);
		options->queues = (uint16_t)number;
		return ret;
	}
	if (!strcmp(key, "timeout")) {
		ret = parse_key_number("timeout", value, PARSE_NUMBER, 0, BLK_NBD_TIMEOUT_MAX,
				       "seconds from 0 to " XVP_STRINGIFY(BLK_NBD_TIMEOUT_MAX), &number,
				       why, why_len);
		options->timeout = (uint32_t)number;
		options->timeout_set = true;
		return ret;
	}
	if (!strcmp(key, "bounce-budget")) {
		ret = parse_key_number("bounce-budget", value, PARSE_SIZE, BLK_BOUNCE_BUDGET_MIN,
				       BLK_BOUNCE_BUDGET_MAX, "a size from 64K to 1G", &number, why,
				       why_len);
		options->bounce_budget = number;
		return ret;
	}
	return -ENOENT;
}

static int blk_set_key(void *config, const char *key, const char *value, char *why, size_t why_len)
{
	struct blk_options *options = config;

	if (!strcmp(key, "path") || !strcmp(key, "nbd"))
		return set_target(options, key, value, why, why_len);
	if (!strcmp(key, "serial"))
		return set_serial(options, value, why, why_len);
	if (!strcmp(key, "readonly"))
		return parse_key_switch("readonly", value, &options->readonly, why, why_len);
	if (!strcmp(key, "direct"))
		return parse_key_switch("direct", value, &options->direct, why, why_len);
	return set_number_key(options, key, value, why, why_len);
}

static int blk_check(void *config, const struct backend_common *common, char *why, size_t why_len)
{
	const struct blk_options *options = config;

	if (!options->path[0])
		return parse_refuse(why, why_len, "path=FILE is required (or nbd=URI, a network disk)");
	if (options->nbd && options->direct)
		return parse_refuse(why, why_len, "direct=on: for an image file, not an nbd= disk");
	if (!options->nbd && options->timeout_set)
		return parse_refuse(why, why_len, "timeout=%u: for an nbd= disk, not an image file",
				    options->timeout);
	if (common->queue_size < BLK_QUEUE_SIZE_MIN)
		return parse_refuse(why, why_len, "queue-size=%u: blk needs at least %u (a request is "
				    "a header, data and a status byte)", common->queue_size,
				    BLK_QUEUE_SIZE_MIN);
	return 0;
}

static const char *blk_host_file(const void *config, bool *writes)
{
	const struct blk_options *options = config;

	*writes = !options->readonly;
	return options->nbd ? NULL : options->path;
}

static int blk_open(void *config, const struct backend_common *common, char *why, size_t why_len)
{
	struct blk_options *options = config;

	if (options->nbd)
		return nbd_export_open(&options->export, options->path, options->readonly,
				       common->host, common->device, why, why_len);
	return blk_image_open(&options->image, options->path, options->readonly, options->direct,
			      why, why_len);
}

static void blk_close(void *config)
{
	struct blk_options *options = config;

	if (options->nbd)
		nbd_export_close(&options->export);
	else
		blk_image_close(&options->image);
}

static int blk_backend_create(struct virtio_device **out, const struct backend_env *env,
			      const struct backend_common *common, const void *config)
{
	const struct blk_options *options = config;
	unsigned int vcpus = env->nr_vcpus;
	struct blk_config blk = {
		.name = common->name,
		.serial = options->serial,
		/* 5.2: one queue per vCPU unless told otherwise, as Linux maps them. */
		.num_queues = options->queues ? options->queues :
			      (uint16_t)(vcpus < VIRTIO_MAX_QUEUES ? vcpus : VIRTIO_MAX_QUEUES),
		.queue_size = common->queue_size,
		.size_max = env->size_max,
		.bounce_budget = options->bounce_budget,
	};

	int ret = options->nbd ? disk_nbd_create(&blk.disk, (struct nbd_export *)&options->export,
						 common->name, options->timeout) :
				 disk_file_create(&blk.disk, &options->image);

	if (ret)
		return ret;
	return blk_create(out, &blk, env->mem, env->base, env->transport);
}

static void blk_root_files(const void *config, void (*keep)(void *ctx, const char *path), void *ctx)
{
	const struct blk_options *options = config;

	if (options->nbd)
		nbd_export_credentials(&options->export, keep, ctx);
}

static const char *blk_nbd_uri(const void *config)
{
	const struct blk_options *options = config;

	return options->nbd ? options->path : NULL;
}

static void blk_describe(const void *config, char *buf, size_t len)
{
	const struct blk_options *options = config;

	snprintf(buf, len, options->nbd ? ", nbd %s" : ", image %s", options->path);
}

const struct backend_type blk_backend = {
	.name = "blk",
	.keys = "path, readonly, serial, direct, queues, queue-size, addr, bounce-budget, nbd, "
		"timeout, poll-max-ns",
	.usage = "blk,path=FILE[,readonly=on][,serial=STR][,direct=on][,queues=N]\n"
		 "   [,queue-size=N][,addr=DEV][,bounce-budget=SIZE]\n"
		 "blk,nbd=URI[,readonly=on][,serial=STR][,queues=N][,queue-size=N][,addr=DEV]\n"
		 "   [,timeout=SECONDS]",
	.help = "nbd: an NBD export (nbd://HOST[:PORT]/NAME, nbd+unix:///NAME?socket=PATH)\n"
		"timeout: how long requests wait for a lost NBD connection to come back "
		"(default " XVP_STRINGIFY(BLK_NBD_TIMEOUT_DEFAULT) ")\n",
	.config_size = sizeof(struct blk_options),
	.defaults = blk_defaults,
	.set_key = blk_set_key,
	.check = blk_check,
	.host_file = blk_host_file,
	.nbd_uri = blk_nbd_uri,
	.open = blk_open,
	.close = blk_close,
	.root_files = blk_root_files,
	.create = blk_backend_create,
	.destroy = blk_destroy,
	.describe = blk_describe,
};
