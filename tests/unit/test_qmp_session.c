// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_qmp_session.c: the QMP conversations libxl holds with a
 * PV/PVH device model (libxl_dm.c: device_model_spawn_outcome() and its
 * postconfig callbacks; the 4.20+ probe), answered line for line; and what
 * a hostile or broken client sends: bad JSON, wrong shapes, unknown
 * commands, ids of every JSON type, NUL bytes, lines past the bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "daemon/qmp_session.h"

static struct qmp_session session;

static int setup(void **state)
{
	(void)state;
	qmp_session_init(&session);
	return 0;
}

/* Send @line, check the answer ends in CRLF and parses; returned parsed (caller puts). */
static struct json_object *ask_len(const char *line, size_t len, enum qmp_action *action)
{
	char *reply = NULL;
	struct json_object *parsed;
	size_t reply_len;

	*action = qmp_session_line(&session, line, len, &reply);
	assert_non_null(reply);
	reply_len = strlen(reply);
	assert_true(reply_len >= 2);
	assert_memory_equal(reply + reply_len - 2, "\r\n", 2);
	assert_null(memchr(reply, '\n', reply_len - 1));	/* one line */
	parsed = json_tokener_parse(reply);
	assert_non_null(parsed);
	free(reply);
	return parsed;
}

static struct json_object *ask(const char *line, enum qmp_action expected)
{
	enum qmp_action action;
	struct json_object *reply = ask_len(line, strlen(line), &action);

	assert_int_equal(action, expected);
	return reply;
}

/* The answer to @line is {"return": RETURN, "id": ID} (as JSON texts). */
static void assert_returns(const char *line, const char *return_json, const char *id_json)
{
	struct json_object *reply = ask(line, QMP_CONTINUE), *value, *expected;

	assert_true(json_object_object_get_ex(reply, "return", &value));
	expected = json_tokener_parse(return_json);
	assert_true(json_object_equal(value, expected));
	json_object_put(expected);
	if (id_json) {
		assert_true(json_object_object_get_ex(reply, "id", &value));
		expected = json_tokener_parse(id_json);
		assert_true(json_object_equal(value, expected));
		json_object_put(expected);
	}
	json_object_put(reply);
}

/* The answer to @line is an error of @class whose desc holds @desc; its id @id_json or none. */
static void assert_error(const char *line, size_t len, const char *class, const char *desc,
			 const char *id_json)
{
	enum qmp_action action;
	struct json_object *reply = ask_len(line, len, &action), *error, *field, *expected;

	assert_int_equal(action, QMP_CONTINUE);
	assert_true(json_object_object_get_ex(reply, "error", &error));
	assert_true(json_object_object_get_ex(error, "class", &field));
	assert_string_equal(json_object_get_string(field), class);
	assert_true(json_object_object_get_ex(error, "desc", &field));
	if (!strstr(json_object_get_string(field), desc))
		print_error("desc '%s' lacks '%s'\n", json_object_get_string(field), desc);
	assert_non_null(strstr(json_object_get_string(field), desc));
	if (id_json) {
		assert_true(json_object_object_get_ex(reply, "id", &field));
		expected = json_tokener_parse(id_json);
		assert_true(json_object_equal(field, expected));
		json_object_put(expected);
	} else {
		assert_false(json_object_object_get_ex(reply, "id", &field));
	}
	json_object_put(reply);
}

static void negotiate(void)
{
	assert_returns("{\"execute\":\"qmp_capabilities\",\"id\":1}", "{}", "1");
}

static void test_greeting_is_qmp_with_a_version(void **state)
{
	char *greeting = qmp_session_greeting();
	struct json_object *parsed, *qmp, *version, *qemu, *major, *caps;

	(void)state;
	assert_non_null(greeting);
	assert_memory_equal(greeting + strlen(greeting) - 2, "\r\n", 2);
	parsed = json_tokener_parse(greeting);
	/* What libxl's greeting handler reads: QMP.version.qemu.{major,minor,micro}. */
	assert_true(json_object_object_get_ex(parsed, "QMP", &qmp));
	assert_true(json_object_object_get_ex(qmp, "version", &version));
	assert_true(json_object_object_get_ex(version, "qemu", &qemu));
	assert_true(json_object_object_get_ex(qemu, "major", &major));
	assert_true(json_object_is_type(major, json_type_int));
	assert_true(json_object_object_get_ex(qmp, "capabilities", &caps));
	assert_true(json_object_is_type(caps, json_type_array));
	json_object_put(parsed);
	free(greeting);
}

/* Xen 4.17 to 4.22, after xenstore said "running" (device_model_spawn_outcome()). */
static void test_libxl_startup_conversation(void **state)
{
	(void)state;
	negotiate();
	assert_returns("{\"execute\":\"query-chardev\",\"id\":2}", "[]", "2");
	assert_returns("{\"execute\":\"query-vnc\",\"id\":3}", "{\"enabled\": false}", "3");
}

