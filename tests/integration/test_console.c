// SPDX-License-Identifier: MIT
/*
 * tests/integration/test_console.c: the daemon serving virtio-console
 * (virtio 1.2, 5.3) to a simulated Xen guest: this process drives the
 * device with tests/guest/guest_console.c, a driver written from the
 * specification, and plays dom0's side (socket clients, the pty, files).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "tests/guest/guest_console.h"
#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/integration/daemon_path.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE	0x10000000ULL
#define ECAM_SIZE	0x10000000ULL
#define MMIO64_BASE	0x100000000ULL
#define BAR_STRIDE	0x100000ULL
#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(64ULL << 20)
#define INTX_SPI_BASE	44
#define WAIT_MS		10000
#define MAX_CONSOLES	2

#define VIRTIO_VENDOR_ID	0x1af4
#define VIRTIO_CONSOLE_DEVICE_ID (0x1040 + 3)	/* 4.1.2: 5 Device Types, console = 3 */
#define ISR_CONFIG		0x2

#define F_SIZE		(1ULL << VIRTIO_CONSOLE_F_SIZE)
#define F_MULTIPORT	(1ULL << VIRTIO_CONSOLE_F_MULTIPORT)
#define F_EMERG_WRITE	(1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE)
#define F_RING		(1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX)
#define F_ALL		(F_SIZE | F_MULTIPORT | F_EMERG_WRITE | F_RING)

struct fixture {
	struct sim_hv *hv;
	struct guest_pci pci;
	struct guest_ram ram;
	struct guest_virtio vd[MAX_CONSOLES];
	struct guest_console gc[MAX_CONSOLES];
	unsigned int nr;
	char dir[32];		/* where the test's sockets and files are */
	char path[4][48];	/* dir/0 ... dir/3 */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/xvp-console-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	for (unsigned int i = 0; i < 4; i++)
		snprintf(f->path[i], sizeof(f->path[i]), "%s/%u", f->dir, i);
	f->hv = sim_hv_create(&(struct sim_hv_config){ .domid = 1, .nr_vcpus = 2 });
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sim_hv_destroy(f->hv);
	for (unsigned int i = 0; i < 4; i++)
		unlink(f->path[i]);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Start the daemon with @args and probe the @expected virtio-console functions. */
static void start(struct fixture *f, const char *const args[], unsigned int expected)
{
	struct guest_pci_function found[32];
	int count;

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	if (sim_hv_wait_serving(f->hv, WAIT_MS))
		fail_msg("daemon did not start serving; its log:\n%s", sim_hv_daemon_log(f->hv));
	guest_pci_init(&f->pci, f->hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&f->ram, f->hv, RAM_BASE, RAM_SIZE);
	count = guest_pci_scan_bus(&f->pci, 0, found, 32);
	f->nr = 0;
	for (int i = 0; i < count && i < 32; i++) {
		if (found[i].vendor_id != VIRTIO_VENDOR_ID ||
		    found[i].device_id != VIRTIO_CONSOLE_DEVICE_ID)
			continue;
		assert_true(f->nr < MAX_CONSOLES);
		assert_int_equal(guest_virtio_probe(&f->vd[f->nr], &f->pci, &found[i], &f->ram,
						    MMIO64_BASE + f->nr * BAR_STRIDE, INTX_SPI_BASE), 0);
		f->nr++;
	}
	assert_int_equal(f->nr, expected);
}

static struct guest_console *init(struct fixture *f, unsigned int i, uint64_t features)
{
	assert_int_equal(guest_console_init(&f->gc[i], &f->vd[i], features, true, WAIT_MS), 0);
	return &f->gc[i];
}

/* ---- dom0's side */

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

/* Exactly @len bytes from @fd, each wait bounded. */
static void read_exactly(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) != 1)
			fail_msg("no data after %zu of %zu bytes", done, len);
		n = read(fd, (uint8_t *)buf + done, len - done);
		if (n <= 0)
			fail_msg("read after %zu of %zu bytes: %zd (%s)", done, len, n, strerror(errno));
		done += (size_t)n;
	}
}

static void write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* The next control message must be @event for port @id (with @value unless -1). */
static struct guest_console_msg expect_control(struct guest_console *gc, uint16_t event,
					       uint32_t id, int value)
{
	struct guest_console_msg msg;

	assert_int_equal(guest_console_next_control(gc, &msg), 0);
	if (msg.event != event || msg.id != id || (value >= 0 && msg.value != value))
		fail_msg("control message: event %u id %u value %u; expected event %u id %u value %d",
			 msg.event, msg.id, msg.value, event, id, value);
	return msg;
}

/* ---- tests */

