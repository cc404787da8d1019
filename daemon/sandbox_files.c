// SPDX-License-Identifier: MIT
/*
 * daemon/sandbox_files.c: the worker's root when its devices read files
 * once serving (an NBD disk's TLS credentials: libnbd reads them at each
 * handshake, lib/crypto.c, and a reconnect is one).
 *
 * A tmpfs made with the new mount API (fsopen, fsmount: Linux 5.2) and
 * never attached anywhere: the files are copied into it at their own
 * paths, owned by the worker's uid and readable by it only, the mount is
 * made read-only, and the worker changes its root to it. No path leads to
 * it from outside, nothing can be created in it, and it goes with the
 * worker's last reference, so nothing is left behind (as with the removed
 * directory of daemon/sandbox_root.c, which a worker that reads no file
 * gets).
 */
#include "daemon/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* Credentials are small; a file larger than this is refused, and the whole root is bounded. */
#define FILE_MAX	(64 * 1024)
#define ROOT_SIZE	"1m"

/* The directories of @path under @root, made as needed (0755, root's). */
static int make_parents(int root, const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path + 1);	/* relative to @root */
	for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(root, dir, 0755) && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	return 0;
}

/* @path's bytes into @root at the same path, 0400 and @target's; a missing file is skipped. */
static int copy_file(int root, const char *path, const struct privileges_target *target)
{
	static char bytes[FILE_MAX];
	int in = open(path, O_RDONLY | O_CLOEXEC), out, ret = 0;
	ssize_t len;

	if (in < 0)
		return errno == ENOENT ? 0 : -errno;
	len = read(in, bytes, sizeof(bytes));
	if (len < 0 || (len == (ssize_t)sizeof(bytes) && read(in, bytes, 1) != 0))
		ret = len < 0 ? -errno : -EFBIG;
	close(in);
	if (!ret)
		ret = make_parents(root, path);
	if (ret)
		return ret;
	out = openat(root, path + 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (out < 0)
		return -errno;
	if (write(out, bytes, (size_t)len) != len)
		ret = -EIO;
	if (!ret && !target->stay_root && fchown(out, target->uid, target->gid))
		ret = -errno;
	close(out);
	return ret;
}

/* A detached tmpfs, bounded, not executable: its mount fd, or -errno. */
static int make_tmpfs(void)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return -errno;
	if (!fsconfig(fs, FSCONFIG_SET_STRING, "size", ROOT_SIZE, 0) &&
	    !fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) &&
	    !fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			      MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		mnt = -errno;
	close(fs);
	return mnt;
}

int sandbox_enter_root_with(const char *const *files, unsigned int count,
			    const struct privileges_target *target)
{
	struct mount_attr readonly = { .attr_set = MOUNT_ATTR_RDONLY };
	int root = make_tmpfs(), ret = 0;

	if (root < 0) {
		log_error("sandbox: cannot make a root for its files (tmpfs, fsmount): %s",
			  strerror(-root));
		return root;
	}
	for (unsigned int i = 0; i < count && !ret; i++) {
		ret = files[i][0] == '/' ? copy_file(root, files[i], target) : -EINVAL;
		if (ret)
			log_error("sandbox: cannot keep %s in its root: %s", files[i], strerror(-ret));
	}
	if (!ret && mount_setattr(root, "", AT_EMPTY_PATH, &readonly, sizeof(readonly)))
		ret = -errno;
	if (!ret && (fchdir(root) || chroot(".") || chdir("/")))
		ret = -errno;
	if (ret)
		log_error("sandbox: cannot enter its root: %s", strerror(-ret));
	close(root);
	return ret;
}
