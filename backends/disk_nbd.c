// SPDX-License-Identifier: MIT
/*
 * backends/disk_nbd.c: an NBD export as a disk.
 *
 * One operation of the disk's user becomes one or more NBD commands: a
 * read or write per buffer of its iovec (libnbd has no vectored I/O), each
 * split at the export's largest transfer. libnbd calls a command's
 * completion callback from inside its own calls, with the handle locked, so
 * the callback only counts; finished operations are handed to the user
 * after libnbd returns, where the user may queue new ones.
 *
 * An operation keeps what it takes to send it again: when the connection
 * goes (backends/nbd_link.c), the operations it took down with it, and the
 * ones that come meanwhile, are kept and sent whole on the next one (a
 * read or write again at the same offset means what it meant the first
 * time), until the outage outlasts timeout=.
 */
#include "backends/disk_nbd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libnbd.h>

#include "backends/disk_nbd_internal.h"

static struct disk_nbd *nbd_of(struct disk *disk)
{
	return (struct disk_nbd *)disk;
}

/* libnbd's completion callback (the handle is locked): the command's result. */
static int on_command_done(void *user_data, int *error)
{
	struct nbd_op *op = user_data;

	op->answered++;
	if (*error && !op->error)
		op->error = *error;
	return 1;	/* retire the command */
}

/*
 * The callback's free function: libnbd calls it exactly once per command,
 * after the completion callback, or instead of it when the call that would
 * send the command fails or the handle is closed with the command out
 * (libnbd(3), "Callback lifetimes"). So this, not the completion, counts
 * the commands out.
 */
static void on_command_freed(void *user_data)
{
	struct nbd_op *op = user_data;

	if (--op->pending == 0)
		nbd_op_list_push(&op->nbd->finished, op);
}

/* Every command is out: drop the sender's hold. */
static void sent_all(struct nbd_op *op)
{
	on_command_freed(op);
}

void disk_nbd_fail(struct disk_nbd *nbd, struct nbd_op *op, int error)
{
	op->error = error;
	op->pending = 0;
	nbd_op_list_push(&nbd->finished, op);
}

/* Did @op go down with its connection (a command failed or was never answered, and it is gone)? */
static bool lost_with_connection(const struct disk_nbd *nbd, const struct nbd_op *op)
{
	if (!op->error && op->answered == op->sent)
		return false;
	return nbd->state != LINK_UP || op->generation != nbd->generation;
}

static int result_of(const struct nbd_op *op)
{
	if (op->error)
		return -op->error;
	return op->answered < op->sent ? -EIO : op->result;
}

void disk_nbd_deliver(struct disk_nbd *nbd)
{
	struct nbd_op *op;
	bool any = false;

	if (nbd->delivering)
		return;		/* the user queued from its completion: the loop below goes on */
	nbd->delivering = true;
	while ((op = nbd_op_list_pop(&nbd->finished))) {
		if (lost_with_connection(nbd, op) && !nbd->failing && !nbd->stopping) {
			/* Lost with an earlier connection and a new one is up: sent on it at once. */
			if (nbd->state == LINK_UP)
				disk_nbd_issue(nbd, op);
			else
				nbd_op_list_push(&nbd->kept, op);
			continue;
		}
		if (op->sent && !op->error && op->answered == op->sent &&
		    op->generation == nbd->generation)
			nbd_link_proved(nbd);
		op->next = nbd->free;
		nbd->free = op;
		nbd->in_flight--;
		any = true;
		nbd->complete(nbd->opaque, op->user, result_of(op));
	}
	nbd->delivering = false;
	if (any && nbd->batch_done)
		nbd->batch_done(nbd->opaque);
}

static void on_socket(evutil_socket_t fd, short what, void *arg);

void disk_nbd_unwatch(struct disk_nbd *nbd)
{
	event_del(nbd->event);
	nbd->watching = 0;
}

/* Wait for what libnbd wants next: replies while commands are out (or a handshake's), room to send. */
void disk_nbd_watch(struct disk_nbd *nbd)
{
	struct nbd_handle *h = nbd->export->handle;
	unsigned int dir = nbd_aio_get_direction(h);
	bool replies = nbd->state == LINK_HANDSHAKE || nbd_aio_in_flight(h) > 0;
	short want = 0;

	if (replies && (dir & LIBNBD_AIO_DIRECTION_READ))
		want |= EV_READ;
	if (dir & LIBNBD_AIO_DIRECTION_WRITE)
		want |= EV_WRITE;
	if (want == nbd->watching)
		return;
	disk_nbd_unwatch(nbd);
	event_assign(nbd->event, nbd->base, nbd_aio_get_fd(h), want | EV_PERSIST, on_socket, nbd);
	nbd->watching = want;
	if (want)
		event_add(nbd->event, NULL);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct disk_nbd *nbd = arg;
	struct nbd_handle *h = nbd->export->handle;
	int failed = 0;

	(void)fd;
	if (nbd->state == LINK_HANDSHAKE) {
		nbd_link_handshake_ready(nbd, what);
		disk_nbd_deliver(nbd);
		return;
	}
	/* Both ready: a reply first, it may change what is to be sent (nbd_aio_get_direction(3)). */
	if (what & EV_READ)
		failed = nbd_aio_notify_read(h);
	else if (what & EV_WRITE)
		failed = nbd_aio_notify_write(h);
	/* A connection that died says so once, in nbd_link_check(). */
	if (!nbd_link_check(nbd)) {
		if (failed)
			log_ratelimited(&nbd->log, LOG_LEVEL_ERROR, "%s: nbd=%s: %s", nbd->name,
					nbd->export->uri, nbd_get_error());
		disk_nbd_watch(nbd);
	}
	disk_nbd_deliver(nbd);
}

