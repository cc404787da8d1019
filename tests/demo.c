// SPDX-License-Identifier: MIT
/*
 * tests/demo.c: `make demo`. Runs the daemon (its simulated-hypervisor
 * build) against a simulated Xen guest with 2 vCPUs; the guest enumerates
 * the PCI bus like Linux and prints what it finds, reads entropy from each
 * virtio-rng function; then the daemon is stopped with SIGTERM and the demo
 * shows it left nothing registered in Xen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/guest/guest_pci.h"
#include "tests/guest/guest_virtio.h"
#include "tests/sim/hypervisor.h"

#define ECAM_BASE 0x10000000ULL
#define ECAM_SIZE 0x10000000ULL
#define RAM_BASE 0x40000000ULL
#define MMIO64_BASE 0x100000000ULL
#define INTX_SPI 44
#define RNG_DEVICE_ID 0x1044
#define ENTROPY_BYTES 64

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

/* Drive one virtio-rng as Linux would (virtio 1.2, 3.1.1) and print what it returns. */
static int read_entropy(struct guest_pci *pci, struct guest_pci_function *fn, struct guest_ram *ram,
			uint64_t bar)
{
	struct guest_virtio rng;
	struct guest_buf buf;
	unsigned long seen;
	uint8_t *bytes;
	void *token;
	uint32_t len;

	if (guest_virtio_probe(&rng, pci, fn, ram, bar, INTX_SPI) ||
	    guest_virtio_negotiate(&rng, 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC) ||
	    guest_virtio_setup_queue(&rng, 0, 0))
		return -1;
	guest_virtio_driver_ok(&rng);
	buf = (struct guest_buf){ guest_ram_alloc(ram, ENTROPY_BYTES, 64), ENTROPY_BYTES, true };
	seen = guest_virtio_interrupts(&rng);
	guest_virtio_add(&rng, 0, &buf, 1, &buf);
	guest_virtio_kick(&rng, 0);
	if (guest_virtio_wait_interrupt(&rng, seen, 10000))
		return -1;
	printf("  %02x:%02x.0 virtio-rng: interrupt on SPI %u, ISR 0x%x, features 0x%llx\n", fn->bus,
	       fn->devfn >> 3, rng.spi, guest_virtio_read_isr(&rng),
	       (unsigned long long)rng.driver_features);
	if (guest_virtio_get_used(&rng, 0, &len, &token) != 1)
		return -1;
	bytes = guest_ram_ptr(ram, buf.gpa, len);
	printf("      %u random bytes:", len);
	for (uint32_t i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n        ", bytes[i]);
	printf("\n");
	return 0;
}

static int enumerate(struct sim_hv *hv)
{
	struct guest_pci_function found[256];
	struct guest_ram ram;
	struct guest_pci pci;
	double start = now_seconds();
	int count, rngs = 0;

	guest_pci_init(&pci, hv, 0, ECAM_BASE, ECAM_SIZE);
	guest_ram_init(&ram, hv, RAM_BASE, 16 << 20);
	count = guest_pci_scan_bus(&pci, 0, found, 256);
	printf("guest: scanned bus 00 through ECAM at 0x%llx in %.1f ms: %d function%s\n",
	       (unsigned long long)ECAM_BASE, (now_seconds() - start) * 1e3, count,
	       count == 1 ? "" : "s");
	for (int i = 0; i < count && i < 256; i++)
		print_function(&pci, &found[i]);
	printf("guest: reading entropy from every virtio-rng\n");
	for (int i = 0; i < count && i < 256; i++) {
		if (found[i].device_id != RNG_DEVICE_ID)
			continue;
		if (read_entropy(&pci, &found[i], &ram, MMIO64_BASE + (uint64_t)rngs++ * 0x100000)) {
			printf("guest: %02x:%02x.0 did not deliver entropy\n", found[i].bus, found[i].devfn >> 3);
			return -1;
		}
	}
	if (rngs == 0 || pci.errors) {
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

	const char *const args[] = { "--device", "rng", "--device", "rng,addr=5,rate=64K", NULL };

	printf("simulated Xen: domain %u, %u vCPUs; starting %s --domain %u --device rng "
	       "--device rng,addr=5,rate=64K\n", config.domid, config.nr_vcpus, daemon, config.domid);
	if (sim_hv_start_daemon(hv, daemon, args) || sim_hv_wait_serving(hv, 10000)) {
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
