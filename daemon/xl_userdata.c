// SPDX-License-Identifier: MIT
/* daemon/xl_userdata.c: our device_model_args in libxl's saved domain configuration. */
#include "daemon/xl_userdata.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/options.h"

#define JSON_DEPTH	32	/* libxl's configuration nests a handful of levels */

/* The options a guest's xl config may give us; the service decides the rest (uid, domain). */
static const char *const allowed[] = { "--ecam", "--mmio", "--mmio64", "--intx-spi", "--device",
				       "--map-budget" };

static int refuse(char *why, size_t why_len, const char *fmt, const char *what)
{
	snprintf(why, why_len, fmt, what);
	return -EINVAL;
}

void config_domain_free_args(struct config_domain *block)
{
	for (unsigned int i = 0; block->args && i < block->nr_args; i++)
		free(block->args[i]);
	free(block->args);
	block->args = NULL;
	block->nr_args = 0;
}

static struct json_object *member(struct json_object *object, const char *key)
{
	struct json_object *value;

	if (!json_object_is_type(object, json_type_object) ||
	    !json_object_object_get_ex(object, key, &value))
		return NULL;
	return value;
}

/* Does @list (NULL: none) hold a --device= token? */
static bool names_a_device(struct json_object *list)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *token = json_object_get_string(json_object_array_get_idx(list, i));

		if (json_object_is_type(json_object_array_get_idx(list, i), json_type_string) &&
		    !strncmp(token, "--device=", 9))
			return true;
	}
	return false;
}

static int add_arg(struct config_domain *block, const char *text, size_t len)
{
	char **args = realloc(block->args, (block->nr_args + 2) * sizeof(*args));

	if (!args)
		return -ENOMEM;
	block->args = args;
	args[block->nr_args] = strndup(text, len);
	if (!args[block->nr_args])
		return -ENOMEM;
	args[++block->nr_args] = NULL;
	return 0;
}

/* One token of device_model_args into @block's args: "--device=X" is "--device", "X". */
static int add_token(struct config_domain *block, const char *token, char *why, size_t why_len)
{
	size_t len = strcspn(token, "=");
	int ret;

	if (!strcmp(token, "--verbose"))
		return add_arg(block, token, len);
	if (!strncmp(token, "--fdt=", 6))
		return 0;	/* the device-model mode's check of its device_tree: nothing here */
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (len != strlen(allowed[i]) || strncmp(token, allowed[i], len))
			continue;
		if (!token[len])
			return refuse(why, why_len, "%s: give it as one --option=value token", token);
		ret = add_arg(block, token, len);
		return ret ? ret : add_arg(block, token + len + 1, strlen(token + len + 1));
	}
	return refuse(why, why_len, "'%s' in device_model_args: not one of our options for a "
		      "guest (--device=, --ecam=, --mmio=, --mmio64=, --intx-spi=, --map-budget=, "
		      "--verbose)", token);
}

static int add_list(struct config_domain *block, struct json_object *list, char *why,
		    size_t why_len)
{
	size_t n;
	int ret;

	if (!list || json_object_is_type(list, json_type_null))
		return 0;
	if (!json_object_is_type(list, json_type_array))
		return refuse(why, why_len, "%s", "b_info's extra arguments are not a list");
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(list, i);

		if (!json_object_is_type(item, json_type_string))
			return refuse(why, why_len, "%s", "an extra argument that is not a string");
		ret = add_token(block, json_object_get_string(item), why, why_len);
		if (ret)
			return ret;
	}
	return 0;
}

/* What the worker will check, checked now: a typo is told when the domain appears. */
static int check_block(const struct config_domain *block, char *why, size_t why_len)
{
	struct daemon_options *opts = malloc(sizeof(*opts));
	int ret;

	if (!opts)
		return -ENOMEM;
	options_init(opts);
	ret = config_domain_options(block, opts, why, why_len);
	if (!ret)
		ret = options_validate(opts, why, why_len);
	free(opts);
	return ret;
}

