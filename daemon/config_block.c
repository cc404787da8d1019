// SPDX-License-Identifier: MIT
/*
 * daemon/config_block.c: one [domain ...] block of the supervisor's config
 * file. Each value goes through options_apply() exactly as the worker will
 * get it on its command line, and the block through options_check(), so the
 * file and the command line refuse the same things. Their messages speak of
 * "--intx-spi" to a program; captured here, they are retold as the file's
 * "FILE:LINE: intx_spi '1020': ...", without the "Try '... --help'" line.
 */
#include "daemon/config_block.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/parse.h"

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

/* What options_apply() and options_check() call themselves in captured messages. */
#define CAPTURED_PROGRAM "config"

const char *config_block_key_name(enum config_key key)
{
	return keys[key].name;
}

static int out_of_memory(struct config_block *block, unsigned int line)
{
	config_report(block->err, block->path, line, "out of memory");
	return -ENOMEM;
}

/* ---- retelling the command line's messages */

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

/* options_check(): the line is about the whole block; every option word becomes a key. */
static void retell_check(FILE *err, const char *message)
{
	const char *p = message;

	while (*p) {
		size_t option_len;
		const char *key = (p == message || p[-1] == ' ') ? key_of_option(p, &option_len) : NULL;

		if (key) {
			fputs(key, err);
			p += option_len;
		} else {
			fputc(*p++, err);
		}
	}
}

/* options_apply(): "--OPTION 'VALUE': why" or "--OPTION VALUE: why" -> "KEY 'VALUE': why". */
static void retell_apply(FILE *err, const char *message, const char *key, const char *value)
{
	const char *shown = message[0] == '-' && message[1] == '-' ? strchr(message, ' ') : NULL;
	size_t value_len = strlen(value);
	const char *rest = NULL;

	if (shown) {
		shown++;
		if (shown[0] == '\'' && !strncmp(shown + 1, value, value_len) &&
		    shown[value_len + 1] == '\'')
			rest = shown + value_len + 2;
		else if (!strncmp(shown, value, value_len))
			rest = shown + value_len;
	}
	if (rest)
		fprintf(err, "%s '%s'%s", key, value, rest);
	else
		fprintf(err, "%s '%s': %s", key, value, message);
}

/*
 * Print the captured @text line by line as "FILE:LINE: ..." (@key NULL: the
 * options_check() form), dropping the --help hint.
 */
static void retell(struct config_block *block, char *text, unsigned int line, const char *key,
		   const char *value)
{
	static const char prefix[] = CAPTURED_PROGRAM ": ";
	bool told = false;

	for (char *next, *message = text; message && *message; message = next) {
		next = strchr(message, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(message, "Try '", 5))
			continue;
		if (!strncmp(message, prefix, sizeof(prefix) - 1))
			message += sizeof(prefix) - 1;
		fprintf(block->err, "%s:%u: ", block->path, line);
		if (key)
			retell_apply(block->err, message, key, value);
		else
			retell_check(block->err, message);
		fputc('\n', block->err);
		told = true;
	}
	/* Every refusal prints a reason; should one ever not, still say what was refused. */
	if (!told && key)
		config_report(block->err, block->path, line, "%s '%s': refused", key, value);
	else if (!told)
		config_report(block->err, block->path, line, "this [domain ...] block is refused");
}

/*
 * options_apply(@option, @value) with its messages retold for @key at
 * @line: 0, -EINVAL after a message, or -ENOMEM.
 */
static int apply_option(struct config_block *block, int option, const char *key, const char *value,
			unsigned int line)
{
	enum options_result result;
	char *text = NULL;
	size_t len = 0;
	FILE *capture = open_memstream(&text, &len);

	if (!capture)
		return out_of_memory(block, line);
	result = options_apply(option, value, &block->opts, CAPTURED_PROGRAM, capture);
	fclose(capture);
	if (result != OPTIONS_RUN)
		retell(block, text, line, key, value);
	free(text);
	return result == OPTIONS_RUN ? 0 : -EINVAL;
}

static int check_options(struct config_block *block)
{
	enum options_result result;
	char *text = NULL;
	size_t len = 0;
	FILE *capture = open_memstream(&text, &len);

	if (!capture)
		return out_of_memory(block, block->domain.line);
	result = options_check(&block->opts, CAPTURED_PROGRAM, capture);
	fclose(capture);
	if (result != OPTIONS_RUN)
		retell(block, text, block->domain.line, NULL, NULL);
	free(text);
	return result == OPTIONS_RUN ? 0 : -EINVAL;
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
	if (strspn(name, "0123456789") == len)
		return config_report(block->err, block->path, line,
				     "domain name '%s': all digits, which xl reads as a domain ID "
				     "(write [domain %s] to match the ID)", name, name);
	block->domain.by_name = true;
	strcpy(block->domain.name, name);
	return 0;
}

int config_block_begin(struct config_block *block, const char *path, FILE *err,
		       const struct config_token *id)
{
	int ret;

	memset(block, 0, sizeof(*block));
	block->path = path;
	block->err = err;
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

int config_block_apply(struct config_block *block, enum config_key key, const char *value,
		       unsigned int line)
{
	const struct key_info *info = &keys[key];
	int ret;

	if (key == CONFIG_KEY_VERBOSE)
		return apply_verbose(block, value, line);
	ret = apply_option(block, info->option, info->name, value, line);
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
