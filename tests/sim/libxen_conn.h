/* SPDX-License-Identifier: MIT */
/*
 * tests/sim/libxen_conn.h: the simulated libxen* functions' one connection
 * to the simulated hypervisor. Internal to tests/sim/libxen_*.c.
 */
#ifndef XVP_TESTS_SIM_LIBXEN_CONN_H
#define XVP_TESTS_SIM_LIBXEN_CONN_H

#include <stddef.h>

#include "tests/sim/protocol.h"

/* Bytes after the fixed request or reply: @len used of @size at @data. */
struct sim_payload {
	void *data;
	size_t size;
	size_t len;
};

/*
 * Send @req, wait for the reply. Returns reply.ret with errno set from the
 * reply on failure; *fd receives a passed descriptor (or -1) when non-NULL.
 */
int sim_call(const struct sim_request *req, struct sim_reply *reply, int *fd);

/* The same, with @in sent after the request and up to out->size bytes received into @out. */
int sim_call_payload(const struct sim_request *req, const struct sim_payload *in,
		     struct sim_reply *reply, struct sim_payload *out, int *fd);

/* Shorthand for calls with scalar arguments and no descriptor. */
int sim_call_args(uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, struct sim_reply *reply);

#endif
