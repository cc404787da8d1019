/* SPDX-License-Identifier: MIT */
/*
 * daemon/intx.h: the four INTx lines of the host bridge, each an SPI of the
 * guest's GIC, shared by every function whose pin swizzles onto it.
 */
#ifndef XVP_DAEMON_INTX_H
#define XVP_DAEMON_INTX_H

#include <stdbool.h>

#include "ecam/pci_function.h"
#include "lib/log.h"

struct xen_ioreq_server;

struct intx_router {
	struct xen_ioreq_server *server;
	unsigned int first_spi;		/* INTA's line for device 0 */
	unsigned int asserted[4];	/* functions asserting each line */
	struct log_ratelimit log;
};

void intx_router_init(struct intx_router *router, struct xen_ioreq_server *server, unsigned int first_spi);

/*
 * Lower all four lines, at start: a worker before us (killed, or an older
 * daemon) may have left one high, which an interrupt controller that
 * honours levels would keep asserted with nothing pending. A later restore
 * of saved state raises what is pending again.
 */
void intx_router_lower_all(struct intx_router *router);

/* The SPI function @fn's pin is wired to (the interrupt-map swizzle), or 0 if it has no pin. */
unsigned int intx_spi_of(const struct intx_router *router, const struct pci_function *fn);

/* ecam_platform_ops.intx_changed: raise for every event, lower when the line's last source clears. */
void intx_router_update(struct intx_router *router, struct pci_function *fn, bool asserted);

#endif
