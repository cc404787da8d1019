/* SPDX-License-Identifier: MIT */
/*
 * daemon/qmp_session.h: one QMP conversation, as libxl holds it with its
 * device model (tools/libs/light/libxl_qmp.c), without the socket: lines in,
 * lines out.
 *
 * The server speaks first (the greeting), the client negotiates
 * (qmp_capabilities), then each command line gets one answer line carrying
 * the request's "id" back, whatever its JSON type. Every line out ends in
 * CRLF, which libxl's reader looks for. Parsed with json-c in strict mode
 * (RFC 8259), never by hand; the caller bounds the line length.
 *
 * What this device model answers: qmp_capabilities; query-chardev -> [] (no
 * serial ports, so libxl writes no console nodes); query-vnc -> {"enabled":
 * false}; query-command-line-options -> [] (the 4.20+ probe: none of QEMU's
 * -run-with/-chroot, which only dm_restrict uses, refused anyway); quit ->
 * {} and the session ends. Anything else is a QMP error, as QEMU answers it.
 */
#ifndef XVP_DAEMON_QMP_SESSION_H
#define XVP_DAEMON_QMP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

/* The longest line a client may send, CRLF excluded; libxl's are under 200 bytes. */
#define QMP_LINE_MAX 8192

enum qmp_action {
	QMP_CONTINUE,		/* answered: read the next line */
	QMP_QUIT,		/* "quit" was answered: close, and the device model stops */
};

struct qmp_session {
	bool negotiated;	/* qmp_capabilities was answered */
	char command[64];	/* the last request's command, for the log ("" if none) */
};

void qmp_session_init(struct qmp_session *session);

/* The greeting, CRLF-terminated; malloc'd, NULL if out of memory. */
char *qmp_session_greeting(void);

/*
 * Answer one line (@len bytes, no CRLF; any bytes) into *@reply
 * (CRLF-terminated, malloc'd; NULL if out of memory: the caller closes).
 */
enum qmp_action qmp_session_line(struct qmp_session *session, const char *line, size_t len,
				 char **reply);

/* The error line for a line longer than QMP_LINE_MAX (the caller then closes). */
char *qmp_session_line_too_long(void);

#endif
