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
 */
#include "backends/disk_nbd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libnbd.h>

#include "lib/log.h"

enum nbd_op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_TRIM, OP_ZERO };

struct nbd_op {
	struct disk_nbd *nbd;
	void *user;
	unsigned int pending;		/* commands not freed by libnbd, + 1 while sending */
	unsigned int sent;		/* commands libnbd took */
	int error;			/* the first command's errno, 0 if none failed */
	int result;			/* what the user is told on success */
	struct nbd_op *next;		/* free list, or the list of finished ones */
};

struct disk_nbd {
	struct disk disk;
	struct nbd_export *export;
	char name[32];
	struct nbd_op *ops;
	struct nbd_op *free;
	struct nbd_op *finished, **finished_tail;
	unsigned int in_flight;		/* operations taken and not handed back */
	struct event_base *base;
	struct event *event;
	short watching;			/* what the event waits for */
	bool delivering;
	disk_complete_fn complete;
	disk_batch_fn batch_done;
	void *opaque;
	struct log_ratelimit log;
};

static struct disk_nbd *nbd_of(struct disk *disk)
{
	return (struct disk_nbd *)disk;
}

static void finish_op(struct nbd_op *op)
{
	struct disk_nbd *nbd = op->nbd;

	op->next = NULL;
	*nbd->finished_tail = op;
	nbd->finished_tail = &op->next;
}

/* libnbd's completion callback (the handle is locked): the command's result. */
static int on_command_done(void *user_data, int *error)
{
	struct nbd_op *op = user_data;

	if (*error && !op->error)
		op->error = *error;
	return 1;	/* retire the command */
}

/*
 * The callback's free function: libnbd calls it exactly once per command,
 * after the completion callback, or instead of it when the call that would
 * send the command fails (libnbd(3), "Callback lifetimes"). So this, not
 * the completion, counts the commands out.
 */
static void on_command_freed(void *user_data)
{
	struct nbd_op *op = user_data;

	if (--op->pending == 0)
		finish_op(op);
}

/* Hand finished operations to the user, outside libnbd. */
static void deliver(struct disk_nbd *nbd)
{
	bool any = false;

	if (nbd->delivering)
		return;		/* the user queued from its completion: the loop below goes on */
	nbd->delivering = true;
	while (nbd->finished) {
		struct nbd_op *op = nbd->finished;

		nbd->finished = op->next;
		if (!nbd->finished)
			nbd->finished_tail = &nbd->finished;
		op->next = nbd->free;
		nbd->free = op;
		nbd->in_flight--;
		any = true;
		nbd->complete(nbd->opaque, op->user, op->error ? -op->error : op->result);
	}
	nbd->delivering = false;
	if (any && nbd->batch_done)
		nbd->batch_done(nbd->opaque);
}

static void on_socket(evutil_socket_t fd, short what, void *arg);

/* Wait for what libnbd wants next: replies while commands are out, room to send. */
static void watch(struct disk_nbd *nbd)
{
	struct nbd_handle *h = nbd->export->handle;
	unsigned int dir = nbd_aio_get_direction(h);
	short want = 0;

	if (nbd_aio_in_flight(h) > 0 && (dir & LIBNBD_AIO_DIRECTION_READ))
		want |= EV_READ;
	if (dir & LIBNBD_AIO_DIRECTION_WRITE)
		want |= EV_WRITE;
	if (want == nbd->watching)
		return;
	event_del(nbd->event);
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
	/* Both ready: a reply first, it may change what is to be sent (nbd_aio_get_direction(3)). */
	if (what & EV_READ)
		failed = nbd_aio_notify_read(h);
	else if (what & EV_WRITE)
		failed = nbd_aio_notify_write(h);
	if (failed)
		log_ratelimited(&nbd->log, LOG_LEVEL_ERROR, "%s: nbd=%s: %s", nbd->name,
				nbd->export->uri, nbd_get_error());
	deliver(nbd);
	if (nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1) {
		event_del(nbd->event);
		nbd->watching = 0;
		return;
	}
	watch(nbd);
}

/* ---- operations */

static struct nbd_op *take_op(struct disk_nbd *nbd, void *user)
{
	struct nbd_op *op = nbd->free;

	if (!op)
		return NULL;
	nbd->free = op->next;
	/* The sender's hold: a command completing at once cannot finish it early. */
	*op = (struct nbd_op){ .nbd = nbd, .user = user, .pending = 1 };
	nbd->in_flight++;
	return op;
}

/* Every command is out: drop the sender's hold. */
static void sent_all(struct nbd_op *op)
{
	if (--op->pending == 0)
		finish_op(op);
}

static void give_back_op(struct disk_nbd *nbd, struct nbd_op *op)
{
	op->next = nbd->free;
	nbd->free = op;
	nbd->in_flight--;
}

/* One NBD command of @op; -1 if libnbd refused it (its error is set). */
static int64_t send_command(struct disk_nbd *nbd, struct nbd_op *op, enum nbd_op_kind kind,
			    void *buf, uint64_t len, uint64_t offset)
{
	struct nbd_handle *h = nbd->export->handle;
	nbd_completion_callback done = { .callback = on_command_done, .user_data = op,
					 .free = on_command_freed };
	int64_t cookie = -1;

	op->pending++;	/* on_command_freed() takes it back, whatever happens */
	switch (kind) {
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
		cookie = nbd_aio_zero(h, len, offset, done, buf ? LIBNBD_CMD_FLAG_NO_HOLE : 0);
		break;
	}
	if (cookie >= 0)
		op->sent++;
	return cookie;
}

/*
 * After the first command, a refusal cannot be returned any more (commands
 * of the operation are out): it becomes the operation's error.
 */
