// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/run_corpus.c: a stand-in for libFuzzer's main() that feeds
 * each file named on the command line, or each file of each directory named,
 * to LLVMFuzzerTestOneInput once. Built with gcc and ASan/UBSan, it replays
 * the seed corpora in `make check` without clang; a broken invariant or a
 * sanitizer report aborts, naming the file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t got;
	FILE *f;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		fprintf(stderr, "run_corpus: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* One byte more than needed, so that an empty file still gets a buffer of its own. */
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		fclose(f);
		return -1;
	}
	got = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	fprintf(stderr, "run_corpus: %s (%zu bytes)\n", path, got);
	LLVMFuzzerTestOneInput(data, got);
	free(data);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in @dir, in name order (the order runs are reported in). */
static int run_directory(const char *dir, unsigned int *count)
{
	char **names = NULL, path[4096];
	size_t nr = 0, cap = 0;
	struct dirent *entry;
	struct stat st;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "run_corpus: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((entry = readdir(d))) {
		if (entry->d_name[0] == '.')
			continue;
		if (nr == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!more) {
				ret = -1;
				break;
			}
			names = more;
		}
		names[nr] = strdup(entry->d_name);
		if (!names[nr]) {
			ret = -1;
			break;
		}
		nr++;
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), compare_names);
	for (size_t i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!ret && !stat(path, &st) && S_ISREG(st.st_mode)) {
			ret = run_file(path);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int count = 0;
	struct stat st;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int ret;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "run_corpus: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			ret = run_directory(argv[i], &count);
		} else {
			ret = run_file(argv[i]);
			count++;
		}
		if (ret)
			return 1;
	}
	printf("run_corpus: %u input(s) ran\n", count);
	return 0;
}
