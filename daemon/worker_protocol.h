/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_protocol.h: the messages between a worker and its
 * supervisor, on the SOCK_SEQPACKET socket the worker inherits
 * (WORKER_CHANNEL_OPTION FD). A worker holds no xenstore connection: the
 * supervisor writes for it what must be written, after checking every
 * message as hostile input (a guest may have compromised the worker).
 *
 * Each message is one struct worker_message, exactly, carrying no file
 * descriptor. worker -> supervisor:
 *
 *   CLEAR_STALE          before creating its server: destroy the server an
 *                        earlier process left for the domain (recorded in
 *                        dom0's xenstore), unless that process still runs.
 *                        ACK value 0, or EBUSY: do not serve.
 *   SERVER_CREATED id    record "<id> <worker pid>" before serving, so that
 *                        a worker killed from then on leaves a server the
 *                        next one destroys. ACK value 0 (written or not).
 *   FUNCTIONS_CHANGED    raise data/virtio-pci/generation in the guest's
 *                        xenstore area (the first time: the functions
 *                        answer). No answer.
 *   STOPPING             remove that key and the record. ACK value 0.
 *
 * supervisor -> worker: ACK, with @request the type it answers. A worker
 * waits for an ACK a bounded time only: xenstore is never a reason to stop
 * serving.
 */
#ifndef XVP_DAEMON_WORKER_PROTOCOL_H
#define XVP_DAEMON_WORKER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Internal: the first option of a worker's command line, then the channel's fd number. */
#define WORKER_CHANNEL_OPTION	"--worker-channel"

#define WORKER_PROTOCOL_VERSION	1

enum worker_message_type {
	WORKER_MSG_CLEAR_STALE = 1,
	WORKER_MSG_SERVER_CREATED,
	WORKER_MSG_FUNCTIONS_CHANGED,
	WORKER_MSG_STOPPING,
	WORKER_MSG_ACK,
};

struct worker_message {
	uint16_t version;	/* WORKER_PROTOCOL_VERSION */
	uint16_t type;		/* enum worker_message_type */
	uint32_t request;	/* ACK: the type answered; else 0 */
	uint64_t value;		/* SERVER_CREATED: the ioreq server id; ACK: 0 or an errno */
};

_Static_assert(sizeof(struct worker_message) == 16, "the wire format is fixed");

/* The largest IOREQ server id (ioservid_t is 16 bits). */
#define WORKER_MAX_SERVER_ID	0xffff

static inline struct worker_message worker_message_make(enum worker_message_type type,
							uint32_t request, uint64_t value)
{
	return (struct worker_message){ WORKER_PROTOCOL_VERSION, (uint16_t)type, request, value };
}

/*
 * Check @len bytes at @buf as a message from a worker (@from_worker) or
 * from the supervisor: exactly one message of this version, a type that
 * side may send, every field in range. 0 with the message in @out, or
 * -EPROTO with *why saying what is wrong (a static string).
 */
int worker_message_parse(const void *buf, size_t len, bool from_worker,
			 struct worker_message *out, const char **why);

#endif
