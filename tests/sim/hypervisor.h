/* SPDX-License-Identifier: MIT */
/*
 * tests/sim/hypervisor.h: the simulated hypervisor, as a test sees it.
 *
 * A test creates one simulated Xen with one guest domain (more may be
 * created and destroyed later, for the supervisor), starts the daemon
 * (the simulated-hypervisor build of the real daemon objects) against it, and
 * then *is* the guest: its vCPUs issue MMIO reads and writes that block until
 * the daemon answers, as on Xen; it reads and writes guest RAM; it watches
 * interrupt lines; and it inspects what the daemon left registered.
 *
 * What is modelled from Xen: one ioreq_t slot per vCPU in a page the daemon
 * maps as a resource; one event channel per vCPU, bound by the daemon; event
 * delivery masked until the daemon unmasks (as the Linux evtchn driver does);
 * signals to a port nobody bound are lost; an MMIO access no server claims
 * meets the background (below); an IOREQ server and its ranges outlive the
 * process that created them; SPIs behave like edges (every set_irq_level(1)
 * is a new interrupt); at most 8 servers per domain; a xenstore with the
 * guest's home as init-dom0less writes it (tests/sim/hv_xenstore.c).
 */
#ifndef XVP_TESTS_SIM_HYPERVISOR_H
#define XVP_TESTS_SIM_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

struct sim_hv;

/*
 * What Xen does with a guest access to an address no enabled IOREQ server
 * claims and no RAM backs (the ECAM and BAR windows before the daemon
 * attaches). The hypervisor answers it itself; the daemon never sees it.
 */
enum sim_background {
	/*
	 * Reads return all-ones of the access size, writes are ignored: Xen 4.21
	 * and later with trap-unmapped-accesses = <0> (dom0less) or
	 * trap_unmapped_accesses=0 (xl). A guest's PCI scan finds an empty bus.
	 * The default.
	 */
	SIM_BACKGROUND_ALL_ONES = 0,
	/*
	 * The vCPU takes a data abort: Xen before 4.21, or trap-unmapped-accesses
	 * left at 1. The access returns -EFAULT; a Linux guest panics in its ECAM
	 * accessor.
	 */
	SIM_BACKGROUND_ABORT,
};

struct sim_hv_config {
	uint32_t domid;		/* default 1 */
	unsigned int nr_vcpus;	/* default 2 */
	uint64_t ram_base;	/* default 0x40000000 (GUEST_RAM0_BASE) */
	uint64_t ram_size;	/* default 64 MiB */
	unsigned int nr_spis;	/* SPIs 32 .. 32 + nr_spis - 1 exist; default 64 */
	enum sim_background background;
	/*
	 * No xenstore at all (a dom0less guest with xen,enhanced = "no-xenstore",
	 * or no xenstored): in dom0, xs_open() falls back to the xenbus device
	 * as real libxenstore does and returns a handle whose requests never
	 * answer; in a guest it fails with ENOENT. Otherwise the store holds /local/domain/DOMID/domid and
	 * .../data, owned by the guest, as init-dom0less writes them.
	 */
	bool no_xenstore;
	/* The domain's name in xenstore (/local/domain/DOMID/name), as xl writes it; NULL: none. */
	const char *name;
	/*
	 * Guest RAM as a plain memfd, never secret memory: O_DIRECT into it then
	 * works, as it does not on Xen. For tests that map more than 8 MiB of
	 * it: secret memory counts as locked memory, which a worker past its
	 * privilege drop may hold 8 MiB of at most (RLIMIT_MEMLOCK, which tests
	 * cannot raise without CAP_SYS_RESOURCE), while Xen's foreign mappings
	 * count nothing.
	 */
	bool plain_ram;
};

/* @config may be NULL (all defaults); zero fields take their default. */
struct sim_hv *sim_hv_create(const struct sim_hv_config *config);
/* Kills the daemon if it still runs. */
void sim_hv_destroy(struct sim_hv *hv);

/* ---- the daemon process */

/*
 * Start @daemon_path --domain DOMID @extra_args... (NULL-terminated, may be
 * NULL) with $XENSIM_SOCKET pointing here, its stderr captured.
 */
