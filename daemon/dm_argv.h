/* SPDX-License-Identifier: MIT */
/*
 * daemon/dm_argv.h: the command line libxl gives a PV/PVH device model
 * (device_model_override in the guest's xl config), read as what it means
 * for us: which domain, where to answer QMP, and our own options.
 *
 * libxl builds it in libxl__build_device_model_args_new()
 * (tools/libs/light/libxl_dm.c):
 *
 *   DM -xen-domid N -no-shutdown
 *      -chardev socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-N,server=on,wait=off
 *      -mon chardev=libxl-cmd,mode=control
 *      -chardev socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-N,server=on,wait=off
 *      -mon chardev=libxenstat-cmd,mode=control
 *      -nodefaults -no-user-config -xen-attach -name NAME -vnc none -display none
 *      [-nographic] <device_model_args> -machine xenpv <device_model_args_pv> -m MB
 *
 * (as Xen 4.17.5 runs it; older libxl wrote "server,nowait"), and Xen 4.20
 * and later first run the same binary as a probe of its options:
 *
 *   DM -S -no-user-config -nodefaults -nographic -machine none,accel=xen
 *      -chardev socket,id=libxl-cmd,fd=FD,server=on,wait=off -mon chardev=libxl-cmd,mode=control
 *
 * Our own options come in device_model_args as single `--opt=value` tokens
 * (`--device=blk,path=/srv/vm1.img`), given to options_parse() unchanged.
 * What carries no meaning for us is accepted and ignored; what we cannot
 * honour is refused with the reason, so that `xl create` fails before the
 * guest runs rather than the guest running without what it was promised.
 */
#ifndef XVP_DAEMON_DM_ARGV_H
#define XVP_DAEMON_DM_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A socket path, with its NUL: sizeof(sockaddr_un.sun_path). */
#define DM_ARGV_PATH_MAX 108

/* Our own tokens, at most (every --device is one). */
#define DM_ARGV_OWN_MAX 64

enum dm_argv_mode {
	DM_ARGV_SERVE,		/* the guest's device model */
	DM_ARGV_PROBE,		/* Xen 4.20+: answer the QMP probe, then exit */
};

struct dm_argv {
	enum dm_argv_mode mode;
	uint32_t domid;			/* -xen-domid (DM_ARGV_SERVE) */
	const char *name;		/* -name, or NULL */
	char qmp_path[DM_ARGV_PATH_MAX];	/* libxl-cmd's path=, or "" */
	int qmp_fd;			/* libxl-cmd's fd= (a socket libxl listens on), or -1 */
	char stat_path[DM_ARGV_PATH_MAX];	/* libxenstat-cmd's path=, or "" */
	const char *fdt_path;		/* --fdt=PATH: the guest's device_tree, or NULL */
	const char *own[DM_ARGV_OWN_MAX];	/* our --opt=value tokens, in order */
	unsigned int nr_own;
};

/*
 * Is this command line libxl's (its first argument is the one libxl puts
 * first: -xen-domid for the device model, -S for the probe)?
 */
bool dm_argv_requested(int argc, char **argv);

/*
 * Parse @argv (argv[0] is the program) into @out (pointers into @argv).
 * 0, or -EINVAL with the reason in @why ("-vnc 127.0.0.1:0: VNC is not
 * served: give the guest vfb = [ \"vnc=0\" ]").
 */
int dm_argv_parse(int argc, char **argv, struct dm_argv *out, char *why, size_t why_len);

#endif