static void test_console_port_on_a_socket_both_ways(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console *gc;
	char got[16];
	int client;

	snprintf(option, sizeof(option), "console,console=socket=%s", f->path[0]);
	start(f, args, 1);
	/* 5.3.3: one port on a socket: no MULTIPORT, no SIZE (no terminal), EMERG_WRITE. */
	gc = init(f, 0, F_ALL);
	assert_int_equal(f->vd[0].device_features & (F_SIZE | F_MULTIPORT | F_EMERG_WRITE),
			 F_EMERG_WRITE);
	assert_int_equal(f->vd[0].num_queues, 2);
	client = connect_to(f->path[0]);
	assert_int_equal(guest_console_write(gc, 0, "hello dom0\n", 11), 0);
	read_exactly(client, got, 11);
	assert_memory_equal(got, "hello dom0\n", 11);
	write_all(client, "ls\n", 3);
	assert_int_equal(guest_console_read_all(gc, 0, got, 3), 0);
	assert_memory_equal(got, "ls\n", 3);
	close(client);
}

/* DEVICE_READY, DEVICE_ADD and PORT_READY for each, then what a ready port is told. */
static void test_multiport_set_up_names_the_ports(void **state)
{
	struct fixture *f = *state;
	char option[512];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console_msg msg;
	struct guest_console *gc;
	unsigned int seen[3] = { 0 };

	snprintf(option, sizeof(option), "console,console=null,port=org.qemu.guest_agent.0:socket=%s,"
		 "port=log:file=%s", f->path[0], f->path[1]);
	start(f, args, 1);
	gc = init(f, 0, F_ALL);
	assert_true(f->vd[0].driver_features & F_MULTIPORT);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4), 3);
	assert_int_equal(f->vd[0].num_queues, 8);
	assert_int_equal(guest_console_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1), 0);
	for (uint32_t id = 0; id < 3; id++)
		expect_control(gc, VIRTIO_CONSOLE_DEVICE_ADD, id, -1);
	for (uint32_t id = 0; id < 3; id++)
		assert_int_equal(guest_console_control(gc, id, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	/* Port 0: the console, open (null is always there); 1: named, no client yet; 2: named, open. */
	for (unsigned int n = 0; n < 6; n++) {
		assert_int_equal(guest_console_next_control(gc, &msg), 0);
		assert_true(msg.id < 3);
		seen[msg.id]++;
		if (msg.event == VIRTIO_CONSOLE_CONSOLE_PORT)
			assert_int_equal(msg.id, 0);
		else if (msg.event == VIRTIO_CONSOLE_PORT_NAME)
			assert_string_equal(msg.name, msg.id == 1 ? "org.qemu.guest_agent.0" : "log");
		else if (msg.event == VIRTIO_CONSOLE_PORT_OPEN)
			assert_int_equal(msg.value, msg.id != 1);
		else
			fail_msg("unexpected control event %u for port %u", msg.event, msg.id);
	}
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 2);
}

/* Bring up the ports of a multiport console; the messages after PORT_READY are consumed. */
static struct guest_console *bring_up(struct fixture *f, unsigned int i, unsigned int nr_ports,
				      unsigned int after_ready)
{
	struct guest_console *gc = init(f, i, F_ALL);
	struct guest_console_msg msg;

	assert_int_equal(guest_console_bring_up(gc, nr_ports), 0);
	for (unsigned int n = 0; n < after_ready; n++)
		assert_int_equal(guest_console_next_control(gc, &msg), 0);
	return gc;
}

static void test_port_open_follows_the_socket_client(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console *gc;
	char got[8];
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s", f->path[0]);
	start(f, args, 1);
	/* Port 0: CONSOLE_PORT, PORT_OPEN; port 1: PORT_NAME, PORT_OPEN 0. */
	gc = bring_up(f, 0, 2, 4);
	assert_int_equal(guest_console_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	for (int round = 0; round < 2; round++) {
		client = connect_to(f->path[0]);
		expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
		write_all(client, "ping", 4);
		assert_int_equal(guest_console_read_all(gc, 1, got, 4), 0);
		assert_memory_equal(got, "ping", 4);
		assert_int_equal(guest_console_write(gc, 1, "pong", 4), 0);
		read_exactly(client, got, 4);
		assert_memory_equal(got, "pong", 4);
		close(client);
		expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 0);
	}
}

/*
 * The console port of a multiport device on a socket, brought up as Linux
 * does (init_port_console: PORT_OPEN 1 as soon as CONSOLE_PORT comes): a
 * dom0 client that connects later types into the guest's hvc and reads
 * what it writes.
 */
