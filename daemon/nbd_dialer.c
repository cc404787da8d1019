// SPDX-License-Identifier: MIT
/*
 * daemon/nbd_dialer.c: a worker's NBD_CONNECT asks, checked against the
 * supervisor's own parse of that worker's options, bounded per device,
 * each served by one daemon/net_connect.h connect.
 */
#include "daemon/nbd_dialer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>

#include "backends/nbd_uri.h"
#include "daemon/config_file.h"
#include "daemon/net_connect.h"
#include "daemon/options.h"
#include "daemon/worker_peer.h"
#include "lib/log.h"

struct nbd_dialer;

/* One device of the worker's: its URI if it is an NBD disk, its connect, its budget. */
struct dial {
	struct nbd_dialer *dialer;
	char name[16];			/* "blk0" */
	bool nbd;
	struct nbd_uri uri;
	struct worker_request *req;	/* the ask being served */
	struct net_connect *connect;	/* ... its connect */
	double tokens;			/* connects it may start now */
	long long refilled_ms;		/* when tokens were last counted */
};

struct nbd_dialer {
	struct event_base *base;
	struct worker_peer *peer;
	struct evdns_base *dns;		/* made on the first TCP connect */
	uint32_t domid;
	unsigned int nr_dials;
	struct dial dials[DEVICE_MAX];
	struct log_ratelimit log;	/* what the worker can make us say */
	char context[32];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The token bucket: NBD_DIALER_BURST at most, one back per NBD_DIALER_REFILL_MS. */
static bool take_token(struct dial *dial)
{
	long long now = now_ms();

	dial->tokens += (double)(now - dial->refilled_ms) / NBD_DIALER_REFILL_MS;
	if (dial->tokens > NBD_DIALER_BURST)
		dial->tokens = NBD_DIALER_BURST;
	dial->refilled_ms = now;
	if (dial->tokens < 1)
		return false;
	dial->tokens -= 1;
	return true;
}

static void on_connected(void *opaque, int fd, const char *why)
{
	struct dial *dial = opaque;
	struct worker_request *req = dial->req;
	const struct nbd_uri *uri = &dial->uri;

	dial->req = NULL;
	dial->connect = NULL;
	if (fd < 0) {
		log_ratelimited(&dial->dialer->log, LOG_LEVEL_WARN, "domain %u: %s: cannot connect "
				"to %s%s%s: %s", dial->dialer->domid, dial->name,
				uri->unix_socket ? uri->socket : uri->host,
				uri->unix_socket ? "" : " port ", uri->unix_socket ? "" : uri->port, why);
		worker_request_answer(req, fd, NULL, 0, NULL, 0);
		return;
	}
	log_debug("domain %u: %s: connected for its worker", dial->dialer->domid, dial->name);
	worker_request_answer(req, 0, NULL, 0, &fd, 1);
	close(fd);
}

/* 0 to connect @dial now, or the -errno to answer (logged). */
static int admit(struct nbd_dialer *dialer, uint64_t position, struct dial **out)
{
	struct dial *dial = position < dialer->nr_dials ? &dialer->dials[position] : NULL;

	if (!dial || !dial->nbd) {
		log_ratelimited(&dialer->log, LOG_LEVEL_WARN, "domain %u: its worker asked a "
				"connection for device %llu, which is no NBD disk: refused",
				dialer->domid, (unsigned long long)position);
		return -ENODEV;
	}
	if (dial->req) {
		log_ratelimited(&dialer->log, LOG_LEVEL_WARN, "domain %u: %s: its worker asked "
				"another connection while one is being made: refused",
				dialer->domid, dial->name);
		return -EBUSY;
	}
	if (!take_token(dial)) {
		log_ratelimited(&dialer->log, LOG_LEVEL_WARN, "domain %u: %s: its worker asks "
				"connections too often (%d at once, then one per %d ms): refused",
				dialer->domid, dial->name, NBD_DIALER_BURST, NBD_DIALER_REFILL_MS);
		return -EAGAIN;
	}
	*out = dial;
	return 0;
}

static void on_ask(void *opaque, struct worker_request *req, struct worker_payload *ask)
{
	struct nbd_dialer *dialer = opaque;
	const struct nbd_uri *uri;
	struct dial *dial;
	int ret = admit(dialer, ask->value, &dial);

	if (ret) {
		worker_request_answer(req, ret, NULL, 0, NULL, 0);
		return;
	}
	uri = &dial->uri;
	if (!uri->unix_socket && !dialer->dns)
		dialer->dns = evdns_base_new(dialer->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
					     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	dial->connect = net_connect_start(dialer->base, dialer->dns, uri->socket,
					  uri->unix_socket ? NULL : uri->host, uri->port,
					  NBD_DIALER_DEADLINE_MS, on_connected, dial);
	if (!dial->connect) {
		worker_request_answer(req, -ENOMEM, NULL, 0, NULL, 0);
		return;
	}
	dial->req = req;
}

/*
 * @args as NAME VALUE pairs: a worker's getopt_long also takes --NAME=VALUE
 * (the device-model mode's and --from-xl's tokens), config_domain_options()
 * only pairs. The copies point into @args or @store (freed by the caller).
 */
static char **split_args(char *const *args, char **store)
{
	size_t n = 0, len = 0;
	char **out;
	char *at;

	for (; args[n]; n++)
		len += strlen(args[n]) + 1;
	out = calloc(2 * n + 1, sizeof(*out));
	*store = at = malloc(len + 1);
	if (!out || !at) {
		free(out);
		free(at);
		*store = NULL;
		return NULL;
	}
	for (size_t i = 0, j = 0; i < n; i++) {
		const char *eq = strncmp(args[i], "--", 2) ? NULL : strchr(args[i], '=');

		if (!eq) {
			out[j++] = args[i];
			continue;
		}
		memcpy(at, args[i], (size_t)(eq - args[i]));
		at[eq - args[i]] = '\0';
		out[j++] = at;
		at += eq - args[i] + 1;
		out[j++] = (char *)eq + 1;
	}
	return out;
}

/* The devices of @args, as the worker will parse them; false if they do not parse (logged). */
static bool read_devices(struct nbd_dialer *dialer, char *const *args)
{
	struct daemon_options *opts = calloc(1, sizeof(*opts));
	char *store = NULL;
	struct config_domain block = { .args = split_args(args, &store) };
	char why[OPTIONS_WHY_MAX];
	bool ok = false;

	if (!opts || !block.args) {
		free(opts);
		free(block.args);
		free(store);
		return false;
	}
	while (block.args[block.nr_args])
		block.nr_args++;
	options_init(opts);
	if (config_domain_options(&block, opts, why, sizeof(why)) ||
	    device_configs_finish(opts->devices, opts->nr_devices, why, sizeof(why)))
		goto out;
	for (unsigned int i = 0; i < opts->nr_devices; i++) {
		const struct device_config *c = &opts->devices[i];
		const char *text = c->type->nbd_uri ? c->type->nbd_uri(c->options) : NULL;
		struct dial *dial = &dialer->dials[i];

		*dial = (struct dial){ .dialer = dialer, .tokens = NBD_DIALER_BURST,
				       .refilled_ms = now_ms() };
		memcpy(dial->name, c->name, sizeof(dial->name));
		if (text && nbd_uri_parse(text, &dial->uri, why, sizeof(why)))
			goto out;
		dial->nbd = text != NULL;
	}
	dialer->nr_dials = opts->nr_devices;
	ok = true;
out:
	if (!ok)
		log_error("domain %u: its options no longer parse (%s): its NBD disks get no "
			  "connections", dialer->domid, why);
	free(opts);
	free(block.args);
	free(store);
	return ok;
}

struct nbd_dialer *nbd_dialer_create(struct event_base *base, struct worker_peer *peer,
				     uint32_t domid, char *const *args)
{
	struct nbd_dialer *dialer = calloc(1, sizeof(*dialer));

	if (!dialer) {
		log_error("domain %u: out of memory for its NBD connections", domid);
		return NULL;
	}
	dialer->base = base;
	dialer->peer = peer;
	dialer->domid = domid;
	snprintf(dialer->context, sizeof(dialer->context), "domain %u's NBD asks", domid);
	log_ratelimit_init(&dialer->log, dialer->context);
	read_devices(dialer, args);
	worker_peer_serve(peer, WORKER_MSG_NBD_CONNECT, on_ask, dialer);
	return dialer;
}

void nbd_dialer_destroy(struct nbd_dialer *dialer)
{
	if (!dialer)
		return;
	worker_peer_serve(dialer->peer, WORKER_MSG_NBD_CONNECT, NULL, NULL);
	for (unsigned int i = 0; i < DEVICE_MAX; i++) {
		struct dial *dial = &dialer->dials[i];

		if (dial->connect) {
			net_connect_cancel(dial->connect);
			worker_request_answer(dial->req, -ECANCELED, NULL, 0, NULL, 0);
		}
		nbd_uri_free(&dial->uri);
	}
	if (dialer->dns)
		evdns_base_free(dialer->dns, 0);
	log_ratelimit_flush(&dialer->log);
	free(dialer);
}
