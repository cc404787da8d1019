// SPDX-License-Identifier: MIT
/*
 * ecam/host_bridge.c: the pci-host-ecam-generic bridge: ECAM decode, the
 * registry of functions and their INTx pins. Which BARs decode is decided in
 * bar_routing.c.
 */
#include "ecam/host_bridge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define ECAM_REGISTER_MASK	0xfffULL
#define FUNCTIONS_PER_DEVICE	8

/*
 * The bridge's own function. 1b36:0008 is Red Hat's "QEMU PCIe Host
 * bridge", the ID QEMU's gpex (the model pci-host-ecam-generic describes)
 * gives it: the de facto ID of a generic virtual PCIe host bridge, which
 * guests list as a plain host bridge and bind no driver to. Class 0x060000:
 * bridge, host bridge (PCI Code and ID Assignment 1.7, base class 06h).
 */
static const struct pci_function_ids bridge_ids = {
	.vendor_id = 0x1b36,
	.device_id = 0x0008,
	.revision = 0,
	.class_code = 0x060000,
};

static bool window_valid(const struct ecam_window *window)
{
	return window->size && window->size - 1 <= UINT64_MAX - window->base;
}

/* What is wrong with @config, or NULL. */
static const char *config_problem(const struct ecam_host_config *config)
{
	const struct ecam_window *ecam = &config->ecam;

	if (!window_valid(ecam) || ecam->size % ECAM_BUS_SIZE ||
	    ecam->size > ECAM_MAX_BUSES * ECAM_BUS_SIZE)
		return "ECAM window must be 1 to 256 MiB in whole MiB, not wrapping";
	if (config->nr_bar_windows > ECAM_MAX_BAR_WINDOWS)
		return "too many BAR windows";
	for (unsigned int i = 0; i < config->nr_bar_windows; i++)
		if (!window_valid(&config->bar_windows[i]))
			return "BAR window empty or wrapping";
	return NULL;
}

int ecam_host_create(struct ecam_host **out, const struct ecam_host_config *config,
		     const struct ecam_platform_ops *ops, void *opaque)
{
	struct ecam_host *host;
	const char *problem;
	int ret;

	if (!out || !config || !ops || !ops->map_bar || !ops->unmap_bar || !ops->intx_changed)
		return -EINVAL;
	problem = config_problem(config);
	if (problem) {
		log_error("ecam: %s (ECAM 0x%" PRIx64 " size 0x%" PRIx64 ", %u BAR windows)",
			  problem, config->ecam.base, config->ecam.size, config->nr_bar_windows);
		return -EINVAL;
	}
	host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	host->config = *config;
	host->ops = ops;
	host->opaque = opaque;
	host->nr_buses = (unsigned int)(config->ecam.size / ECAM_BUS_SIZE);
	/* The domain's own limit: a worker serves one domain, but the limit need not know that. */
	log_ratelimit_init(&host->log, "ecam");

	pci_function_init(&host->bridge, &bridge_ids, NULL, NULL);
	ret = ecam_host_add_function(host, &host->bridge, 0, PCI_DEVFN(0, 0));
	if (ret)
		goto free_host;
	*out = host;
	return 0;

free_host:
	ecam_host_destroy(host);
	return ret;
}

static void deassert_intx(struct ecam_host *host, struct pci_function *fn)
{
	if (fn->intx_asserted)
		host->ops->intx_changed(host->opaque, fn, false);
	fn->intx_asserted = false;
}

static void set_multi_function(struct pci_function *fn, bool multi)
{
	uint8_t header = pci_config_get8(&fn->config, PCI_HEADER_TYPE);

	if (multi)
		header |= PCI_HEADER_TYPE_MULTI_FUNCTION;
	else
		header &= (uint8_t)~PCI_HEADER_TYPE_MULTI_FUNCTION;
	pci_config_set8(&fn->config, PCI_HEADER_TYPE, header);
}

/*
 * PCI 3.0, 6.2.1: software looks at functions 1-7 of a device only when
 * function 0's Header Type says multi-function, so function 0 says so while
 * any sibling is on the bus.
 */
static void update_multi_function(struct ecam_host *host, uint8_t bus, uint8_t slot)
{
	struct pci_function **table = host->buses[bus];
	bool siblings = false;

	if (!table || !table[PCI_DEVFN(slot, 0)])
		return;
	for (unsigned int func = 1; func < FUNCTIONS_PER_DEVICE; func++)
		siblings |= table[PCI_DEVFN(slot, func)] != NULL;
	set_multi_function(table[PCI_DEVFN(slot, 0)], siblings);
}

/* Take @fn off the bus without re-evaluating the other functions' BARs. */
static void detach_function(struct ecam_host *host, struct pci_function *fn)
{
	size_t i;

	ecam_host_unmap_function_bars(host, fn);
	deassert_intx(host, fn);
	host->buses[fn->bus][fn->devfn] = NULL;
	for (i = 0; i < host->nr_functions && host->functions[i] != fn; i++)
		;
	if (i < host->nr_functions) {
		memmove(&host->functions[i], &host->functions[i + 1],
			(host->nr_functions - i - 1) * sizeof(host->functions[0]));
		host->nr_functions--;
	}
	set_multi_function(fn, false);
	fn->host = NULL;
}

void ecam_host_destroy(struct ecam_host *host)
{
	if (!host)
		return;
	while (host->nr_functions)
		detach_function(host, host->functions[host->nr_functions - 1]);
	for (unsigned int bus = 0; bus < ECAM_MAX_BUSES; bus++)
		free(host->buses[bus]);
	free(host->functions);
	log_ratelimit_flush(&host->log);
	free(host);
}

