/* SPDX-License-Identifier: MIT */
/* daemon/parse.h: numbers as users write them on the command line and in config files. */
#ifndef XVP_DAEMON_PARSE_H
#define XVP_DAEMON_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal or 0x-hexadecimal, optionally followed by K, M or G (powers of 1024). */
bool parse_u64(const char *text, uint64_t *out);

#endif
