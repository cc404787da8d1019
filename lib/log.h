/* SPDX-License-Identifier: MIT */
/*
 * lib/log.h: one logging interface for every layer.
 *
 * lib/ sits below every other folder and depends on nothing, so ecam/, virtio/
 * and xen/ can log without reaching up into daemon/. Every line goes to stderr
 * as "xen-virtio-pcid: LEVEL: domN: context: message", so a line in a shared
 * journal always names the domain it is about. When stderr is the journal
 * (systemd.exec(5): $JOURNAL_STREAM holds the device and inode of that
 * stream), each line starts with its syslog priority, "<3>" for an error,
 * as sd-daemon(3) describes, so the journal files it at that priority.
 */
#ifndef XVP_LIB_LOG_H
#define XVP_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Lines above this level are dropped (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Every later line is tagged with this domain (-1: no domain yet). */
void log_set_domain(int domid);

/*
 * Decide again whether stderr is the journal (done before the first line;
 * call it after stderr was replaced).
 */
void log_detect_journal(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * A guest controls how often some lines would be printed (a malformed
 * request in a loop, a status write repeated). Every such line goes through
 * a rate limit owned by what the guest acts on: the PCI function (one per
 * virtio device), or the domain's host bridge for what belongs to no
 * function; never one limit for the whole process, so one function's flood
 * does not silence another's lines. A limit lets LOG_RATELIMIT_BURST lines
 * through per LOG_RATELIMIT_INTERVAL seconds, then counts what it drops and
 * reports the count in one line: with the next line it lets through, or at
 * log_ratelimit_flush() when its owner goes away.
 */
#define LOG_RATELIMIT_BURST	10
#define LOG_RATELIMIT_INTERVAL	5

struct log_ratelimit {
	const char *context;	/* named in the "suppressed" line ("rng0"); NULL: none */
	time_t window_start;	/* CLOCK_MONOTONIC seconds */
	bool started;
	unsigned int printed;
	unsigned int suppressed;
};

/* A zeroed struct log_ratelimit works too; this names its context for the summary line. */
void log_ratelimit_init(struct log_ratelimit *rl, const char *context);
/* True when the caller may print one more line under @rl. */
bool log_ratelimit_allow(struct log_ratelimit *rl);
/* Report what @rl suppressed and not yet reported (its owner is going away). */
void log_ratelimit_flush(struct log_ratelimit *rl);

/* Lines the level drops anyway do not use up the limit. */
#define log_ratelimited(rl, level, ...)					\
	do {								\
		if ((level) <= log_get_level() && log_ratelimit_allow(rl)) \
			log_msg(level, __VA_ARGS__);			\
	} while (0)

#endif
