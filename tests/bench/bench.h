/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench.h: what `make bench` measures (tests/bench/bench_blk.c)
 * and prints (tests/bench/bench_report.c).
 */
#ifndef XVP_TESTS_BENCH_BENCH_H
#define XVP_TESTS_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/bench/bench_fio.h"

#define QUEUE_DEPTH	32u

struct counters {
	uint64_t completed;
	uint64_t isr_reads;
	uint64_t empty_interrupts;	/* interrupts that found no used entry */
	uint64_t spot_checks;
	/* Where the guest's vCPU spent its time, in seconds. */
	double waiting;			/* for an interrupt */
	double isr;			/* in ISR reads (an MMIO round trip through the daemon) */
	double kicking;			/* in notifications written (the same) */
	double refilling;		/* taking completions and queueing new reads */
};

/* A snapshot of everything counted, at the start and the end of the measured interval. */
struct sample {
	double time;
	struct counters count;
	uint64_t kicks;
	unsigned long interrupts;
	unsigned long map_calls;
	double daemon_cpu;
	double bench_cpu;
};

/* One load through the daemon: its interval, and its requests' latency percentiles. */
struct phase {
	unsigned int depth;
	struct sample start, end;
	double p50_us, p99_us;		/* from queueing a read to taking its completion */
};

/* The NBD disk's load: fio's nbd engine and the daemon on the same nbdkit export, at QUEUE_DEPTH. */
struct nbd_results {
	bool ran;			/* false: nbdkit is not installed */
	struct fio_result fio;
	double round_trip_us;
	struct phase phase;
};

/* Everything measured in one run, and how much of the image was cached around each. */
struct results {
	struct fio_result fio[2];	/* at QUEUE_DEPTH, at 1 */
	double fio_resident[2];		/* percent, before and after */
	double round_trip_us;		/* p50 of a bare trapped access (an ECAM read) */
	struct phase phase[2];		/* at QUEUE_DEPTH, at 1 */
	double daemon_resident[2];
	struct nbd_results nbd;
};

/*
 * The daemon (@daemon, its simulated-hypervisor build) serving one
 * virtio-blk disk (--device @device) to the bench's guest: the bare round
 * trip, then 4 KiB random reads at QUEUE_DEPTH (and at 1 with @qd1) for
 * @seconds each, spot-checked against @expect (the disk's bytes), into
 * r->round_trip_us and r->phase. 0, or -1 (said why on stderr).
 */
int bench_run_daemon(const char *daemon, const char *device, const uint8_t *expect,
		     unsigned int seconds, bool qd1, struct results *r);

/* The NBD load (tests/bench/bench_nbd.c): 0, or -1 (said why). */
int bench_nbd(const char *daemon, unsigned int seconds, struct nbd_results *out);

void bench_print_report(const struct results *r);

#endif
