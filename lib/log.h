/* SPDX-License-Identifier: MIT */
/*
 * lib/log.h: one logging interface for every layer.
 *
 * lib/ sits below every other folder and depends on nothing, so ecam/, virtio/
 * and xen/ can log without reaching up into daemon/. Every line goes to stderr
 * as "xen-virtio-pcid: LEVEL: domN: context: message", so a line in a shared
 * journal always names the domain it is about.
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

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * A guest controls how often some lines would be printed (a malformed
 * request in a loop). A rate limit lets LOG_RATELIMIT_BURST lines through per
 * LOG_RATELIMIT_INTERVAL seconds and then reports how many it suppressed.
 */
#define LOG_RATELIMIT_BURST	10
#define LOG_RATELIMIT_INTERVAL	5

struct log_ratelimit {
	time_t window_start;
	unsigned int printed;
	unsigned int suppressed;
};

/* True when the caller may print one more line under @rl. */
bool log_ratelimit_allow(struct log_ratelimit *rl);

#define log_ratelimited(rl, level, ...)				\
	do {							\
		if (log_ratelimit_allow(rl))			\
			log_msg(level, __VA_ARGS__);		\
	} while (0)

#endif
