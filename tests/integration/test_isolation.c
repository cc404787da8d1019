// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_isolation.c: what a worker that a guest has
 * compromised can reach. The test takes each of a serving worker's Xen
 * handles with pidfd_getfd(2), as code running in the worker would use
 * them, and asks the simulated hypervisor for operations on another
 * domain; every one must be refused, as Linux's privcmd (EPERM) and evtchn
 * (EACCES) drivers refuse them on a restricted fd. The simulator tells what each
 * socket of the worker is (sim_hv_socket_info).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/nbd_dialer.h"
#include "daemon/worker_protocol.h"
#include "tests/integration/daemon_path.h"
#include "tests/integration/nbd_fake_server.h"
#include "tests/integration/process.h"
#include "tests/sim/hypervisor.h"
#include "tests/sim/protocol.h"

#define GUEST		1
#define OTHER_GUEST	2
#define WAIT_MS		10000
#define MAX_FDS		256

struct fixture {
	struct sim_hv *hv;
	char dir[32];		/* a supervisor's config file, if a test writes one */
	char config[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = GUEST, .nr_vcpus = 2 });
	assert_non_null(f->hv);
	assert_int_equal(sim_hv_create_domain(f->hv, &(struct sim_hv_config){ .domid = OTHER_GUEST }), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	if (f->config[0])
		unlink(f->config);
	if (f->dir[0])
		rmdir(f->dir);
	free(f);
	return 0;
}

