// SPDX-License-Identifier: MIT
/*
 * tests/demo.c: `make demo`. Runs the daemon (its simulated-hypervisor
 * build) against a simulated Xen guest with 2 vCPUs; the guest enumerates
 * the PCI bus like Linux and prints what it finds; then the daemon is
 * stopped with SIGTERM and the demo shows it left nothing registered in Xen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/guest/guest_pci.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE 0x10000000ULL
#define ECAM_SIZE 0x10000000ULL

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_function(struct guest_pci *pci, struct guest_pci_function *fn)
{
	guest_pci_size_bars(pci, fn);
	printf("  %02x:%02x.%x %s [%04x:%04x] rev %02x class %06x%s\n", fn->bus, fn->devfn >> 3,
	       fn->devfn & 7, guest_pci_class_name(fn->class_code), fn->vendor_id, fn->device_id,
	       fn->revision, fn->class_code, fn->interrupt_pin ? "" : ", no interrupt pin");
	for (int bar = 0; bar < 6; bar++)
		if (fn->bars[bar].size)
			printf("      BAR%d: %s%s memory, %llu KiB\n", bar,
			       fn->bars[bar].is_64bit ? "64-bit" : "32-bit",
			       fn->bars[bar].prefetchable ? " prefetchable" : "",
			       (unsigned long long)(fn->bars[bar].size >> 10));
}

static int enumerate(struct sim_hv *hv)
{
	struct guest_pci_function found[256];
	struct guest_pci pci;
	double start = now_seconds();
	int count;

	guest_pci_init(&pci, hv, 0, ECAM_BASE, ECAM_SIZE);
	count = guest_pci_scan_bus(&pci, 0, found, 256);
	printf("guest: scanned bus 00 through ECAM at 0x%llx in %.1f ms: %d function%s\n",
	       (unsigned long long)ECAM_BASE, (now_seconds() - start) * 1e3, count,
	       count == 1 ? "" : "s");
	for (int i = 0; i < count && i < 256; i++)
		print_function(&pci, &found[i]);
	if (pci.errors) {
		printf("guest: %u config accesses were not answered\n", pci.errors);
		return -1;
	}
	return count > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *daemon = argc > 1 ? argv[1] : "build/tests/xen-virtio-pcid-sim";
	struct sim_hv_config config = { .domid = 1, .nr_vcpus = 2 };
	struct sim_hv_state state;
	struct sim_hv *hv = sim_hv_create(&config);
	int status, failed = 0;

	printf("simulated Xen: domain %u, %u vCPUs; starting %s --domain %u\n", config.domid,
	       config.nr_vcpus, daemon, config.domid);
	if (sim_hv_start_daemon(hv, daemon, NULL) || sim_hv_wait_serving(hv, 10000)) {
		fprintf(stderr, "demo: the daemon did not start serving; its log:\n%s",
			sim_hv_daemon_log(hv));
		sim_hv_destroy(hv);
		return 1;
	}
	sim_hv_get_state(hv, &state);
	printf("daemon: IOREQ server enabled, %u range%s registered, %u event channels bound\n",
	       state.ranges, state.ranges == 1 ? "" : "s", state.ports_bound);

	failed |= enumerate(hv) != 0;

	status = sim_hv_stop_daemon(hv, SIGTERM, 10000);
	sim_hv_get_state(hv, &state);
	printf("daemon: SIGTERM -> exit status %d; left in Xen: %u servers, %u ranges, %u event channels\n",
	       status, state.servers, state.ranges, state.ports_bound);
	failed |= status != 0 || state.servers || state.ranges || state.ports_bound;
	printf("\ndaemon log:\n%s", sim_hv_daemon_log(hv));
	sim_hv_destroy(hv);
	printf("%s\n", failed ? "demo FAILED" : "demo OK");
	return failed;
}
