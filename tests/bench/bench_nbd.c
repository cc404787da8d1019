// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_nbd.c: `make bench`'s NBD disk (issue 21). nbdkit's
 * memory plugin exports 1 GiB on a unix socket; fio's own nbd engine reads
 * it (4 KiB random reads at queue depth 32: libnbd straight to the export,
 * the limit), then the daemon serves it to the bench's guest as
 * `blk,nbd=...` with the same load, in the same run. The export was never
 * written, so every block reads as zeroes, which the guest's spot checks
 * compare with.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define EXPORT_SIZE	(1ULL << 30)	/* the guest's random blocks are within 1 GiB */

static pid_t start_nbdkit(const char *socket)
{
	struct stat st;
	pid_t pid;

	unlink(socket);
	pid = fork();
	if (pid == 0) {
		execlp("nbdkit", "nbdkit", "-f", "-U", socket, "--exit-with-parent", "memory",
		       "size=1G", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 1000 && stat(socket, &st); i++)
		usleep(10000);
	if (pid > 0 && stat(socket, &st)) {
		fprintf(stderr, "bench: nbdkit did not listen on %s\n", socket);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

int bench_nbd(const char *daemon, unsigned int seconds, struct nbd_results *out)
{
	struct results r = { 0 };
	char socket[64], uri[96], device[160];
	const uint8_t *zeroes;
	pid_t nbdkit;
	int ret = -1;

	if (access("/usr/sbin/nbdkit", X_OK) && access("/usr/bin/nbdkit", X_OK)) {
		printf("bench: no nbdkit (apt-get install nbdkit): no NBD figures\n");
		return 0;
	}
	snprintf(socket, sizeof(socket), "/tmp/xvp-bench-nbd-%d.sock", (int)getpid());
	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s", socket);
	snprintf(device, sizeof(device), "blk,nbd=%s,queues=1", uri);
	zeroes = mmap(NULL, EXPORT_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	nbdkit = zeroes == MAP_FAILED ? -1 : start_nbdkit(socket);
	if (nbdkit < 0)
		goto unmap;
	if (fio_run_nbd(uri, QUEUE_DEPTH, seconds, &out->fio) == 0 &&
	    bench_run_daemon(daemon, device, zeroes, seconds, false, &r) == 0) {
		out->ran = true;
		out->round_trip_us = r.round_trip_us;
		out->phase = r.phase[0];
		ret = 0;
	}
	kill(nbdkit, SIGTERM);
	waitpid(nbdkit, NULL, 0);
	unlink(socket);
unmap:
	if (zeroes != MAP_FAILED)
		munmap((void *)zeroes, EXPORT_SIZE);
	return ret;
}