static int sent_or_refused(struct disk_nbd *nbd, struct nbd_op *op, int64_t cookie)
{
	int error = nbd_get_errno() ? nbd_get_errno() : EIO;

	if (cookie >= 0)
		return 0;
	log_ratelimited(&nbd->log, LOG_LEVEL_ERROR, "%s: nbd=%s: %s", nbd->name, nbd->export->uri,
			nbd_get_error());
	if (!op->sent) {
		/* Nothing is out (the refused command's free has run): the caller is told now. */
		give_back_op(nbd, op);
		return -error;
	}
	if (!op->error)
		op->error = error;
	return 1;
}

/* The reads or writes of @iov at @offset, split at the export's largest transfer. */
static int transfer(struct disk *disk, enum nbd_op_kind kind, const struct iovec *iov,
		    unsigned int nr, uint64_t offset, void *user)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_op *op = take_op(nbd, user);
	uint64_t total = 0;
	int ret;

	if (!op)
		return -EAGAIN;
	for (unsigned int i = 0; i < nr; i++) {
		for (uint64_t done = 0; done < iov[i].iov_len;) {
			uint64_t len = iov[i].iov_len - done;

			if (len > nbd->export->max_transfer)
				len = nbd->export->max_transfer;
			ret = sent_or_refused(nbd, op, send_command(nbd, op, kind,
						(char *)iov[i].iov_base + done, len, offset + total));
			if (ret < 0)
				return ret;
			if (ret > 0)
				goto out;
			done += len;
			total += len;
		}
	}
out:
	op->result = (int)total;
	sent_all(op);
	return 0;
}

static int dn_readv(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		     void *user)
{
	return transfer(disk, OP_READ, iov, nr, offset, user);
}

static int dn_writev(struct disk *disk, const struct iovec *iov, unsigned int nr, uint64_t offset,
		      void *user)
{
	return transfer(disk, OP_WRITE, iov, nr, offset, user);
}

/* One command for the whole range (trim and zero are not bound by the transfer size). */
static int one_command(struct disk *disk, enum nbd_op_kind kind, void *flag, uint64_t offset,
		       uint64_t len, void *user)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_op *op = take_op(nbd, user);
	int ret;

	if (!op)
		return -EAGAIN;
	ret = sent_or_refused(nbd, op, send_command(nbd, op, kind, flag, len, offset));
	if (ret < 0)
		return ret;
	sent_all(op);
	return 0;
}

/* Without NBD_FLAG_SEND_FLUSH the server has no cache to write back: done. */
static int dn_flush(struct disk *disk, void *user)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_op *op;

	if (nbd->export->can_flush)
		return one_command(disk, OP_FLUSH, NULL, 0, 0, user);
	op = take_op(nbd, user);
	if (!op)
		return -EAGAIN;
	sent_all(op);
	return 0;
}

static int dn_discard(struct disk *disk, uint64_t offset, uint64_t len, void *user)
{
	return nbd_of(disk)->export->can_trim ? one_command(disk, OP_TRIM, NULL, offset, len, user) :
						 -EOPNOTSUPP;
}

static int dn_write_zeroes(struct disk *disk, uint64_t offset, uint64_t len, bool unmap, void *user)
{
	static char no_hole;

	if (!nbd_of(disk)->export->can_zero)
		return -EOPNOTSUPP;
	return one_command(disk, OP_ZERO, unmap ? NULL : &no_hole, offset, len, user);
}

/* ---- the disk */

static int dn_start(struct disk *disk, unsigned int entries, struct event_base *base,
		     disk_complete_fn complete, disk_batch_fn batch_done, void *opaque)
{
	struct disk_nbd *nbd = nbd_of(disk);

	nbd->ops = calloc(entries, sizeof(*nbd->ops));
	nbd->event = event_new(base, -1, 0, on_socket, nbd);
	if (!nbd->ops || !nbd->event)
		return -ENOMEM;
	for (unsigned int i = 0; i < entries; i++) {
		nbd->ops[i].next = nbd->free;
		nbd->free = &nbd->ops[i];
	}
	nbd->base = base;
	nbd->complete = complete;
	nbd->batch_done = batch_done;
	nbd->opaque = opaque;
	return 0;
}

/* libnbd sends as it queues; what is left waits for the socket, and what finished is handed back. */
static void dn_submit(struct disk *disk)
{
	struct disk_nbd *nbd = nbd_of(disk);

	deliver(nbd);
	if (nbd_aio_is_ready(nbd->export->handle) == 1 || nbd_aio_is_processing(nbd->export->handle) == 1)
		watch(nbd);
}

static unsigned int dn_in_flight(const struct disk *disk)
{
	return ((const struct disk_nbd *)disk)->in_flight;
}

/* Shutdown: run the connection by hand until the replies are in, or time is up. */
static void dn_drain(struct disk *disk, int timeout_ms)
{
	struct disk_nbd *nbd = nbd_of(disk);
	struct nbd_handle *h = nbd->export->handle;

	for (int waited = 0; nbd->in_flight && waited < timeout_ms; waited += 10) {
		if (nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1 || nbd_aio_in_flight(h) <= 0)
			break;
		if (nbd_poll(h, 10) < 0)
			break;
		deliver(nbd);
	}
	deliver(nbd);
}

static void dn_destroy(struct disk *disk)
{
	struct disk_nbd *nbd = nbd_of(disk);

	if (nbd->event)
		event_free(nbd->event);
	log_ratelimit_flush(&nbd->log);
	free(nbd->ops);
	free(nbd);
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

int disk_nbd_create(struct disk **out, struct nbd_export *export, const char *name)
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
	snprintf(nbd->name, sizeof(nbd->name), "%s", name);
	nbd->finished_tail = &nbd->finished;
	log_ratelimit_init(&nbd->log, nbd->name);
	*out = &nbd->disk;
	return 0;
}
