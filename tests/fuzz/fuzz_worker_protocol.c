// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_worker_protocol.c: the supervisor's parser of worker
 * messages (daemon/worker_protocol.h), which a compromised worker reaches.
 *
 * Input: one byte (bit 0: parsed as from a worker, else as from the
 * supervisor; bits 1-3: the number of descriptors that came with it), then
 * the message bytes, any length. A message that passes must be exactly one
 * message of this version, its payload the datagram's rest, whose type
 * that side may send and whose fields are in range, checked here again
 * from the header's rules; one that is refused must say why and leave the
 * output alone.
 */
#include "daemon/worker_protocol.h"
#include "tests/fuzz/fuzz.h"

#include <errno.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The header's rules, written out again. */
static bool allowed(const struct worker_message *m, unsigned int nfds, bool from_worker)
{
	bool plain = !m->request && !m->seq && !m->length && !nfds;

	switch (m->type) {
	case WORKER_MSG_CLEAR_STALE:
	case WORKER_MSG_FUNCTIONS_CHANGED:
	case WORKER_MSG_STOPPING:
		return from_worker && plain && !m->value;
	case WORKER_MSG_SERVER_CREATED:
		return from_worker && plain && m->value <= WORKER_MAX_SERVER_ID;
	case WORKER_MSG_NBD_CONNECT:
		return from_worker && !m->request && m->seq && !m->length && !nfds &&
		       m->value <= 255;
	case WORKER_MSG_ACK:
		return !from_worker && !m->seq && !m->length && !nfds &&
		       m->value <= WORKER_MAX_ERRNO &&
		       (m->request == WORKER_MSG_CLEAR_STALE || m->request == WORKER_MSG_SERVER_CREATED ||
			m->request == WORKER_MSG_STOPPING);
	case WORKER_MSG_ANSWER:
		/* Only the supervisor's answer to NBD_CONNECT exists so far: one descriptor at most. */
		return !from_worker && m->request == WORKER_MSG_NBD_CONNECT && m->seq &&
		       !m->length && nfds <= 1 && m->value <= WORKER_MAX_ERRNO;
	default:
		return false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker_message out, sentinel, m;
	const void *payload = NULL;
	const char *why = NULL;
	unsigned int nfds;
	bool from_worker;
	int ret;

	if (size < 1)
		return 0;
	from_worker = data[0] & 1;
	nfds = (data[0] >> 1) & 7;
	memset(&out, 0x5a, sizeof(out));
	sentinel = out;
	ret = worker_message_parse(data + 1, size - 1, nfds, from_worker, &out, &payload, &why);
	FUZZ_CHECK(ret == 0 || ret == -EPROTO);
	if (ret) {
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(!memcmp(&out, &sentinel, sizeof(out)));
		return 0;
	}
	FUZZ_CHECK(size - 1 >= sizeof(m));
	memcpy(&m, data + 1, sizeof(m));
	FUZZ_CHECK(size - 1 == sizeof(m) + m.length);
	FUZZ_CHECK(m.length <= WORKER_PAYLOAD_MAX);
	FUZZ_CHECK(payload == (m.length ? (const void *)(data + 1 + sizeof(m)) : NULL));
	FUZZ_CHECK(!memcmp(&m, &out, sizeof(m)));
	FUZZ_CHECK(m.version == WORKER_PROTOCOL_VERSION);
	FUZZ_CHECK(allowed(&m, nfds, from_worker));
	return 0;
}
