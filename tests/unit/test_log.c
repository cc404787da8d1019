// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_log.c: what lib/log.c writes to stderr: plain lines, the
 * journal's priority prefixes when $JOURNAL_STREAM names stderr
 * (systemd.exec(5), sd-daemon(3)), and rate limits that report what they
 * suppressed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* stderr goes to a temporary file for the length of a test. */
struct capture {
	char path[32];
	int fd;
	int saved_stderr;
};

static int setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	strcpy(c->path, "/tmp/xvp-log-XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	fflush(stderr);
	c->saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_LEVEL_INFO);
	log_set_domain(-1);
	log_detect_journal();
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct capture *c = *state;

	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	close(c->saved_stderr);
	close(c->fd);
	unlink(c->path);
	unsetenv("JOURNAL_STREAM");
	log_detect_journal();
	free(c);
	return 0;
}

/* Everything written to stderr since the test began (static buffer). */
static const char *captured(struct capture *c)
{
	static char text[16384];
	ssize_t n;

	fflush(stderr);
	n = pread(c->fd, text, sizeof(text) - 1, 0);
	assert_true(n >= 0);
	text[n] = '\0';
	return text;
}

static unsigned int count_lines(const char *text, const char *containing)
{
	unsigned int n = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, containing, strlen(containing)))
			n++;
		line += len + (end ? 1 : 0);
	}
	return n;
}

/* $JOURNAL_STREAM as systemd sets it for a stream: "DEVICE:INODE" of @fd. */
static void set_journal_stream_to(int fd)
{
	struct stat st;
	char value[64];

	assert_int_equal(fstat(fd, &st), 0);
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
}

/* ---- plain lines and journal priorities */

static void test_plain_lines_without_journal_stream(void **state)
{
	struct capture *c = *state;

	log_set_domain(7);
	log_error("disk0: cannot open");
	log_info("ready");
	assert_string_equal(captured(c), "xen-virtio-pcid: error: dom7: disk0: cannot open\n"
					 "xen-virtio-pcid: info: dom7: ready\n");
}

static void test_journal_stream_on_stderr_gives_priority_prefixes(void **state)
{
	struct capture *c = *state;

	set_journal_stream_to(STDERR_FILENO);
	log_detect_journal();
	log_set_level(LOG_LEVEL_DEBUG);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	/* sd-daemon(3): <3> SD_ERR, <4> SD_WARNING, <6> SD_INFO, <7> SD_DEBUG. */
	assert_string_equal(captured(c), "<3>xen-virtio-pcid: error: e\n"
					 "<4>xen-virtio-pcid: warning: w\n"
					 "<6>xen-virtio-pcid: info: i\n"
					 "<7>xen-virtio-pcid: debug: d\n");
}

static void test_journal_stream_of_another_file_gives_plain_lines(void **state)
{
	struct capture *c = *state;
	int other = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* Inherited from a parent whose stderr was the journal; ours was redirected. */
	assert_true(other >= 0);
	set_journal_stream_to(other);
	close(other);
	log_detect_journal();
	log_error("e");
	assert_string_equal(captured(c), "xen-virtio-pcid: error: e\n");
}

static void test_malformed_journal_stream_gives_plain_lines(void **state)
{
	struct capture *c = *state;
	struct stat st;
	char value[80];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(value, sizeof(value), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
	log_detect_journal();
	log_warn("w");
	setenv("JOURNAL_STREAM", "journal", 1);
	log_detect_journal();
	log_warn("w");
	assert_string_equal(captured(c), "xen-virtio-pcid: warning: w\nxen-virtio-pcid: warning: w\n");
}

/* ---- rate limits */

static void test_a_flood_gives_a_burst_and_one_summary(void **state)
{
	struct capture *c = *state;
	struct log_ratelimit rl;

	log_ratelimit_init(&rl, "rng0");
	for (int i = 0; i < 300; i++)
		log_ratelimited(&rl, LOG_LEVEL_WARN, "rng0: status write %d ignored", i);
	log_ratelimit_flush(&rl);
	log_ratelimit_flush(&rl);	/* nothing new to report */
	assert_int_equal(count_lines(captured(c), "status write"), LOG_RATELIMIT_BURST);
	assert_int_equal(count_lines(captured(c), "rng0: 290 similar messages suppressed"), 1);
	assert_int_equal(count_lines(captured(c), "xen-virtio-pcid: "), LOG_RATELIMIT_BURST + 1);
}

static void test_limits_are_independent(void **state)
{
	struct capture *c = *state;
	struct log_ratelimit flooded, quiet;

	log_ratelimit_init(&flooded, "rng0");
	log_ratelimit_init(&quiet, "rng1");
	for (int i = 0; i < 100; i++)
		log_ratelimited(&flooded, LOG_LEVEL_WARN, "rng0: flood");
	log_ratelimited(&quiet, LOG_LEVEL_WARN, "rng1: once");
	assert_int_equal(count_lines(captured(c), "rng1: once"), 1);
}

static void test_lines_below_the_level_use_up_no_limit(void **state)
{
	struct capture *c = *state;
	struct log_ratelimit rl;

	log_ratelimit_init(&rl, "disk0");
	for (int i = 0; i < 100; i++)
		log_ratelimited(&rl, LOG_LEVEL_DEBUG, "disk0: debug detail");
	log_ratelimited(&rl, LOG_LEVEL_WARN, "disk0: the warning that matters");
	log_ratelimit_flush(&rl);
	assert_string_equal(captured(c), "xen-virtio-pcid: warning: disk0: the warning that matters\n");
}

static void test_a_zeroed_limit_works_and_names_no_context(void **state)
{
	struct capture *c = *state;
	struct log_ratelimit rl = { 0 };

	for (int i = 0; i < LOG_RATELIMIT_BURST + 3; i++)
		log_ratelimited(&rl, LOG_LEVEL_ERROR, "x");
	log_ratelimit_flush(&rl);
	assert_int_equal(count_lines(captured(c), "error: x"), LOG_RATELIMIT_BURST);
	assert_int_equal(count_lines(captured(c), "warning: 3 similar messages suppressed"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_lines_without_journal_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream_on_stderr_gives_priority_prefixes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream_of_another_file_gives_plain_lines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_journal_stream_gives_plain_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_flood_gives_a_burst_and_one_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_are_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_below_the_level_use_up_no_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_zeroed_limit_works_and_names_no_context, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("logging", tests, NULL, NULL);
}