int sim_hv_start_daemon(struct sim_hv *hv, const char *daemon_path, const char *const extra_args[]);
/*
 * The same with exactly @args (NULL-terminated): no --domain added (the
 * supervisor). Both add --uid-base sim_hv_uid_base() unless @args has one.
 */
int sim_hv_start_daemon_argv(struct sim_hv *hv, const char *daemon_path, const char *const args[]);
/* This test run's uid base: its workers run as it + domid (domids below 64). */
unsigned int sim_hv_uid_base(void);
/* Wait until a server is enabled with every vCPU's port bound: 0, -ETIMEDOUT, -ECHILD (it exited). */
int sim_hv_wait_serving(struct sim_hv *hv, int timeout_ms);
/* Send @signal and wait: the exit status (0..255), -EINTR if a signal killed it, -ETIMEDOUT (then SIGKILLed). */
int sim_hv_stop_daemon(struct sim_hv *hv, int signal, int timeout_ms);
/*
 * Wait until the daemon's log holds @text: 0 or -ETIMEDOUT. For what the
 * hypervisor cannot see, such as "serving ECAM" (logged once the handles
 * are restricted, after the ports were bound).
 */
int sim_hv_wait_daemon_log(struct sim_hv *hv, const char *text, int timeout_ms);
/* The daemon's pid (0: none started). */
pid_t sim_hv_daemon_pid(struct sim_hv *hv);
/* Send @signal (SIGHUP) and return at once: 0 or -errno. */
int sim_hv_signal_daemon(struct sim_hv *hv, int signal);
/*
 * The daemon started by hand is a supervisor of one worker, which serves:
 * kill that worker (the process serving the first guest) with SIGKILL, as
 * a crash or the OOM killer would, and wait for the daemon to exit (1: it
 * saw its worker killed). -ESRCH if nothing serves the guest.
 */
int sim_hv_kill_serving_worker(struct sim_hv *hv, int timeout_ms);
/* Wait for the daemon to exit by itself; same results as sim_hv_stop_daemon. */
int sim_hv_wait_daemon_exit(struct sim_hv *hv, int timeout_ms);
/* Everything the daemon wrote to stderr so far (valid until the next call). */
const char *sim_hv_daemon_log(struct sim_hv *hv);
/* The file the daemon's stderr is appended to (a test may create it first, to know its inode). */
const char *sim_hv_daemon_log_path(struct sim_hv *hv);

/*
 * Start @argv[0] with @argv as a program running in the guest: its
 * simulated libxen* reach this hypervisor ($XENSIM_SOCKET) as the guest
 * domain ($XENSIM_DOMID), its stderr goes to @log_path (NULL: inherited).
 * Returns the pid (the caller reaps it) or -errno.
 */
pid_t sim_hv_spawn_guest_program(struct sim_hv *hv, const char *const argv[], const char *log_path);
/*
 * The same as a second program in dom0 beside the daemon (the dom0 service
 * while a device model runs): exactly @argv, nothing added.
 */
pid_t sim_hv_spawn_dom0_program(struct sim_hv *hv, const char *const argv[], const char *log_path);

/* ---- the guest's vCPUs */

enum sim_access_result {
	SIM_ACCESS_SERVED = 0,		/* an IOREQ server answered */
	SIM_ACCESS_UNCLAIMED = 1,	/* no server claims it: all-ones / ignored (the background) */
};

/* Default time a vCPU waits for an answer before the access fails with -ETIMEDOUT. */
#define SIM_ACCESS_TIMEOUT_MS 10000

/*
 * Returns enum sim_access_result or -errno (-EFAULT: a data abort, under
 * SIM_BACKGROUND_ABORT); blocks like a trapped vCPU. Thread-safe per vCPU.
 */
int sim_vcpu_mmio_read(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
		       uint64_t *value);
int sim_vcpu_mmio_write(struct sim_hv *hv, unsigned int vcpu, uint64_t addr, unsigned int size,
			uint64_t value);
/*
 * Put any request shape in @vcpu's slot of the first enabled server (as x86
 * Xen or a buggy hypervisor might) and wait for the answer, copied back to @req.
 */
int sim_vcpu_send_raw(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req);
/*
 * Arrange for @req to be put in @vcpu's slot at the moment a server is
 * enabled, before the daemon can have bound its ports (the signal is lost, as
 * on Xen); then sim_vcpu_collect_queued() waits for its answer.
 */
