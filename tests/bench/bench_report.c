// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_report.c: what `make bench` prints. Every figure of the
 * daemon next to fio's on the same image in the same run, and next to the
 * cost of one bare trapped access (an ECAM read) measured in the same run:
 * on Xen every kick and every ISR read is such a round trip, with the vCPU
 * blocked until the daemon answers. The goals are docs/benchmarks.md's and
 * never fail the run.
 */
#include <stdio.h>

#include "tests/bench/bench.h"

static void print_row(const char *what, const char *value, const char *goal, int met)
{
	printf("  %-44s %12s   %-14s %s\n", what, value, goal, met < 0 ? "" : met ? "met" : "not met");
}

static void print_figure(const char *what, double value, const char *format, const char *goal,
			 int met)
{
	char text[64];

	snprintf(text, sizeof(text), format, value);
	print_row(what, text, goal, met);
}

/* Per-phase figures derived from its two samples. */
struct derived {
	double seconds, requests, interrupts, iops;
	double kicks_per_request, exits_per_request;
	double isr_us, kick_us;		/* per interrupt: the vCPU blocked in ISR reads, in kicks */
	double daemon_cpu_us;		/* per request, -1 if unknown */
};

static struct derived derive(const struct phase *p)
{
	const struct sample *a = &p->start, *b = &p->end;
	struct derived d = { .seconds = b->time - a->time };
	double kicks = (double)(b->kicks - a->kicks), isr_reads;

	d.requests = (double)(b->count.completed - a->count.completed);
	isr_reads = (double)(b->count.isr_reads - a->count.isr_reads);
	d.interrupts = isr_reads;
	d.iops = d.requests / d.seconds;
	d.kicks_per_request = kicks / d.requests;
	/* What traps the vCPU on the notify path: kicks and ISR reads (counted by the guest). */
	d.exits_per_request = (kicks + isr_reads) / d.requests;
	d.isr_us = (b->count.isr - a->count.isr) / isr_reads * 1e6;
	d.kick_us = (b->count.kicking - a->count.kicking) / isr_reads * 1e6;
	d.daemon_cpu_us = a->daemon_cpu >= 0 && b->daemon_cpu >= 0 ?
			  (b->daemon_cpu - a->daemon_cpu) / d.requests * 1e6 : -1;
	return d;
}

static void print_details(double round_trip_us, const struct phase *p, const struct derived *d)
{
	const struct counters *a = &p->start.count, *b = &p->end.count;

	printf("  %.0f requests in %.2f s; %.0f ISR reads, %llu of them found nothing new; "
	       "%.0f interrupts raised\n", d->requests, d->seconds, d->interrupts,
	       (unsigned long long)(b->empty_interrupts - a->empty_interrupts),
	       (double)(p->end.interrupts - p->start.interrupts));
	printf("  guest vCPU per interrupt (%.1f requests): %.1f us waiting for it, %.1f us reading "
	       "the ISR, %.1f us taking completions and queueing reads, %.1f us kicking\n",
	       d->requests / d->interrupts, (b->waiting - a->waiting) / d->interrupts * 1e6, d->isr_us,
	       (b->refilling - a->refilling) / d->interrupts * 1e6, d->kick_us);
	printf("  foreign map calls / request %.4f; guest + simulated Xen CPU / request %.2f us; "
	       "bare round trip %.1f us\n",
	       (double)(p->end.map_calls - p->start.map_calls) / d->requests,
	       (p->end.bench_cpu - p->start.bench_cpu) / d->requests * 1e6, round_trip_us);
}

static void print_qd32(const struct results *r)
{
	const struct fio_result *fio = &r->fio[0];
	struct derived d = derive(&r->phase[0]);
	double ratio = d.iops / fio->iops;
	double blocked = (d.isr_us + d.kick_us) / r->round_trip_us;

	printf("\nvirtio-blk, 4 KiB random reads, queue depth %u\n\n", QUEUE_DEPTH);
	print_row("", "measured", "goal", -1);
	print_figure("fio, io_uring on the image (IOPS)", fio->iops, "%.0f", "", -1);
	print_figure("guest through the daemon (IOPS)", d.iops, "%.0f", "", -1);
	print_figure("ratio daemon / fio", ratio, "%.3f", ">= 0.9", ratio >= 0.9);
	print_figure("guest notifications / request", d.kicks_per_request, "%.4f", "", -1);
	print_figure("exits / request (kicks + ISR reads)", d.exits_per_request, "%.4f", "<= 0.04",
		     d.exits_per_request <= 0.04);
	print_figure("vCPU blocked / batch (round trips)", blocked, "%.2f", "<= 1.5", blocked <= 1.5);
	print_figure("  kicking / batch (us)", d.kick_us, "%.1f", "", -1);
	print_figure("  reading the ISR / batch (us)", d.isr_us, "%.1f", "", -1);
	if (d.daemon_cpu_us >= 0)
		print_figure("daemon CPU / request (us)", d.daemon_cpu_us, "%.2f", "", -1);
	print_figure("fio CPU / request (us)", fio->cpu_us_per_request, "%.2f", "", -1);
	putchar('\n');
	print_details(r->round_trip_us, &r->phase[0], &d);
}