static struct json_object *parse_json(const char *json, size_t len, char *why, size_t why_len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *root;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root)
		snprintf(why, why_len, "not one JSON value: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
	if (root && json_tokener_get_parse_end(tok) != len) {
		snprintf(why, why_len, "not one JSON value: more after it, at byte %zu",
			 json_tokener_get_parse_end(tok));
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

int xl_userdata_parse(const char *json, size_t len, const char *name, struct config_domain *block,
		      char *why, size_t why_len)
{
	struct json_object *root, *b_info, *saved_name, *extra, *extra_pv;
	int ret;

	*block = (struct config_domain){ .by_name = true };
	if (len > XL_USERDATA_MAX)
		return refuse(why, why_len, "%s", "larger than 1 MiB");
	/* libxl stores the JSON text with its '\0' (libxl__set_domain_configuration). */
	if (len > 0 && json[len - 1] == '\0')
		len--;
	snprintf(why, why_len, "out of memory");
	root = parse_json(json, len, why, why_len);
	if (!root)
		return -EINVAL;
	b_info = member(root, "b_info");
	extra = member(b_info, "extra");
	extra_pv = member(b_info, "extra_pv");
	saved_name = member(member(root, "c_info"), "name");
	ret = -ENOENT;
	if (!names_a_device(extra) && !names_a_device(extra_pv))
		goto out;
	/*
	 * device_model_override (b_info.device_model) set: libxl runs that
	 * device model, ours in its device-model mode (docs/xl.md), which
	 * serves the domain itself: not the service's, even before the device
	 * model has recorded its pid.
	 */
	if (json_object_is_type(member(b_info, "device_model"), json_type_string))
		goto out;
	ret = -EINVAL;
	if (!json_object_is_type(saved_name, json_type_string) ||
	    strcmp(json_object_get_string(saved_name), name)) {
		refuse(why, why_len, "the saved configuration is of domain '%s', not this one",
		       saved_name ? json_object_get_string(saved_name) : "(no name)");
		goto out;
	}
	snprintf(block->name, sizeof(block->name), "%s", name);
	ret = add_list(block, extra, why, why_len);
	if (!ret)
		ret = add_list(block, extra_pv, why, why_len);
	if (!ret)
		ret = check_block(block, why, why_len);
	if (ret)
		config_domain_free_args(block);
out:
	json_object_put(root);
	return ret;
}

/* The one saved configuration of @domid in @dir, into @path. */
static int find_file(const char *dir, uint32_t domid, char *path, size_t size, char *why,
		     size_t why_len)
{
	char pattern[4096];
	glob_t found = { 0 };
	int ret;

	snprintf(pattern, sizeof(pattern), "%s/userdata-d.%u.*.libxl-json", dir, domid);
	ret = glob(pattern, GLOB_NOSORT, NULL, &found);
	if (ret == GLOB_NOMATCH) {
		globfree(&found);
		return -ENOENT;
	}
	if (ret || found.gl_pathc != 1) {
		snprintf(why, why_len, "%s: %s", pattern, ret ? "cannot be listed" :
			 "several files: a stale one of an earlier domain with this ID is there");
		globfree(&found);
		return -EINVAL;
	}
	snprintf(path, size, "%s", found.gl_pathv[0]);
	globfree(&found);
	return 0;
}

static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;
	int ret = -errno;

	if (fd < 0)
		return ret;
	ret = -EFBIG;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > XL_USERDATA_MAX)
		goto out;
	ret = -ENOMEM;
	*text = malloc((size_t)st.st_size + 1);
	if (!*text)
		goto out;
	n = read(fd, *text, (size_t)st.st_size + 1);
	ret = n < 0 ? -errno : n > st.st_size ? -EFBIG : 0;
	*len = n > 0 ? (size_t)n : 0;
	if (ret) {
		free(*text);
		*text = NULL;
	}
out:
	close(fd);
	return ret;
}

int xl_userdata_read(const char *dir, uint32_t domid, const char *name,
		     struct config_domain *block, char *why, size_t why_len)
{
	char path[4096], reason[OPTIONS_WHY_MAX];
	char *text = NULL;
	size_t len = 0;
	int ret;

	*block = (struct config_domain){ .by_name = true };
	ret = find_file(dir, domid, path, sizeof(path), why, why_len);
	if (ret)
		return ret;
	ret = read_file(path, &text, &len);
	if (ret == -ENOENT)	/* destroyed in between */
		return ret;
	if (ret) {
		snprintf(why, why_len, "%s: %s", path, ret == -EFBIG ? "not a file of at most 1 MiB" :
			 strerror(-ret));
		return -EINVAL;
	}
	ret = xl_userdata_parse(text, len, name, block, reason, sizeof(reason));
	free(text);
	if (ret == -EINVAL)
		snprintf(why, why_len, "%s: %s", path, reason);
	return ret;
}