static void test_multiport_console_port_on_a_socket_both_ways(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console *gc;
	char got[16];
	int client;

	snprintf(option, sizeof(option), "console,console=socket=%s,port=chan:socket=%s",
		 f->path[0], f->path[1]);
	start(f, args, 1);
	/* Port 0: CONSOLE_PORT, PORT_OPEN 0 (no client yet); port 1: PORT_NAME, PORT_OPEN 0. */
	gc = bring_up(f, 0, 2, 4);
	assert_int_equal(guest_console_control(gc, 0, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	assert_int_equal(guest_console_write(gc, 0, "login: ", 7), 0);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 0, 1);
	read_exactly(client, got, 7);
	assert_memory_equal(got, "login: ", 7);
	write_all(client, "echo hi\n", 8);
	assert_int_equal(guest_console_read_all(gc, 0, got, 8), 0);
	assert_memory_equal(got, "echo hi\n", 8);
	assert_int_equal(guest_console_write(gc, 0, "hi\n", 3), 0);
	read_exactly(client, got, 3);
	assert_memory_equal(got, "hi\n", 3);
	close(client);
}

/* A reset forgets the guest's side only: a client still there is announced again, bytes flow. */
static void test_a_reset_keeps_the_client_and_says_so_again(void **state)
{
	struct fixture *f = *state;
	char option[256], got[4];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console_msg msg;
	struct guest_console *gc;
	bool open_seen = false;
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s", f->path[0]);
	start(f, args, 1);
	bring_up(f, 0, 2, 4);
	client = connect_to(f->path[0]);
	expect_control(&f->gc[0], VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	assert_int_equal(guest_virtio_reset(&f->vd[0]), 0);
	gc = init(f, 0, F_ALL);
	assert_int_equal(guest_console_bring_up(gc, 2), 0);
	for (unsigned int n = 0; n < 4; n++) {
		assert_int_equal(guest_console_next_control(gc, &msg), 0);
		if (msg.id == 1 && msg.event == VIRTIO_CONSOLE_PORT_OPEN) {
			assert_int_equal(msg.value, 1);
			open_seen = true;
		}
	}
	assert_true(open_seen);
	assert_int_equal(guest_console_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	write_all(client, "back", 4);
	assert_int_equal(guest_console_read_all(gc, 1, got, 4), 0);
	assert_memory_equal(got, "back", 4);
	close(client);
}

static void test_input_waits_until_the_guest_opens_the_port(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	struct guest_console *gc;
	char got[6];
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s", f->path[0]);
	start(f, args, 1);
	gc = bring_up(f, 0, 2, 4);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	/* Written before any guest program opened the port: kept in dom0, not lost. */
	write_all(client, "early", 5);
	assert_int_equal(guest_console_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	assert_int_equal(guest_console_read_all(gc, 1, got, 5), 0);
	assert_memory_equal(got, "early", 5);
	close(client);
}

static void test_file_port_appends_guest_output_and_null_takes_it(void **state)
{
	struct fixture *f = *state;
	char option[256], got[32] = "";
	const char *const args[] = { "--device", option, NULL };
	struct guest_console *gc;
	int fd;

	fd = open(f->path[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	write_all(fd, "before\n", 7);
	close(fd);
	snprintf(option, sizeof(option), "console,console=null,port=log:file=%s", f->path[1]);
	start(f, args, 1);
	gc = bring_up(f, 0, 2, 4);
	assert_int_equal(guest_console_write(gc, 0, "into nothing", 12), 0);
	assert_int_equal(guest_console_write(gc, 1, "line 1\n", 7), 0);
	assert_int_equal(guest_console_write(gc, 1, "line 2\n", 7), 0);
	fd = open(f->path[1], O_RDONLY);
	assert_int_equal(read(fd, got, sizeof(got) - 1), 21);
	close(fd);
	assert_string_equal(got, "before\nline 1\nline 2\n");
}

/* The pty's path, from the daemon's line about the device. */
static void pty_path(struct fixture *f, char *path, size_t len)
{
	const char *at;

	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "console pty /dev/", WAIT_MS), 0);
	at = strstr(sim_hv_daemon_log(f->hv), "console pty ") + strlen("console pty ");
	snprintf(path, len, "%.*s", (int)strcspn(at, ",\n"), at);
}

static void test_pty_console_both_ways_and_its_size(void **state)
{
	struct fixture *f = *state;
	const char *const args[] = { "--device", "console", NULL };
	struct winsize size = { .ws_row = 40, .ws_col = 100 };
	struct guest_console *gc;
	char path[64], got[8];
	uint8_t generation;
	int slave;

	start(f, args, 1);
	gc = init(f, 0, F_ALL);
	/* 5.3.3: a pty has a size: SIZE, the console's cols and rows in the configuration. */
	assert_true(f->vd[0].driver_features & F_SIZE);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_COLS, 2), 80);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_ROWS, 2), 24);
	pty_path(f, path, sizeof(path));
	slave = open(path, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(guest_console_write(gc, 0, "login: ", 7), 0);
	read_exactly(slave, got, 7);
	assert_memory_equal(got, "login: ", 7);

	/* The terminal on the slave is resized; the next keystroke carries the new size. */
	generation = guest_virtio_config_generation(&f->vd[0]);
	assert_int_equal(ioctl(slave, TIOCSWINSZ, &size), 0);
	write_all(slave, "r", 1);
	assert_int_equal(guest_console_read_all(gc, 0, got, 1), 0);
	assert_int_equal(got[0], 'r');
	/* 4.1.4.3: a configuration change moves config_generation. */
	assert_int_not_equal(guest_virtio_config_generation(&f->vd[0]), generation);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_COLS, 2), 100);
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_ROWS, 2), 40);
	close(slave);
}

