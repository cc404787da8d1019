/* SPDX-License-Identifier: MIT */
/* tests/sim/hv_internal.h: the simulated hypervisor's state, shared by tests/sim/hv_*.c. */
#ifndef XVP_TESTS_SIM_HV_INTERNAL_H
#define XVP_TESTS_SIM_HV_INTERNAL_H

#include <pthread.h>

#include "tests/sim/hypervisor.h"
#include "tests/sim/protocol.h"

#define PAGE_SIZE_4K		4096ULL
#define SIM_MAX_DOMAINS		8	/* guest domains, live or destroyed, per simulated host */
#define SIM_MAX_SERVERS		8	/* Xen: MAX_NR_IOREQ_SERVERS */
#define SIM_MAX_RANGES		512
#define SIM_MAX_VCPUS		128	/* one ioreq page */
#define SIM_MAX_HANDLES		16
#define SIM_MAX_PORTS		1024
#define SIM_MAX_CONNS		64	/* one per library handle of every process */
#define SIM_MAX_PASSED		256	/* sockets handed to processes, remembered by inode */
#define SIM_MAX_SPI		1020
#define SIM_SPARE_PAGES		256	/* pages available to replace or populate guest pages */
#define SIM_P2M_ABSENT		UINT64_MAX	/* a p2m entry with no RAM behind it (ballooned out) */
#define SIM_XS_MAX_HANDLES	16
#define SIM_XS_MAX_PERMS	8

struct sim_range {
	uint64_t start, end;	/* inclusive, as in the dm_op */
};

struct sim_server {
	bool used;
	bool enabled;
	int page_fd;
	volatile ioreq_t *page;
	uint32_t guest_ports[SIM_MAX_VCPUS];	/* vp_eport of each vCPU */
	struct sim_range ranges[SIM_MAX_RANGES];
	unsigned int nr_ranges;
	pid_t creator;		/* the process that created it (SO_PEERCRED of its connection) */
};

/* A daemon-side (dom0) end of an interdomain channel. */
struct sim_port {
	bool used;
	uint32_t local;		/* the port number the daemon sees */
	uint32_t guest_port;	/* the guest end: a server's vp_eport */
	int handle;		/* index into handles[] */
	bool masked;		/* delivered, not yet unmasked */
	bool pending;		/* signalled while masked */
};

struct sim_handle {
	bool used;
	int fd;			/* hypervisor end of the handle's socket */
	int64_t restricted;	/* xenevtchn_restrict: the only domain, or -1 */
	pid_t owner;		/* the process that opened it */
	int conn;		/* the connection it was opened on: the only one that may use it */
};

/* A socket end the hypervisor handed to a process: what it is, for sim_hv_socket_info(). */
struct sim_passed_socket {
	uint64_t inode;
	enum sim_hv_socket_kind kind;
	int64_t index;		/* event-channel or xenstore handle, or irq domain */
};

struct sim_vcpu {
	pthread_cond_t answered;	/* the daemon notified this vCPU's port */
	bool notified;
	bool waiting;		/* blocked in an access a server must answer */
	bool queued;		/* a request waits for the next enable */
	ioreq_t queued_req;
	int queued_server;	/* where the queued request went, -1 before enable */
};

/* A xenstore node's permissions: [0] is the owner and what everyone else may do. */
struct sim_xs_perm {
	uint32_t id;
	uint32_t perms;		/* XS_PERM_READ | XS_PERM_WRITE */
};

struct sim_xs_node {
	struct sim_xs_node *next;
	char *path;		/* absolute */
	char *value;
	size_t len;
	struct sim_xs_perm perms[SIM_XS_MAX_PERMS];
	unsigned int nr_perms;
};

struct sim_xs_watch {
	struct sim_xs_watch *next;
	int handle;
	char *path;		/* absolute */
	char *token;
	bool relative;		/* registered relative: events are reported relative too */
};

/* A connection to xenstore (xs_open): its socket carries fired watches. */
struct sim_xs_handle {
	bool used;
	int fd;			/* hypervisor end */
	uint32_t domid;		/* the caller's domain: 0 is privileged */
};

struct sim_xenstore {
	struct sim_xs_node *nodes;
	struct sim_xs_watch *watches;
	struct sim_xs_handle handles[SIM_XS_MAX_HANDLES];
};

/* One guest domain: its RAM, vCPUs, IOREQ servers and SPIs. */
struct sim_domain {
	bool used;
	bool destroyed;		/* gone: calls about it fail with ESRCH */
	struct sim_hv_config config;	/* with defaults applied; name points at name[] */
	char name[64];

	int ram_fd;		/* RAM pages, then spare pages for replacements */
	uint8_t *ram;		/* the guest's view: page i is at p2m[i] in ram_fd */
	bool ram_refuses_direct_io;	/* secret memory: O_DIRECT fails as on Xen */
	int p2m_fd;
	uint64_t *p2m;		/* offset in ram_fd of each guest page, or SIM_P2M_ABSENT */
	unsigned int spare_used;
	/* Per guest page: foreign mappings of it the daemon holds, read-only and writable. */
	uint16_t *foreign_read_only;
	uint16_t *foreign_writable;

