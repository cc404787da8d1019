/* SPDX-License-Identifier: MIT */
/*
 * tests/sim/libxen_conn.h: the simulated libxen* handles' connections to
 * the simulated hypervisor. Internal to tests/sim/libxen_*.c.
 *
 * Each handle opens a connection of its own, as each real handle opens a
 * device of its own (/dev/xen/privcmd, /dev/xen/evtchn, xenstored's socket):
 * a restriction applies to one connection, as Linux keeps it per open file
 * (drivers/xen/privcmd.c: struct privcmd_data in file->private_data).
 */
#ifndef XVP_TESTS_SIM_LIBXEN_CONN_H
#define XVP_TESTS_SIM_LIBXEN_CONN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

#include "tests/sim/protocol.h"

/* Bytes after the fixed request or reply: @len used of @size at @data. */
struct sim_payload {
	void *data;
	size_t size;
	size_t len;
};

/* One connection: calls on it are serialised (a reply answers the request before it). */
struct sim_conn {
	pthread_mutex_t lock;
	int fd;
};

/* Connect, and tell the hypervisor what kind of device this stands for: 0 or -1 (errno). */
int sim_conn_open(struct sim_conn *conn, enum sim_conn_kind kind);
void sim_conn_close(struct sim_conn *conn);

/*
 * Send @req on @conn, wait for the reply. Returns reply.ret with errno set
 * from the reply on failure; *fd receives a passed descriptor (or -1) when
 * non-NULL.
 */
int sim_call(struct sim_conn *conn, const struct sim_request *req, struct sim_reply *reply,
	     int *fd);

/* The same, with @in sent after the request and up to out->size bytes received into @out. */
int sim_call_payload(struct sim_conn *conn, const struct sim_request *req,
		     const struct sim_payload *in, struct sim_reply *reply,
		     struct sim_payload *out, int *fd);

/* Shorthand for calls with scalar arguments and no descriptor. */
int sim_call_args(struct sim_conn *conn, uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3, uint64_t a4, struct sim_reply *reply);

/*
 * libxentoolcore's registry of active handles (tools/libs/toolcore/handlereg.c):
 * every library registers each handle it opens with a callback that
 * xentoolcore_restrict_all() calls; the handles are restricted to the
 * domain, or neutralised by dup2()ing /dev/null over their fds.
 */
struct sim_toolcore_handle {
	struct sim_toolcore_handle *next;
	int (*restrict_callback)(struct sim_toolcore_handle *handle, domid_t domid);
};

void sim_toolcore_register(struct sim_toolcore_handle *handle);
void sim_toolcore_deregister(struct sim_toolcore_handle *handle);
/* xentoolcore__restrict_by_dup2_null(): the fd stays open, on /dev/null. 0 or -1. */
int sim_toolcore_dup2_null(int fd);

#endif