static void print_qd1(const struct results *r)
{
	const struct fio_result *fio = &r->fio[1];
	const struct phase *p = &r->phase[1];
	struct derived d = derive(p);
	double floor_us = fio->p50_us + 2.3 * r->round_trip_us;
	char goal[32];

	printf("\nvirtio-blk, 4 KiB random reads, queue depth 1\n\n");
	print_row("", "measured", "goal", -1);
	print_figure("bare round trip: an ECAM read, p50 (us)", r->round_trip_us, "%.1f", "", -1);
	print_figure("fio, io_uring on the image, p50 (us)", fio->p50_us, "%.1f", "", -1);
	print_figure("fio, io_uring on the image, p99 (us)", fio->p99_us, "%.1f", "", -1);
	snprintf(goal, sizeof(goal), "<= %.1f", floor_us);
	print_figure("guest through the daemon, p50 (us)", p->p50_us, "%.1f", goal, p->p50_us <= floor_us);
	print_figure("guest through the daemon, p99 (us)", p->p99_us, "%.1f", "", -1);
	print_figure("  p50 - fio p50 (round trips)", (p->p50_us - fio->p50_us) / r->round_trip_us,
		     "%.2f", "<= 2.3", p->p50_us - fio->p50_us <= 2.3 * r->round_trip_us);
	print_figure("exits / request (kicks + ISR reads)", d.exits_per_request, "%.4f", "", -1);
	print_figure("vCPU blocked / request (round trips)", (d.isr_us + d.kick_us) / r->round_trip_us,
		     "%.2f", "", -1);
	if (d.daemon_cpu_us >= 0)
		print_figure("daemon CPU / request (us)", d.daemon_cpu_us, "%.2f", "", -1);
	print_figure("fio CPU / request (us)", fio->cpu_us_per_request, "%.2f", "", -1);
	putchar('\n');
	print_details(r->round_trip_us, p, &d);
}

/* The NBD disk against fio's nbd engine on the same export. */
static void print_nbd(const struct nbd_results *n)
{
	struct derived d;
	double ratio;

	if (!n->ran)
		return;
	d = derive(&n->phase);
	ratio = d.iops / n->fio.iops;
	printf("\nvirtio-blk on an NBD export (nbdkit memory, unix socket), 4 KiB random reads, "
	       "queue depth %u\n\n", QUEUE_DEPTH);
	print_row("", "measured", "goal", -1);
	print_figure("fio, nbd engine on the export (IOPS)", n->fio.iops, "%.0f", "", -1);
	print_figure("guest through the daemon (IOPS)", d.iops, "%.0f", "", -1);
	print_figure("ratio daemon / fio", ratio, "%.3f", ">= 0.9", ratio >= 0.9);
	print_figure("guest through the daemon, p50 (us)", n->phase.p50_us, "%.1f", "", -1);
	print_figure("fio, nbd engine, p50 (us)", n->fio.p50_us, "%.1f", "", -1);
	print_figure("exits / request (kicks + ISR reads)", d.exits_per_request, "%.4f", "", -1);
	if (d.daemon_cpu_us >= 0)
		print_figure("daemon CPU / request (us)", d.daemon_cpu_us, "%.2f", "", -1);
	print_figure("fio CPU / request (us)", n->fio.cpu_us_per_request, "%.2f", "", -1);
	putchar('\n');
	print_details(n->round_trip_us, &n->phase, &d);
}

void bench_print_report(const struct results *r)
{
	print_qd32(r);
	print_qd1(r);
	print_nbd(&r->nbd);
	printf("\n  image in the page cache (before, after): fio %.0f%%, %.0f%%; daemon %.0f%%, %.0f%%\n",
	       r->fio_resident[0], r->fio_resident[1], r->daemon_resident[0], r->daemon_resident[1]);
	printf("  The goals are informational; docs/benchmarks.md says what limits each figure.\n");
}