static int reserve_function_slot(struct ecam_host *host, uint8_t bus)
{
	if (!host->buses[bus]) {
		host->buses[bus] = calloc(ECAM_DEVFNS_PER_BUS, sizeof(*host->buses[bus]));
		if (!host->buses[bus])
			return -ENOMEM;
	}
	if (host->nr_functions == host->functions_capacity) {
		size_t capacity = host->functions_capacity ? 2 * host->functions_capacity : 16;
		struct pci_function **functions;

		functions = reallocarray(host->functions, capacity, sizeof(*functions));
		if (!functions)
			return -ENOMEM;
		host->functions = functions;
		host->functions_capacity = capacity;
	}
	return 0;
}

int ecam_host_add_function(struct ecam_host *host, struct pci_function *fn,
			   uint8_t bus, uint8_t devfn)
{
	int ret;

	if (!host || !fn || bus >= host->nr_buses)
		return -EINVAL;
	if (ecam_host_find_function(host, bus, devfn))
		return -EEXIST;
	if (fn->host)
		return -EBUSY;
	ret = reserve_function_slot(host, bus);
	if (ret)
		return ret;

	host->buses[bus][devfn] = fn;
	host->functions[host->nr_functions++] = fn;
	fn->host = host;
	fn->bus = bus;
	fn->devfn = devfn;
	fn->intx_asserted = false;
	snprintf(fn->name, sizeof(fn->name), "%02x:%02x.%x", bus, PCI_SLOT(devfn), PCI_FUNC(devfn));

	update_multi_function(host, bus, PCI_SLOT(devfn));
	ecam_host_update_bars(host);
	ecam_host_update_intx(host, fn, false);
	return 0;
}

void ecam_host_remove_function(struct ecam_host *host, struct pci_function *fn)
{
	if (!host || !fn)
		return;
	if (fn->host != host || ecam_host_find_function(host, fn->bus, fn->devfn) != fn) {
		log_warn("ecam: removing a function that is not on this bus (%s)", fn->name);
		return;
	}
	detach_function(host, fn);
	update_multi_function(host, fn->bus, PCI_SLOT(fn->devfn));
	/* BARs that overlapped the removed function's may decode now. */
	ecam_host_update_bars(host);
}

struct pci_function *ecam_host_find_function(struct ecam_host *host, uint8_t bus, uint8_t devfn)
{
	if (!host || bus >= host->nr_buses || !host->buses[bus])
		return NULL;
	return host->buses[bus][devfn];
}

/*
 * PCIe Base 5.0, 7.2.2: the ECAM offset names bus, device, function and
 * register. Only naturally aligned 1-, 2- and 4-byte accesses are defined
 * (7.2.2.1 leaves wider and misaligned ones to the implementation); they,
 * and accesses to absent functions, return NULL and so read all-ones.
 */
static struct pci_function *decode(struct ecam_host *host, uint64_t offset, unsigned int size,
				   uint16_t *reg)
{
	if ((size != 1 && size != 2 && size != 4) || (offset & (size - 1)) ||
	    offset >= host->config.ecam.size) {
		log_ratelimited(&host->log, LOG_LEVEL_DEBUG,
				"ecam: ignoring %u-byte access at offset 0x%" PRIx64, size, offset);
		return NULL;
	}
	*reg = (uint16_t)(offset & ECAM_REGISTER_MASK);
	return ecam_host_find_function(host, (uint8_t)(offset >> 20), (uint8_t)(offset >> 12));
}

uint64_t ecam_host_read(struct ecam_host *host, uint64_t offset, unsigned int size)
{
	struct pci_function *fn;
	uint16_t reg;

	if (!host || size == 0 || size > 8)
		return ~0ULL;
	uint32_t value;

	fn = decode(host, offset, size, &reg);
	if (!fn)
		return ecam_all_ones(size);
	if (fn->ops && fn->ops->config_read && fn->ops->config_read(fn, reg, size, &value))
		return value;
	return pci_config_read(&fn->config, reg, size);
}

static bool write_touches(uint16_t reg, unsigned int size, uint16_t start, unsigned int len)
{
	return reg < start + len && start < reg + size;
}

void ecam_host_write(struct ecam_host *host, uint64_t offset, unsigned int size, uint64_t value)
{
	struct pci_function *fn;
	uint16_t reg;

	if (!host)
		return;
	fn = decode(host, offset, size, &reg);
	if (!fn)
		return;
	pci_config_write(&fn->config, reg, size, (uint32_t)value);
	if (write_touches(reg, size, PCI_COMMAND, 2))
		ecam_host_update_intx(host, fn, false);
	if (write_touches(reg, size, PCI_COMMAND, 2) ||
	    write_touches(reg, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS))
		ecam_host_update_bars(host);
	if (fn->ops && fn->ops->config_written)
		fn->ops->config_written(fn, reg, size);
}

/*
 * PCI 3.0, 6.2.2: the pin is asserted while Interrupt Status is set and
 * INTx Disable is clear. Each new event is reported even when the pin is
 * already asserted: Xen's Arm vGIC treats SPIs as edges (docs/architecture.md).
 */
void ecam_host_update_intx(struct ecam_host *host, struct pci_function *fn, bool event)
{
	uint16_t command = pci_config_get16(&fn->config, PCI_COMMAND);
	bool level = fn->intx_pending && !(command & PCI_COMMAND_INTX_DISABLE);

	if (level && (event || !fn->intx_asserted))
		host->ops->intx_changed(host->opaque, fn, true);
	else if (!level && fn->intx_asserted)
		host->ops->intx_changed(host->opaque, fn, false);
	fn->intx_asserted = level;
}
