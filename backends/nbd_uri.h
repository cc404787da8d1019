/* SPDX-License-Identifier: MIT */
/*
 * backends/nbd_uri.h: an NBD URI (nbd://, nbds://, nbd+unix://,
 * nbds+unix://, the NBD project's doc/uri.md) split into what each side
 * needs: where to connect (the supervisor makes the connection) and what
 * the handshake sends (the worker runs it on the socket it is handed).
 * Parsed with libxml2's xmlParseURI, the parser libnbd's nbd_connect_uri
 * uses (lib/uri.c), so a URI means here what it means to libnbd.
 */
#ifndef XVP_BACKENDS_NBD_URI_H
#define XVP_BACKENDS_NBD_URI_H

#include <stdbool.h>
#include <stddef.h>

/* The NBD port (IANA), when the URI gives none. */
#define NBD_URI_DEFAULT_PORT	"10809"

struct nbd_uri {
	bool tls;			/* nbds: TLS required */
	bool unix_socket;		/* +unix: @socket, else TCP to @host and @port */
	char *host;			/* TCP: without an IPv6 literal's brackets; "localhost" if none */
	char port[8];			/* TCP: "1".."65535" */
	char *socket;			/* +unix: an absolute path that fits sockaddr_un */
	char *export_name;		/* the path without its first '/', decoded; "" for none */
	char *user;			/* the TLS user name (user@), or NULL */
	char *tls_certificates;		/* tls-certificates=DIR, or NULL */
	char *tls_psk_file;		/* tls-psk-file=FILE, or NULL */
};

/*
 * Split @text into @uri (nbd_uri_free() it). 0, -ENOMEM, or -EINVAL with
 * the reason in @why, without the URI (the caller names it): an unknown
 * scheme, a socket= missing or out of place, a query key this program
 * does not know, a port out of range. nbd_uri_free() is harmless after a
 * failure.
 */
int nbd_uri_parse(const char *text, struct nbd_uri *uri, char *why, size_t why_len);
void nbd_uri_free(struct nbd_uri *uri);

#endif
