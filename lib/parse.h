/* SPDX-License-Identifier: MIT */
/* lib/parse.h: numbers as users write them on the command line and in config files. */
#ifndef XVP_LIB_PARSE_H
#define XVP_LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Decimal ("0" included) or 0x-hexadecimal. A leading 0 before another digit
 * is refused, not read as octal: "010" is neither 8 nor, surprisingly, 10.
 */
#define PARSE_NUMBER	0u
/* A size: a number optionally followed by K, M or G (powers of 1024). */
#define PARSE_SIZE	1u

/*
 * Parse @text as @flags say into @out, within @min..@max: 0, or -EINVAL
 * (not such a number) or -ERANGE (a number outside @min..@max, or beyond
 * 64 bits), with "REASON: expected @what" in @why ("out of range: expected
 * a guest domain ID from 1 to 32751").
 */
int parse_number(const char *text, unsigned int flags, uint64_t min, uint64_t max,
		 const char *what, uint64_t *out, char *why, size_t why_len);

/* parse_number() without bounds or a message: a number, no suffix. */
bool parse_u64(const char *text, uint64_t *out);

/*
 * Values quoted in messages are cut at PARSE_SHOWN_MAX bytes (a 4 KiB path
 * would bury the reason): printf("%.*s%s", PARSE_SHOWN(value)).
 */
#define PARSE_SHOWN_MAX	64
#define PARSE_SHOWN(value) PARSE_SHOWN_MAX, (value), strlen(value) > PARSE_SHOWN_MAX ? "..." : ""

/* Write the reason (printf-style) into @why and return -EINVAL: "return parse_refuse(...)". */
int parse_refuse(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* KEY=on|yes|true or off|no|false: 0, or -EINVAL with "KEY=VALUE: expected on or off" in @why. */
int parse_key_switch(const char *key, const char *value, bool *out, char *why, size_t why_len);

/* KEY=NUMBER as parse_number(): 0, or -EINVAL with "KEY=VALUE: reason" in @why. */
int parse_key_number(const char *key, const char *value, unsigned int flags, uint64_t min,
		     uint64_t max, const char *what, uint64_t *out, char *why, size_t why_len);

#endif
