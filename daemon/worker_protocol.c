// SPDX-License-Identifier: MIT
/*
 * daemon/worker_protocol.c: one message between a worker and its
 * supervisor, checked field by field against its type's rule. The
 * supervisor calls this on every message a worker sends: a worker may be
 * compromised, so nothing in the message is trusted before it passes.
 */
#include "daemon/worker_protocol.h"

#include <errno.h>
#include <string.h>

enum sender { FROM_WORKER = 1, FROM_SUPERVISOR };

/* What a message of one type may carry; an ANSWER is checked against the rule of the type asked. */
struct rule {
	enum sender sender;
	bool asked;		/* answered by an ANSWER (else: an ACK, or nothing) */
	bool acked;		/* a first-version request, answered by an ACK */
	uint64_t max_value;
	uint32_t max_length;	/* payload bytes */
	unsigned int max_fds;
	uint32_t answer_max_length;
	unsigned int answer_max_fds;
};

static const struct rule rules[WORKER_MSG_TYPES] = {
	[WORKER_MSG_CLEAR_STALE] = { FROM_WORKER, .acked = true },
	[WORKER_MSG_SERVER_CREATED] = { FROM_WORKER, .acked = true,
					.max_value = WORKER_MAX_SERVER_ID },
	[WORKER_MSG_FUNCTIONS_CHANGED] = { FROM_WORKER },
	[WORKER_MSG_STOPPING] = { FROM_WORKER, .acked = true },
	[WORKER_MSG_NBD_CONNECT] = { FROM_WORKER, .asked = true, .max_value = 255,
				     .answer_max_fds = 1 },
};

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -EPROTO;
}

static const struct rule *rule_of(uint32_t type)
{
	if (type >= WORKER_MSG_TYPES || !rules[type].sender)
		return NULL;
	return &rules[type];
}

bool worker_message_is_ask(enum worker_message_type type)
{
	const struct rule *r = rule_of(type);

	return r && r->asked;
}

static int check_size(uint32_t length, unsigned int nfds, uint32_t max_length,
		      unsigned int max_fds, const char **why)
{
	if (length > max_length)
		return refuse(why, "payload too long for its type");
	if (nfds > max_fds)
		return refuse(why, "descriptors its type does not carry");
	return 0;
}

/* ACK (supervisor only) and ANSWER (either side): replies to the other side's request. */
static int check_reply(const struct worker_message *m, unsigned int nfds, enum sender from,
		       const char **why)
{
	const struct rule *asked = rule_of(m->request);

	if (m->type == WORKER_MSG_ACK) {
		if (from == FROM_WORKER)
			return refuse(why, "an answer from a worker");
		if (!asked || !asked->acked)
			return refuse(why, "an answer to nothing that is answered");
		if (m->seq || m->length || nfds)
			return refuse(why, "unused fields not zero");
	} else {
		if (!asked || !asked->asked || asked->sender == from)
			return refuse(why, "an answer to nothing that is answered");
		if (!m->seq)
			return refuse(why, "an answer without its ask's number");
		if (check_size(m->length, nfds, asked->answer_max_length, asked->answer_max_fds, why))
			return -EPROTO;
	}
	if (m->value > WORKER_MAX_ERRNO)
		return refuse(why, "an answer that is no errno");
	return 0;
}

static int check_fields(const struct worker_message *m, unsigned int nfds, bool from_worker,
			const char **why)
{
	enum sender from = from_worker ? FROM_WORKER : FROM_SUPERVISOR;
	const struct rule *r;

	if (m->type == WORKER_MSG_ACK || m->type == WORKER_MSG_ANSWER)
		return check_reply(m, nfds, from, why);
	r = rule_of(m->type);
	if (!r)
		return refuse(why, "unknown type");
	if (r->sender != from)
		return refuse(why, from_worker ? "a supervisor's request from a worker" :
						 "a worker's request from the supervisor");
	if (m->request || (!r->asked && m->seq) || (!r->max_value && m->value))
		return refuse(why, "unused fields not zero");
	if (r->asked && !m->seq)
		return refuse(why, "an ask without a number");
	if (m->value > r->max_value)
		return refuse(why, m->type == WORKER_MSG_SERVER_CREATED ? "server id out of range" :
									   "value out of range");
	return check_size(m->length, nfds, r->max_length, r->max_fds, why);
}

int worker_message_parse(const void *buf, size_t len, unsigned int nfds, bool from_worker,
			 struct worker_message *out, const void **payload, const char **why)
{
	struct worker_message m;

	if (len < sizeof(m) || len > sizeof(m) + WORKER_PAYLOAD_MAX)
		return refuse(why, "wrong length");
	memcpy(&m, buf, sizeof(m));
	if (m.length != len - sizeof(m))
		return refuse(why, "wrong length");
	if (m.version != WORKER_PROTOCOL_VERSION)
		return refuse(why, "unknown protocol version");
	if (check_fields(&m, nfds, from_worker, why))
		return -EPROTO;
	*out = m;
	if (payload)
		*payload = m.length ? (const char *)buf + sizeof(m) : NULL;
	return 0;
}
