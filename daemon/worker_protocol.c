// SPDX-License-Identifier: MIT
/*
 * daemon/worker_protocol.c: one message between a worker and its
 * supervisor, checked field by field. The supervisor calls this on every
 * message a worker sends: a worker may be compromised, so nothing in the
 * message is trusted before it passes.
 */
#include "daemon/worker_protocol.h"

#include <errno.h>
#include <string.h>

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -EPROTO;
}

/* The fields each type uses; the others must be 0. */
static int check_fields(const struct worker_message *m, bool from_worker, const char **why)
{
	switch (m->type) {
	case WORKER_MSG_CLEAR_STALE:
	case WORKER_MSG_FUNCTIONS_CHANGED:
	case WORKER_MSG_STOPPING:
		if (!from_worker)
			return refuse(why, "a worker's request from the supervisor");
		if (m->request || m->value)
			return refuse(why, "unused fields not zero");
		return 0;
	case WORKER_MSG_SERVER_CREATED:
		if (!from_worker)
			return refuse(why, "a worker's request from the supervisor");
		if (m->request)
			return refuse(why, "unused fields not zero");
		if (m->value > WORKER_MAX_SERVER_ID)
			return refuse(why, "server id out of range");
		return 0;
	case WORKER_MSG_ACK:
		if (from_worker)
			return refuse(why, "an answer from a worker");
		if (m->request != WORKER_MSG_CLEAR_STALE && m->request != WORKER_MSG_SERVER_CREATED &&
		    m->request != WORKER_MSG_STOPPING)
			return refuse(why, "an answer to nothing that is answered");
		if (m->value > 4095)	/* 0 or an errno */
			return refuse(why, "an answer that is no errno");
		return 0;
	default:
		return refuse(why, "unknown type");
	}
}

int worker_message_parse(const void *buf, size_t len, bool from_worker,
			 struct worker_message *out, const char **why)
{
	struct worker_message m;

	if (len != sizeof(m))
		return refuse(why, "wrong length");
	memcpy(&m, buf, sizeof(m));
	if (m.version != WORKER_PROTOCOL_VERSION)
		return refuse(why, "unknown protocol version");
	if (check_fields(&m, from_worker, why))
		return -EPROTO;
	*out = m;
	return 0;
}
