// SPDX-License-Identifier: MIT
/* guest/rescan_logic.c: sysfs, backoff and the generation rule of xen-virtio-pci-rescan. */
#include "guest/rescan_logic.h"

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
