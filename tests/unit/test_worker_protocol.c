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

	return worker_message_parse(m, sizeof(*m), 0, true, &out, NULL, why);
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

		assert_int_equal(worker_message_parse(&m, sizeof(m), 0, true, &out, NULL, &why), 0);
		assert_int_equal(out.type, types[i]);
	}
	assert_int_equal(worker_message_parse(&created, sizeof(created), 0, true, &out, NULL, &why), 0);
	assert_int_equal(out.value, 65535);
}

static void test_lengths_other_than_one_message_are_refused(void **state)
{
	struct worker_message m[2] = { worker_message_make(WORKER_MSG_CLEAR_STALE, 0, 0),
				       worker_message_make(WORKER_MSG_CLEAR_STALE, 0, 0) };
	static const size_t lengths[] = { 0, 1, sizeof(m[0]) - 1, sizeof(m[0]) + 1, sizeof(m) };
	/* m[1] read as the payload of m[0], whose header says none. */
	struct worker_message out;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		why = NULL;
		assert_int_equal(worker_message_parse(m, lengths[i], 0, true, &out, NULL, &why), -EPROTO);
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
	assert_refused(worker_message_make(WORKER_MSG_TYPES, 0, 0), "unknown type");
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
	assert_int_equal(worker_message_parse(&request, sizeof(request), 0, false, &out, NULL, &why), -EPROTO);
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), 0, false, &out, NULL, &why), 0);
	ack.request = WORKER_MSG_FUNCTIONS_CHANGED;
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), 0, false, &out, NULL, &why), -EPROTO);
	ack = worker_message_make(WORKER_MSG_ACK, WORKER_MSG_CLEAR_STALE, 4096);
	assert_int_equal(worker_message_parse(&ack, sizeof(ack), 0, false, &out, NULL, &why), -EPROTO);
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
		ret = worker_message_parse(&m, sizeof(m), 0, true, &out, NULL, &why);
		assert_true(ret == 0 || (ret == -EPROTO && why));
		passed += ret == 0;
		if (ret == 0)
			assert_true(out.type == WORKER_MSG_SERVER_CREATED ? out.value <= 0xffff : !out.value);
	}
	assert_int_equal(passed, 0);	/* random fields are never all in range */
}

/* A message and its payload in one buffer, as they come in one datagram. */
static int parse_with(struct worker_message m, size_t payload, unsigned int nfds,
		      bool from_worker, const char **why)
{
	char buf[sizeof(m) + WORKER_PAYLOAD_MAX + 1] = { 0 };
	struct worker_message out;
	const void *data = NULL;
	int ret;

	m.length = (uint32_t)payload;
	memcpy(buf, &m, sizeof(m));
	*why = NULL;
	ret = worker_message_parse(buf, sizeof(m) + payload, nfds, from_worker, &out, &data, why);
	if (!ret)
		assert_ptr_equal(data, payload ? buf + sizeof(m) : NULL);
	return ret;
}

static struct worker_message ask(enum worker_message_type type, uint64_t value, uint32_t seq)
{
	struct worker_message m = worker_message_make(type, 0, value);

	m.seq = seq;
	return m;
}

static struct worker_message answer(enum worker_message_type asked, uint64_t value, uint32_t seq)
{
	struct worker_message m = worker_message_make(WORKER_MSG_ANSWER, asked, value);

	m.seq = seq;
	return m;
}

static void assert_parse(struct worker_message m, size_t payload, unsigned int nfds,
			 bool from_worker, const char *reason)
{
	const char *why;
	int ret = parse_with(m, payload, nfds, from_worker, &why);

	if (!reason) {
		if (ret)
			fail_msg("refused: %s", why);
		return;
	}
	assert_int_equal(ret, -EPROTO);
	assert_string_equal(why, reason);
}

