/* SPDX-License-Identifier: MIT */
/*
 * tests/sim/protocol.h: the wire between the simulated libxen* functions
 * (linked into the daemon, tests/sim/libxen_*.c) and the simulated
 * hypervisor (in the test process, tests/sim/hypervisor.c).
 *
 * Control calls are synchronous request/reply messages on SOCK_SEQPACKET
 * connections, one per library handle (each real handle opens its own
 * device), each introduced by SIM_OP_HELLO; a reply may carry one file descriptor
 * (SCM_RIGHTS): the ioreq page, guest RAM, an event-channel socket.
 * Each event-channel handle is its own SOCK_SEQPACKET socket: the hypervisor
 * sends the local port of each delivered event, the daemon sends notify and
 * unmask messages.
 * Interrupts are one-way: the first set_irq_level fetches the guest's SPI
 * count and a SOCK_SEQPACKET socket (SIM_OP_IRQ_INFO), then every call is
 * one struct sim_irq_msg on it with no reply, as a hypercall costs a few
 * microseconds on Xen where a round trip here would cost a hundred. The
 * hypervisor applies pending irq messages before any event-channel notify,
 * so a vCPU answered after an interrupt was sent sees it.
 * Xenstore calls carry their strings after the fixed request and reply (at
 * most SIM_PAYLOAD_MAX bytes each way); each xenstore handle has its own
 * SOCK_SEQPACKET socket on which the hypervisor sends fired watches, one
 * "path\0token\0" message each.
 */
#ifndef XVP_TESTS_SIM_PROTOCOL_H
#define XVP_TESTS_SIM_PROTOCOL_H

#include <stdint.h>

/* The environment variable that tells the simulated libxen* where the hypervisor listens. */
#define SIM_SOCKET_ENV "XENSIM_SOCKET"
/*
 * The domain the calling process runs in, as xenstore sees it (default 0:
 * dom0). A guest-side program under test sets it to the guest's domid.
 */
#define SIM_DOMID_ENV "XENSIM_DOMID"

/* Xenstore: XENSTORE_PAYLOAD_MAX is 4096; a path and a value together fit here. */
#define SIM_PAYLOAD_MAX 8192

enum sim_op {
	SIM_OP_DOMAIN_INFO = 1,	/* arg0 first domid -> val0 domid, val1 flags; ret 0 or 1 (count) */
	SIM_OP_NR_VCPUS,	/* arg0 domid -> val0 */
	SIM_OP_CREATE_SERVER,	/* arg0 domid, arg1 bufioreq -> val0 id */
	SIM_OP_DESTROY_SERVER,	/* arg0 domid, arg1 id */
	SIM_OP_SET_SERVER_STATE,/* arg0 domid, arg1 id, arg2 enabled */
	SIM_OP_MAP_RANGE,	/* arg0 domid, arg1 id, arg2 is_mmio, arg3 start, arg4 end */
	SIM_OP_UNMAP_RANGE,	/* same */
	SIM_OP_MAP_RESOURCE,	/* arg0 domid, arg1 type, arg2 id, arg3 frame, arg4 nr -> fd */
	SIM_OP_SET_IRQ_LEVEL,	/* arg0 domid, arg1 irq, arg2 level (synchronous; see SIM_OP_IRQ_INFO) */
	SIM_OP_GUEST_RAM,	/* arg0 domid -> fd, val0 base gfn, val1 nr pages */
	SIM_OP_FOREIGN_MAP_COUNT,/* arg0 +map calls, arg1 +unmap calls, arg2 +pages, arg3 -pages,
				   arg4 1: the map had frames that are not RAM;
				   a map past sim_hv_limit_foreign_pages() fails, ENOMEM */
	SIM_OP_GUEST_P2M,	/* arg0 domid -> fd: uint64_t offset into the RAM fd, per gfn from base */
	SIM_OP_EVTCHN_OPEN,	/* -> fd, val0 handle id, val1 1: notify with SIM_OP_EVTCHN_NOTIFY_SYNC */
	SIM_OP_EVTCHN_BIND,	/* arg0 handle, arg1 domid, arg2 remote port -> val0 local port */
	SIM_OP_EVTCHN_UNBIND,	/* arg0 handle, arg1 local port */
	SIM_OP_IRQ_INFO,	/* arg0 domid -> fd (one-way irq socket), val0 nr_spis */
	/* Xenstore; ENOENT for every call when the simulated host has none. */
	SIM_OP_XS_OPEN,		/* arg0 caller's domid -> fd (watch socket), val0 handle */
	SIM_OP_XS_READ,		/* arg0 handle; "path" -> value */
	SIM_OP_XS_WRITE,	/* arg0 handle, arg1 value length; "path\0" value */
	SIM_OP_XS_RM,		/* arg0 handle; "path" */
	SIM_OP_XS_SET_PERMS,	/* arg0 handle; "path\0" then "n1\0r0\0"... as on the xenstore wire */
	SIM_OP_XS_WATCH,	/* arg0 handle; "path\0token\0" */
	SIM_OP_XS_UNWATCH,	/* same */
	/* xendevicemodel_restrict, xenforeignmemory_restrict: the calling process's calls */
	SIM_OP_RESTRICT,	/* arg0 domid: from now on calls about other domains fail (EPERM) */
	SIM_OP_EVTCHN_RESTRICT,	/* arg0 handle, arg1 domid: binds to other domains fail */
	SIM_OP_HELLO,		/* arg0 enum sim_conn_kind, arg1 the caller's socket inode */
	/*
	 * IOCTL_PRIVCMD_HYPERCALL: any hypercall, refused (EPERM) on a
	 * restricted connection (drivers/xen/privcmd.c). arg0 the hypercall
	 * (SIM_HYPERCALL_*), arg1.. its arguments.
	 */
	SIM_OP_HYPERCALL,
	/* arg0 domid, arg1 first gfn, arg2 count, arg3 writable, arg4 1 mapped / 0 unmapped */
	SIM_OP_FOREIGN_MAPPED,
	/*
	 * arg0 handle, arg1 local port: a notify answered once the vCPU is
	 * woken, as the EVTCHNOP_send hypercall returns, for tests that record
	 * the order of events (sim_hv_record_events()).
	 */
	SIM_OP_EVTCHN_NOTIFY_SYNC,
};