void sim_vcpu_queue_on_enable(struct sim_hv *hv, unsigned int vcpu, const ioreq_t *req);
int sim_vcpu_collect_queued(struct sim_hv *hv, unsigned int vcpu, ioreq_t *req, int timeout_ms);

/* ---- guest RAM and interrupts */

/* Pointer to guest-physical [gpa, gpa + len) in RAM, or NULL. */
void *sim_hv_guest_ram(struct sim_hv *hv, uint64_t gpa, size_t len);
/*
 * Back the guest page at @gpa with a new, zeroed page (as when a guest maps
 * its grant table or shared info over RAM, or balloons), then send
 * IOREQ_TYPE_INVALIDATE through @vcpu and wait for the daemon's answer, as
 * Xen does. Existing foreign mappings keep pointing at the old page.
 */
int sim_hv_replace_guest_page(struct sim_hv *hv, unsigned int vcpu, uint64_t gpa);
/*
 * The guest balloons the page at @gpa out (XENMEM_decrease_reservation): no
 * RAM behind it from now on, and Xen sends IOREQ_TYPE_INVALIDATE through
 * @vcpu and waits for the answer. Foreign maps of it fail (EINVAL).
 */
int sim_hv_balloon_out(struct sim_hv *hv, unsigned int vcpu, uint64_t gpa);
/*
 * The guest populates the ballooned-out page at @gpa again
 * (XENMEM_populate_physmap): a new zeroed page, and, as on Xen, no
 * INVALIDATE (xen/common/memory.c). 0, -EEXIST (it is RAM), -EINVAL.
 */
int sim_hv_populate(struct sim_hv *hv, uint64_t gpa);
/*
 * Dom0 can back at most @pages foreign-mapped pages at once (0: no limit);
 * a map beyond that fails whole with ENOMEM, as Linux's privcmd does when it
 * cannot get the empty pages to put the guest's frames in
 * (drivers/xen/privcmd.c, privcmd_ioctl_mmap_batch(): alloc_empty_pages()).
 */
void sim_hv_limit_foreign_pages(struct sim_hv *hv, unsigned long pages);
/*
 * Foreign maps that take their time, as a hypercall does when dom0 is busy:
 * from now on every xenforeignmemory_map() of guest RAM is made but does not
 * return until sim_hv_release_foreign_maps(). What waits for a buffer to be
 * mapped (a request's I/O) waits with it; the daemon's thread is blocked in it.
 */
void sim_hv_hold_foreign_maps(struct sim_hv *hv);
/* Let every held map call return, and later ones return at once. */
void sim_hv_release_foreign_maps(struct sim_hv *hv);
/* Map calls held so far (since creation). */
unsigned long sim_hv_foreign_maps_held(struct sim_hv *hv);
/* Wait until more than @seen map calls were held: 0 or -ETIMEDOUT. */
int sim_hv_wait_foreign_map_held(struct sim_hv *hv, unsigned long seen, int timeout_ms);
/* How many foreign mappings of the guest page at @gpa the daemon holds now, by protection. */
void sim_hv_foreign_mappings(struct sim_hv *hv, uint64_t gpa, unsigned int *read_only,
			     unsigned int *writable);
/*
 * True when guest RAM refuses O_DIRECT I/O into it, as Xen's foreign mappings
 * (VM_PFNMAP) do: the simulator uses memfd_secret when the kernel allows.
 */
bool sim_hv_guest_ram_refuses_direct_io(struct sim_hv *hv);
/* Current level of SPI @spi (0/1) and how many times it was raised. */
int sim_hv_irq_level(struct sim_hv *hv, unsigned int spi);
unsigned long sim_hv_irq_raises(struct sim_hv *hv, unsigned int spi);
/* How many times SPI @spi was lowered (set_irq_level(0): Xen's vGIC on GICv3 ignores it). */
unsigned long sim_hv_irq_lowers(struct sim_hv *hv, unsigned int spi);
/* Wait until SPI @spi was raised more than @seen times: 0 or -ETIMEDOUT. */
int sim_hv_wait_irq(struct sim_hv *hv, unsigned int spi, unsigned long seen, int timeout_ms);

/* ---- xenstore (none under sim_hv_config.no_xenstore) */

