/* SPDX-License-Identifier: MIT */
/*
 * daemon/config_block.h: one [domain ...] block of the supervisor's config
 * file as it is read: its keys, applied to a struct daemon_options with the
 * command line's own options_set() and checked with options_validate(), and
 * the worker options they become. Private to daemon/config_*.c.
 */
#ifndef XVP_DAEMON_CONFIG_BLOCK_H
#define XVP_DAEMON_CONFIG_BLOCK_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon/config_file.h"
#include "daemon/config_lexer.h"
#include "daemon/options.h"

enum config_key {
	CONFIG_KEY_ECAM,
	CONFIG_KEY_MMIO,
	CONFIG_KEY_MMIO64,
	CONFIG_KEY_INTX_SPI,
	CONFIG_KEY_DEVICE,
	CONFIG_KEY_MAP_BUDGET,
	CONFIG_KEY_VERBOSE,
	CONFIG_KEY_USER,
	CONFIG_KEY_UID_BASE,
	CONFIG_KEY_COUNT,
};

enum config_value_type {
	CONFIG_VALUE_INTEGER,
	CONFIG_VALUE_STRING,
	CONFIG_VALUE_LIST,
};

/* The disk images of the blocks read so far: one writable image, one device. */
struct config_image {
	char *path;
	bool readonly;
	unsigned int line;	/* of its device value */
};

struct config_images {
	struct config_image *items;
	unsigned int count;
	unsigned int warnings;	/* "FILE:LINE: warning: ..." printed */
};

void config_images_free(struct config_images *images);

struct config_block {
	const char *path;	/* for messages */
	FILE *err;
	struct config_images *images;	/* of the whole file, this block's included */
	struct config_domain domain;	/* the match, the header's line, the args so far */
	struct daemon_options opts;	/* what the worker will parse from those args */
	unsigned int key_lines[CONFIG_KEY_COUNT];	/* where each key was given; 0: not yet */
};

/*
 * Start a block at the header [domain "NAME"] (@id a CONFIG_TOKEN_STRING) or
 * [domain N] (a CONFIG_TOKEN_INTEGER): 0, or -EINVAL after a message.
 */
int config_block_begin(struct config_block *block, const char *path, FILE *err,
		       struct config_images *images, const struct config_token *id);

/* "KEY =" on @line: the key, or -EINVAL after a message (unknown, or given twice). */
int config_block_key(struct config_block *block, const char *name, unsigned int line);
const char *config_block_key_name(enum config_key key);

/* Whether @key takes a value of @type; @shown is the value as messages show it. */
int config_block_check_type(struct config_block *block, enum config_key key,
			    enum config_value_type type, const char *shown, unsigned int line);

/*
 * Apply one value of @key (the value, or one element of a list) given on
 * @line: 0, or -EINVAL / -ENOMEM after a message.
 */
int config_block_apply(struct config_block *block, enum config_key key, const char *value,
		       unsigned int line);

/*
 * The block ends: at least one device, options_check() (errors reported at
 * the header's line). On success the domain moves to @domain.
 */
int config_block_finish(struct config_block *block, struct config_domain *domain);
void config_block_discard(struct config_block *block);

/* Free @domain's args. */
void config_domain_clear(struct config_domain *domain);

#endif