static void test_multiport_pty_console_is_resized_by_message(void **state)
{
	struct fixture *f = *state;
	char option[256], path[64], got[4];
	const char *const args[] = { "--device", option, NULL };
	struct winsize size = { .ws_row = 50, .ws_col = 132 };
	struct guest_console_msg msg;
	struct guest_console *gc;
	int slave;

	snprintf(option, sizeof(option), "console,console=pty,port=chan:null");
	start(f, args, 1);
	gc = init(f, 0, F_ALL);
	assert_int_equal(guest_console_bring_up(gc, 2), 0);
	/* Port 0: CONSOLE_PORT, RESIZE 80x24, PORT_OPEN; port 1: PORT_NAME, PORT_OPEN. */
	for (unsigned int n = 0, resizes = 0; n < 5; n++) {
		assert_int_equal(guest_console_next_control(gc, &msg), 0);
		if (msg.event != VIRTIO_CONSOLE_RESIZE)
			continue;
		assert_int_equal(++resizes, 1);
		assert_int_equal(msg.id, 0);
		assert_int_equal(msg.cols, 80);
		assert_int_equal(msg.rows, 24);
	}
	assert_int_equal(guest_console_control(gc, 0, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	pty_path(f, path, sizeof(path));
	slave = open(path, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(ioctl(slave, TIOCSWINSZ, &size), 0);
	write_all(slave, "x", 1);
	assert_int_equal(guest_console_read_all(gc, 0, got, 1), 0);
	msg = expect_control(gc, VIRTIO_CONSOLE_RESIZE, 0, -1);
	assert_int_equal(msg.cols, 132);
	assert_int_equal(msg.rows, 50);
	close(slave);
}

/*
 * No one reads: the ring keeps the newest buffer= bytes, the oldest are
 * dropped; the client that comes gets exactly those, then what follows.
 */
static void test_output_without_a_reader_keeps_the_newest_bytes(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	static uint8_t chunk[3][4096], got[4096 + 3];
	struct guest_console *gc;
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s,buffer=4K",
		 f->path[0]);
	start(f, args, 1);
	gc = bring_up(f, 0, 2, 4);
	for (unsigned int i = 0; i < 3; i++) {
		memset(chunk[i], 'A' + (int)i, sizeof(chunk[i]));
		chunk[i][0] = (uint8_t)('0' + i);
		assert_int_equal(guest_console_write(gc, 1, chunk[i], sizeof(chunk[i])), 0);
	}
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	assert_int_equal(guest_console_write(gc, 1, "END", 3), 0);
	read_exactly(client, got, sizeof(got));
	assert_memory_equal(got, chunk[2], 4096);
	assert_memory_equal(got + 4096, "END", 3);
	close(client);
	assert_int_equal(sim_hv_wait_daemon_log(f->hv, "8192 bytes of output dropped", WAIT_MS), 0);
}

/*
 * A client that is connected but reads nothing holds the transmitq (its
 * output is not dropped); when it leaves, the queue goes on at once, and
 * the ring keeps the newest bytes for the next client.
 */
static void test_a_stalled_port_goes_on_when_its_client_leaves(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	enum { CHAINS = 32, CHUNK = 32768 };
	static uint8_t sent[CHAINS * CHUNK], got[4096 + 3];
	static struct guest_buf bufs[CHAINS];
	struct guest_virtio *vd = &f->vd[0];
	unsigned int txq = guest_console_txq(1), used = 0;
	struct guest_console *gc;
	uint32_t len;
	void *token;
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s,buffer=4K",
		 f->path[0]);
	start(f, args, 1);
	gc = bring_up(f, 0, 2, 4);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	for (unsigned int i = 0; i < CHAINS; i++) {
		memset(sent + i * CHUNK, 'a' + (int)i, CHUNK);
		bufs[i] = (struct guest_buf){ guest_ram_alloc(&f->ram, CHUNK, 64), CHUNK, false };
		memcpy(guest_ram_ptr(&f->ram, bufs[i].gpa, CHUNK), sent + i * CHUNK, CHUNK);
		assert_int_equal(guest_virtio_add(vd, (uint16_t)txq, &bufs[i], 1, &bufs[i]), 0);
	}
	/*
	 * The kick is answered before the queue is served (the notify path):
	 * wait for the first chain back, then for the port to stall with the
	 * socket and the ring full; the rest waits for the client.
	 */
	guest_virtio_notify(vd, (uint16_t)txq);
	assert_int_equal(guest_console_wait_used(gc, txq, &len, &token), 1);
	used = 1;
	usleep(200000);	/* time for the pass to run into the stall; more would only be stricter */
	while (guest_virtio_get_used(vd, (uint16_t)txq, &len, &token) == 1)
		used++;
	assert_in_range(used, 1, CHAINS / 2);
	close(client);
	while (used < CHAINS) {
		assert_int_equal(guest_console_wait_used(gc, txq, &len, &token), 1);
		used++;
	}
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 0);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	assert_int_equal(guest_console_write(gc, 1, "END", 3), 0);
	read_exactly(client, got, sizeof(got));
	assert_memory_equal(got, sent + sizeof(sent) - 4096, 4096);
	assert_memory_equal(got + 4096, "END", 3);
	close(client);
}

