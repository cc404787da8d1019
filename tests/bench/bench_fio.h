/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_fio.h: the raw limit `make bench` compares with: fio,
 * io_uring, 4 KiB random reads of the page-cached image, at a queue depth.
 */
#ifndef XVP_TESTS_BENCH_BENCH_FIO_H
#define XVP_TESTS_BENCH_BENCH_FIO_H

struct fio_result {
	double iops;
	double p50_us, p99_us;		/* completion latency percentiles */
	double cpu_us_per_request;	/* fio's user + system CPU per read */
};

/* Run fio on @image at @depth for @seconds: 0, or -1 (it failed; its output printed). */
int fio_run(const char *image, unsigned int depth, unsigned int seconds, struct fio_result *out);
/* The same on the NBD export @uri, with fio's nbd engine (libnbd, as the daemon uses). */
int fio_run_nbd(const char *uri, unsigned int depth, unsigned int seconds, struct fio_result *out);

#endif
