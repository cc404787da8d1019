// SPDX-License-Identifier: MIT
/*
 * daemon/config_block.c: one [domain ...] block of the supervisor's config
 * file. Each value goes through options_set() exactly as the worker will
 * get it on its command line, and the block through options_validate(), so
 * the file and the command line refuse the same things; their reasons come
 * back as data and are told as the file's "FILE:LINE: intx_spi '060': ...".
 * What only a file can get wrong (an image path relative to the service's
 * working directory, one image in two blocks) is checked here too.
 */
#include "daemon/config_block.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/parse.h"

struct key_info {
	const char *name;
	int option;		/* options_apply() code */
	const char *worker_option;
	unsigned int types;	/* 1 << CONFIG_VALUE_* accepted */
	const char *expected;	/* for a value of another type */
};

#define TAKES(type) (1u << CONFIG_VALUE_##type)

static const struct key_info keys[CONFIG_KEY_COUNT] = {
	[CONFIG_KEY_ECAM] = { "ecam", OPTIONS_ECAM, "--ecam", TAKES(STRING),
			      "a string \"BASE,SIZE\"" },
	[CONFIG_KEY_MMIO] = { "mmio", OPTIONS_MMIO, "--mmio", TAKES(STRING),
			      "a string \"BASE,SIZE\"" },
	[CONFIG_KEY_MMIO64] = { "mmio64", OPTIONS_MMIO64, "--mmio64", TAKES(STRING),
				"a string \"BASE,SIZE\"" },
	[CONFIG_KEY_INTX_SPI] = { "intx_spi", OPTIONS_INTX_SPI, "--intx-spi",
				  TAKES(INTEGER) | TAKES(STRING), "a number" },
	[CONFIG_KEY_DEVICE] = { "device", OPTIONS_DEVICE, "--device", TAKES(STRING) | TAKES(LIST),
				"a string or a list of strings" },
	[CONFIG_KEY_MAP_BUDGET] = { "map_budget", OPTIONS_MAP_BUDGET, "--map-budget",
				    TAKES(INTEGER) | TAKES(STRING), "a number or a size such as \"256M\"" },
	[CONFIG_KEY_VERBOSE] = { "verbose", 'v', "--verbose", TAKES(INTEGER), "0 or 1" },
	[CONFIG_KEY_USER] = { "user", OPTIONS_USER, "--user", TAKES(STRING),
			      "a string: a user name or \"UID[:GID]\"" },
	[CONFIG_KEY_UID_BASE] = { "uid_base", OPTIONS_UID_BASE, "--uid-base",
				  TAKES(INTEGER) | TAKES(STRING), "a number" },
};

#define KNOWN_KEYS "ecam, mmio, mmio64, intx_spi, device, map_budget, verbose, user, uid_base"

const char *config_block_key_name(enum config_key key)
{
	return keys[key].name;
}

static int out_of_memory(struct config_block *block, unsigned int line)
{
	config_report(block->err, block->path, line, "out of memory");
	return -ENOMEM;
}

/* ---- the command line's reasons, told of keys */

/* "--intx-spi" -> "intx_spi" when @text starts with an option word; NULL otherwise. */
static const char *key_of_option(const char *text, size_t *option_len)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		size_t len = strlen(keys[i].worker_option);
		char next;

		if (strncmp(text, keys[i].worker_option, len))
			continue;
		/* A whole word: "--mmio" is not the start of "--mmio64". */
		next = text[len];
		if (next != '-' && !(next >= 'a' && next <= 'z') && !(next >= '0' && next <= '9')) {
			*option_len = len;
			return keys[i].name;
		}
	}
	return NULL;
}

/*
 * options_validate() speaks of the whole block, and of the options it checks
 * together ("--ecam 0x...,0x... overlaps --mmio ..."): each option word
 * becomes its key.
 */
static void report_block(struct config_block *block, const char *why)
{
	FILE *err = block->err;

	fprintf(err, "%s:%u: ", block->path, block->domain.line);
	for (const char *p = why; *p;) {
		size_t option_len;
		const char *key = (p == why || p[-1] == ' ') ? key_of_option(p, &option_len) : NULL;

		if (key) {
			fputs(key, err);
			p += option_len;
		} else {
			fputc(*p++, err);
		}
	}
	fputc('\n', err);
}