/* Start a supervisor (--config) on a file holding @text, with --restart-delay @delay (or not). */
static void start_supervisor(struct fixture *f, const char *text, const char *delay)
{
	const char *args[] = { "--config", f->config, delay ? "--restart-delay" : NULL, delay, NULL };
	FILE *file;

	strcpy(f->dir, "/tmp/xvp-isolation-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->config, sizeof(f->config), "%s/virtio-pci.cfg", f->dir);
	file = fopen(f->config, "w");
	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
	assert_int_equal(sim_hv_start_daemon_argv(f->hv, sim_daemon_path(), args), 0);
}

/* One of the worker's sockets, and what the hypervisor says it is. */
struct worker_socket {
	int fd;			/* its number in the worker */
	struct sim_hv_socket_info info;
};

/*
 * @pid's sockets, from /proc/PID/fd: those the hypervisor knows into @out
 * (their count is returned, at most @max), the others (channels to a
 * supervisor) counted in *foreign.
 */
static int walk_sockets(struct fixture *f, pid_t pid, struct worker_socket *out, int max,
			int *foreign)
{
	char dir_path[64], link_path[320], target[64];
	unsigned long long inode;
	struct dirent *entry;
	int count = 0;
	DIR *dir;

	*foreign = 0;
	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", (int)pid);
	dir = opendir(dir_path);
	assert_non_null(dir);
	while ((entry = readdir(dir)) && count < max) {
		ssize_t len;

		snprintf(link_path, sizeof(link_path), "%s/%s", dir_path, entry->d_name);
		len = entry->d_name[0] == '.' ? -1 : readlink(link_path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%llu]", &inode) != 1)
			continue;
		out[count].fd = atoi(entry->d_name);
		if (sim_hv_socket_info(f->hv, inode, &out[count].info) == 0)
			count++;
		else
			++*foreign;
	}
	closedir(dir);
	return count;
}

/* The worker's sockets that the hypervisor knows: their count. */
static int worker_sockets(struct fixture *f, pid_t pid, struct worker_socket *out, int max)
{
	int foreign;

	return walk_sockets(f, pid, out, max, &foreign);
}

/* How many of @pid's sockets the hypervisor does not know (its channels to a supervisor). */
static int foreign_sockets(struct fixture *f, pid_t pid)
{
	struct worker_socket sockets[MAX_FDS];
	int foreign;

	walk_sockets(f, pid, sockets, MAX_FDS, &foreign);
	return foreign;
}

/* The worker's fd @fd, ours now (the same open file): pidfd_getfd(2). */
static int take_fd(pid_t pid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ours;

	assert_true(pidfd >= 0);
	ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	assert_true(ours >= 0);
	return ours;
}

/* A call on the worker's connection, in the simulator's protocol: errno, or 0 if it worked. */
static int call_as_worker(int fd, uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct sim_request req = { .op = op, .arg = { a0, a1, a2 } };
	struct sim_reply reply;

	assert_int_equal(send(fd, &req, sizeof(req), MSG_NOSIGNAL), (ssize_t)sizeof(req));
	assert_int_equal(recv(fd, &reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
	return reply.ret < 0 ? reply.error : 0;
}

static const char *kind_name(enum sim_hv_socket_kind kind)
{
	static const char *const names[] = {
		"unknown", "privcmd", "libxencall privcmd", "evtchn", "xenstore",
		"evtchn events", "irq", "xenstore watch",
	};

	return names[kind];
}

/*
 * What code in the worker could do with handle @s for OTHER_GUEST: any
 * hypercall (xen_version, a dm_op), a dm_op through the privcmd, a bind.
 * Every refusal must be EPERM. The worker's own calls on the connection
 * are not disturbed: it is idle (no guest access runs).
 */
static void assert_refuses_other_domains(pid_t pid, const struct worker_socket *s)
{
	int fd = take_fd(pid, s->fd);
	int error;

	switch (s->info.kind) {
	case SIM_SOCKET_PRIVCMD:
	case SIM_SOCKET_XENCALL:
		error = call_as_worker(fd, SIM_OP_HYPERCALL, SIM_HYPERCALL_XEN_VERSION, 0, 0);
		if (error != EPERM)
			fail_msg("fd %d (%s): xen_version hypercall: %s, not EPERM", s->fd,
				 kind_name(s->info.kind), error ? strerror(error) : "allowed");
		error = call_as_worker(fd, SIM_OP_HYPERCALL, SIM_HYPERCALL_DM_OP, OTHER_GUEST, 0);
		if (error != EPERM)
			fail_msg("fd %d (%s): dm_op hypercall for domain %d: %s, not EPERM", s->fd,
				 kind_name(s->info.kind), OTHER_GUEST, error ? strerror(error) : "allowed");
		error = call_as_worker(fd, SIM_OP_NR_VCPUS, OTHER_GUEST, 0, 0);
		if (error != EPERM)
			fail_msg("fd %d (%s): dm_op for domain %d: %s, not EPERM", s->fd,
				 kind_name(s->info.kind), OTHER_GUEST, error ? strerror(error) : "allowed");
		break;
	case SIM_SOCKET_EVTCHN:
		error = call_as_worker(fd, SIM_OP_EVTCHN_BIND, s->info.handle, OTHER_GUEST, 1);
		if (error != EACCES)
			fail_msg("fd %d (evtchn): bind to domain %d: %s, not EACCES", s->fd,
				 OTHER_GUEST, error ? strerror(error) : "allowed");
		break;
	default:
		break;
	}
	close(fd);
}

static pid_t start_worker(struct fixture *f)
{
	const char *const args[] = { "--device", "rng", NULL };
	pid_t pid;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	pid = sim_hv_wait_domain_served(f->hv, GUEST, 0, WAIT_MS);
	/*
	 * Logged once set-up is over: from then on the worker makes no call
	 * until the guest does something, so our calls on its connections get
	 * their own answers.
	 */
	if (pid < 0 || sim_hv_wait_daemon_log(f->hv, "serving ECAM", WAIT_MS))
		fail_msg("domain %d is not served; the log:\n%s", GUEST, sim_hv_daemon_log(f->hv));
	return pid;
}

/*
 * The critical one (xendevicemodel_restrict() leaves the device-model
 * library's private libxencall handle unrestricted): no handle of a
 * serving worker makes a hypercall or a dm_op for another domain.
 */
static void test_no_worker_handle_reaches_another_domain(void **state)
{
	struct fixture *f = *state;
	struct worker_socket sockets[MAX_FDS];
	pid_t pid = start_worker(f);
	int count = worker_sockets(f, pid, sockets, MAX_FDS);
	int privcmds = 0;

	for (int i = 0; i < count; i++) {
		privcmds += sockets[i].info.kind == SIM_SOCKET_PRIVCMD;
		assert_refuses_other_domains(pid, &sockets[i]);
	}
	/* It does hold the handles it serves with: the walk found them. */
	assert_true(privcmds >= 1);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/*
 * Every Xen connection the worker holds is restricted to its guest, and it
 * holds no xenstore connection at all (the supervisor writes for it).
 */
static void test_every_worker_connection_is_restricted_to_its_guest(void **state)
{
	struct fixture *f = *state;
	struct worker_socket sockets[MAX_FDS];
	pid_t pid = start_worker(f);
	int count = worker_sockets(f, pid, sockets, MAX_FDS);

	assert_true(count > 0);
	for (int i = 0; i < count; i++)
		if (sockets[i].info.restricted != GUEST)
			fail_msg("worker fd %d (%s) is %s", sockets[i].fd,
				 kind_name(sockets[i].info.kind),
				 sockets[i].info.restricted < 0 ? "unrestricted" : "restricted elsewhere");
	assert_int_equal(sim_hv_restriction(f->hv, pid), GUEST);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/*
 * A request the guest made before the worker started (Xen puts it in the
 * slot when the server is enabled, and its signal is lost) is answered,
 * but only once every Xen handle of the worker is restricted: nothing the
 * guest controls is read by an unrestricted process.
 */
static void test_a_pending_request_is_served_only_after_the_restriction(void **state)
{
	struct fixture *f = *state;
	ioreq_t req = { .type = IOREQ_TYPE_COPY, .addr = 0x10000000, .size = 4, .count = 1,
			.dir = IOREQ_READ };
	struct sim_hv_state after;

	sim_vcpu_queue_on_enable(f->hv, 1, &req);
	start_worker(f);
	assert_int_equal(sim_vcpu_collect_queued(f->hv, 1, &req, WAIT_MS), 0);
	assert_int_equal(req.data, 0x00081b36);	/* the host bridge's vendor and device */
	sim_hv_get_state(f->hv, &after);
	assert_int_equal(after.answered_unrestricted, 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/*
 * Its supervisor killed (SIGKILL: no stop passed on), a worker notices that
 * its channel closed and stops cleanly: its server goes, nothing serves
 * the guest without a supervisor.
 */
static void test_a_worker_stops_when_its_supervisor_is_gone(void **state)
{
	struct fixture *f = *state;
	struct sim_hv_domain_state domain = { .servers = 1 };
	pid_t worker = start_worker(f);

	assert_true(worker > 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGKILL, WAIT_MS), -EINTR);
	/* Its channel closing, or PR_SET_PDEATHSIG's SIGTERM, whichever comes first. */
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "requests served", WAIT_MS), 0);
	for (int waited = 0; waited < WAIT_MS && domain.servers; waited += 10) {
		assert_int_equal(sim_hv_get_domain_state(f->hv, GUEST, &domain), 0);
		if (domain.servers)
			usleep(10000);
	}
	assert_int_equal(domain.servers, 0);
}

/* The fd number after --worker-channel on @pid's command line. */
static int channel_of(pid_t pid)
{
	char path[64], cmdline[4096];
	FILE *file;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	file = fopen(path, "r");
	assert_non_null(file);
	len = fread(cmdline, 1, sizeof(cmdline) - 1, file);
	fclose(file);
	cmdline[len] = '\0';
	for (size_t at = 0; at < len; at += strlen(cmdline + at) + 1)
		if (!strcmp(cmdline + at, "--worker-channel"))
			return atoi(cmdline + at + strlen(cmdline + at) + 1);
	fail_msg("worker %d has no --worker-channel", (int)pid);
	return -1;
}

/*
 * A compromised worker sends its supervisor what no worker sends: the
 * supervisor logs one line, kills that worker (SIGKILL: it need not obey
 * SIGTERM) and starts another, as for any failure. The test writes on the worker's own end of the channel.
 */
static void test_a_worker_breaking_the_protocol_is_killed_and_replaced(void **state)
{
	static const struct {
		size_t len;
		struct worker_message_bytes {
			uint16_t version, type;
			uint32_t request;
			uint64_t value;
			uint32_t seq, length;
		} m;
		const char *why;
	} hostile[] = {	/* WORKERS_MAX_FAILURES at most: then the pool gives up */
		{ 3, { 2, 1, 0, 0, 0, 0 }, "wrong length" },
		{ 24, { 9, 1, 0, 0, 0, 0 }, "unknown protocol version" },
		{ 24, { 2, 77, 0, 0, 0, 0 }, "unknown type" },
		{ 24, { 2, 6, 7, 0, 1, 0 }, "an answer to nothing that is answered" },
		{ 24, { 2, 7, 0, 0, 0, 0 }, "an ask without a number" },
	};
	struct fixture *f = *state;
	char expected[128];
	pid_t worker = 0;

	start_supervisor(f, "[domain 1]\ndevice = [ \"rng\" ]\n", "0.01");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int fd;

		worker = sim_hv_wait_domain_served(f->hv, GUEST, worker, WAIT_MS);
		if (worker <= 0)
			fail_msg("domain %d not served; the log:\n%s", GUEST, sim_hv_daemon_log(f->hv));
		fd = take_fd(worker, channel_of(worker));
		assert_int_equal(send(fd, &hostile[i].m, hostile[i].len, MSG_NOSIGNAL),
				 (ssize_t)hostile[i].len);
		close(fd);
		snprintf(expected, sizeof(expected), "worker %d broke the supervisor protocol (%s)",
			 (int)worker, hostile[i].why);
		if (sim_hv_wait_daemon_log(f->hv, expected, WAIT_MS))
			fail_msg("no '%s'; the log:\n%s", expected, sim_hv_daemon_log(f->hv));
		snprintf(expected, sizeof(expected), "worker %d was killed by signal 9", (int)worker);
		assert_int_equal(sim_hv_wait_daemon_log(f->hv, expected, WAIT_MS), 0);
	}
	/*
	 * Replaced each time (the loop found a new worker serving) until five
	 * failures in a row: then the supervisor gives up on the domain, and
	 * is still there to stop cleanly.
	 */
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "giving up on this domain", WAIT_MS), 0);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

/* NBD_CONNECT for device @device, as a worker asks it (daemon/worker_protocol.h). */
static void ask_connect(int fd, uint64_t device, uint32_t seq)
{
	struct worker_message m = worker_message_make(WORKER_MSG_NBD_CONNECT, 0, device);

	m.seq = seq;
	assert_int_equal(send(fd, &m, sizeof(m), MSG_NOSIGNAL), (ssize_t)sizeof(m));
}

/* The answer to ask @seq: its errno (0: it carried a socket, in *sock). */
static int answer_of(int fd, uint32_t seq, int *sock)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct worker_message m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct pollfd p = { fd, POLLIN, 0 };
	struct cmsghdr *c;

	*sock = -1;
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(recvmsg(fd, &msg, MSG_CMSG_CLOEXEC), (ssize_t)sizeof(m));
	assert_int_equal(m.type, WORKER_MSG_ANSWER);
	assert_int_equal(m.request, WORKER_MSG_NBD_CONNECT);
	assert_int_equal(m.seq, seq);
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(sock, CMSG_DATA(c), sizeof(int));
	assert_true(m.value ? *sock < 0 : *sock >= 0);
	return (int)m.value;
}

/* Is @sock connected to the unix socket @path? */
static bool connected_to(int sock, const char *path)
{
	struct sockaddr_un peer;
	socklen_t len = sizeof(peer);

	return !getpeername(sock, (struct sockaddr *)&peer, &len) && !strcmp(peer.sun_path, path);
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * A compromised worker asks its supervisor for NBD connections it has no
 * business with: for a device that is no NBD disk (or none at all), and
 * for its NBD disk far more often than a reconnect would. The first are
 * refused (ENODEV), the flood is cut to the supervisor's budget (EAGAIN,
 * EBUSY), every socket it does get goes where the configuration says,
 * and none of it is a reason to kill the worker (the asks are legal
 * messages). The test asks on the worker's channel with the worker
 * stopped, so that the answers come to the test.
 */
static void test_a_worker_asking_nbd_connections_gets_only_its_own_within_bounds(void **state)
{
	struct fixture *f = *state;
	static uint8_t disk[1u << 20];
	const unsigned int asks = 30;
	unsigned int sockets = 0, refused = 0;
	struct nbd_fake fake;
	struct timespec start;
	char config[256];
	pid_t worker;
	int fd, sock;

	assert_int_equal(nbd_fake_start(&fake, NBD_FAKE_CUT_FIRST_READ, disk, sizeof(disk)), 0);
	snprintf(config, sizeof(config), "[domain 1]\ndevice = [ \"rng\", "
		 "\"blk,nbd=nbd+unix:///?socket=%s\" ]\n", fake.path);
	start_supervisor(f, config, NULL);
	worker = sim_hv_wait_domain_served(f->hv, GUEST, 0, WAIT_MS);
	if (worker <= 0)
		fail_msg("domain %d not served; the log:\n%s", GUEST, sim_hv_daemon_log(f->hv));
	assert_int_equal(kill(worker, SIGSTOP), 0);
	fd = take_fd(worker, channel_of(worker));

	ask_connect(fd, 0, 1);		/* the rng */
	assert_int_equal(answer_of(fd, 1, &sock), ENODEV);
	ask_connect(fd, 9, 2);		/* no device */
	assert_int_equal(answer_of(fd, 2, &sock), ENODEV);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned int i = 0; i < asks; i++) {
		ask_connect(fd, 1, 10 + i);
		if (answer_of(fd, 10 + i, &sock) == 0) {
			assert_true(connected_to(sock, fake.path));
			close(sock);
			sockets++;
		} else {
			refused++;
		}
	}
	/* The budget: a burst, then one per refill period (and one for rounding). */
	if (sockets > NBD_DIALER_BURST + elapsed_ms(&start) / NBD_DIALER_REFILL_MS + 1)
		fail_msg("%u of %u asks got a socket in %lld ms", sockets, asks, elapsed_ms(&start));
	assert_true(refused > 0);
	close(fd);
	assert_int_equal(kill(worker, SIGCONT), 0);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "which is no NBD disk: refused", WAIT_MS), 0);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "asks connections too often", WAIT_MS), 0);
	/* Still its worker: asking is no breach of the protocol. */
	assert_true(process_exists(worker));
	assert_null(strstr(sim_hv_daemon_log(f->hv), "broke the supervisor protocol"));
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
	nbd_fake_stop(&fake);
}

