/* SPDX-License-Identifier: MIT */
/*
 * ecam/host_bridge.h: the host bridge's private state, shared by the files of
 * ecam/ only (host_bridge.c: decode and registry, bar_routing.c: which BARs
 * decode, pci_function.c: INTx). Everything outside ecam/ uses ecam.h.
 */
#ifndef XVP_ECAM_HOST_BRIDGE_H
#define XVP_ECAM_HOST_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "ecam/ecam.h"
#include "lib/log.h"

#define ECAM_DEVFNS_PER_BUS	256

struct ecam_host {
	struct ecam_host_config config;
	const struct ecam_platform_ops *ops;
	void *opaque;
	unsigned int nr_buses;
	/* Lookup by address: one table of ECAM_DEVFNS_PER_BUS per bus in use. */
	struct pci_function **buses[ECAM_MAX_BUSES];
	/* The same functions as a list, in the order they were added, for BAR routing. */
	struct pci_function **functions;
	size_t nr_functions;
	size_t functions_capacity;
	/* The bridge's own function at 00:00.0. */
	struct pci_function bridge;
	/* Lines the guest can cause that belong to no one function: ECAM decode, BAR routing. */
	struct log_ratelimit log;
};

/* bar_routing.c: stop routing every BAR of @fn that is routed. */
void ecam_host_unmap_function_bars(struct ecam_host *host, struct pci_function *fn);

/*
 * host_bridge.c: bring fn->intx_asserted in line with Interrupt Status and
 * INTx Disable; @event: the function signalled a new interrupt.
 */
void ecam_host_update_intx(struct ecam_host *host, struct pci_function *fn, bool event);

#endif