/* A reader that is there is waited for: 1 MiB through a 4K ring arrives whole. */
static void test_a_slow_reader_gets_every_byte(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	enum { TOTAL = 1 << 20, CHUNK = 32768 };
	uint8_t *sent = malloc(TOTAL), *got = malloc(TOTAL);
	struct guest_console *gc;
	int client;
	pid_t reader;
	int pipefd[2];

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s,buffer=4K",
		 f->path[0]);
	start(f, args, 1);
	gc = bring_up(f, 0, 2, 4);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	for (size_t i = 0; i < TOTAL; i++)
		sent[i] = (uint8_t)(i * 7 + i / 251);
	/* The reader runs beside the guest: the guest's writes wait for it, never the reverse. */
	assert_int_equal(pipe(pipefd), 0);
	reader = fork();
	if (!reader) {
		read_exactly(client, got, TOTAL);
		_exit(write(pipefd[1], got, 0) == 0 && !memcmp(got, sent, TOTAL) ? 0 : 1);
	}
	for (size_t off = 0; off < TOTAL; off += CHUNK)
		assert_int_equal(guest_console_write(gc, 1, sent + off, CHUNK), 0);
	{
		int status;

		assert_int_equal(waitpid(reader, &status, 0), reader);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(client);
	free(sent);
	free(got);
}


/* 5.3.4: EMERG_WRITE works before the driver set anything up, even the features. */
static void test_emergency_write_before_initialisation(void **state)
{
	struct fixture *f = *state;
	char option[256], got[2];
	const char *const args[] = { "--device", option, NULL };
	int client;

	snprintf(option, sizeof(option), "console,console=socket=%s", f->path[0]);
	start(f, args, 1);
	client = connect_to(f->path[0]);
	assert_int_equal(sim_vcpu_mmio_write(f->hv, 0, f->vd[0].device_gpa + VIRTIO_CONSOLE_CFG_EMERG_WR,
					     4, '!'), 0);
	assert_int_equal(guest_virtio_negotiate(&f->vd[0], F_ALL), 0);
	assert_true(f->vd[0].driver_features & F_EMERG_WRITE);
	assert_int_equal(sim_vcpu_mmio_write(f->hv, 0, f->vd[0].device_gpa + VIRTIO_CONSOLE_CFG_EMERG_WR,
					     4, '\n'), 0);
	read_exactly(client, got, 2);
	assert_memory_equal(got, "!\n", 2);
	/* 5.3.4: emerg_wr reads 0 and the device's fields are not the driver's to write. */
	assert_int_equal(guest_virtio_config_read(&f->vd[0], VIRTIO_CONSOLE_CFG_EMERG_WR, 4), 0);
	close(client);
}