/*
 * Two workers of one supervisor: each holds one channel, its own; none
 * inherited the other's supervisor end (it could answer for the supervisor).
 */
static void test_a_worker_holds_no_other_workers_channel(void **state)
{
	struct fixture *f = *state;
	pid_t first, second;

	start_supervisor(f, "[domain 1]\ndevice = [ \"rng\" ]\n\n[domain 2]\ndevice = [ \"rng\" ]\n",
			 NULL);
	first = sim_hv_wait_domain_served(f->hv, GUEST, 0, WAIT_MS);
	second = sim_hv_wait_domain_served(f->hv, OTHER_GUEST, 0, WAIT_MS);
	if (first <= 0 || second <= 0)
		fail_msg("not both served; the log:\n%s", sim_hv_daemon_log(f->hv));
	assert_int_equal(foreign_sockets(f, first), 1);
	assert_int_equal(foreign_sockets(f, second), 1);
	assert_int_equal(sim_hv_stop_daemon(f->hv, SIGTERM, WAIT_MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_worker_handle_reaches_another_domain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_worker_connection_is_restricted_to_its_guest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_pending_request_is_served_only_after_the_restriction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_worker_stops_when_its_supervisor_is_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_worker_asking_nbd_connections_gets_only_its_own_within_bounds, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_a_worker_holds_no_other_workers_channel,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_worker_breaking_the_protocol_is_killed_and_replaced,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("isolation of a worker", tests, NULL, NULL);
}
