// SPDX-License-Identifier: MIT
/* lib/log.c: stderr logging with a domain tag, journal priorities and rate limits. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static int current_domid = -1;
static enum { JOURNAL_UNKNOWN, JOURNAL_NO, JOURNAL_YES } journal = JOURNAL_UNKNOWN;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* sd-daemon(3): SD_ERR "<3>", SD_WARNING "<4>", SD_INFO "<6>", SD_DEBUG "<7>". */
static const char *const journal_prefixes[] = {
	[LOG_LEVEL_ERROR] = "<3>",
	[LOG_LEVEL_WARN] = "<4>",
	[LOG_LEVEL_INFO] = "<6>",
	[LOG_LEVEL_DEBUG] = "<7>",
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

/*
 * systemd.exec(5): $JOURNAL_STREAM is "DEVICE:INODE" (decimal) of the stream
 * systemd connected to stdout/stderr; a program checks it against fstat() of
 * its own stderr, since the variable is inherited by children whose stderr
 * may have been redirected elsewhere.
 */
void log_detect_journal(void)
{
	const char *value = getenv("JOURNAL_STREAM");
	unsigned long long device, inode;
	struct stat st;
	char extra;

	journal = JOURNAL_NO;
	if (!value || sscanf(value, "%llu:%llu%c", &device, &inode, &extra) != 2)
		return;
	if (fstat(STDERR_FILENO, &st))
		return;
	if ((unsigned long long)st.st_dev == device && (unsigned long long)st.st_ino == inode)
		journal = JOURNAL_YES;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int prefix;
	va_list ap;

	if (level > current_level)
		return;
	if (journal == JOURNAL_UNKNOWN)
		log_detect_journal();
	prefix = snprintf(line, sizeof(line), "%sxen-virtio-pcid: %s: ",
			  journal == JOURNAL_YES ? journal_prefixes[level] : "", level_names[level]);
	if (current_domid >= 0)
		prefix += snprintf(line + prefix, sizeof(line) - (size_t)prefix, "dom%d: ", current_domid);
	va_start(ap, fmt);
	vsnprintf(line + prefix, sizeof(line) - (size_t)prefix, fmt, ap);
	va_end(ap);
	/* One fputs per line, so lines of concurrent processes do not interleave. */
	fprintf(stderr, "%s\n", line);
}

void log_ratelimit_init(struct log_ratelimit *rl, const char *context)
{
	*rl = (struct log_ratelimit){ .context = context };
}

static time_t monotonic_seconds(void)
{
	struct timespec now;

	/* Not time(): a clock set back would stretch a window for as long. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

void log_ratelimit_flush(struct log_ratelimit *rl)
{
	if (!rl->suppressed)
		return;
	if (rl->context)
		log_msg(LOG_LEVEL_WARN, "%s: %u similar messages suppressed", rl->context,
			rl->suppressed);
	else
		log_msg(LOG_LEVEL_WARN, "%u similar messages suppressed", rl->suppressed);
	rl->suppressed = 0;
}

bool log_ratelimit_allow(struct log_ratelimit *rl)
{
	time_t now = monotonic_seconds();

	if (!rl->started || now - rl->window_start >= LOG_RATELIMIT_INTERVAL) {
		log_ratelimit_flush(rl);
		rl->started = true;
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed < LOG_RATELIMIT_BURST) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
