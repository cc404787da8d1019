// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_evtchn.c: libxenevtchn over a socket to the simulated
 * hypervisor. Like /dev/xen/evtchn, the handle's fd becomes readable when a
 * bound port has an event; xenevtchn_pending() returns one such port.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xenevtchn.h>

#include "tests/sim/libxen_conn.h"

/*
 * /dev/xen/evtchn is one fd; here the calls go on the handle's connection
 * and the events come on a socket the hypervisor hands over. restrict_all
 * restricts it (tools/libs/evtchn/core.c: IOCTL_EVTCHN_RESTRICT_DOMID).
 */
struct xenevtchn_handle {
	struct sim_conn conn;
	struct sim_toolcore_handle tc;
	int fd;
	uint64_t id;
	bool sync_notify;	/* the test records the order of events */
};

static int restrict_xce(struct sim_toolcore_handle *tc, domid_t domid)
{
	xenevtchn_handle *xce = (xenevtchn_handle *)((char *)tc - offsetof(xenevtchn_handle, tc));

	return xenevtchn_restrict(xce, domid);
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	struct sim_request req = { .op = SIM_OP_EVTCHN_OPEN };
	struct sim_reply reply;
	xenevtchn_handle *xce;
	int fd;

	(void)logger;
	(void)flags;
	xce = calloc(1, sizeof(*xce));
	if (!xce)
		return NULL;
	if (sim_conn_open(&xce->conn, SIM_CONN_EVTCHN))
		goto free_handle;
	if (sim_call(&xce->conn, &req, &reply, &fd) < 0)
		goto close_conn;
	xce->fd = fd;
	xce->id = reply.val[0];
	xce->sync_notify = reply.val[1] == 1;
	xce->tc.restrict_callback = restrict_xce;
	sim_toolcore_register(&xce->tc);
	return xce;

close_conn:
	fd = errno;
	sim_conn_close(&xce->conn);
	errno = fd;
free_handle:
	free(xce);
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	sim_toolcore_deregister(&xce->tc);
	close(xce->fd);
	sim_conn_close(&xce->conn);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct sim_reply reply;

	if (sim_call_args(&xce->conn, SIM_OP_EVTCHN_BIND, xce->id, domid, remote_port, 0, 0, &reply) < 0)
		return -1;
	return (xenevtchn_port_or_error_t)reply.val[0];
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	return sim_call_args(&xce->conn, SIM_OP_EVTCHN_RESTRICT, xce->id, domid, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return sim_call_args(&xce->conn, SIM_OP_EVTCHN_UNBIND, xce->id, port, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

static int send_port_message(xenevtchn_handle *xce, uint32_t op, evtchn_port_t port)
{
	struct sim_evtchn_msg msg = { op, port };

	if (send(xce->fd, &msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
		return -1;
	return 0;
}

/*
 * On Xen this is an ioctl whose EVTCHNOP_send hypercall has signalled the
 * guest when it returns (Linux drivers/xen/evtchn.c, IOCTL_EVTCHN_NOTIFY ->
 * notify_remote_via_evtchn). A one-way message is cheaper and enough for
 * most tests; a test that records the order of events gets the synchronous
 * call, so that what it samples at each answer is what the daemon had done
 * by then, not what it did while the message travelled.
 */
int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (xce->sync_notify)
		return sim_call_args(&xce->conn, SIM_OP_EVTCHN_NOTIFY_SYNC, xce->id, port, 0, 0, 0, NULL) < 0 ? -1 : 0;
	return send_port_message(xce, SIM_EVTCHN_NOTIFY, port);
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return send_port_message(xce, SIM_EVTCHN_UNMASK, port);
}

/*
 * personality(0xffffffff) only reads the process's execution domain: a
 * harmless call that no serving worker makes, so the seccomp filter must
 * stop the process here. If it returns, there is no filter.
 */
static void make_forbidden_syscall(void)
{
	fprintf(stderr, "%s: personality(0xffffffff)\n", SIM_FORBIDDEN_SYSCALL_MARKER);
	syscall(SYS_personality, 0xffffffffUL);
	fprintf(stderr, "%s: it returned: no seccomp filter\n", SIM_FORBIDDEN_SYSCALL_MARKER);
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct sim_evtchn_msg msg;
	ssize_t n;

	do
		n = recv(xce->fd, &msg, sizeof(msg), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		errno = EPIPE;	/* the hypervisor went away */
		return -1;
	}
	if (n == (ssize_t)sizeof(msg) && msg.op == SIM_EVTCHN_FORBIDDEN_SYSCALL) {
		make_forbidden_syscall();
		errno = EAGAIN;	/* no port this time */
		return -1;
	}
	if (n != (ssize_t)sizeof(msg) || msg.op != SIM_EVTCHN_EVENT) {
		if (n >= 0)
			errno = EPROTO;
		return -1;
	}
	return (xenevtchn_port_or_error_t)msg.port;
}
