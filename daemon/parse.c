// SPDX-License-Identifier: MIT
/* daemon/parse.c: number parsing shared by the command line and device options. */
#include "daemon/parse.h"

#include <errno.h>
#include <stdlib.h>

bool parse_u64(const char *text, uint64_t *out)
{
	unsigned int shift = 0;
	unsigned long long value;
	char *end;

	if (!*text || *text == '-' || *text == '+' || *text == ' ')
		return false;
	errno = 0;
	value = strtoull(text, &end, 0);
	if (errno || end == text)
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || (shift && value > (~0ULL >> shift)))
		return false;
	*out = (uint64_t)value << shift;
	return true;
}
