// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_worker_protocol.c: the supervisor reads every worker
 * message as hostile input: wrong lengths, versions, types, directions and
 * values are refused with a reason, never trusted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/worker_protocol.h"

static int parse_from_worker(const struct worker_message *m, const char **why)
{
	struct worker_message out;

	return worker_message_parse(m, sizeof(*m), true, &out, why);
}

static void assert_refused(struct worker_message m, const char *reason)
{
	const char *why = NULL;

	assert_int_equal(parse_from_worker(&m, &why), -EPROTO);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_every_request_a_worker_may_send_passes(void **state)
{
	static const enum worker_message_type types[] = {
		WORKER_MSG_CLEAR_STALE, WORKER_MSG_FUNCTIONS_CHANGED, WORKER_MSG_STOPPING,
	};
	struct worker_message created = worker_message_make(WORKER_MSG_SERVER_CREATED, 0, 65535);
	struct worker_message out;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct worker_message m = worker_message_make(types[i], 0, 0);

		assert_int_equal(worker_message_parse(&m, sizeof(m), true, &out, &why), 0);
		assert_int_equal(out.type, types[i]);
	}
	assert_int_equal(worker_message_parse(&created, sizeof(created), true, &out, &why), 0);
	assert_int_equal(out.value, 65535);
}

static void test_lengths_other_than_one_message_are_refused(void **state)
{
	struct worker_message m[2] = { worker_message_make(WORKER_MSG_CLEAR_STALE, 0, 0),
				       worker_message_make(WORKER_MSG_CLEAR_STALE, 0, 0) };
	static const size_t lengths[] = { 0, 1, sizeof(m[0]) - 1, sizeof(m[0]) + 1, sizeof(m) };
	struct worker_message out;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		why = NULL;
		assert_int_equal(worker_message_parse(m, lengths[i], true, &out, &why), -EPROTO);
		assert_string_equal(why, "wrong length");
	}
}

static void test_bad_versions_types_and_fields_are_refused(void **state)
{
	struct worker_message m = worker_message_make(WORKER_MSG_CLEAR_STALE, 0, 0);

	(void)state;
	m.version = 0;
	assert_refused(m, "unknown protocol version");
	m.version = WORKER_PROTOCOL_VERSION + 1;
	assert_refused(m, "unknown protocol version");
	assert_refused(worker_message_make(0, 0, 0), "unknown type");
	assert_refused(worker_message_make(WORKER_MSG_ACK + 1, 0, 0), "unknown type");
	assert_refused(worker_message_make(0xffff, 0, 0), "unknown type");
	assert_refused(worker_message_make(WORKER_MSG_CLEAR_STALE, 1, 0), "unused fields not zero");
	assert_refused(worker_message_make(WORKER_MSG_STOPPING, 0, 1), "unused fields not zero");
	assert_refused(worker_message_make(WORKER_MSG_FUNCTIONS_CHANGED, 0, UINT64_MAX),
		       "unused fields not zero");
	assert_refused(worker_message_make(WORKER_MSG_SERVER_CREATED, 0, 65536), "server id out of range");
	assert_refused(worker_message_make(WORKER_MSG_SERVER_CREATED, 0, UINT64_MAX),
		       "server id out of range");
	assert_refused(worker_message_make(WORKER_MSG_SERVER_CREATED, 7, 1), "unused fields not zero");
}

/* A worker cannot pose as the supervisor, nor the supervisor as a worker. */
static void test_messages_in_the_wrong_direction_are_refused(void **state)
{
	struct worker_message ack = worker_message_make(WORKER_MSG_ACK, WORKER_MSG_CLEAR_STALE, 0);
	struct worker_message request = worker_message_make(WORKER_MSG_STOPPING, 0, 0);
	struct worker_message out;
	const char *why;

	(void)state;
	assert_refused(ack, "an answer from a worker");
	assert_int_equal(worker_message_parse(&request, sizeof(request), false, &out, &why), -EPROTO);
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), false, &out, &why), 0);
	ack.request = WORKER_MSG_FUNCTIONS_CHANGED;
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), false, &out, &why), -EPROTO);
	ack = worker_message_make(WORKER_MSG_ACK, WORKER_MSG_CLEAR_STALE, 4096);
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), false, &out, &why), -EPROTO);
}

/* Every bit pattern of a message: parsed or refused, never anything else. */
static void test_random_messages_never_pass_unchecked(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned int passed = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		struct worker_message m, out;
		const char *why = NULL;
		int ret;

		for (size_t b = 0; b < sizeof(m); b += sizeof(seed)) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			memcpy((char *)&m + b, &seed, sizeof(seed));
		}
		m.version = WORKER_PROTOCOL_VERSION;
		m.type %= WORKER_MSG_ACK + 2;
		ret = worker_message_parse(&m, sizeof(m), true, &out, &why);
		assert_true(ret == 0 || (ret == -EPROTO && why));
		passed += ret == 0;
		if (ret == 0)
			assert_true(out.type == WORKER_MSG_SERVER_CREATED ? out.value <= 0xffff : !out.value);
	}
	assert_int_equal(passed, 0);	/* random fields are never all in range */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_request_a_worker_may_send_passes),
		cmocka_unit_test(test_lengths_other_than_one_message_are_refused),
		cmocka_unit_test(test_bad_versions_types_and_fields_are_refused),
		cmocka_unit_test(test_messages_in_the_wrong_direction_are_refused),
		cmocka_unit_test(test_random_messages_never_pass_unchecked),
	};

	return cmocka_run_group_tests_name("worker protocol", tests, NULL, NULL);
}