/* ---- operations */

/*
 * libnbd refused a command of @op: because the connection is gone (then
 * @op is kept, lost with it), or for a reason of its own (@op fails).
 */
static void refused(struct disk_nbd *nbd, struct nbd_op *op)
{
	int error = nbd_get_errno() ? nbd_get_errno() : EIO;

	if (nbd_link_check(nbd)) {
		op->error = ENOTCONN;
		return;
	}
	log_ratelimited(&nbd->log, LOG_LEVEL_ERROR, "%s: nbd=%s: %s", nbd->name, nbd->export->uri,
			nbd_get_error());
	op->error = error;
}

/* One NBD command of @op; false if libnbd refused it. */
static bool send_command(struct disk_nbd *nbd, struct nbd_op *op, void *buf, uint64_t len,
			 uint64_t offset)
{
	struct nbd_handle *h = nbd->export->handle;
	nbd_completion_callback done = { .callback = on_command_done, .user_data = op,
					 .free = on_command_freed };
	int64_t cookie = -1;

	op->pending++;	/* on_command_freed() takes it back, whatever happens */
	switch (op->kind) {
	case OP_READ:
		cookie = nbd_aio_pread(h, buf, len, offset, done, 0);
		break;
	case OP_WRITE:
		cookie = nbd_aio_pwrite(h, buf, len, offset, done, 0);
		break;
	case OP_FLUSH:
		cookie = nbd_aio_flush(h, done, 0);
		break;
	case OP_TRIM:
		cookie = nbd_aio_trim(h, len, offset, done, 0);
		break;
	case OP_ZERO:
		/* NO_HOLE: the blocks stay allocated unless the caller allowed unmapping. */
		cookie = nbd_aio_zero(h, len, offset, done, op->no_hole ? LIBNBD_CMD_FLAG_NO_HOLE : 0);
		break;
	}
	if (cookie < 0) {
		refused(nbd, op);
		return false;
	}
	op->sent++;
	return true;
}

/* The reads or writes of @op's iovec, split at the export's largest transfer. */
static void send_transfers(struct disk_nbd *nbd, struct nbd_op *op)
{
	uint64_t offset = op->offset;

	for (unsigned int i = 0; i < op->nr; i++) {
		for (uint64_t done = 0; done < op->iov[i].iov_len;) {
			uint64_t len = op->iov[i].iov_len - done;

			if (len > nbd->export->max_transfer)
				len = nbd->export->max_transfer;
			if (!send_command(nbd, op, (char *)op->iov[i].iov_base + done, len, offset))
				return;
			done += len;
			offset += len;
		}
	}
}

void disk_nbd_issue(struct disk_nbd *nbd, struct nbd_op *op)
{
	/* The sender's hold: a command completing at once cannot finish it early. */
	op->pending = 1;
	op->sent = op->answered = 0;
	op->error = 0;
	op->generation = nbd->generation;
	if (nbd->state != LINK_UP) {
		if (nbd->failing || nbd->stopping)
			disk_nbd_fail(nbd, op, ENOTCONN);
		else
			nbd_op_list_push(&nbd->kept, op);
		return;
	}
	if (op->kind == OP_READ || op->kind == OP_WRITE)
		send_transfers(nbd, op);
	else if (op->kind != OP_FLUSH || nbd->export->can_flush)
		/* Trim and zero are not bound by the transfer size; without NBD_FLAG_SEND_FLUSH
		 * the server has no cache to write back: a flush is done. */
		send_command(nbd, op, NULL, op->len, op->offset);
	sent_all(op);
}

/*
 * Take an operation as @how describes it (kind, buffers, range), send it
 * or keep it: 0 or -EAGAIN (every operation is out).
 */
static int queue_op(struct disk *disk, struct nbd_op how, void *user)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_op *op = nbd->free;

	if (!op)
		return -EAGAIN;
	nbd->free = op->next;
	nbd->in_flight++;
	*op = how;
	op->nbd = nbd;
	op->user = user;
	for (unsigned int i = 0; i < how.nr; i++)
		op->result += (int)how.iov[i].iov_len;
	disk_nbd_issue(nbd, op);
	return 0;
}

static int dn_readv(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		     void *user)
{
	return queue_op(disk, (struct nbd_op){ .kind = OP_READ, .iov = iov, .nr = nr,
					       .offset = offset }, user);
}

