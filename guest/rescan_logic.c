// SPDX-License-Identifier: MIT
/*
 * guest/rescan_logic.c: sysfs, the xenbus state, backoff and the generation
 * rule of xen-virtio-pci-rescan.
 */
#include "guest/rescan_logic.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rescan_trigger(const char *sysfs)
{
	char path[4096];
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/bus/pci/rescan", sysfs) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Linux's rescan_store() scans when the number written is non-zero; echo writes "1\n". */
	if (write(fd, "1\n", 2) != 2)
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* The vendor ID in @devices/@name/vendor ("0x1af4\n" in sysfs), or -1. */
static long read_vendor(const char *devices, const char *name)
{
	char path[4096], text[16];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s/vendor", devices, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return strtol(text, NULL, 16);
}

int rescan_count_virtio(const char *sysfs)
{
	char devices[4096];
	struct dirent *entry;
	int count = 0;
	DIR *dir;

	if (snprintf(devices, sizeof(devices), "%s/bus/pci/devices", sysfs) >= (int)sizeof(devices))
		return -ENAMETOOLONG;
	dir = opendir(devices);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.' && read_vendor(devices, entry->d_name) == RESCAN_VIRTIO_VENDOR)
			count++;
	closedir(dir);
	return count;
}

/* The last whitespace-separated field of @line, cut off at its end (empty if there is none). */
static const char *last_field(char *line)
{
	char *end = line + strlen(line), *start;

	while (end > line && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	start = end;
	while (start > line && !isspace((unsigned char)start[-1]))
		start--;
	return start;
}

int rescan_xenbus_state(const char *proc)
{
	bool late = false, ready = false;
	char path[4096], *line = NULL;
	size_t size = 0;
	FILE *file;
	int ret;

	if (snprintf(path, sizeof(path), "%s/interrupts", proc) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	file = fopen(path, "re");
	if (!file)
		return -errno;
	/* Lines grow with the number of CPUs: getline takes any length. */
	errno = 0;
	while (getline(&line, &size, file) >= 0) {
		const char *name = last_field(line);

		ready |= !strcmp(name, "xenbus");
		late |= !strcmp(name, "xenstore_late_init");
	}
	if (ferror(file))
		ret = errno ? -errno : -EIO;
	else
		ret = ready ? RESCAN_XENBUS_READY : late ? RESCAN_XENBUS_LATE : RESCAN_XENBUS_ABSENT;
	free(line);
	fclose(file);
	return ret;
}

void rescan_backoff_init(struct rescan_backoff *backoff, double first, double max)
{
	backoff->next = first;
	backoff->max = max < first ? first : max;
}

double rescan_backoff_next(struct rescan_backoff *backoff)
{
	double wait = backoff->next;

	backoff->next = wait * 2 > backoff->max ? backoff->max : wait * 2;
	return wait;
}

bool rescan_generation_changed(struct rescan_generation *generation, const char *value)
{
	if (!value) {
		generation->known = false;
		return false;
	}
	if (generation->known && !strncmp(generation->last, value, sizeof(generation->last) - 1))
		return false;
	generation->known = true;
	snprintf(generation->last, sizeof(generation->last), "%s", value);
	return true;
}
