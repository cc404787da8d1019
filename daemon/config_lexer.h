/* SPDX-License-Identifier: MIT */
/*
 * daemon/config_lexer.h: the tokens of the supervisor's config file (xl's
 * syntax: words, numbers, quoted strings, [ ] = , and the ends of lines),
 * and the "FILE:LINE: ..." form every message about the file takes.
 * Private to daemon/config_*.c.
 */
#ifndef XVP_DAEMON_CONFIG_LEXER_H
#define XVP_DAEMON_CONFIG_LEXER_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_FILE_MAX_BYTES	(1024 * 1024)
#define CONFIG_LINE_MAX		4096	/* bytes, without the newline */

enum config_token_type {
	CONFIG_TOKEN_END,	/* of the file */
	CONFIG_TOKEN_NEWLINE,
	CONFIG_TOKEN_WORD,	/* [A-Za-z_][A-Za-z0-9_-]*: a key, or "domain" */
	CONFIG_TOKEN_INTEGER,	/* decimal or 0x hexadecimal, as written */
	CONFIG_TOKEN_STRING,	/* between "" or '', quotes removed */
	CONFIG_TOKEN_OPEN,	/* [ */
	CONFIG_TOKEN_CLOSE,	/* ] */
	CONFIG_TOKEN_EQUALS,
	CONFIG_TOKEN_COMMA,
};

struct config_token {
	enum config_token_type type;
	unsigned int line;
	char text[CONFIG_LINE_MAX + 1];	/* a token never spans lines */
};

struct config_lexer {
	const char *path;	/* for messages */
	const char *text;
	size_t len;
	size_t pos;
	unsigned int line;
	FILE *err;
	const char *key;	/* set by the parser in a KEY = VALUE: messages name it */
};

/*
 * Start on @text (@len bytes, NULs included): 0, or -EINVAL after a message
 * if it is larger than CONFIG_FILE_MAX_BYTES, begins with a UTF-8
 * byte-order mark, holds a NUL byte or a line longer than CONFIG_LINE_MAX.
 */
int config_lexer_init(struct config_lexer *lexer, const char *path, const char *text, size_t len,
		      FILE *err);

/* The next token, comments and blanks skipped: 0, or -EINVAL after a message. */
int config_lexer_next(struct config_lexer *lexer, struct config_token *token);

/* @token as a message names it: "'ecam'", "\"rng\"", "'['", "the end of the line". */
const char *config_token_describe(const struct config_token *token, char *buf, size_t len);

/* "PATH:LINE: MESSAGE\n" on @err; returns -EINVAL. */
int config_report(FILE *err, const char *path, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
