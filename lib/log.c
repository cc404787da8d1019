// SPDX-License-Identifier: MIT
/* lib/log.c: stderr logging with a domain tag and rate limits. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static int current_domid = -1;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_set_domain(int domid)
{
	current_domid = domid;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int prefix;
	va_list ap;

	if (level > current_level)
		return;
	if (current_domid >= 0)
		prefix = snprintf(line, sizeof(line), "xen-virtio-pcid: %s: dom%d: ",
				  level_names[level], current_domid);
	else
		prefix = snprintf(line, sizeof(line), "xen-virtio-pcid: %s: ",
				  level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + prefix, sizeof(line) - (size_t)prefix, fmt, ap);
	va_end(ap);
	/* One fputs per line, so lines of concurrent processes do not interleave. */
	fprintf(stderr, "%s\n", line);
}

bool log_ratelimit_allow(struct log_ratelimit *rl)
{
	time_t now = time(NULL);

	if (now - rl->window_start >= LOG_RATELIMIT_INTERVAL) {
		if (rl->suppressed)
			log_msg(LOG_LEVEL_WARN, "%u similar messages suppressed",
				rl->suppressed);
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < LOG_RATELIMIT_BURST) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