/* An ask carries its number, its value in range, and only the payload and descriptors of its type. */
static void test_asks_are_checked_against_their_type(void **state)
{
	(void)state;
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 255, 1), 0, 0, true, NULL);
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 0, 0), 0, 0, true, "an ask without a number");
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 256, 1), 0, 0, true, "value out of range");
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 0, 1), 1, 0, true, "payload too long for its type");
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 0, 1), 0, 1, true,
		     "descriptors its type does not carry");
	assert_parse(ask(WORKER_MSG_NBD_CONNECT, 0, 1), 0, 0, false,
		     "a worker's request from the supervisor");
	/* First-version requests carry no number, payload or descriptor. */
	assert_parse(ask(WORKER_MSG_CLEAR_STALE, 0, 7), 0, 0, true, "unused fields not zero");
	assert_parse(ask(WORKER_MSG_STOPPING, 0, 0), 4, 0, true, "payload too long for its type");
	assert_parse(ask(WORKER_MSG_STOPPING, 0, 0), 0, 2, true,
		     "descriptors its type does not carry");
}

/* An answer goes to an ask of the other side, with its number, an errno and its type's answer bounds. */
static void test_answers_are_checked_against_the_type_asked(void **state)
{
	struct worker_message ack = worker_message_make(WORKER_MSG_ACK, WORKER_MSG_STOPPING, 0);

	(void)state;
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 0, 9), 0, 1, false, NULL);
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 110, 9), 0, 0, false, NULL);
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 0, 9), 0, 2, false,
		     "descriptors its type does not carry");
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 0, 9), 1, 0, false,
		     "payload too long for its type");
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 0, 0), 0, 0, false,
		     "an answer without its ask's number");
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 4096, 9), 0, 0, false,
		     "an answer that is no errno");
	/* The worker asks NBD_CONNECT: it never answers one. */
	assert_parse(answer(WORKER_MSG_NBD_CONNECT, 0, 9), 0, 0, true,
		     "an answer to nothing that is answered");
	assert_parse(answer(WORKER_MSG_CLEAR_STALE, 0, 9), 0, 0, false,
		     "an answer to nothing that is answered");
	assert_parse(answer(WORKER_MSG_TYPES, 0, 9), 0, 0, false,
		     "an answer to nothing that is answered");
	ack.seq = 3;
	assert_parse(ack, 0, 0, false, "unused fields not zero");
	ack.seq = 0;
	assert_parse(ack, 0, 1, false, "unused fields not zero");
	assert_parse(ack, 0, 0, false, NULL);
}

/* The header's length is the datagram's: a short or long payload, or one past the maximum, is refused. */
static void test_payload_length_must_match_the_datagram(void **state)
{
	char buf[sizeof(struct worker_message) + WORKER_PAYLOAD_MAX + 1] = { 0 };
	struct worker_message m = worker_message_make(WORKER_MSG_STOPPING, 0, 0), out;
	const char *why;

	(void)state;
	m.length = 1;
	memcpy(buf, &m, sizeof(m));
	assert_int_equal(worker_message_parse(buf, sizeof(m), 0, true, &out, NULL, &why), -EPROTO);
	assert_string_equal(why, "wrong length");
	assert_int_equal(worker_message_parse(buf, sizeof(m) + 2, 0, true, &out, NULL, &why),
			 -EPROTO);
	assert_string_equal(why, "wrong length");
	m.length = WORKER_PAYLOAD_MAX + 1;
	memcpy(buf, &m, sizeof(m));
	assert_int_equal(worker_message_parse(buf, sizeof(buf), 0, true, &out, NULL, &why), -EPROTO);
	assert_string_equal(why, "wrong length");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_request_a_worker_may_send_passes),
		cmocka_unit_test(test_lengths_other_than_one_message_are_refused),
		cmocka_unit_test(test_bad_versions_types_and_fields_are_refused),
		cmocka_unit_test(test_messages_in_the_wrong_direction_are_refused),
		cmocka_unit_test(test_random_messages_never_pass_unchecked),
		cmocka_unit_test(test_asks_are_checked_against_their_type),
		cmocka_unit_test(test_answers_are_checked_against_the_type_asked),
		cmocka_unit_test(test_payload_length_must_match_the_datagram),
	};

	return cmocka_run_group_tests_name("worker protocol", tests, NULL, NULL);
}
