// SPDX-License-Identifier: MIT
/*
 * tests/boot/fd_probe.c: xvp-fd-probe PID [OTHER_DOMID], run in dom0 by the
 * boot test: what could process PID do with the Xen handles it holds?
 *
 * It classifies each of PID's fds by readlink(/proc/PID/fd/N) and touches
 * only Xen devices, through a copy taken with pidfd_getfd(2) (the same open
 * file, so the same restriction):
 *   /dev/xen/privcmd  IOCTL_PRIVCMD_HYPERCALL (xen_version) and
 *                     IOCTL_PRIVCMD_DM_OP (XEN_DMOP_nr_vcpus) for
 *                     OTHER_DOMID; a restricted fd refuses both with EPERM
 *                     before Xen sees them (drivers/xen/privcmd.c);
 *   /dev/xen/evtchn   IOCTL_EVTCHN_BIND_INTERDOMAIN to OTHER_DOMID; refused
 *                     with EACCES after IOCTL_EVTCHN_RESTRICT_DOMID
 *                     (drivers/xen/evtchn.c);
 *   /dev/xen/xenbus   a xenstore connection: not isolated;
 *   a socket          whose peer (SO_PEERCRED, no data read or written) is
 *                     xenstored: a xenstore connection, not isolated.
 * No other fd is read or written (an image, an eventfd or an evtchn shares
 * the process's file description). OTHER_DOMID defaults to 32000, a domain
 * that does not exist: an unrestricted fd gets ESRCH from Xen, so nothing
 * happens anywhere either way.
 *
 * Prints one line per fd; exits 0 if PID is isolated (every privcmd and
 * evtchn fd refused, no xenstore connection), 1 if not, 2 if it cannot tell.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <xen/xen.h>
#define __XEN_TOOLS__ 1
#include <xen/hvm/dm_op.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/privcmd.h>

#define HYPERVISOR_XEN_VERSION	17	/* xen/include/public/xen.h */
#define XENVER_VERSION		0

static int take_fd(int pidfd, int fd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* errno of the ioctl, 0 if it succeeded. */
static int ioctl_error(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? errno : 0;
}

static const char *outcome(int error)
{
	return error ? strerror(error) : "allowed";
}

/* A privcmd fd: true if it refuses both. */
static bool probe_privcmd(int fd, int n, domid_t other)
{
	privcmd_hypercall_t version = { HYPERVISOR_XEN_VERSION, { XENVER_VERSION } };
	struct xen_dm_op op = { .op = XEN_DMOP_nr_vcpus };
	privcmd_dm_op_buf_t buf = { &op, sizeof(op) };
	privcmd_dm_op_t dm_op = { other, 1, &buf };
	int hypercall = ioctl_error(fd, IOCTL_PRIVCMD_HYPERCALL, &version);
	int dm = ioctl_error(fd, IOCTL_PRIVCMD_DM_OP, &dm_op);
	bool refused = hypercall == EPERM && dm == EPERM;

	printf("fd %d /dev/xen/privcmd: xen_version hypercall %s, dm_op for domain %u %s: %s\n",
	       n, outcome(hypercall), other, outcome(dm), refused ? "restricted" : "UNRESTRICTED");
	return refused;
}

static bool probe_evtchn(int fd, int n, domid_t other)
{
	struct ioctl_evtchn_bind_interdomain bind = { other, 1 };
	int port = ioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
	int error = port < 0 ? errno : 0;

	if (port >= 0) {	/* it bound a port on the process's handle: take it back */
		struct ioctl_evtchn_unbind unbind = { (unsigned int)port };

		ioctl(fd, IOCTL_EVTCHN_UNBIND, &unbind);
	}
	printf("fd %d /dev/xen/evtchn: bind to domain %u %s: %s\n", n, other, outcome(error),
	       error == EACCES ? "restricted" : "UNRESTRICTED");
	return error == EACCES;
}

/* A socket whose peer is xenstored (metadata only: nothing read or written). */
static bool probe_socket(int fd, int n, const char *target)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);
	char path[64], exe[PATH_MAX] = "";
	ssize_t got;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) || peer.pid <= 0) {
		printf("fd %d %s: no peer\n", n, target);
		return true;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)peer.pid);
	got = readlink(path, exe, sizeof(exe) - 1);
	exe[got > 0 ? got : 0] = '\0';
	if (strstr(exe, "xenstored")) {
		printf("fd %d %s: connected to xenstored (%d): XENSTORE\n", n, target, (int)peer.pid);
		return false;
	}
	printf("fd %d %s: peer %d (%s)\n", n, target, (int)peer.pid, exe);
	return true;
}

/* One fd of the process: true if it gives no reach beyond the process's own domain. */
static bool probe_fd(int pidfd, pid_t pid, int n, domid_t other, int *errors)
{
	char link[64], target[PATH_MAX];
	bool isolated = true, xen_device;
	ssize_t len;
	int fd;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, n);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return true;	/* closed meanwhile */
	target[len] = '\0';
	xen_device = !strcmp(target, "/dev/xen/privcmd") || !strcmp(target, "/dev/xen/evtchn");
	if (!strcmp(target, "/dev/xen/xenbus")) {
		printf("fd %d %s: XENSTORE\n", n, target);
		return false;
	}
	if (!xen_device && strncmp(target, "socket:", 7)) {
		printf("fd %d %s\n", n, target);
		return true;
	}
	fd = take_fd(pidfd, n);
	if (fd < 0) {
		printf("fd %d %s: cannot take it: %s\n", n, target, strerror(errno));
		++*errors;
		return true;
	}
	if (!strcmp(target, "/dev/xen/privcmd"))
		isolated = probe_privcmd(fd, n, other);
	else if (!strcmp(target, "/dev/xen/evtchn"))
		isolated = probe_evtchn(fd, n, other);
	else
		isolated = probe_socket(fd, n, target);
	close(fd);
	return isolated;
}

int main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : 0;
	domid_t other = (domid_t)(argc > 2 ? atoi(argv[2]) : 32000);
	int errors = 0, unisolated = 0, pidfd;
	char dir_path[64];
	struct dirent *entry;
	DIR *dir;

	if (pid <= 0) {
		fprintf(stderr, "usage: xvp-fd-probe PID [OTHER_DOMID]\n");
		return 2;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", (int)pid);
	dir = opendir(dir_path);
	if (pidfd < 0 || !dir) {
		fprintf(stderr, "xvp-fd-probe: process %d: %s\n", (int)pid, strerror(errno));
		return 2;
	}
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.')
			unisolated += !probe_fd(pidfd, pid, atoi(entry->d_name), other, &errors);
	closedir(dir);
	close(pidfd);
	printf("process %d: %s\n", (int)pid, errors ? "cannot tell" :
	       unisolated ? "NOT ISOLATED" : "isolated");
	return errors ? 2 : unisolated ? 1 : 0;
}
