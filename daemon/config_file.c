// SPDX-License-Identifier: MIT
/*
 * daemon/config_file.c: the grammar of the supervisor's config file, reading
 * it, and finding a guest's block. A file is a sequence of lines:
 *
 *	file    := { [ header | setting ] NEWLINE }
 *	header  := '[' "domain" ( STRING | INTEGER ) ']'
 *	setting := WORD '=' ( STRING | INTEGER | list )
 *	list    := '[' [ STRING { ',' STRING } [ ',' ] ] ']'    (may span lines)
 *
 * Parsing stops at the first error.
 */
#include "daemon/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config_block.h"
#include "daemon/config_lexer.h"
#include "daemon/options.h"

struct parser {
	struct config_lexer lexer;
	struct config_token token;	/* the current one */
	struct config_file *config;
	struct config_block block;	/* the open block, if in_block */
	bool in_block;
	struct config_images images;	/* of every block so far */
};

static int advance(struct parser *p)
{
	return config_lexer_next(&p->lexer, &p->token);
}

static int report(struct parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int report(struct parser *p, unsigned int line, const char *fmt, ...)
{
	char message[2 * CONFIG_LINE_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return config_report(p->lexer.err, p->lexer.path, line, "%s", message);
}

static int unexpected(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "FILE:LINE: WHAT, found TOKEN" at the current token's line. */
static int unexpected(struct parser *p, const char *fmt, ...)
{
	char what[256], shown[CONFIG_LINE_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return report(p, p->token.line, "%s, found %s", what,
		      config_token_describe(&p->token, shown, sizeof(shown)));
}

static bool at_line_end(const struct parser *p)
{
	return p->token.type == CONFIG_TOKEN_NEWLINE || p->token.type == CONFIG_TOKEN_END;
}

/* ---- [domain ...] */

static bool same_match(const struct config_domain *a, const struct config_domain *b)
{
	if (a->by_name != b->by_name)
		return false;
	return a->by_name ? !strcmp(a->name, b->name) : a->domid == b->domid;
}

static int check_repeated(struct parser *p)
{
	const struct config_domain *new = &p->block.domain;
	const struct config_file *config = p->config;

	for (unsigned int i = 0; i < config->nr_domains; i++) {
		if (!same_match(&config->domains[i], new))
			continue;
		if (new->by_name)
			return config_report(p->lexer.err, p->lexer.path, new->line,
					     "[domain \"%s\"] again (first on line %u)", new->name,
					     config->domains[i].line);
		return config_report(p->lexer.err, p->lexer.path, new->line,
				     "[domain %u] again (first on line %u)", new->domid,
				     config->domains[i].line);
	}
	return 0;
}

static int finish_block(struct parser *p)
{
	struct config_file *config = p->config;
	struct config_domain *domains;
	int ret;

	domains = realloc(config->domains, (config->nr_domains + 1) * sizeof(*domains));
	if (!domains) {
		config_report(p->lexer.err, p->lexer.path, p->block.domain.line, "out of memory");
		return -ENOMEM;
	}
	config->domains = domains;
	ret = config_block_finish(&p->block, &domains[config->nr_domains]);
	if (ret)
		return ret;
	config->nr_domains++;
	p->in_block = false;
	return 0;
}

/* At '[' in the place of a statement: the previous block ends, a new one begins. */
static int parse_header(struct parser *p)
{
	unsigned int line = p->token.line;
	int ret = p->in_block ? finish_block(p) : 0;

	if (ret || (ret = advance(p)))
		return ret;
	if (p->token.type != CONFIG_TOKEN_WORD || strcmp(p->token.text, "domain"))
		return unexpected(p, "expected [domain \"NAME\"] or [domain ID]");
	if (p->config->nr_domains == CONFIG_DOMAINS_MAX)
		return report(p, line, "more than %d [domain ...] blocks", CONFIG_DOMAINS_MAX);
	if ((ret = advance(p)))
		return ret;
	if (p->token.type != CONFIG_TOKEN_STRING && p->token.type != CONFIG_TOKEN_INTEGER)
		return unexpected(p, "expected a name in quotes or a domain ID after '[domain'");
	ret = config_block_begin(&p->block, p->lexer.path, p->lexer.err, &p->images, &p->token);
	p->in_block = true;
	if (ret || (ret = check_repeated(p)) || (ret = advance(p)))
		return ret;
	if (p->token.type != CONFIG_TOKEN_CLOSE)
		return unexpected(p, "expected ']' to end the [domain ...] header");
	if ((ret = advance(p)))
		return ret;
	if (!at_line_end(p))
		return unexpected(p, "expected the end of the line after the [domain ...] header");
	return 0;
}

/* ---- KEY = VALUE */

/* The next token that is not the end of a line: a list may span lines, not the file's end. */
static int advance_in_list(struct parser *p, const char *name, unsigned int open_line)
{
	int ret;

	do
		ret = advance(p);
	while (!ret && p->token.type == CONFIG_TOKEN_NEWLINE);
	if (!ret && p->token.type == CONFIG_TOKEN_END)
		return report(p, open_line, "%s: the list begun here is not closed with ']'", name);
	return ret;
}

/* @key = '[' ...: each string is a value; at least one; a trailing comma is allowed. */
static int parse_list(struct parser *p, enum config_key key, unsigned int line)
{
	const char *name = config_block_key_name(key);
	unsigned int open_line = p->token.line, count = 0;
	int ret = config_block_check_type(&p->block, key, CONFIG_VALUE_LIST, "[ ... ]", line);

	if (ret || (ret = advance_in_list(p, name, open_line)))
		return ret;
	while (p->token.type != CONFIG_TOKEN_CLOSE) {
		if (p->token.type != CONFIG_TOKEN_STRING)
			return unexpected(p, "%s: a list holds strings in quotes", name);
		ret = config_block_apply(&p->block, key, p->token.text, p->token.line);
		count++;
		if (ret || (ret = advance_in_list(p, name, open_line)))
			return ret;
		if (p->token.type == CONFIG_TOKEN_COMMA)
			ret = advance_in_list(p, name, open_line);
		else if (p->token.type != CONFIG_TOKEN_CLOSE)
			return unexpected(p, "%s: expected ',' or ']' in the list", name);
		if (ret)
			return ret;
	}
	if (count == 0)
		return report(p, line, "%s []: an empty list", name);
	return advance(p);
}

static int parse_value(struct parser *p, enum config_key key, unsigned int line)
{
	char shown[CONFIG_LINE_MAX + 8];
	enum config_value_type type;
	int ret;

	if (p->token.type == CONFIG_TOKEN_OPEN)
		return parse_list(p, key, line);
	if (p->token.type == CONFIG_TOKEN_STRING)
		type = CONFIG_VALUE_STRING;
	else if (p->token.type == CONFIG_TOKEN_INTEGER)
		type = CONFIG_VALUE_INTEGER;
	else
		return unexpected(p, "%s: expected a value after '='",
				  config_block_key_name(key));
	config_token_describe(&p->token, shown, sizeof(shown));
	ret = config_block_check_type(&p->block, key, type, shown, line);
	if (!ret)
		ret = config_block_apply(&p->block, key, p->token.text, p->token.line);
	return ret ? ret : advance(p);
}

static int parse_setting(struct parser *p)
{
	unsigned int line = p->token.line;
	int key, ret;

	if (!p->in_block)
		return report(p, line, "%s: a key before any [domain ...] block (the file has no "
			      "global section)", p->token.text);
	key = config_block_key(&p->block, p->token.text, line);
	if (key < 0)
		return key;
	if ((ret = advance(p)))
		return ret;
	if (p->token.type != CONFIG_TOKEN_EQUALS)
		return unexpected(p, "%s: expected '=' after the key",
				  config_block_key_name(key));
	p->lexer.key = config_block_key_name(key);
	ret = advance(p);
	if (!ret)
		ret = parse_value(p, key, line);
	p->lexer.key = NULL;
	if (ret)
		return ret;
	if (!at_line_end(p))
		return unexpected(p, "%s: expected the end of the line after the value "
				  "(one KEY = VALUE a line)", config_block_key_name(key));
	return 0;
}

/* ---- the file */

static int parse_statements(struct parser *p)
{
	int ret = advance(p);

	while (!ret && p->token.type != CONFIG_TOKEN_END) {
		if (p->token.type == CONFIG_TOKEN_OPEN)
			ret = parse_header(p);
		else if (p->token.type == CONFIG_TOKEN_WORD)
			ret = parse_setting(p);
		else if (p->token.type != CONFIG_TOKEN_NEWLINE)
			ret = unexpected(p, "expected a [domain ...] header or KEY = VALUE");
		if (!ret && p->token.type != CONFIG_TOKEN_END)
			ret = advance(p);
	}
	if (!ret && p->in_block)
		ret = finish_block(p);
	/* A service with nothing to serve is a mistake the file can show: say so. */
	if (!ret && p->config->nr_domains == 0) {
		fprintf(p->lexer.err, "%s: no [domain ...] block: nothing to serve\n", p->lexer.path);
		ret = -EINVAL;
	}
	return ret;
}

static int parse_text(const char *path, const char *text, size_t len, struct config_file *config,
		      FILE *err)
{
	struct parser *p = calloc(1, sizeof(*p));
	int ret;

	memset(config, 0, sizeof(*config));
	config->path = strdup(path);
	if (!p || !config->path) {
		fprintf(err, "%s: out of memory\n", path);
		ret = -ENOMEM;
		goto free_parser;
	}
	p->config = config;
	ret = config_lexer_init(&p->lexer, config->path, text, len, err);
	if (!ret)
		ret = parse_statements(p);
	if (p->in_block)
		config_block_discard(&p->block);
	config->nr_warnings = p->images.warnings;
	config_images_free(&p->images);
free_parser:
	free(p);
	if (ret)
		config_file_free(config);
	return ret;
}

int config_file_parse(const char *path, const char *text, struct config_file *config, FILE *err)
{
	return parse_text(path, text, strlen(text), config, err);
}

static int cannot_read(const char *path, FILE *err)
{
	int ret = -errno;

	fprintf(err, "%s: cannot read: %s\n", path, strerror(errno));
	return ret;
}

/* Up to one byte more than a file may have, so that a larger one is refused. */
static int read_text(const char *path, char **text, size_t *len, FILE *err)
{
	/* O_NONBLOCK: a FIFO's open would wait for a writer for ever (fifo(7)). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	ssize_t n = 1;
	int ret = 0;

	*len = 0;
	*text = malloc(CONFIG_FILE_MAX_BYTES + 1);
	if (fd < 0 || !*text) {
		ret = fd < 0 ? cannot_read(path, err) : -ENOMEM;
		if (ret == -ENOMEM)
			fprintf(err, "%s: out of memory\n", path);
		goto close_file;
	}
	/* Read again at each SIGHUP: only a file is the same thing twice. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		fprintf(err, "%s: not a regular file\n", path);
		goto close_file;
	}
	while (*len <= CONFIG_FILE_MAX_BYTES && n) {
		n = read(fd, *text + *len, CONFIG_FILE_MAX_BYTES + 1 - *len);
		if (n < 0 && errno != EINTR) {
			ret = cannot_read(path, err);
			break;
		}
		if (n > 0)
			*len += (size_t)n;
	}
close_file:
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int config_file_load(const char *path, struct config_file *config, FILE *err)
{
	char *text;
	size_t len;
	int ret;

	memset(config, 0, sizeof(*config));
	ret = read_text(path, &text, &len, err);
	if (ret)
		return ret;
	ret = parse_text(path, text, len, config, err);
	free(text);
	return ret;
}

void config_file_free(struct config_file *config)
{
	for (unsigned int i = 0; i < config->nr_domains; i++)
		config_domain_clear(&config->domains[i]);
	free(config->domains);
	free(config->path);
	memset(config, 0, sizeof(*config));
}

/* ---- using it */

int config_domain_options(const struct config_domain *domain, struct daemon_options *opts,
			  char *why, size_t why_len)
{
	for (unsigned int i = 0; i < domain->nr_args; i++) {
		const char *option = domain->args[i], *value = NULL;
		int code = options_code(option);
		char reason[OPTIONS_WHY_MAX];

		if (code < 0 || (code != 'v' && i + 1 == domain->nr_args)) {
			snprintf(why, why_len, "%s: not an option of a worker", option);
			return -EINVAL;
		}
		if (code != 'v')
			value = domain->args[++i];
		if (options_set(code, value, opts, reason, sizeof(reason))) {
			snprintf(why, why_len, "%s '%s': %s", option, value ? value : "", reason);
			return -EINVAL;
		}
	}
	return 0;
}

bool config_domain_equal(const struct config_domain *a, const struct config_domain *b)
{
	if (!same_match(a, b) || a->nr_args != b->nr_args)
		return false;
	for (unsigned int i = 0; i < a->nr_args; i++)
		if (strcmp(a->args[i], b->args[i]))
			return false;
	return true;
}

const struct config_domain *config_file_match(const struct config_file *config, const char *name,
					      uint32_t domid)
{
	const struct config_domain *by_id = NULL;

	for (unsigned int i = 0; i < config->nr_domains; i++) {
		const struct config_domain *domain = &config->domains[i];

		if (domain->by_name && name && !strcmp(domain->name, name))
			return domain;
		if (!domain->by_name && domain->domid == domid)
			by_id = domain;
	}
	return by_id;
}