/* A port the guest gives no buffers is not read: what dom0 wrote waits in dom0, all of it. */
static void test_no_receive_buffers_no_reading(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	static uint8_t sent[1 << 20], got[1 << 20];
	struct guest_console_msg msg;
	struct guest_console *gc;
	size_t written = 0;
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s", f->path[0]);
	start(f, args, 1);
	assert_int_equal(guest_console_init(&f->gc[0], &f->vd[0], F_ALL, false, WAIT_MS), 0);
	gc = &f->gc[0];
	guest_console_post_rx(gc, GUEST_CONSOLE_CONTROL_RXQ);
	assert_int_equal(guest_console_bring_up(gc, 2), 0);
	for (unsigned int n = 0; n < 4; n++)
		assert_int_equal(guest_console_next_control(gc, &msg), 0);
	assert_int_equal(guest_console_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	client = connect_to(f->path[0]);
	expect_control(gc, VIRTIO_CONSOLE_PORT_OPEN, 1, 1);
	for (size_t i = 0; i < sizeof(sent); i++)
		sent[i] = (uint8_t)(i % 253);
	/* Until the socket is full: the device took nothing into buffers it does not have. */
	fcntl(client, F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = write(client, sent + written, sizeof(sent) - written);

		if (n < 0 && errno == EAGAIN)
			break;
		assert_true(n > 0);
		written += (size_t)n;
		assert_true(written < sizeof(sent));
	}
	fcntl(client, F_SETFL, 0);
	/* Meanwhile the device serves the rest of the port. */
	assert_int_equal(guest_console_write(gc, 1, "still here", 10), 0);
	read_exactly(client, got, 10);
	assert_memory_equal(got, "still here", 10);
	guest_console_post_rx(gc, guest_console_rxq(1));
	assert_int_equal(guest_console_read_all(gc, 1, got, written), 0);
	assert_memory_equal(got, sent, written);
	close(client);
}

/* 1024 one-byte receive buffers get a byte each; 1024 one-byte chains of output, one chain. */
static void test_one_byte_buffers_by_the_thousand(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	static struct guest_buf bufs[1024];
	uint8_t sent[1024], got[1024];
	struct guest_virtio *vd = &f->vd[0];
	unsigned int rxq = guest_console_rxq(1);
	struct guest_console *gc;
	int client;

	snprintf(option, sizeof(option), "console,console=null,port=chan:socket=%s,queue-size=1024",
		 f->path[0]);
	start(f, args, 1);
	assert_int_equal(guest_console_init(&f->gc[0], vd, F_ALL, false, WAIT_MS), 0);
	gc = &f->gc[0];
	guest_console_post_rx(gc, GUEST_CONSOLE_CONTROL_RXQ);
	assert_int_equal(guest_console_bring_up(gc, 2), 0);
	client = connect_to(f->path[0]);
	for (unsigned int i = 0; i < 1024; i++) {
		sent[i] = (uint8_t)(i * 13);
		bufs[i] = (struct guest_buf){ guest_ram_alloc(&f->ram, 1, 1), 1, true };
		assert_int_equal(guest_virtio_add(vd, (uint16_t)rxq, &bufs[i], 1, &bufs[i]), 0);
	}
	guest_virtio_kick(vd, (uint16_t)rxq);
	assert_int_equal(guest_console_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	write_all(client, sent, sizeof(sent));
	for (unsigned int i = 0; i < 1024; i++) {
		uint32_t len;
		void *token;

		assert_int_equal(guest_console_wait_used(gc, rxq, &len, &token), 1);
		assert_ptr_equal(token, &bufs[i]);
		assert_int_equal(len, 1);
		assert_int_equal(*(uint8_t *)guest_ram_ptr(&f->ram, bufs[i].gpa, 1), sent[i]);
	}
	/* One transmit chain of 1024 one-byte buffers, in an indirect table. */
	vd->use_indirect = true;
	for (unsigned int i = 0; i < 1024; i++) {
		bufs[i] = (struct guest_buf){ guest_ram_alloc(&f->ram, 1, 1), 1, false };
		*(uint8_t *)guest_ram_ptr(&f->ram, bufs[i].gpa, 1) = sent[1023 - i];
	}
	assert_int_equal(guest_virtio_add(vd, (uint16_t)guest_console_txq(1), bufs, 1024, bufs), 0);
	guest_virtio_kick(vd, (uint16_t)guest_console_txq(1));
	read_exactly(client, got, sizeof(got));
	for (unsigned int i = 0; i < 1024; i++)
		assert_int_equal(got[i], sent[1023 - i]);

	/* Receive chains of 1024 one-byte buffers: filled in order, as many as it takes. */
	write_all(client, sent, sizeof(sent));
	for (unsigned int done = 0; done < sizeof(sent);) {
		uint32_t len;
		void *token;

		for (unsigned int i = 0; i < 1024; i++)
			bufs[i] = (struct guest_buf){ guest_ram_alloc(&f->ram, 1, 1), 1, true };
		assert_int_equal(guest_virtio_add(vd, (uint16_t)rxq, bufs, 1024, bufs), 0);
		guest_virtio_kick(vd, (uint16_t)rxq);
		assert_int_equal(guest_console_wait_used(gc, rxq, &len, &token), 1);
		assert_ptr_equal(token, bufs);
		assert_in_range(len, 1, sizeof(sent) - done);
		for (unsigned int i = 0; i < len; i++)
			assert_int_equal(*(uint8_t *)guest_ram_ptr(&f->ram, bufs[i].gpa, 1), sent[done + i]);
		done += len;
	}
	close(client);
}

/* ---- what no driver may do: the device needs a reset, the other device goes on */

static void put_buffer(struct guest_console *gc, unsigned int queue, const void *bytes,
		       uint32_t len, bool writable)
{
	struct guest_buf buf = { guest_ram_alloc(gc->vd->ram, len, 8), len, writable };

	if (!writable)
		memcpy(guest_ram_ptr(gc->vd->ram, buf.gpa, len), bytes, len);
	assert_int_equal(guest_virtio_add(gc->vd, (uint16_t)queue, &buf, 1, NULL), 0);
	guest_virtio_notify(gc->vd, (uint16_t)queue);
}

static void put_control(struct guest_console *gc, uint32_t id, uint16_t event, uint16_t value,
			uint32_t len)
{
	uint8_t msg[16] = { 0 };

	memcpy(msg, &id, 4);
	memcpy(msg + 4, &event, 2);
	memcpy(msg + 6, &value, 2);
	put_buffer(gc, GUEST_CONSOLE_CONTROL_TXQ, msg, len, false);
}

static void short_message(struct guest_console *gc)
{
	put_control(gc, 0, VIRTIO_CONSOLE_PORT_READY, 1, 4);
}

static void long_message(struct guest_console *gc)
{
	put_control(gc, 0, VIRTIO_CONSOLE_PORT_READY, 1, 9);
}

static void device_add_from_the_driver(struct guest_console *gc)
{
	put_control(gc, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1, 8);
}

static void unknown_event(struct guest_console *gc)
{
	put_control(gc, 0, 42, 1, 8);
}

static void port_id_beyond_the_ports(struct guest_console *gc)
{
	assert_int_equal(guest_console_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1), 0);
	put_control(gc, 2, VIRTIO_CONSOLE_PORT_READY, 1, 8);
}

static void huge_port_id(struct guest_console *gc)
{
	put_control(gc, 0xffffffffu, VIRTIO_CONSOLE_PORT_OPEN, 1, 8);
}

static void port_ready_before_device_add(struct guest_console *gc)
{
	put_control(gc, 1, VIRTIO_CONSOLE_PORT_READY, 1, 8);
}

static void port_open_before_port_ready(struct guest_console *gc)
{
	put_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, 8);
}

