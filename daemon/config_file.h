/* SPDX-License-Identifier: MIT */
/*
 * daemon/config_file.h: the supervisor's config file (xen-virtio-pcid
 * --config FILE): one [domain ...] block per guest, each turned into the
 * options of the worker that serves it (xen-virtio-pcid --domain ID ARGS...).
 *
 * Every block is checked with the daemon's own options_set() and
 * options_validate(), so the file is refused for whatever the worker's
 * command line would be; and for what only a file can get wrong: a relative
 * image path, one writable image in two devices, a block for Domain-0, no
 * block at all. Syntax and keys: docs/configuration.md.
 */
#ifndef XVP_DAEMON_CONFIG_FILE_H
#define XVP_DAEMON_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct daemon_options;

#define CONFIG_NAME_MAX		64	/* a domain name is 1..63 characters */
#define CONFIG_DOMAINS_MAX	256	/* blocks in one file */

struct config_domain {
	bool by_name;		/* matched by name, else by domid */
	char name[CONFIG_NAME_MAX];	/* by_name: [domain "NAME"] */
	uint32_t domid;		/* !by_name: [domain N], 1..32751 */
	unsigned int line;	/* of the [domain ...] header */
	/*
	 * The worker's options after "--domain ID", NULL-terminated, in the
	 * order of the file: "--ecam", "0x10000000,0x10000000", "--device",
	 * "blk,path=...", "--device", "rng", "--verbose". Values are as written.
	 */
	char **args;
	unsigned int nr_args;	/* not counting the NULL */
};

struct config_file {
	char *path;
	struct config_domain *domains;	/* in the order of the file */
	unsigned int nr_domains;
	unsigned int nr_warnings;	/* "FILE:LINE: warning: ..." printed while reading */
};

/*
 * Read and check @path: 0, or after messages on @err ("FILE:LINE: ...";
 * parsing stops at the first error) -EINVAL for what the file says,
 * -errno if it cannot be read ("FILE: cannot read: ..."), -ENOMEM.
 * On failure @config is left empty (config_file_free() on it is harmless).
 * A file without blocks is refused. What may still be right when a guest
 * starts (an image that does not exist yet) is a warning, counted in
 * nr_warnings.
 */
int config_file_load(const char *path, struct config_file *config, FILE *err);

/* The same from a string (tests); @path is used in messages. */
int config_file_parse(const char *path, const char *text, struct config_file *config, FILE *err);

void config_file_free(struct config_file *config);

/*
 * Set @opts from @domain's args, as the worker will parse them: 0, or
 * -EINVAL with "OPTION 'VALUE': reason" in @why (only if the file changed
 * meaning since it was checked: options_set() accepted every value then).
 */
int config_domain_options(const struct config_domain *domain, struct daemon_options *opts,
			  char *why, size_t why_len);

/* Same match and same args: a SIGHUP leaves such a worker alone. */
bool config_domain_equal(const struct config_domain *a, const struct config_domain *b);

/*
 * The block for the domain named @name (may be NULL: none known) with ID
 * @domid, or NULL. A [domain "NAME"] block matches by name, a [domain N]
 * block by ID; if both match, the name block wins (IDs are reused, a name
 * is what the administrator gave this guest).
 */
const struct config_domain *config_file_match(const struct config_file *config, const char *name,
					      uint32_t domid);

#endif
