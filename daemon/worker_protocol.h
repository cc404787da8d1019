/* SPDX-License-Identifier: MIT */
/*
 * daemon/worker_protocol.h: the messages between a worker and its
 * supervisor, on the SOCK_SEQPACKET socket the worker inherits
 * (WORKER_CHANNEL_OPTION FD). A worker holds no xenstore connection: the
 * supervisor writes for it what must be written, after checking every
 * message as hostile input (a guest may have compromised the worker).
 *
 * One datagram is one message: a struct worker_message, then exactly
 * @length payload bytes (at most WORKER_PAYLOAD_MAX), and at most the
 * type's number of file descriptors (SCM_RIGHTS, WORKER_MAX_FDS in all).
 *
 * Requests of the first version, worker -> supervisor, each answered by
 * an ACK (value 0 or an errno) whose @request is the type it answers:
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
 * Asks (either direction, a rule's `asked`): @seq is the asker's number
 * (never 0), answered by one ANSWER with the same @seq, @request the type
 * asked, @value 0 or an errno, and the payload and descriptors the asked
 * type's rule allows an answer. Asks are answered in any order, later or
 * never (the asker times out); daemon/worker_peer.h is the machinery.
 *
 *   NBD_CONNECT n        worker -> supervisor: a new connection for the
 *                        worker's n-th device (an NBD disk whose connection
 *                        dropped). ANSWER with one fd: a connected socket.
 *
 * A worker waits for an answer a bounded time only: xenstore is never a
 * reason to stop serving.
 */
#ifndef XVP_DAEMON_WORKER_PROTOCOL_H
#define XVP_DAEMON_WORKER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Internal: the first option of a worker's command line, then the channel's fd number. */
#define WORKER_CHANNEL_OPTION	"--worker-channel"

#define WORKER_PROTOCOL_VERSION	2
#define WORKER_PAYLOAD_MAX	4096	/* payload bytes of one message */
#define WORKER_MAX_FDS		4	/* descriptors one message may carry */

/* New types go at the end, with their rule in worker_protocol.c. */
enum worker_message_type {
	WORKER_MSG_CLEAR_STALE = 1,
	WORKER_MSG_SERVER_CREATED,
	WORKER_MSG_FUNCTIONS_CHANGED,
	WORKER_MSG_STOPPING,
	WORKER_MSG_ACK,
	WORKER_MSG_ANSWER,
	WORKER_MSG_NBD_CONNECT,
	WORKER_MSG_TYPES	/* one past the last */
};

struct worker_message {
	uint16_t version;	/* WORKER_PROTOCOL_VERSION */
	uint16_t type;		/* enum worker_message_type */
	uint32_t request;	/* ACK, ANSWER: the type answered; else 0 */
	uint64_t value;		/* the type's argument; ACK, ANSWER: 0 or an errno */
	uint32_t seq;		/* an ask and its ANSWER: the asker's number; else 0 */
	uint32_t length;	/* payload bytes after this header */
};

_Static_assert(sizeof(struct worker_message) == 24, "the wire format is fixed");

/* The largest IOREQ server id (ioservid_t is 16 bits). */
#define WORKER_MAX_SERVER_ID	0xffff
/* The largest errno an ACK or ANSWER carries. */
#define WORKER_MAX_ERRNO	4095

static inline struct worker_message worker_message_make(enum worker_message_type type,
							uint32_t request, uint64_t value)
{
	return (struct worker_message){ WORKER_PROTOCOL_VERSION, (uint16_t)type, request, value,
					0, 0 };
}

/* Whether @type is asked (answered by an ANSWER with the ask's seq). */
bool worker_message_is_ask(enum worker_message_type type);

/*
 * Check @len bytes at @buf, which came with @nfds descriptors, as a message
 * from a worker (@from_worker) or from the supervisor: exactly one message
 * of this version, a type that side may send, every field, the payload's
 * length and the descriptors in that type's bounds. 0 with the header in
 * @out and *payload pointing into @buf (NULL allowed), or -EPROTO with
 * *why saying what is wrong (a static string).
 */
int worker_message_parse(const void *buf, size_t len, unsigned int nfds, bool from_worker,
			 struct worker_message *out, const void **payload, const char **why);

#endif
