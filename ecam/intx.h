/* SPDX-License-Identifier: MIT */
/*
 * ecam/intx.h: the host bridge's four INTx lines and the swizzle that puts
 * each function's pin on one of them (PCI-to-PCI Bridge 1.2, 9.1):
 * line = (device + pin - 1) mod 4. The daemon raises and lowers the lines
 * through this router; the guest's device-tree fragment (fdt/) encodes the
 * same swizzle in its interrupt-map, from the same function.
 *
 * What a line is on the platform (an SPI of a Xen guest's vGIC) is the
 * owner's: it sets levels through struct intx_router_ops.
 */
#ifndef XVP_ECAM_INTX_H
#define XVP_ECAM_INTX_H

#include <stdbool.h>

#include "ecam/pci_function.h"
#include "lib/log.h"

/* INTA..INTD. */
#define PCI_INTX_LINES	4

/* The bridge line (0..3) pin @pin (1 = INTA .. 4 = INTD) of device @device is wired to; -1 for no pin. */
int pci_intx_line(unsigned int device, unsigned int pin);

struct intx_router_ops {
	/* Set line @spi (first_spi + line) to @level: 0 or -errno. */
	int (*set_level)(void *ctx, unsigned int spi, unsigned int level);
	/* Optional: appended to the log line when set_level fails with -EINVAL. */
	const char *einval_hint;
};

struct intx_router {
	const struct intx_router_ops *ops;
	void *ctx;
	unsigned int first_spi;			/* INTA's line for device 0 */
	unsigned int asserted[PCI_INTX_LINES];	/* functions asserting each line */
	struct log_ratelimit log;
};

void intx_router_init(struct intx_router *router, const struct intx_router_ops *ops, void *ctx,
		      unsigned int first_spi);

/*
 * Lower all four lines, at start: a worker before us (killed, or an older
 * daemon) may have left one high, which an interrupt controller that
 * honours levels would keep asserted with nothing pending. A later restore
 * of saved state raises what is pending again.
 */
void intx_router_lower_all(struct intx_router *router);

/* The line function @fn's pin is wired to (the interrupt-map swizzle), or 0 if it has no pin. */
unsigned int intx_spi_of(const struct intx_router *router, const struct pci_function *fn);

/* ecam_platform_ops.intx_changed: raise for every event, lower when the line's last source clears. */
void intx_router_update(struct intx_router *router, struct pci_function *fn, bool asserted);

#endif
