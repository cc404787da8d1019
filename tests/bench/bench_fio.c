// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_fio.c: fio on the bench's image (or on an NBD export,
 * with fio's own nbd engine, through libnbd), its JSON report read
 * with json-c (libjson-c-dev): jobs[0].read.{iops, total_ios,
 * clat_ns.percentile}, jobs[0].{usr_cpu, sys_cpu, job_runtime}.
 */
#include "tests/bench/bench_fio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* The number at @path (keys, NULL-terminated) under @root; -1 if it is not there. */
static double number_at(struct json_object *root, const char *const path[])
{
	struct json_object *at = root;

	for (size_t i = 0; path[i]; i++)
		if (!json_object_object_get_ex(at, path[i], &at))
			return -1;
	return json_object_get_double(at);
}

/* fio's nbd engine says "fio: connected to NBD server" on stdout before the report: skipped. */
static int parse_report(const char *text, struct fio_result *out)
{
	const char *report = strchr(text, '{');
	struct json_object *root = report ? json_tokener_parse(report) : NULL, *jobs, *job;
	double ios, usr, sys, runtime_ms;

	if (!root)
		return -1;
	if (!json_object_object_get_ex(root, "jobs", &jobs) || !(job = json_object_array_get_idx(jobs, 0))) {
		json_object_put(root);
		return -1;
	}
	out->iops = number_at(job, (const char *const[]){ "read", "iops", NULL });
	out->p50_us = number_at(job, (const char *const[]){ "read", "clat_ns", "percentile", "50.000000",
							     NULL }) / 1000;
	out->p99_us = number_at(job, (const char *const[]){ "read", "clat_ns", "percentile", "99.000000",
							     NULL }) / 1000;
	ios = number_at(job, (const char *const[]){ "read", "total_ios", NULL });
	usr = number_at(job, (const char *const[]){ "usr_cpu", NULL });
	sys = number_at(job, (const char *const[]){ "sys_cpu", NULL });
	runtime_ms = number_at(job, (const char *const[]){ "job_runtime", NULL });
	/* usr_cpu and sys_cpu are percentages of the job's runtime. */
	out->cpu_us_per_request = ios > 0 ? (usr + sys) / 100 * runtime_ms * 1000 / ios : -1;
	json_object_put(root);
	return out->iops > 0 && out->p50_us > 0 && out->cpu_us_per_request > 0 ? 0 : -1;
}

/* Everything @command prints, in a buffer the caller frees; NULL if it failed. */
static char *run_capture(const char *command)
{
	char *text = NULL, chunk[4096];
	size_t size = 0, n;
	FILE *out = open_memstream(&text, &size);
	FILE *cmd = popen(command, "r");
	int status = -1;

	if (cmd && out) {
		while ((n = fread(chunk, 1, sizeof(chunk), cmd)) > 0)
			fwrite(chunk, 1, n, out);
	}
	if (cmd)
		status = pclose(cmd);
	if (out)
		fclose(out);
	if (status != 0 && text) {
		fprintf(stderr, "bench: fio failed:\n%s\n", text);
		free(text);
		return NULL;
	}
	return text;
}

/* fio's 4 KiB random reads of @target (its engine and what it reads) at @depth for @seconds. */
static int run_on(const char *name, const char *target, unsigned int depth, unsigned int seconds,
		  struct fio_result *out)
{
	char command[1024], *text;
	int ret;

	snprintf(command, sizeof(command),
		 "fio --name=%s %s --readonly --rw=randread --bs=4k --iodepth=%u --time_based "
		 "--runtime=%u --numjobs=1 --group_reporting --output-format=json", name, target,
		 depth, seconds);
	printf("bench: %s\n", command);
	fflush(stdout);
	text = run_capture(command);
	if (!text)
		return -1;
	ret = parse_report(text, out);
	if (ret)
		fprintf(stderr, "bench: fio printed no read IOPS, latency or CPU:\n%s\n", text);
	free(text);
	return ret;
}

int fio_run(const char *image, unsigned int depth, unsigned int seconds, struct fio_result *out)
{
	char target[600];

	snprintf(target, sizeof(target), "--filename='%s' --ioengine=io_uring --direct=0", image);
	return run_on("raw", target, depth, seconds, out);
}

int fio_run_nbd(const char *uri, unsigned int depth, unsigned int seconds, struct fio_result *out)
{
	char target[600];

	snprintf(target, sizeof(target), "--ioengine=nbd --uri='%s'", uri);
	return run_on("nbd", target, depth, seconds, out);
}
