/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/daemon_path.h: where the simulated-hypervisor builds of
 * the daemon and of the guest's rescan helper are:
 * $XVP_BUILD/tests/xen-virtio-pcid-sim and xen-virtio-pci-rescan-sim
 * (tests/run-tests.sh sets XVP_BUILD to build/ or build/asan/).
 */
#ifndef XVP_TESTS_INTEGRATION_DAEMON_PATH_H
#define XVP_TESTS_INTEGRATION_DAEMON_PATH_H

#include <stdio.h>
#include <stdlib.h>

static inline const char *sim_daemon_path(void)
{
	static char path[512];
	const char *build = getenv("XVP_BUILD");

	snprintf(path, sizeof(path), "%s/tests/xen-virtio-pcid-sim", build ? build : "build");
	return path;
}

static inline const char *sim_rescan_path(void)
{
	static char path[512];
	const char *build = getenv("XVP_BUILD");

	snprintf(path, sizeof(path), "%s/tests/xen-virtio-pci-rescan-sim", build ? build : "build");
	return path;
}

#endif