/* options_set(@option, @value) for @key at @line: 0, or -EINVAL after "FILE:LINE: KEY 'VALUE': WHY". */
static int apply_option(struct config_block *block, int option, const char *key, const char *value,
			unsigned int line)
{
	char why[OPTIONS_WHY_MAX];

	if (!options_set(option, value, &block->opts, why, sizeof(why)))
		return 0;
	return config_report(block->err, block->path, line, "%s '%s': %s", key, value, why);
}

static int check_options(struct config_block *block)
{
	char why[OPTIONS_WHY_MAX];

	if (!options_validate(&block->opts, why, sizeof(why)))
		return 0;
	report_block(block, why);
	return -EINVAL;
}

/* ---- the header */

/*
 * xl and libxl take any string as a name, but xl reads one made of digits as
 * a domain ID (libxl_domain_qualifier_to_domid), and names end up in
 * xenstore paths, log lines and file names: only what is safe everywhere.
 */
static int set_name(struct config_block *block, const char *name, unsigned int line)
{
	size_t len = strlen(name);

	if (len == 0 || len >= CONFIG_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return config_report(block->err, block->path, line,
				     "domain name '%s': expected 1 to %d characters from A-Z a-z 0-9 _ . -",
				     name, CONFIG_NAME_MAX - 1);
	/* Xen's name for dom0 (libxl, xenstore's /local/domain/0/name). */
	if (!strcmp(name, "Domain-0"))
		return config_report(block->err, block->path, line,
				     "[domain \"Domain-0\"] is dom0, the domain this daemon runs in: "
				     "it serves guests only");
	if (strspn(name, "0123456789") == len)
		return config_report(block->err, block->path, line,
				     "domain name '%s': all digits, which xl reads as a domain ID "
				     "(write [domain %s] to match the ID)", name, name);
	block->domain.by_name = true;
	strcpy(block->domain.name, name);
	return 0;
}

int config_block_begin(struct config_block *block, const char *path, FILE *err,
		       struct config_images *images, const struct config_token *id)
{
	int ret;

	memset(block, 0, sizeof(*block));
	block->path = path;
	block->err = err;
	block->images = images;
	block->domain.line = id->line;
	options_init(&block->opts);
	if (id->type == CONFIG_TOKEN_STRING)
		return set_name(block, id->text, id->line);
	/* The very check of --domain ID. */
	ret = apply_option(block, OPTIONS_DOMAIN, "domain", id->text, id->line);
	block->domain.domid = block->opts.domid;
	return ret;
}

/* ---- keys and values */

int config_block_key(struct config_block *block, const char *name, unsigned int line)
{
	for (int key = 0; key < CONFIG_KEY_COUNT; key++) {
		if (strcmp(name, keys[key].name))
			continue;
		if (block->key_lines[key])
			return config_report(block->err, block->path, line,
					     "%s: given twice in this block (first on line %u)", name,
					     block->key_lines[key]);
		block->key_lines[key] = line;
		return key;
	}
	return config_report(block->err, block->path, line, "unknown key '%s' (known: %s)", name,
			     KNOWN_KEYS);
}

int config_block_check_type(struct config_block *block, enum config_key key,
			    enum config_value_type type, const char *shown, unsigned int line)
{
	if (keys[key].types & (1u << type))
		return 0;
	return config_report(block->err, block->path, line, "%s %s: expected %s", keys[key].name,
			     shown, keys[key].expected);
}

static int append_arg(struct config_block *block, const char *arg, unsigned int line)
{
	struct config_domain *domain = &block->domain;
	char **args = realloc(domain->args, (domain->nr_args + 2) * sizeof(*args));

	if (!args)
		return out_of_memory(block, line);
	domain->args = args;
	args[domain->nr_args] = strdup(arg);
	if (!args[domain->nr_args])
		return out_of_memory(block, line);
	args[++domain->nr_args] = NULL;
	return 0;
}

/* verbose = 1 is --verbose; 0 is nothing, so that it can be written out. */
static int apply_verbose(struct config_block *block, const char *value, unsigned int line)
{
	uint64_t number;

	if (!parse_u64(value, &number) || number > 1)
		return config_report(block->err, block->path, line, "verbose '%s': expected 0 or 1",
				     value);
	if (number == 0)
		return 0;
	if (apply_option(block, 'v', "verbose", value, line))
		return -EINVAL;
	return append_arg(block, "--verbose", line);
}

/* ---- disk images: what the file says about the service's host */

void config_images_free(struct config_images *images)
{
	for (unsigned int i = 0; i < images->count; i++)
		free(images->items[i].path);
	free(images->items);
	memset(images, 0, sizeof(*images));
}

static int add_image(struct config_block *block, const char *file, bool readonly, unsigned int line)
{
	struct config_images *images = block->images;
	struct config_image *items = realloc(images->items, (images->count + 1) * sizeof(*items));

	if (!items)
		return out_of_memory(block, line);
	images->items = items;
	items[images->count].path = strdup(file);
	if (!items[images->count].path)
		return out_of_memory(block, line);
	items[images->count].readonly = readonly;
	items[images->count++].line = line;
	return 0;
}

/*
 * The image of the device just added by @spec: an absolute path (the service
 * runs in /, a worker in what the supervisor was started in), a regular file
 * or block device if it exists (stat(): a FIFO must not hang the check), a
 * warning if it does not (it may be created before its guest starts), and
 * not the writable image of another device of the file.
 */
static int check_image(struct config_block *block, const char *spec, unsigned int line)
{
	const struct device_config *device = &block->opts.devices[block->opts.nr_devices - 1];
	const struct config_images *images = block->images;
	const char *file;
	bool writes;
	struct stat st;

	if (!device->type->host_file || !images)
		return 0;
	file = device->type->host_file(device->options, &writes);
	if (!file)
		return 0;
	if (file[0] != '/')
		return config_report(block->err, block->path, line, "device '%s': path=%s is relative: "
				     "the service runs in /, write the absolute path", spec,
				     file);
	if (stat(file, &st)) {
		config_report(block->err, block->path, line, "warning: device '%s': path=%s: %s: "
			      "its worker cannot start until it can open it", spec, file,
			      strerror(errno));
		block->images->warnings++;
	} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		return config_report(block->err, block->path, line, "device '%s': path=%s: not a "
				     "regular file or block device", spec, file);
	}
	for (unsigned int i = 0; i < images->count; i++) {
		const struct config_image *other = &images->items[i];

		if ((other->readonly && !writes) ||
		    !device_paths_same_image(other->path, file))
			continue;
		return config_report(block->err, block->path, line, "device '%s': path=%s is the "
				     "same image as %s on line %u: one writable image, one device "
				     "(readonly=on on both to share it)", spec, file,
				     other->path, other->line);
	}
	return add_image(block, file, !writes, line);
}

