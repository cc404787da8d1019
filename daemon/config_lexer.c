// SPDX-License-Identifier: MIT
/*
 * daemon/config_lexer.c: tokens of the supervisor's config file. The syntax
 * is the part of xl.cfg(5) the file needs: '#' comments, "" and '' strings
 * (without xl's backslash escapes: a backslash is refused, so that a path is
 * never silently changed), decimal and 0x numbers, [ ] = and ','.
 */
#include "daemon/config_lexer.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

int config_report(FILE *err, const char *path, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "%s:%u: ", path, line);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	return -EINVAL;
}

static int lex_error(const struct config_lexer *lexer, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A message about the token at hand, naming the key whose value it is. */
static int lex_error(const struct config_lexer *lexer, const char *fmt, ...)
{
	char message[2 * CONFIG_LINE_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (lexer->key)
		return config_report(lexer->err, lexer->path, lexer->line, "%s: %s", lexer->key,
				     message);
	return config_report(lexer->err, lexer->path, lexer->line, "%s", message);
}

/* Refuse what no token could hold before looking at tokens: size, NULs, long lines. */
int config_lexer_init(struct config_lexer *lexer, const char *path, const char *text, size_t len,
		      FILE *err)
{
	unsigned int line = 1;
	size_t line_start = 0;

	*lexer = (struct config_lexer){ .path = path, .text = text, .len = len, .line = 1, .err = err };
	if (len > CONFIG_FILE_MAX_BYTES) {
		fprintf(err, "%s: larger than 1 MiB (%d bytes)\n", path, CONFIG_FILE_MAX_BYTES);
		return -EINVAL;
	}
	/* Editors on Windows write one; as "unexpected byte 0xef" it would puzzle. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		return config_report(err, path, 1, "a UTF-8 byte-order mark (bytes EF BB BF) starts "
				     "the file: save it without one");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] == '\0')
			return config_report(err, path, line, "a NUL byte: not a text file");
		if (i == len || text[i] == '\n') {
			if (i - line_start > CONFIG_LINE_MAX)
				return config_report(err, path, line, "line longer than %d bytes",
						     CONFIG_LINE_MAX);
			line++;
			line_start = i + 1;
		}
	}
	return 0;
}

static bool is_word_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Copy the run of characters from @start for which @accept holds. */
static void take_run(struct config_lexer *lexer, struct config_token *token, bool (*accept)(char))
{
	size_t start = lexer->pos;

	while (lexer->pos < lexer->len && accept(lexer->text[lexer->pos]))
		lexer->pos++;
	/* config_lexer_init() bounded every line, hence every run, to CONFIG_LINE_MAX. */
	memcpy(token->text, lexer->text + start, lexer->pos - start);
	token->text[lexer->pos - start] = '\0';
}

static bool is_integer(const char *text)
{
	const char *digits = text;
	bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');

	if (hex)
		digits += 2;
	if (!*digits)
		return false;
	for (; *digits; digits++)
		if (hex ? !isxdigit((unsigned char)*digits) : !isdigit((unsigned char)*digits))
			return false;
	return true;
}

static int lex_integer(struct config_lexer *lexer, struct config_token *token)
{
	take_run(lexer, token, is_word_char);
	if (!is_integer(token->text))
		return lex_error(lexer, "'%s' is not a number (decimal or 0x hexadecimal; "
				 "write \"%s\" for a string)", token->text, token->text);
	token->type = CONFIG_TOKEN_INTEGER;
	return 0;
}

static int lex_string(struct config_lexer *lexer, struct config_token *token)
{
	const char *text = lexer->text;
	char quote = text[lexer->pos++];
	size_t start = lexer->pos, end = start;

	while (end < lexer->len && text[end] != quote && text[end] != '\n')
		end++;
	if (end == lexer->len || text[end] != quote)
		return lex_error(lexer, "the string %c%.*s has no closing %c on its line", quote,
				 (int)(end - start), text + start, quote);
	if (memchr(text + start, '\\', end - start))
		return lex_error(lexer, "a backslash in %c%.*s%c: escapes are not supported", quote,
				 (int)(end - start), text + start, quote);
	memcpy(token->text, text + start, end - start);
	token->text[end - start] = '\0';
	lexer->pos = end + 1;
	token->type = CONFIG_TOKEN_STRING;
	return 0;
}

static void skip_blanks_and_comment(struct config_lexer *lexer)
{
	const char *text = lexer->text;

	while (lexer->pos < lexer->len &&
	       (text[lexer->pos] == ' ' || text[lexer->pos] == '\t' || text[lexer->pos] == '\r'))
		lexer->pos++;
	if (lexer->pos < lexer->len && text[lexer->pos] == '#')
		while (lexer->pos < lexer->len && text[lexer->pos] != '\n')
			lexer->pos++;
}

static int lex_punctuation(struct config_lexer *lexer, struct config_token *token)
{
	static const char marks[] = "[]=,";
	static const enum config_token_type types[] = {
		CONFIG_TOKEN_OPEN, CONFIG_TOKEN_CLOSE, CONFIG_TOKEN_EQUALS, CONFIG_TOKEN_COMMA,
	};
	unsigned char c = (unsigned char)lexer->text[lexer->pos];
	const char *mark = strchr(marks, c);

	if (!mark)
		return lex_error(lexer, isprint(c) ? "unexpected character '%c'" :
				 "unexpected byte 0x%02x", c);
	token->type = types[mark - marks];
	token->text[0] = (char)c;
	token->text[1] = '\0';
	lexer->pos++;
	return 0;
}

int config_lexer_next(struct config_lexer *lexer, struct config_token *token)
{
	char c;

	skip_blanks_and_comment(lexer);
	token->line = lexer->line;
	token->text[0] = '\0';
	if (lexer->pos == lexer->len) {
		token->type = CONFIG_TOKEN_END;
		return 0;
	}
	c = lexer->text[lexer->pos];
	if (c == '\n') {
		lexer->pos++;
		lexer->line++;
		token->type = CONFIG_TOKEN_NEWLINE;
		return 0;
	}
	if (c == '"' || c == '\'')
		return lex_string(lexer, token);
	if (isdigit((unsigned char)c))
		return lex_integer(lexer, token);
	if (is_word_start(c)) {
		take_run(lexer, token, is_word_char);
		token->type = CONFIG_TOKEN_WORD;
		return 0;
	}
	return lex_punctuation(lexer, token);
}

const char *config_token_describe(const struct config_token *token, char *buf, size_t len)
{
	switch (token->type) {
	case CONFIG_TOKEN_END:
		return "the end of the file";
	case CONFIG_TOKEN_NEWLINE:
		return "the end of the line";
	case CONFIG_TOKEN_STRING:
		snprintf(buf, len, "\"%s\"", token->text);
		return buf;
	default:
		snprintf(buf, len, "'%s'", token->text);
		return buf;
	}
}
