// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_nbd_uri.c: NBD URIs as users write them (nbd_connect_uri(3)'s
 * examples and the NBD project's doc/uri.md), what the supervisor connects
 * to and what the worker's handshake asks for; and the ones refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "backends/nbd_uri.h"

static char why[512];

static void parse_ok(const char *text, struct nbd_uri *uri)
{
	why[0] = '\0';
	if (nbd_uri_parse(text, uri, why, sizeof(why)))
		fail_msg("'%s' refused: %s", text, why);
}

static void assert_refused(const char *text, const char *reason)
{
	struct nbd_uri uri;

	why[0] = '\0';
	if (nbd_uri_parse(text, &uri, why, sizeof(why)) != -EINVAL)
		fail_msg("'%s' was not refused", text);
	if (!strstr(why, reason))
		fail_msg("'%s': the message '%s' lacks '%s'", text, why, reason);
	nbd_uri_free(&uri);
}

static void test_tcp_host_port_and_export(void **state)
{
	struct nbd_uri uri;

	(void)state;
	parse_ok("nbd://example.com:10810/disk%20one", &uri);
	assert_false(uri.tls);
	assert_false(uri.unix_socket);
	assert_string_equal(uri.host, "example.com");
	assert_string_equal(uri.port, "10810");
	assert_string_equal(uri.export_name, "disk one");
	assert_null(uri.socket);
	assert_null(uri.user);
	nbd_uri_free(&uri);

	/* No port, no export, no host: the defaults libnbd uses. */
	parse_ok("nbd://example.com", &uri);
	assert_string_equal(uri.port, NBD_URI_DEFAULT_PORT);
	assert_string_equal(uri.export_name, "");
	nbd_uri_free(&uri);
	parse_ok("nbd:///exp", &uri);
	assert_string_equal(uri.host, "localhost");
	assert_string_equal(uri.export_name, "exp");
	nbd_uri_free(&uri);

	/* An IPv6 literal loses its brackets (getaddrinfo() takes none); a path keeps its '/'s. */
	parse_ok("nbd://[::1]:99/a/b", &uri);
	assert_string_equal(uri.host, "::1");
	assert_string_equal(uri.port, "99");
	assert_string_equal(uri.export_name, "a/b");
	nbd_uri_free(&uri);
}

static void test_unix_socket_and_tls(void **state)
{
	struct nbd_uri uri;

	(void)state;
	parse_ok("nbd+unix:///foo?socket=/tmp/nbd%20x.sock", &uri);
	assert_true(uri.unix_socket);
	assert_false(uri.tls);
	assert_string_equal(uri.socket, "/tmp/nbd x.sock");
	assert_string_equal(uri.export_name, "foo");
	assert_null(uri.host);
	nbd_uri_free(&uri);

	parse_ok("nbds+unix://alice@/?socket=/s;tls-psk-file=/etc/k.psk&tls-certificates=/etc/pki",
		 &uri);
	assert_true(uri.tls);
	assert_string_equal(uri.user, "alice");
	assert_string_equal(uri.tls_psk_file, "/etc/k.psk");
	assert_string_equal(uri.tls_certificates, "/etc/pki");
	nbd_uri_free(&uri);

	parse_ok("nbds://h/", &uri);
	assert_true(uri.tls);
	assert_false(uri.unix_socket);
	nbd_uri_free(&uri);
}

static void test_refused(void **state)
{
	(void)state;
	assert_refused("http://h/", "not an NBD URI");
	assert_refused("nbd+vsock:///", "not an NBD URI");
	assert_refused("nbd:/x", "expected nbd://");
	assert_refused("nbd+unix:///x", "socket=PATH");
	assert_refused("nbd+unix:///x?socket=rel.sock", "absolute");
	assert_refused("nbd+unix://host/x?socket=/s", "no host or port");
	assert_refused("nbd://h/x?socket=/s", "socket= is for the nbd+unix");
	assert_refused("nbd://h:70000/", "port 70000");
	assert_refused("nbd://h/?size=1", "unknown query parameter 'size'");
	assert_refused("nbd+unix:///?socket=/a&socket=/b", "given twice");
	assert_refused("nbd://h/x#top", "fragment");
	assert_refused("nbds://h/x?tls-psk-file=keys.psk", "absolute path");
	assert_refused("nbds://h/x?tls-certificates=pki", "absolute path");
	assert_refused("nbd+unix:///?socket=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_host_port_and_export),
		cmocka_unit_test(test_unix_socket_and_tls),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
