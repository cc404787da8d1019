/* SPDX-License-Identifier: MIT */
/*
 * backends/disk_nbd_internal.h: what the two halves of an NBD disk share:
 * its operations (backends/disk_nbd.c: commands, completions, what is
 * kept for the next connection) and its connection (backends/nbd_link.c:
 * losing it, asking for a new one, the handshake, the outage's timeout).
 */
#ifndef XVP_BACKENDS_DISK_NBD_INTERNAL_H
#define XVP_BACKENDS_DISK_NBD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/disk.h"
#include "backends/nbd_export.h"
#include "lib/log.h"

struct event;
struct event_base;

/* Waits between tries of a new connection: doubling from the first to the last. */
#define NBD_LINK_FIRST_BACKOFF_MS	100
#define NBD_LINK_MAX_BACKOFF_MS		2000

enum nbd_op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_TRIM, OP_ZERO };

/* One operation of the disk's user, with what it takes to send it again. */
struct nbd_op {
	struct disk_nbd *nbd;
	void *user;
	enum nbd_op_kind kind;
	const struct iovec *iov;	/* READ, WRITE: the user's, valid until completion */
	unsigned int nr;
	uint64_t offset, len;		/* TRIM, ZERO (READ, WRITE: offset only) */
	bool no_hole;			/* ZERO without unmap */
	unsigned int generation;	/* the connection it was sent on */
	unsigned int pending;		/* commands not freed by libnbd, + 1 while sending */
	unsigned int sent;		/* commands libnbd took */
	unsigned int answered;		/* of them, completion callbacks run */
	int error;			/* the first command's errno, 0 if none failed */
	int result;			/* what the user is told on success */
	struct nbd_op *next;		/* free list, finished list or kept list */
};

struct nbd_op_list {
	struct nbd_op *head, **tail;
	unsigned int count;
};

enum nbd_link_state {
	LINK_UP,		/* the handle serves commands */
	LINK_WAITING,		/* no connection: the retry timer runs */
	LINK_ASKING,		/* a connection was asked of the host */
	LINK_HANDSHAKE,		/* a new handle shakes hands on the loop */
};

struct disk_nbd {
	struct disk disk;
	struct nbd_export *export;	/* export->handle: the connection, NULL while down */
	char name[32];
	struct nbd_op *ops;
	struct nbd_op *free;
	struct nbd_op_list finished;	/* done, to be handed back (or kept) */
	struct nbd_op_list kept;	/* waiting for a connection */
	unsigned int in_flight;		/* operations taken and not handed back */
	struct event_base *base;
	struct event *event;		/* the handle's socket */
	short watching;			/* what the event waits for */
	bool delivering;
	disk_complete_fn complete;
	disk_batch_fn batch_done;
	void *opaque;
	struct log_ratelimit log;
	/* The connection (backends/nbd_link.c). */
	enum nbd_link_state state;
	unsigned int generation;	/* bumped by every connection that comes up */
	unsigned int timeout_s;		/* timeout=: how long an outage may last */
	unsigned int backoff_ms;	/* the next wait between tries */
	struct event *retry;		/* the next try; in a handshake, its deadline */
	struct event *outage;		/* the outage's timeout */
	bool in_outage;			/* lost, not yet proved back by a completion */
	bool failing;			/* the outage outlasted timeout=: fail at once */
	bool stopping;			/* draining for good: no more tries, nothing kept */
	long long outage_start_ms;
	unsigned int reconnects;	/* in this outage */
	bool asking;			/* the host will call back */
	bool destroyed;			/* ... and then find the disk gone: it frees it */
};

/* ---- backends/disk_nbd.c */

/* Send @op's commands on the connection, or keep it for the next one. */
void disk_nbd_issue(struct disk_nbd *nbd, struct nbd_op *op);
/* Hand finished operations to the user (or keep them, if the connection took them down). */
void disk_nbd_deliver(struct disk_nbd *nbd);
/* What libnbd wants next of the socket, in the event. */
void disk_nbd_watch(struct disk_nbd *nbd);
/* Stop watching (the handle is going). */
void disk_nbd_unwatch(struct disk_nbd *nbd);
/* Finish @op with @error (a positive errno) without sending it. */
void disk_nbd_fail(struct disk_nbd *nbd, struct nbd_op *op, int error);
/* Free the disk (after destroy, once the host has called back). */
void disk_nbd_free(struct disk_nbd *nbd);

static inline void nbd_op_list_init(struct nbd_op_list *list)
{
	list->head = NULL;
	list->tail = &list->head;
	list->count = 0;
}

static inline void nbd_op_list_push(struct nbd_op_list *list, struct nbd_op *op)
{
	op->next = NULL;
	*list->tail = op;
	list->tail = &op->next;
	list->count++;
}

static inline struct nbd_op *nbd_op_list_pop(struct nbd_op_list *list)
{
	struct nbd_op *op = list->head;

	if (!op)
		return NULL;
	list->head = op->next;
	if (!list->head)
		list->tail = &list->head;
	list->count--;
	return op;
}

/* ---- backends/nbd_link.c */

/* Timers on @base; 0 or -ENOMEM. */
int nbd_link_start(struct disk_nbd *nbd);
/* Is the handle gone dead or closed? Then drop it and start trying for a new one: true. */
bool nbd_link_check(struct disk_nbd *nbd);
/* The socket is ready while shaking hands (@what: EV_READ, EV_WRITE). */
void nbd_link_handshake_ready(struct disk_nbd *nbd, short what);
/* A command completed on the connection: the outage, if any, is over. */
void nbd_link_proved(struct disk_nbd *nbd);
/* No more tries (draining for good). */
void nbd_link_stop(struct disk_nbd *nbd);
void nbd_link_free(struct disk_nbd *nbd);

#endif
