// SPDX-License-Identifier: MIT
/*
 * lib/parse.c: number parsing shared by the command line, device options
 * and the config file. strtoull(base 0) would take "010" as octal 8 and
 * " 5" or "+5" as 5; the digits are checked here first, so that what is
 * accepted is exactly what the documentation says: decimal or 0x.
 */
#include "lib/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The digits of @text and where they end; NULL if there are none. */
static const char *digits_end(const char *text, bool *hex)
{
	const char *p = text;

	*hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	if (*hex)
		p += 2;
	if (!(*hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)))
		return NULL;
	while (*hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))
		p++;
	return p;
}

static unsigned int suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	default: return 0;
	}
}

static int refuse(int error, const char *reason, const char *what, char *why, size_t why_len)
{
	snprintf(why, why_len, "%s: expected %s", reason, what);
	return error;
}

int parse_number(const char *text, unsigned int flags, uint64_t min, uint64_t max,
		 const char *what, uint64_t *out, char *why, size_t why_len)
{
	unsigned long long value;
	unsigned int shift;
	const char *end;
	bool hex;

	end = digits_end(text, &hex);
	if (!end)
		return refuse(-EINVAL, "not a number (decimal or 0x hexadecimal)", what, why, why_len);
	if (!hex && text[0] == '0' && end - text > 1)
		return refuse(-EINVAL, "a leading 0 (octal is not taken: write decimal without "
			      "it, or 0x for hexadecimal)", what, why, why_len);
	shift = suffix_shift(*end);
	if (shift && !(flags & PARSE_SIZE))
		return refuse(-EINVAL, "K, M and G are for sizes, not here", what, why, why_len);
	if (*(end + (shift ? 1 : 0)))
		return refuse(-EINVAL, "not a number (decimal or 0x hexadecimal)", what, why, why_len);
	errno = 0;
	value = strtoull(text, NULL, hex ? 16 : 10);
	if (errno == ERANGE || (shift && value > (~0ULL >> shift)))
		return refuse(-ERANGE, "out of range", what, why, why_len);
	value <<= shift;
	if (value < min || value > max)
		return refuse(-ERANGE, "out of range", what, why, why_len);
	*out = value;
	return 0;
}

bool parse_u64(const char *text, uint64_t *out)
{
	char why[8];

	return !parse_number(text, PARSE_NUMBER, 0, UINT64_MAX, "", out, why, sizeof(why));
}

int parse_refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int parse_key_switch(const char *key, const char *value, bool *out, char *why, size_t why_len)
{
	if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false")) {
		*out = false;
		return 0;
	}
	snprintf(why, why_len, "%s=%.*s%s: expected on or off", key, PARSE_SHOWN(value));
	return -EINVAL;
}

int parse_key_number(const char *key, const char *value, unsigned int flags, uint64_t min,
		     uint64_t max, const char *what, uint64_t *out, char *why, size_t why_len)
{
	char reason[256];

	if (!parse_number(value, flags, min, max, what, out, reason, sizeof(reason)))
		return 0;
	snprintf(why, why_len, "%s=%.*s%s: %s", key, PARSE_SHOWN(value), reason);
	return -EINVAL;
}