	struct sim_server servers[SIM_MAX_SERVERS];
	struct sim_vcpu vcpus[SIM_MAX_VCPUS];
	uint8_t irq_level[SIM_MAX_SPI];
	unsigned long irq_raises[SIM_MAX_SPI];
	unsigned long irq_lowers[SIM_MAX_SPI];	/* set_irq_level(0) calls */
};

/* The order of events a test asked to see (tests/sim/hv_record.c). */
struct sim_record {
	bool on;		/* notifies are synchronous calls, each answer is recorded */
	unsigned int nr_watches;
	uint64_t watches[SIM_HV_MAX_WATCHES];	/* guest-physical addresses of le16 counters */
	struct sim_hv_event *events;
	size_t nr_events;
	size_t capacity;
};

struct sim_hv {
	struct sim_hv_config config;	/* the first guest's, and the host's no_xenstore */
	unsigned long foreign_page_limit;	/* sim_hv_limit_foreign_pages() */
	/* sim_hv_hold_foreign_maps(): map calls whose answer waits, one per connection at most. */
	bool hold_maps;
	struct held_reply {
		int conn;		/* index, -1: free */
		int fd;			/* hv->conns[conn] when it was held */
		struct sim_reply reply;
	} held[SIM_MAX_CONNS];
	unsigned long maps_held;	/* held since the hypervisor was created */
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* any state change (servers, ports, irqs) */
	pthread_t thread;
	int stop_pipe[2];
	int listen_fd;
	char dir[64];
	char socket_path[96];
	char log_path[96];
	char *log_text;

	struct sim_domain domains[SIM_MAX_DOMAINS];
	struct sim_domain *guest;	/* the first guest: what the single-domain calls act on */

	struct sim_port ports[SIM_MAX_PORTS];
	struct sim_handle handles[SIM_MAX_HANDLES];
	int conns[SIM_MAX_CONNS];
	pid_t conn_pids[SIM_MAX_CONNS];	/* the process at the other end of each connection */
	int64_t conn_restricted[SIM_MAX_CONNS];	/* the only domain its calls may name, or -1 */
	enum sim_conn_kind conn_kind[SIM_MAX_CONNS];	/* from SIM_OP_HELLO; 0 before it */
	uint64_t conn_inode[SIM_MAX_CONNS];	/* the process's end of it */
	struct sim_passed_socket passed[SIM_MAX_PASSED];
	unsigned int next_passed;
	int irq_fds[SIM_MAX_CONNS];	/* hypervisor ends of the one-way irq sockets, or -1 */
	struct sim_domain *irq_domains[SIM_MAX_CONNS];	/* whose SPIs each irq socket sets */
	uint32_t next_guest_port;
	uint32_t next_local_port;

	pid_t daemon_pid;	/* 0: none */
	bool daemon_exited;
	int daemon_status;	/* raw waitpid status once exited */

	struct sim_hv_state stats;
	struct sim_xenstore xenstore;
	struct sim_record record;
};

/* One control call being answered (tests/sim/hv_core.c), with its payloads. */
struct call {
	struct sim_hv *hv;
	pid_t caller;		/* the calling process */
	int conn;		/* its connection's index */
	const struct sim_request *req;
	struct sim_reply *reply;
	int fd_to_pass;
	bool close_passed_fd;	/* our copy of a socket end we hand over */
	const char *in;		/* bytes after the request */
	size_t in_len;
	char *out;		/* bytes after the reply: SIM_PAYLOAD_MAX */
	size_t out_len;
	bool held;		/* the answer waits (sim_hv_hold_foreign_maps()) */
};

/* With hv->lock held: apply every interrupt message the daemons already sent. */
void hv_drain_irq_messages(struct sim_hv *hv);
/* Connections and their restrictions (tests/sim/hv_conns.c), with hv->lock held. */
int hv_fail(struct call *c, int error);
int hv_op_hello(struct call *c);
int hv_op_hypercall(struct call *c);
int hv_op_restrict(struct call *c);
/* Would Linux refuse this call on this (restricted) fd? Then it fails with EPERM. */
bool hv_refused_by_restriction(const struct call *c);
/* sim_hv_restriction() with hv->lock held. */
int64_t hv_process_restriction(struct sim_hv *hv, pid_t pid);
/* The call hands over a socket end: remember its inode as @kind. */
void hv_note_passed_socket(struct call *c, enum sim_hv_socket_kind kind, int64_t index);

/* With hv->lock held: deliver an event from the guest on its end @guest_port. */
void hv_signal_guest_port(struct sim_hv *hv, uint32_t guest_port);
/* With hv->lock held: a server's slot for @vcpu, after placing @req in it and signalling. */
void hv_post_request(struct sim_hv *hv, struct sim_domain *d, int server, unsigned int vcpu,
		     const ioreq_t *req);