/* The value at absolute @path as dom0 reads it (malloc'd), or NULL if there is none. */
char *sim_hv_xenstore_read(struct sim_hv *hv, const char *path);
/* Write as dom0 does (missing parents created, watches fire): 0 or -errno. */
int sim_hv_xenstore_write(struct sim_hv *hv, const char *path, const char *value);
/* The owner of @path (its first permission entry's domain), or -ENOENT. */
int sim_hv_xenstore_owner(struct sim_hv *hv, const char *path);
/* May domain @domid read @path under its permissions (dom0 may read anything)? */
bool sim_hv_xenstore_readable(struct sim_hv *hv, const char *path, uint32_t domid);
/* Wait until @path holds @value (NULL: until it does not exist): 0 or -ETIMEDOUT. */
int sim_hv_xenstore_wait(struct sim_hv *hv, const char *path, const char *value, int timeout_ms);

/*
 * The guest is destroyed (xl destroy, or it powered off): from now on the
 * domain does not exist, its IOREQ servers and their ranges are gone, and
 * calls about it fail with ESRCH, as on Xen. Its xenstore home is removed and
 * @releaseDomain fires.
 */
void sim_hv_destroy_domain(struct sim_hv *hv);

/*
 * The domain process @pid restricted its Xen handles to: every privcmd and
 * event-channel connection it holds restricted to that domain; -1 if one is
 * not (an unrestricted privcmd, any libxencall connection), -2 if @pid has
 * none. Xenstore connections are not Xen handles: sim_hv_socket_info()
 * tells of them.
 */
int64_t sim_hv_restriction(struct sim_hv *hv, pid_t pid);

/* What a socket a process holds is, for a test that walks its /proc/PID/fd. */
enum sim_hv_socket_kind {
	SIM_SOCKET_UNKNOWN,		/* not the hypervisor's */
	SIM_SOCKET_PRIVCMD,		/* a devicemodel or foreignmemory handle's privcmd fd */
	SIM_SOCKET_XENCALL,		/* a libxencall handle's privcmd fd (hypercalls) */
	SIM_SOCKET_EVTCHN,		/* an event-channel handle's calls */
	SIM_SOCKET_XENSTORE,		/* a xenstore connection */
	SIM_SOCKET_EVTCHN_EVENTS,	/* an event-channel handle's events */
	SIM_SOCKET_IRQ,			/* the one-way set_irq_level socket of one domain */
	SIM_SOCKET_XENSTORE_WATCH,	/* a xenstore connection's watch events */
};

struct sim_hv_socket_info {
	enum sim_hv_socket_kind kind;
	int64_t restricted;	/* the only domain it may name; -1 unrestricted */
	uint64_t handle;	/* SIM_SOCKET_EVTCHN: the handle id its calls carry */
};

/*
 * The socket whose inode is @inode (readlink of /proc/PID/fd/N gives
 * "socket:[INODE]"), as the hypervisor knows it: 0, or -ENOENT when it is
 * not a connection to this hypervisor that is still open (then the kind is
 * SIM_SOCKET_UNKNOWN). A connection restricted by xentoolcore_restrict_all()
 * with /dev/null dup2()ed over it is no socket any more.
 */
int sim_hv_socket_info(struct sim_hv *hv, uint64_t inode, struct sim_hv_socket_info *info);

/*
 * Make process @pid (a worker) call a system call no serving worker needs,
 * through its event-channel handles: the simulated library does, the real
 * one has no such thing. 0, or -ESRCH if @pid has no handle.
 */
int sim_hv_make_forbidden_syscall(struct sim_hv *hv, pid_t pid);

/*
 * Close the hypervisor's end of every event-channel handle: the daemon's
 * reads fail from now on (a broken /dev/xen/evtchn). The daemon must stop,
 * not spin.
 */
void sim_hv_close_event_channels(struct sim_hv *hv);

/* ---- more guest domains (the supervisor's tests); the calls above act on the first */

/*
 * Create another guest domain (@config->domid required; no_xenstore is the
 * host's): its xenstore home is written as xl and init-dom0less write it
 * (domid, name, data) and @introduceDomain fires. 0, -EEXIST (a live domain
 * has that ID) or -ENOSPC.
 */
