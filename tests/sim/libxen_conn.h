/* SPDX-License-Identifier: MIT */
/*
 * tests/sim/libxen_conn.h: the simulated libxen* functions' one connection
 * to the simulated hypervisor. Internal to tests/sim/libxen_*.c.
 */
#ifndef XVP_TESTS_SIM_LIBXEN_CONN_H
#define XVP_TESTS_SIM_LIBXEN_CONN_H

#include "tests/sim/protocol.h"

/*
 * Send @req, wait for the reply. Returns reply.ret with errno set from the
 * reply on failure; *fd receives a passed descriptor (or -1) when non-NULL.
 */
int sim_call(const struct sim_request *req, struct sim_reply *reply, int *fd);

/* Shorthand for calls with scalar arguments and no descriptor. */
int sim_call_args(uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, struct sim_reply *reply);

#endif