/* With hv->lock held: requests queued for the moment @server is enabled. */
void hv_post_queued_requests(struct sim_hv *hv, struct sim_domain *d, int server);

/* With hv->lock held: the daemon answered @vcpu of @d, whose request is in @slot (hv_record.c). */
void hv_record_answer(struct sim_hv *hv, const struct sim_domain *d, unsigned int vcpu,
		      const volatile ioreq_t *slot);
void hv_record_free(struct sim_hv *hv);

/* Domains (tests/sim/hv_domain.c), with hv->lock held where it matters. */
/* The live (not destroyed) domain @domid, or NULL. */
struct sim_domain *hv_find_domain(struct sim_hv *hv, uint64_t domid);
/*
 * Domain @domid, live or destroyed but still dying (the simulated model of a
 * domain whose memory a process still maps: every destroyed one), or NULL.
 */
struct sim_domain *hv_domain_dying_or_live(struct sim_hv *hv, uint64_t domid);
/* The live domain with the lowest ID >= @domid, or NULL (xc_domain_getinfolist's order). */
struct sim_domain *hv_next_domain(struct sim_hv *hv, uint64_t domid);
/* Set up a new domain from @config (defaults applied): 0 or -errno. Lock not held. */
int hv_domain_create(struct sim_hv *hv, const struct sim_hv_config *config);
/* Release the server's ioreq page. */
void hv_server_release(struct sim_server *srv);
/* Free every domain's memory (sim_hv_destroy). */
void hv_domains_free(struct sim_hv *hv);
/* With hv->lock held: reap the daemon if it exited; true if it is gone. */
bool hv_daemon_gone(struct sim_hv *hv);

/* Guest RAM (tests/sim/hv_memory.c): the per-page mapping counts of a new domain, freed. */
int hv_memory_init(struct sim_domain *d);
void hv_memory_free(struct sim_domain *d);
/* SIM_OP_FOREIGN_MAP_COUNT and SIM_OP_FOREIGN_MAPPED, with hv->lock held. */
int hv_op_foreign_map_count(struct call *c);
/* With hv->lock held: keep @c's answer until the maps are released (tests/sim/hv_memory.c). */
void hv_hold_reply(struct call *c);
/* With hv->lock held: connection @conn is gone, forget its held answer. */
void hv_drop_held_reply(struct sim_hv *hv, int conn);
int hv_op_foreign_mapped(struct call *c);

/* Xenstore (tests/sim/hv_xenstore.c): the root node. */
void hv_xenstore_init(struct sim_hv *hv);
/*
 * With hv->lock held: domain @d's home as init-dom0less and xl write it
 * (domid, name if any, data), then @introduceDomain fires; removal takes
 * the home away and fires @releaseDomain.
 */
void hv_xenstore_add_domain(struct sim_hv *hv, const struct sim_domain *d);
void hv_xenstore_remove_domain(struct sim_hv *hv, const struct sim_domain *d);
void hv_xenstore_destroy(struct sim_hv *hv);
/*
 * The store, with hv->lock held, for a caller of domain @domid (0 is
 * privileged). Paths are absolute; hv_xs_absolute_path() makes them so
 * (malloc'd, NULL with errno EINVAL for a path xenstore refuses). The
 * changes fire the watches; they return 0 or -errno.
 */
char *hv_xs_absolute_path(uint32_t domid, const char *path);
struct sim_xs_node *hv_xs_find_node(struct sim_xenstore *xs, const char *path);
bool hv_xs_allowed(const struct sim_xs_node *n, uint32_t domid, uint32_t want);
int hv_xs_write(struct sim_hv *hv, uint32_t domid, const char *path, const char *value, size_t len);
int hv_xs_set_perms(struct sim_hv *hv, uint32_t domid, const char *path,
		    const struct sim_xs_perm *perms, unsigned int num);
int hv_xs_rm(struct sim_hv *hv, uint32_t domid, const char *path);
/* "path\0token\0" on @h's socket (dropped if its reader lags). */
void hv_xs_send_event(const struct sim_xs_handle *h, const char *path, const char *token);
void hv_xs_free_watch(struct sim_xs_watch *w);

/* (tests/sim/hv_xenstore_calls.c) With hv->lock held: handle @h's socket is readable: closed. */
void hv_xenstore_handle_readable(struct sim_hv *hv, int h);
/* Drop handle @h and its watches (xs_close, or the process exited). */
void hv_xs_close_handle(struct sim_hv *hv, int h);
/* The SIM_OP_XS_* calls, with hv->lock held. */
int hv_op_xs_open(struct call *c);
int hv_op_xs_read(struct call *c);
int hv_op_xs_write(struct call *c);
int hv_op_xs_rm(struct call *c);
int hv_op_xs_set_perms(struct call *c);
int hv_op_xs_watch(struct call *c);
int hv_op_xs_unwatch(struct call *c);

/* Absolute CLOCK_REALTIME deadline @timeout_ms from now, for pthread_cond_timedwait. */
void hv_deadline(struct timespec *deadline, int timeout_ms);

#endif