int sim_hv_create_domain(struct sim_hv *hv, const struct sim_hv_config *config);
/* sim_hv_destroy_domain() for domain @domid: 0 or -ESRCH. */
int sim_hv_destroy_domain_id(struct sim_hv *hv, uint32_t domid);
/* sim_vcpu_mmio_read() on domain @domid's vCPU (-ESRCH: no such domain). */
int sim_dom_mmio_read(struct sim_hv *hv, uint32_t domid, unsigned int vcpu, uint64_t addr,
		      unsigned int size, uint64_t *value);
/*
 * Wait until an enabled server of @domid has every vCPU's port bound, created
 * by a process other than @not_by (0: any): that process's pid, or -ETIMEDOUT.
 * Whoever serves it (a worker of the supervisor) need not be our child.
 */
pid_t sim_hv_wait_domain_served(struct sim_hv *hv, uint32_t domid, pid_t not_by, int timeout_ms);

struct sim_hv_domain_state {
	unsigned int servers;		/* live IOREQ servers of the domain */
	unsigned int servers_enabled;
	pid_t serving_pid;		/* creator of the first enabled server, 0 if none */
};

/* 0, or -ESRCH if @domid is not a live domain. */
int sim_hv_get_domain_state(struct sim_hv *hv, uint32_t domid, struct sim_hv_domain_state *state);

/* ---- the order of events (fairness: who was answered while what went on) */

#define SIM_HV_MAX_WATCHES 4

enum sim_hv_event_kind {
	SIM_EVENT_ANSWERED = 1,		/* the daemon answered a vCPU's access */
};

struct sim_hv_event {
	enum sim_hv_event_kind kind;
	uint32_t domid;
	unsigned int vcpu;
	uint64_t addr;			/* the access answered */
	bool write;
	/* Each watched counter (sim_hv_watch_u16()) at that moment, e.g. a used ring's idx. */
	uint16_t watched[SIM_HV_MAX_WATCHES];
};

/*
 * Record the order of events: call before starting the daemon. Its
 * event-channel notifies then become synchronous calls, as the hypercall
 * is on Xen (the one-way messages of the default are cheaper), so that each
 * recorded answer sees guest memory exactly as the daemon had left it when
 * it answered: nothing the daemon does later can be counted as earlier.
 */
void sim_hv_record_events(struct sim_hv *hv);
/*
 * Sample the little-endian 16-bit counter at guest-physical @gpa (of the
 * first guest) in every later event: its index in watched[], or -ENOSPC /
 * -EINVAL.
 */
int sim_hv_watch_u16(struct sim_hv *hv, uint64_t gpa);
/* Copy up to @max recorded events, oldest first: how many there are in all. */
size_t sim_hv_events(struct sim_hv *hv, struct sim_hv_event *out, size_t max);
/* Wait until @vcpu is blocked in an access a server must answer: 0 or -ETIMEDOUT. */
int sim_hv_wait_vcpu_blocked(struct sim_hv *hv, unsigned int vcpu, int timeout_ms);

/* ---- what is registered */

struct sim_hv_state {
	unsigned int servers;		/* live IOREQ servers */
	unsigned int servers_enabled;
	unsigned int ranges;		/* ranges registered on live servers */
	unsigned int ports_bound;	/* daemon-side event channels bound */
	unsigned int evtchn_handles;	/* open event-channel handles */
	unsigned long servers_created;
	/* Ranges still registered when their server was destroyed. */
	unsigned long ranges_dropped_by_destroy;
	/* Ports still bound when their handle was closed (the kernel unbinds them). */
	unsigned long ports_dropped_by_close;
	/* xenforeignmemory_map / _unmap calls on guest RAM. */
	unsigned long foreign_map_calls;
	unsigned long foreign_unmap_calls;
	/*
	 * Pages those maps hold now, and the most they ever held at once: each
	 * takes a dom0 frame (privcmd backs the whole range, failed entries too).
	 */
	unsigned long foreign_mapped_pages;
	unsigned long foreign_mapped_pages_peak;
	/* Map calls in which some frames were not RAM (those frames failed alone). */
	unsigned long foreign_maps_with_holes;
	/*
	 * vCPU requests answered (their port notified) by a process that held
	 * a Xen connection not restricted to one domain at that moment: a
	 * worker must restrict itself before it serves anything, pending
	 * requests included.
	 */
	unsigned long answered_unrestricted;
};

void sim_hv_get_state(struct sim_hv *hv, struct sim_hv_state *state);

#endif
