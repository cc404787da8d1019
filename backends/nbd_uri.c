// SPDX-License-Identifier: MIT
/*
 * backends/nbd_uri.c: an NBD URI split with libxml2, as libnbd's
 * nbd_connect_uri(3) splits it: the scheme picks TCP or a unix socket and
 * TLS, the authority is [user@]host[:port], the path less its first '/' is
 * the export name, and the query holds socket=, tls-certificates= and
 * tls-psk-file= (separated by '&' or ';', each part percent-decoded).
 */
#include "backends/nbd_uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <libxml/uri.h>

#include "lib/parse.h"

static const struct {
	const char *scheme;
	bool tls, unix_socket;
} schemes[] = {
	{ "nbd", false, false },
	{ "nbds", true, false },
	{ "nbd+unix", false, true },
	{ "nbds+unix", true, true },
};

static int set_scheme(struct nbd_uri *uri, const char *text, const xmlURI *parsed, char *why,
		      size_t why_len)
{
	for (size_t i = 0; parsed->scheme && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t len = strlen(schemes[i].scheme);

		if (strcmp(parsed->scheme, schemes[i].scheme))
			continue;
		/* scheme://[authority][/export][?query]: as libnbd insists. */
		if (strncmp(text + len, "://", 3))
			return parse_refuse(why, why_len, "expected %s://", schemes[i].scheme);
		uri->tls = schemes[i].tls;
		uri->unix_socket = schemes[i].unix_socket;
		return 0;
	}
	return parse_refuse(why, why_len, "not an NBD URI: expected nbd://HOST[:PORT]/EXPORT, "
			    "nbd+unix:///EXPORT?socket=PATH or their nbds:// forms");
}

/* One decoded query value into *@slot, refusing a key given twice. */
static int set_query_value(char **slot, const char *key, const char *value, size_t len,
			   char *why, size_t why_len)
{
	if (*slot)
		return parse_refuse(why, why_len, "%s= given twice", key);
	/* libxml2's memory is malloc's unless a program sets it otherwise (xmlMemSetup). */
	*slot = len ? xmlURIUnescapeString(value, (int)len, NULL) : strdup("");
	return *slot ? 0 : -ENOMEM;
}

static int set_query_part(struct nbd_uri *uri, const char *part, size_t len, char *why,
			  size_t why_len)
{
	static const char *const keys[] = { "socket", "tls-certificates", "tls-psk-file" };
	char **slots[] = { &uri->socket, &uri->tls_certificates, &uri->tls_psk_file };
	const char *eq = memchr(part, '=', len);
	size_t key_len = eq ? (size_t)(eq - part) : len;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i]) != key_len || strncmp(part, keys[i], key_len))
			continue;
		if (!eq)
			return parse_refuse(why, why_len, "%s without a value", keys[i]);
		return set_query_value(slots[i], keys[i], eq + 1, len - key_len - 1, why, why_len);
	}
	return parse_refuse(why, why_len, "unknown query parameter '%.*s': expected socket=, "
			    "tls-certificates= or tls-psk-file=", (int)(key_len < 64 ? key_len : 64),
			    part);
}

static int set_query(struct nbd_uri *uri, const char *query, char *why, size_t why_len)
{
	while (query && *query) {
		size_t len = strcspn(query, "&;");
		int ret = len ? set_query_part(uri, query, len, why, why_len) : 0;

		if (ret)
			return ret;
		query += len;
		if (*query)
			query++;
	}
	return 0;
}

/* Where the supervisor connects: a unix socket's path, or TCP's host and port. */
static int set_address(struct nbd_uri *uri, const xmlURI *parsed, char *why, size_t why_len)
{
	const char *host = parsed->server && *parsed->server ? parsed->server : NULL;
	size_t len;

	if (uri->unix_socket) {
		if (host || parsed->port > 0)
			return parse_refuse(why, why_len, "a +unix URI names no host or port");
		if (!uri->socket || uri->socket[0] != '/')
			return parse_refuse(why, why_len, "socket=PATH, an absolute path, is required");
		if (strlen(uri->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return parse_refuse(why, why_len, "socket=%.*s%s: longer than a unix socket "
					    "path may be (%zu bytes)", PARSE_SHOWN(uri->socket),
					    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return 0;
	}
	if (uri->socket)
		return parse_refuse(why, why_len, "socket= is for the nbd+unix:// forms");
	if (parsed->port > 65535)
		return parse_refuse(why, why_len, "port %d: out of range: expected 1 to 65535",
				    parsed->port);
	/* libxml2 keeps an IPv6 literal's brackets; getaddrinfo() wants none. */
	host = host ? host : "localhost";
	len = strlen(host);
	if (host[0] == '[' && len > 2 && host[len - 1] == ']')
		uri->host = strndup(host + 1, len - 2);
	else
		uri->host = strdup(host);
	if (parsed->port > 0)
		snprintf(uri->port, sizeof(uri->port), "%u", (unsigned int)parsed->port & 0xffff);
	else
		strcpy(uri->port, NBD_URI_DEFAULT_PORT);
	return uri->host ? 0 : -ENOMEM;
}

static int set_fields(struct nbd_uri *uri, const char *text, const xmlURI *parsed, char *why,
		      size_t why_len)
{
	int ret = set_scheme(uri, text, parsed, why, why_len);

	if (!ret && parsed->fragment)
		ret = parse_refuse(why, why_len, "a fragment (#%.*s%s) means nothing to NBD",
				   PARSE_SHOWN(parsed->fragment));
	if (!ret)
		ret = set_query(uri, parsed->query_raw, why, why_len);
	if (!ret)
		ret = set_address(uri, parsed, why, why_len);
	/* A reconnect reads them from the worker's root, where they are kept at these paths. */
	if (!ret && ((uri->tls_certificates && uri->tls_certificates[0] != '/') ||
		     (uri->tls_psk_file && uri->tls_psk_file[0] != '/')))
		ret = parse_refuse(why, why_len, "tls-certificates= and tls-psk-file= take an "
				   "absolute path");
	if (ret)
		return ret;
	/* xmlParseURI decoded the path; the export is what follows its '/' (doc/uri.md). */
	uri->export_name = strdup(parsed->path && parsed->path[0] == '/' ? parsed->path + 1 : "");
	if (parsed->user)
		uri->user = strdup(parsed->user);
	return uri->export_name && (!parsed->user || uri->user) ? 0 : -ENOMEM;
}

int nbd_uri_parse(const char *text, struct nbd_uri *uri, char *why, size_t why_len)
{
	xmlURIPtr parsed;
	int ret;

	*uri = (struct nbd_uri){ 0 };
	parsed = xmlParseURI(text);
	if (!parsed)
		return parse_refuse(why, why_len, "not a URI (RFC 3986)");
	ret = set_fields(uri, text, parsed, why, why_len);
	xmlFreeURI(parsed);
	if (ret == -ENOMEM)
		snprintf(why, why_len, "out of memory");
	if (ret)
		nbd_uri_free(uri);
	return ret;
}

void nbd_uri_free(struct nbd_uri *uri)
{
	free(uri->host);
	free(uri->socket);
	free(uri->export_name);
	free(uri->user);
	free(uri->tls_certificates);
	free(uri->tls_psk_file);
	*uri = (struct nbd_uri){ 0 };
}