static void port_open_with_value_2(struct guest_console *gc)
{
	assert_int_equal(guest_console_bring_up(gc, 2), 0);
	put_control(gc, 1, VIRTIO_CONSOLE_PORT_OPEN, 2, 8);
}

static void device_ready_with_value_7(struct guest_console *gc)
{
	put_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 7, 8);
}

static void control_buffer_too_short_for_a_message(struct guest_console *gc)
{
	put_buffer(gc, GUEST_CONSOLE_CONTROL_RXQ, NULL, 4, true);
	put_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1, 8);
}

static void writable_buffer_in_the_control_transmitq(struct guest_console *gc)
{
	put_buffer(gc, GUEST_CONSOLE_CONTROL_TXQ, NULL, 8, true);
}

static void readable_buffer_in_a_receiveq(struct guest_console *gc)
{
	put_buffer(gc, GUEST_CONSOLE_CONTROL_RXQ, "abcdefgh", 8, false);
	assert_int_equal(guest_console_control(gc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1), 0);
}

static void writable_buffer_in_a_transmitq(struct guest_console *gc)
{
	put_buffer(gc, guest_console_txq(1), NULL, 16, true);
}

static const struct {
	const char *name;
	void (*misbehave)(struct guest_console *gc);
	bool control_buffers;		/* give the control receiveq its buffers first */
} violations[] = {
	{ "a 4-byte control message", short_message, true },
	{ "a 9-byte control message", long_message, true },
	{ "DEVICE_ADD from the driver", device_add_from_the_driver, true },
	{ "control event 42", unknown_event, true },
	{ "PORT_READY for port 2 of 2", port_id_beyond_the_ports, true },
	{ "PORT_OPEN for port 0xffffffff", huge_port_id, true },
	{ "PORT_READY before DEVICE_ADD", port_ready_before_device_add, true },
	{ "PORT_OPEN before PORT_READY", port_open_before_port_ready, true },
	{ "PORT_OPEN with value 2", port_open_with_value_2, true },
	{ "DEVICE_READY with value 7", device_ready_with_value_7, true },
	{ "a 4-byte control receive buffer", control_buffer_too_short_for_a_message, false },
	{ "a writable buffer in the control transmitq", writable_buffer_in_the_control_transmitq, true },
	{ "a readable buffer in the control receiveq", readable_buffer_in_a_receiveq, false },
	{ "a writable buffer in a port's transmitq", writable_buffer_in_a_transmitq, true },
};

static void wait_needs_reset(struct guest_virtio *vd, const char *what)
{
	for (;;) {
		unsigned long seen = guest_virtio_interrupts(vd);

		if (guest_virtio_get_status(vd) & VIRTIO_STATUS_NEEDS_RESET)
			return;
		if (guest_virtio_wait_interrupt(vd, seen, WAIT_MS))
			fail_msg("%s: no DEVICE_NEEDS_RESET", what);
	}
}

