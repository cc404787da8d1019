// SPDX-License-Identifier: MIT
/*
 * tests/boot/sock_client.c: xvp-sock [-n BYTES] [-m MARKER] [-t SECONDS] PATH,
 * run in dom0 by the boot test: a client of a virtio-console port's unix
 * stream socket (busybox's nc has no -U).
 *
 * It connects to PATH (retrying until the socket is there), sends its stdin
 * to the socket and copies what the socket sends to its stdout, until:
 *   -n BYTES   exactly BYTES have come from the socket (never more is read);
 *   -m MARKER  the bytes from the socket contain MARKER;
 *   neither    the socket closes.
 * At stdin's end it stops reading stdin but keeps the connection whole (no
 * shutdown): the daemon takes a client's end for its leaving, and the guest
 * would see the port close. Exits 0 when done, 1 when the socket closed
 * first or SECONDS (default 60) passed, 2 on a usage error.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MARKER_MAX 256

struct goal {
	long long bytes;		/* -n: bytes still to come; -1 for no count */
	const char *marker;		/* -m, or NULL */
	char tail[2 * MARKER_MAX];	/* the last bytes seen, for the marker */
	size_t tail_len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_until(const char *path, double deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xvp-sock: %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("xvp-sock: socket");
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		/* Not there yet (the daemon starting) or refused: try again. */
		if (now() >= deadline) {
			fprintf(stderr, "xvp-sock: connect %s: %s\n", path, strerror(errno));
			return -1;
		}
		usleep(100000);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Note @len bytes from the socket; true once the goal is met. */
static bool seen(struct goal *g, const char *buf, size_t len)
{
	if (g->bytes >= 0) {
		g->bytes -= (long long)len;
		return g->bytes == 0;
	}
	if (!g->marker)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (g->tail_len == sizeof(g->tail)) {
			/* Keep the last MARKER_MAX bytes: a marker may straddle reads. */
			memmove(g->tail, g->tail + MARKER_MAX, MARKER_MAX);
			g->tail_len = MARKER_MAX;
		}
		g->tail[g->tail_len++] = buf[i];
	}
	return memmem(g->tail, g->tail_len, g->marker, strlen(g->marker)) != NULL;
}

/* Copy both ways until the goal is met (0) or not by @deadline (1). */
static int relay(int sock, struct goal *g, double deadline)
{
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	char buf[65536];

	for (;;) {
		double left = deadline - now();

		if (left <= 0) {
			fprintf(stderr, "xvp-sock: timed out (%lld bytes still to come)\n", g->bytes);
			return 1;
		}
		if (poll(p, 2, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			perror("xvp-sock: poll");
			return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n <= 0)
				p[0].fd = -1;	/* stdin done; the connection stays */
			else if (write_all(sock, buf, (size_t)n) < 0) {
				perror("xvp-sock: write to the socket");
				return 1;
			}
		}
		if (p[1].revents) {
			size_t want = sizeof(buf);
			ssize_t n;

			if (g->bytes >= 0 && (long long)want > g->bytes)
				want = (size_t)g->bytes;
			n = read(sock, buf, want);
			if (n <= 0) {
				if (g->bytes < 0 && !g->marker)
					return 0;
				fprintf(stderr, "xvp-sock: the socket closed (%lld bytes still to come)\n",
					g->bytes);
				return 1;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
				perror("xvp-sock: write to stdout");
				return 1;
			}
			if (seen(g, buf, (size_t)n))
				return 0;
		}
	}
}

int main(int argc, char **argv)
{
	struct goal g = { .bytes = -1 };
	double seconds = 60;
	int opt, sock, rc;

	while ((opt = getopt(argc, argv, "n:m:t:")) != -1) {
		switch (opt) {
		case 'n':
			g.bytes = atoll(optarg);
			if (g.bytes <= 0)
				goto usage;
			break;
		case 'm':
			g.marker = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || (g.marker && (!*g.marker ||
	    strlen(g.marker) > MARKER_MAX)))
		goto usage;
	sock = connect_until(argv[optind], now() + seconds);
	if (sock < 0)
		return 1;
	rc = relay(sock, &g, now() + seconds);
	close(sock);
	return rc;
usage:
	fprintf(stderr, "usage: xvp-sock [-n BYTES] [-m MARKER] [-t SECONDS] PATH\n");
	return 2;
}