/* What a connection stands for (the device the real library opens). */
enum sim_conn_kind {
	SIM_CONN_PRIVCMD = 1,	/* /dev/xen/privcmd of libxendevicemodel or libxenforeignmemory */
	SIM_CONN_XENCALL,	/* /dev/xen/privcmd of a libxencall handle (hypercalls) */
	SIM_CONN_EVTCHN,	/* /dev/xen/evtchn */
	SIM_CONN_XENSTORE,	/* xenstored's socket or /dev/xen/xenbus */
};

/* SIM_OP_HYPERCALL's arg0: the hypercall numbers of xen/include/public/xen.h. */
#define SIM_HYPERCALL_XEN_VERSION	17	/* -> ret: version (major << 16 | minor) */
#define SIM_HYPERCALL_DM_OP		41	/* arg1 domid: XEN_DMOP_nr_vcpus -> val0 */

struct sim_request {
	uint32_t op;
	uint32_t pad;
	uint64_t arg[5];
};

struct sim_reply {
	int32_t ret;		/* -1 on failure */
	int32_t error;		/* errno on failure */
	uint64_t val[2];
};

/* On an event-channel socket. */
enum sim_evtchn_op {
	SIM_EVTCHN_EVENT = 1,	/* hypervisor -> daemon: port has an event */
	SIM_EVTCHN_NOTIFY,	/* daemon -> hypervisor: notify the remote end of port */
	SIM_EVTCHN_UNMASK,	/* daemon -> hypervisor: port may deliver again */
	/*
	 * hypervisor -> daemon, tests only: make a system call no serving
	 * worker needs (tests/sim/libxen_evtchn.c), as a hijacked one would.
	 * The real libxenevtchn has nothing like it.
	 */
	SIM_EVTCHN_FORBIDDEN_SYSCALL,
};

/* What the simulated library logs before it makes that call (absent from the real binary). */
#define SIM_FORBIDDEN_SYSCALL_MARKER "xensim-forbidden-syscall-trigger"

struct sim_evtchn_msg {
	uint32_t op;
	uint32_t port;
};

/* On the irq socket, daemon -> hypervisor only: set SPI @irq of the socket's domain to @level. */
struct sim_irq_msg {
	uint32_t irq;
	uint32_t level;
};

#endif