/* Xen 4.20+: the probe, before the device model proper. */
static void test_libxl_probe_conversation(void **state)
{
	struct json_object *reply;

	(void)state;
	negotiate();
	assert_returns("{\"execute\":\"query-command-line-options\",\"id\":2}", "[]", "2");
	reply = ask("{\"execute\":\"quit\",\"id\":3}", QMP_QUIT);
	json_object_put(reply);
}

static void test_commands_before_negotiation_are_refused(void **state)
{
	const char *line = "{\"execute\":\"query-chardev\",\"id\":1}";

	(void)state;
	assert_error(line, strlen(line), "CommandNotFound", "Expecting capabilities negotiation",
		     "1");
	negotiate();
	line = "{\"execute\":\"qmp_capabilities\",\"id\":2}";
	assert_error(line, strlen(line), "CommandNotFound", "already complete", "2");
}

static void test_unknown_commands_are_command_not_found(void **state)
{
	static const struct { const char *line, *id; } cases[] = {
		{ "{\"execute\":\"cont\",\"id\":5}", "5" },
		{ "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"x\"},\"id\":6}", "6" },
		{ "{\"execute\":\"query-status\"}", NULL },
	};

	(void)state;
	negotiate();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_error(cases[i].line, strlen(cases[i].line), "CommandNotFound",
			     "has not been found", cases[i].id);
}

/* QMP reflects the id whatever JSON it is. */
static void test_ids_of_every_json_type_come_back(void **state)
{
	static const char *const ids[] = { "7", "-1", "1.5", "\"libxl-12\"", "true", "null",
					   "[1, \"two\", {}]", "{\"nested\": [null]}",
					   "18446744073709551615" };
	char line[256];

	(void)state;
	negotiate();
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(line, sizeof(line), "{\"execute\":\"query-chardev\",\"id\":%s}", ids[i]);
		assert_returns(line, "[]", ids[i]);
	}
}

static void test_malformed_json_is_a_parse_error(void **state)
{
	static const char *const lines[] = {
		"{\"execute\":", "{\"execute\":\"quit\"", "not json", "{'execute':'quit'}",
		"{\"execute\":\"quit\",}", "{\"execute\":\"quit\"} {\"execute\":\"quit\"}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		"]]]]]]]]]]]]]]]]",
		"", "\xff\xfe",
	};

	(void)state;
	negotiate();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_error(lines[i], strlen(lines[i]), "GenericError", "JSON parse error", NULL);
	/* A NUL byte in the line: never read as the end of the text. */
	assert_error("{\"execute\":\"quit\"}\0junk", 23, "GenericError", "JSON parse error", NULL);
	/* Still in session: */
	assert_returns("{\"execute\":\"query-chardev\",\"id\":9}", "[]", "9");
}

static void test_wrong_shapes_are_refused_as_qemu_does(void **state)
{
	static const struct { const char *line, *desc, *id; } cases[] = {
		{ "[\"execute\", \"quit\"]", "must be a JSON object", NULL },
		{ "null", "must be a JSON object", NULL },
		{ "{\"id\": 4}", "lacks member 'execute'", "4" },
		{ "{\"execute\": 7, \"id\": 5}", "'execute' must be a string", "5" },
		{ "{\"execute\": \"quit\", \"arguments\": [], \"id\": 6}",
		  "'arguments' must be an object", "6" },
		{ "{\"execute\": \"quit\", \"extra\": 1, \"id\": 7}", "unexpected", "7" },
	};

	(void)state;
	negotiate();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_error(cases[i].line, strlen(cases[i].line), "GenericError", cases[i].desc,
			     cases[i].id);
}

static void test_long_lines_are_refused(void **state)
{
	size_t len = QMP_LINE_MAX + 1;
	char *line = malloc(len + 1);

	(void)state;
	assert_non_null(line);
	memset(line, ' ', len);
	line[len] = '\0';
	memcpy(line, "{\"execute\":\"query-chardev\"}", 27);
	assert_error(line, len, "GenericError", "line too long", NULL);
	/* At the bound it is a line like any other (blanks after the object). */
	negotiate();
	line[QMP_LINE_MAX] = '\0';
	assert_returns(line, "[]", NULL);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_greeting_is_qmp_with_a_version, setup),
		cmocka_unit_test_setup(test_libxl_startup_conversation, setup),
		cmocka_unit_test_setup(test_libxl_probe_conversation, setup),
		cmocka_unit_test_setup(test_commands_before_negotiation_are_refused, setup),
		cmocka_unit_test_setup(test_unknown_commands_are_command_not_found, setup),
		cmocka_unit_test_setup(test_ids_of_every_json_type_come_back, setup),
		cmocka_unit_test_setup(test_malformed_json_is_a_parse_error, setup),
		cmocka_unit_test_setup(test_wrong_shapes_are_refused_as_qemu_does, setup),
		cmocka_unit_test_setup(test_long_lines_are_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
