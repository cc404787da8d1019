/* SPDX-License-Identifier: MIT */
/*
 * daemon/device_model.h: the device-model mode. libxl starts this program
 * as a PV/PVH guest's device model (device_model_override in the guest's
 * xl config; the command line: daemon/dm_argv.h) and waits for it before it
 * unpauses the guest. The process is a supervisor of one domain with its
 * worker, as by hand (daemon/supervisor.h):
 *
 *   1. parse and check everything (exit 2 with the reason on stderr, which
 *      libxl sends to /var/log/xen/qemu-dm-NAME.log);
 *   2. listen on the QMP sockets libxl named (daemon/qmp_server.h);
 *   3. start the worker, which creates and enables the IOREQ server and
 *      builds the devices;
 *   4. once the worker's functions answer: remove the vfb/vkbd trigger
 *      nodes, then write device-model/<domid>/state = "running"
 *      (xen/device_model_store.h): libxl then talks QMP and unpauses;
 *   5. SIGHUP (what libxl sends on destroy, poweroff and reboot), SIGTERM,
 *      SIGINT or a QMP "quit": stop the worker in order, exit 0.
 *
 * A worker that fails ends the device model with its status (no restarts:
 * the guest's devices are gone, libxl must know). Xen 4.20+ first runs the
 * probe: answer QMP on the listening socket libxl passed, exit on the
 * SIGHUP libxl sends after "quit" (at most 10 s after it).
 */
#ifndef XVP_DAEMON_DEVICE_MODEL_H
#define XVP_DAEMON_DEVICE_MODEL_H

#include <stdbool.h>

/* Is this libxl's device-model (or probe) command line? */
bool device_model_requested(int argc, char **argv);

/* The mode's main: its exit status. */
int device_model_main(int argc, char **argv);

#endif