static int dn_writev(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		      void *user)
{
	return queue_op(disk, (struct nbd_op){ .kind = OP_WRITE, .iov = iov, .nr = nr,
					       .offset = offset }, user);
}

static int dn_flush(struct disk *disk, void *user)
{
	return queue_op(disk, (struct nbd_op){ .kind = OP_FLUSH }, user);
}

static int dn_discard(struct disk *disk, uint64_t offset, uint64_t len, void *user)
{
	if (!nbd_of(disk)->export->can_trim)
		return -EOPNOTSUPP;
	return queue_op(disk, (struct nbd_op){ .kind = OP_TRIM, .offset = offset, .len = len }, user);
}

static int dn_write_zeroes(struct disk *disk, uint64_t offset, uint64_t len, bool unmap, void *user)
{
	if (!nbd_of(disk)->export->can_zero)
		return -EOPNOTSUPP;
	return queue_op(disk, (struct nbd_op){ .kind = OP_ZERO, .offset = offset, .len = len,
					       .no_hole = !unmap }, user);
}

/* ---- the disk */

static int dn_start(struct disk *disk, unsigned int entries, struct event_base *base,
		     disk_complete_fn complete, disk_batch_fn batch_done, void *opaque)
{
	struct disk_nbd *nbd = nbd_of(disk);

	nbd->ops = calloc(entries, sizeof(*nbd->ops));
	nbd->event = event_new(base, -1, 0, on_socket, nbd);
	nbd->base = base;
	if (!nbd->ops || !nbd->event || nbd_link_start(nbd))
		return -ENOMEM;
	for (unsigned int i = 0; i < entries; i++) {
		nbd->ops[i].next = nbd->free;
		nbd->free = &nbd->ops[i];
	}
	nbd->complete = complete;
	nbd->batch_done = batch_done;
	nbd->opaque = opaque;
	return 0;
}

/* libnbd sends as it queues; what is left waits for the socket, and what finished is handed back. */
static void dn_submit(struct disk *disk)
{
	struct disk_nbd *nbd = nbd_of(disk);

	if (nbd->state == LINK_UP && !nbd_link_check(nbd))
		disk_nbd_watch(nbd);
	disk_nbd_deliver(nbd);
}

static unsigned int dn_in_flight(const struct disk *disk)
{
	return ((const struct disk_nbd *)disk)->in_flight;
}

/*
 * Shutdown: no more tries; what waits for a connection fails now, and the
 * connection is run by hand until its replies are in, or time is up.
 */
static void dn_drain(struct disk *disk, int timeout_ms)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_op *op;

	nbd_link_stop(nbd);
	while ((op = nbd_op_list_pop(&nbd->kept)))
		disk_nbd_fail(nbd, op, ENOTCONN);
	for (int waited = 0; nbd->in_flight && waited < timeout_ms; waited += 10) {
		struct nbd_handle *h = nbd->export->handle;

		if (nbd->state != LINK_UP || nbd_link_check(nbd) || nbd_aio_in_flight(h) <= 0)
			break;
		if (nbd_poll(h, 10) < 0)
			break;
		disk_nbd_deliver(nbd);
	}
	disk_nbd_deliver(nbd);
}

void disk_nbd_free(struct disk_nbd *nbd)
{
	log_ratelimit_flush(&nbd->log);
	free(nbd->ops);
	free(nbd);
}

static void dn_destroy(struct disk *disk)
{
	struct disk_nbd *nbd = nbd_of(disk);

	if (nbd->event)
		event_free(nbd->event);
	nbd->event = NULL;
	nbd_link_free(nbd);
	/* The host calls back on the loop: the disk is freed then (backends/nbd_link.c). */
	if (nbd->asking) {
		nbd->destroyed = true;
		return;
	}
	disk_nbd_free(nbd);
}

static const struct disk_ops dn_ops = {
	.start = dn_start,
	.readv = dn_readv,
	.writev = dn_writev,
	.flush = dn_flush,
	.discard = dn_discard,
	.write_zeroes = dn_write_zeroes,
	.submit = dn_submit,
	.in_flight = dn_in_flight,
	.drain = dn_drain,
	.destroy = dn_destroy,
};

int disk_nbd_create(struct disk **out, struct nbd_export *export, const char *name,
		    unsigned int timeout_s)
{
	struct disk_nbd *nbd = calloc(1, sizeof(*nbd));

	if (!nbd)
		return -ENOMEM;
	nbd->disk.ops = &dn_ops;
	nbd->disk.geometry = (struct disk_geometry){
		.size = export->size,
		.readonly = export->readonly,
		.offset_align = export->min_block,
		.mem_align = 1,
		.discard = export->can_trim,
		.write_zeroes = export->can_zero,
	};
	nbd->export = export;
	nbd->timeout_s = timeout_s;
	snprintf(nbd->name, sizeof(nbd->name), "%s", name);
	nbd_op_list_init(&nbd->finished);
	nbd_op_list_init(&nbd->kept);
	log_ratelimit_init(&nbd->log, nbd->name);
	*out = &nbd->disk;
	return 0;
}