int config_block_apply(struct config_block *block, enum config_key key, const char *value,
		       unsigned int line)
{
	const struct key_info *info = &keys[key];
	int ret;

	if (key == CONFIG_KEY_VERBOSE)
		return apply_verbose(block, value, line);
	ret = apply_option(block, info->option, info->name, value, line);
	if (!ret && key == CONFIG_KEY_DEVICE)
		ret = check_image(block, value, line);
	if (!ret)
		ret = append_arg(block, info->worker_option, line);
	if (!ret)
		ret = append_arg(block, value, line);
	return ret;
}

/* ---- the end */

int config_block_finish(struct config_block *block, struct config_domain *domain)
{
	int ret;

	if (block->opts.nr_devices == 0) {
		if (block->domain.by_name)
			return config_report(block->err, block->path, block->domain.line,
					     "[domain \"%s\"]: no device (add device = [ \"...\" ])",
					     block->domain.name);
		return config_report(block->err, block->path, block->domain.line,
				     "[domain %u]: no device (add device = [ \"...\" ])",
				     block->domain.domid);
	}
	ret = check_options(block);
	if (ret)
		return ret;
	*domain = block->domain;
	block->domain.args = NULL;
	block->domain.nr_args = 0;
	return 0;
}

void config_block_discard(struct config_block *block)
{
	config_domain_clear(&block->domain);
}

void config_domain_clear(struct config_domain *domain)
{
	for (unsigned int i = 0; i < domain->nr_args; i++)
		free(domain->args[i]);
	free(domain->args);
	domain->args = NULL;
	domain->nr_args = 0;
}
