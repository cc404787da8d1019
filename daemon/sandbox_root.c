// SPDX-License-Identifier: MIT
/*
 * daemon/sandbox_root.c: the worker's empty root directory.
 *
 * A fresh directory is made, opened, and removed again before the worker
 * changes its root to it: the root then has no entries and, being deleted,
 * can never get any (the kernel refuses to create anything in a removed
 * directory), no path outside is reachable, and nothing is left behind for
 * a later worker or another run to share. What glibc would load from the
 * file system later is loaded first.
 */
#include "daemon/sandbox.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/*
 * pthread_cancel() and pthread_exit() unwind through libgcc_s, which glibc
 * dlopens on first use (nptl/unwind-link.c): once the root is empty that
 * would fail and abort. Loaded now, glibc finds it by its soname later.
 * Nothing else is resolved by name after this (no NSS: the uid is numeric).
 */
static void preload_libraries(void)
{
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		log_warn("sandbox: cannot preload libgcc_s.so.1: %s", dlerror());
}

/* A new directory under /run (or /tmp where there is none), opened, then removed. */
static int open_removed_directory(void)
{
	static const char *const parents[] = { "/run", "/tmp" };

	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "%s/xen-virtio-pcid-root.XXXXXX", parents[i]);
		if (!mkdtemp(path))
			continue;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rmdir(path) && fd >= 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			return fd;
	}
	return -errno;
}

int sandbox_enter_empty_root(const char *const *files, unsigned int count,
			     const struct privileges_target *target)
{
	int fd, ret = 0;

	preload_libraries();
	if (count)
		return sandbox_enter_root_with(files, count, target);
	fd = open_removed_directory();
	if (fd < 0) {
		log_error("sandbox: cannot make an empty root directory: %s", strerror(-fd));
		return fd;
	}
	if (fchdir(fd) || chroot(".") || chdir("/")) {
		ret = -errno;
		log_error("sandbox: cannot enter the empty root: %s", strerror(errno));
	}
	close(fd);
	return ret;
}
