// SPDX-License-Identifier: MIT
/*
 * daemon/qmp_session.c: QMP's framing and the five commands libxl sends a
 * PV/PVH device model, with QEMU's error classes and texts
 * (qapi/qmp-dispatch.c) for what is malformed or unknown.
 */
#include "daemon/qmp_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

/* Nesting a request may have: QMP's own is 3 deep; QEMU's parser stops at 1024. */
#define QMP_MAX_DEPTH 32

void qmp_session_init(struct qmp_session *session)
{
	session->negotiated = false;
	session->command[0] = '\0';
}

/* @obj (consumed) as one CRLF-terminated line. */
static char *to_line(struct json_object *obj)
{
	const char *text;
	char *line = NULL;

	if (!obj)
		return NULL;
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text && asprintf(&line, "%s\r\n", text) < 0)
		line = NULL;
	json_object_put(obj);
	return line;
}

static struct json_object *new_object(void)
{
	return json_object_new_object();
}

/* Add @value (consumed) under @key; on failure @obj is freed: NULL. */
static struct json_object *with(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!obj || !value || json_object_object_add(obj, key, value)) {
		json_object_put(value);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* The version in the greeting: ours (libxl only logs it for a device model). */
static struct json_object *version(void)
{
	unsigned int major = 0, minor = 0, micro = 0;

	sscanf(XVP_VERSION, "%u.%u.%u", &major, &minor, &micro);
	return with(with(new_object(), "qemu",
			 with(with(with(new_object(), "micro", json_object_new_int((int)micro)),
				   "minor", json_object_new_int((int)minor)),
			      "major", json_object_new_int((int)major))),
		    "package", json_object_new_string("xen-virtio-pci " XVP_VERSION));
}

char *qmp_session_greeting(void)
{
	return to_line(with(new_object(), "QMP",
			    with(with(new_object(), "version", version()),
				 "capabilities", json_object_new_array())));
}

/*
 * The request's id, copied into @reply (which is freed on failure: NULL).
 * @id NULL: the request had none; *@id NULL: it was JSON null.
 */
static struct json_object *with_id(struct json_object *reply, struct json_object *const *id)
{
	if (!reply || !id)
		return reply;
	if (json_object_object_add(reply, "id", json_object_get(*id))) {
		json_object_put(*id);
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

/* {"error": {"class": CLASS, "desc": DESC}[, "id": ID]}. */
static char *error_line(const char *class, const char *desc, struct json_object *const *id)
{
	struct json_object *reply;

	reply = with(new_object(), "error",
		     with(with(new_object(), "class", json_object_new_string(class)),
			  "desc", json_object_new_string(desc)));
	return to_line(with_id(reply, id));
}

/* {"return": VALUE[, "id": ID]}; @value consumed. */
static char *return_line(struct json_object *value, struct json_object *const *id)
{
	return to_line(with_id(with(new_object(), "return", value), id));
}

char *qmp_session_line_too_long(void)
{
	return error_line("GenericError", "JSON parse error, line too long (at most 8192 bytes)",
			  NULL);
}

/*
 * The line as one JSON value into *@value (NULL for JSON null), strictly,
 * nothing but blanks after it: true, or false if it is no such line.
 */
static bool parse_line(const char *line, size_t len, struct json_object **value)
{
	struct json_tokener *tok = json_tokener_new_ex(QMP_MAX_DEPTH);
	enum json_tokener_error error;
	size_t end;

	*value = NULL;
	if (!tok)
		return false;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	*value = json_tokener_parse_ex(tok, line, (int)len);
	error = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* A bare number or literal ends only at the end of the text: say it ended. */
	if (error == json_tokener_continue && end == len) {
		*value = json_tokener_parse_ex(tok, "", 1);
		error = json_tokener_get_error(tok);
	}
	/* A NUL byte ends json-c's input: one inside the line is "left over", so refused too. */
	while (end < len && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
		end++;
	json_tokener_free(tok);
	if (error == json_tokener_success && end == len)
		return true;
	json_object_put(*value);
	*value = NULL;
	return false;
}

/*
 * QEMU's checks of a request (qmp_dispatch_check_obj()): an object with a
 * string "execute", an optional object "arguments", an optional "id" of
 * any type, nothing else. NULL, or the error's description.
 */
static const char *check_request(struct json_object *request, const char **command)
{
	struct json_object *execute, *arguments;

	if (!json_object_is_type(request, json_type_object))
		return "QMP input must be a JSON object";
	if (!json_object_object_get_ex(request, "execute", &execute))
		return "QMP input lacks member 'execute'";
	if (!json_object_is_type(execute, json_type_string))
		return "QMP input member 'execute' must be a string";
	if (json_object_object_get_ex(request, "arguments", &arguments) &&
	    !json_object_is_type(arguments, json_type_object))
		return "QMP input member 'arguments' must be an object";
	json_object_object_foreach(request, key, value) {
		(void)value;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id"))
			return "QMP input member is unexpected (only execute, arguments and id)";
	}
	*command = json_object_get_string(execute);
	return NULL;
}

/* query-vnc's answer: VNC is never served (dm_argv refuses -vnc other than none). */
static struct json_object *vnc_disabled(void)
{
	return with(new_object(), "enabled", json_object_new_boolean(0));
}

static char *command_not_found(const char *command, struct json_object *const *id)
{
	char desc[128];

	snprintf(desc, sizeof(desc), "The command %.64s has not been found", command);
	return error_line("CommandNotFound", desc, id);
}

/* A well-formed request: its answer, and whether the session goes on. */
static enum qmp_action execute(struct qmp_session *session, const char *command,
			       struct json_object *const *id, char **reply)
{
	if (!strcmp(command, "qmp_capabilities")) {
		if (session->negotiated) {
			*reply = error_line("CommandNotFound", "Capabilities negotiation is "
					    "already complete, command ignored", id);
		} else {
			session->negotiated = true;
			*reply = return_line(new_object(), id);
		}
		return QMP_CONTINUE;
	}
	if (!session->negotiated) {
		*reply = error_line("CommandNotFound", "Expecting capabilities negotiation with "
				    "'qmp_capabilities'", id);
		return QMP_CONTINUE;
	}
	if (!strcmp(command, "query-chardev") || !strcmp(command, "query-command-line-options"))
		*reply = return_line(json_object_new_array(), id);
	else if (!strcmp(command, "query-vnc"))
		*reply = return_line(vnc_disabled(), id);
	else if (!strcmp(command, "quit"))
		*reply = return_line(new_object(), id);
	else
		*reply = command_not_found(command, id);
	return strcmp(command, "quit") ? QMP_CONTINUE : QMP_QUIT;
}

enum qmp_action qmp_session_line(struct qmp_session *session, const char *line, size_t len,
				 char **reply)
{
	struct json_object *request, *id_value, **id = NULL;
	const char *command = NULL, *bad;
	enum qmp_action action = QMP_CONTINUE;

	if (len > QMP_LINE_MAX) {
		*reply = qmp_session_line_too_long();
		return QMP_CONTINUE;
	}
	if (!parse_line(line, len, &request)) {
		*reply = error_line("GenericError", "JSON parse error", NULL);
		return QMP_CONTINUE;
	}
	if (json_object_is_type(request, json_type_object) &&
	    json_object_object_get_ex(request, "id", &id_value))
		id = &id_value;
	bad = check_request(request, &command);
	snprintf(session->command, sizeof(session->command), "%s", command ? command : "");
	if (bad)
		*reply = error_line("GenericError", bad, id);
	else
		action = execute(session, command, id, reply);
	json_object_put(request);
	return action;
}