static void test_protocol_violations_need_a_reset_of_that_device_only(void **state)
{
	struct fixture *f = *state;
	char first[256], second[256], got[3];
	const char *const args[] = { "--device", first, "--device", second, NULL };
	struct guest_console *other;
	int client;

	snprintf(first, sizeof(first), "console,console=null,port=chan:null");
	snprintf(second, sizeof(second), "console,console=socket=%s", f->path[0]);
	start(f, args, 2);
	other = init(f, 1, F_ALL);
	client = connect_to(f->path[0]);
	for (size_t i = 0; i < sizeof(violations) / sizeof(violations[0]); i++) {
		struct guest_console *gc;

		assert_int_equal(guest_virtio_reset(&f->vd[0]), 0);
		assert_int_equal(guest_console_init(&f->gc[0], &f->vd[0], F_ALL, false, WAIT_MS), 0);
		gc = &f->gc[0];
		if (violations[i].control_buffers)
			guest_console_post_rx(gc, GUEST_CONSOLE_CONTROL_RXQ);
		violations[i].misbehave(gc);
		wait_needs_reset(&f->vd[0], violations[i].name);
		/* The other console in the same daemon is not disturbed. */
		assert_false(guest_virtio_get_status(&f->vd[1]) & VIRTIO_STATUS_NEEDS_RESET);
		assert_int_equal(guest_console_write(other, 0, "ok\n", 3), 0);
		read_exactly(client, got, 3);
		assert_memory_equal(got, "ok\n", 3);
	}
	/* And the device that needed a reset works again after one. */
	assert_int_equal(guest_virtio_reset(&f->vd[0]), 0);
	bring_up(f, 0, 2, 4);
	assert_int_equal(guest_console_write(&f->gc[0], 1, "fine", 4), 0);
	close(client);
}

/* Before anything is registered with Xen: exit status 2, the path and the reason named. */
static void assert_refused_at_start(struct fixture *f, const char *option, const char *reason)
{
	const char *const args[] = { "--device", option, NULL };

	assert_int_equal(sim_hv_start_daemon(f->hv, sim_daemon_path(), args), 0);
	assert_int_equal(sim_hv_wait_daemon_exit(f->hv, WAIT_MS), 2);
	if (!strstr(sim_hv_daemon_log(f->hv), reason))
		fail_msg("no '%s' in the log:\n%s", reason, sim_hv_daemon_log(f->hv));
}

static void test_a_socket_path_in_the_way_is_refused_a_stale_one_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char option[256], got[2];
	const char *const args[] = { "--device", option, NULL };
	int fd, client;

	fd = open(f->path[0], O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(option, sizeof(option), "console,console=socket=%s", f->path[0]);
	assert_refused_at_start(f, option, "exists and is not a socket");
	unlink(f->path[0]);

	/* A socket file no one listens on any more (an earlier daemon's): replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->path[0]);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	start(f, args, 1);
	init(f, 0, F_ALL);
	client = connect_to(f->path[0]);
	assert_int_equal(guest_console_write(&f->gc[0], 0, "up", 2), 0);
	read_exactly(client, got, 2);
	assert_memory_equal(got, "up", 2);
	/* mode= was not given: only the daemon's user may connect. */
	{
		struct stat st;

		assert_int_equal(stat(f->path[0], &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	close(client);
}

static void test_owner_and_mode_apply_to_what_the_console_makes(void **state)
{
	struct fixture *f = *state;
	char option[256];
	const char *const args[] = { "--device", option, NULL };
	struct stat st;

	snprintf(option, sizeof(option), "console,console=socket=%.64s,port=log:file=%.64s,owner=0:%u,"
		 "mode=0640", f->path[0], f->path[1], (unsigned int)getgid() + 1);
	start(f, args, 1);
	assert_int_equal(stat(f->path[0], &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, getgid() + 1);
	assert_int_equal(stat(f->path[1], &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, getgid() + 1);
}

static const struct CMUnitTest console_tests[] = {
	cmocka_unit_test_setup_teardown(test_console_port_on_a_socket_both_ways, setup, teardown),
	cmocka_unit_test_setup_teardown(test_multiport_set_up_names_the_ports, setup, teardown),
	cmocka_unit_test_setup_teardown(test_port_open_follows_the_socket_client, setup, teardown),
	cmocka_unit_test_setup_teardown(test_multiport_console_port_on_a_socket_both_ways, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_a_reset_keeps_the_client_and_says_so_again, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_input_waits_until_the_guest_opens_the_port, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_file_port_appends_guest_output_and_null_takes_it,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_pty_console_both_ways_and_its_size, setup, teardown),
	cmocka_unit_test_setup_teardown(test_multiport_pty_console_is_resized_by_message, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_output_without_a_reader_keeps_the_newest_bytes, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_a_slow_reader_gets_every_byte, setup, teardown),
	cmocka_unit_test_setup_teardown(test_a_stalled_port_goes_on_when_its_client_leaves, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_emergency_write_before_initialisation, setup, teardown),
	cmocka_unit_test_setup_teardown(test_no_receive_buffers_no_reading, setup, teardown),
	cmocka_unit_test_setup_teardown(test_one_byte_buffers_by_the_thousand, setup, teardown),
	cmocka_unit_test_setup_teardown(test_protocol_violations_need_a_reset_of_that_device_only,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_a_socket_path_in_the_way_is_refused_a_stale_one_replaced,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_owner_and_mode_apply_to_what_the_console_makes, setup,
					teardown),
};

int main(void)
{
	return cmocka_run_group_tests(console_tests, NULL, NULL);
}
