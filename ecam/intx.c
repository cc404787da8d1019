// SPDX-License-Identifier: MIT
/*
 * ecam/intx.c: INTx lines and their swizzle.
 *
 * Functions on bus 0 swizzle their pin onto the bridge's four lines as PCI
 * bridges do (PCI-to-PCI Bridge 1.2, 9.1): line = (device + pin - 1) mod 4,
 * the same map the device-tree fragment's interrupt-map encodes.
 *
 * Xen's Arm vGIC ignores a level of 0 for a virtual SPI (vgic_inject_irq), so
 * a raised SPI behaves like an edge: if we raised the line only when it went
 * from low to high, a second function's interrupt on an already-high line
 * would never reach the guest. So every new interrupt event raises the line
 * again; it is lowered when no function on it is pending any more, which is
 * right for interrupt controllers that do honour levels.
 */
#include "ecam/intx.h"

#include <errno.h>
#include <string.h>

int pci_intx_line(unsigned int device, unsigned int pin)
{
	if (pin < 1 || pin > PCI_INTX_LINES)
		return -1;
	return (int)((device + pin - 1) % PCI_INTX_LINES);
}

void intx_router_init(struct intx_router *router, const struct intx_router_ops *ops, void *ctx,
		      unsigned int first_spi)
{
	memset(router, 0, sizeof(*router));
	router->ops = ops;
	router->ctx = ctx;
	router->first_spi = first_spi;
}

void intx_router_lower_all(struct intx_router *router)
{
	for (unsigned int line = 0; line < PCI_INTX_LINES; line++) {
		unsigned int spi = router->first_spi + line;
		int ret = router->ops->set_level(router->ctx, spi, 0);

		if (ret)
			log_ratelimited(&router->log, LOG_LEVEL_ERROR, "cannot lower SPI %u: %s", spi,
					strerror(-ret));
	}
}

static int line_of(const struct pci_function *fn)
{
	return pci_intx_line(PCI_SLOT(fn->devfn), pci_config_get8(&fn->config, PCI_INTERRUPT_PIN));
}

unsigned int intx_spi_of(const struct intx_router *router, const struct pci_function *fn)
{
	int line = line_of(fn);

	return line < 0 ? 0 : router->first_spi + (unsigned int)line;
}

static void set_level(struct intx_router *router, unsigned int spi, unsigned int level,
		      const struct pci_function *fn)
{
	int ret = router->ops->set_level(router->ctx, spi, level);
	const char *hint = router->ops->einval_hint;

	if (ret)
		log_ratelimited(&router->log, LOG_LEVEL_ERROR,
				"%s: cannot set SPI %u to %u: %s%s", fn->name, spi, level, strerror(-ret),
				ret == -EINVAL && hint ? hint : "");
}

void intx_router_update(struct intx_router *router, struct pci_function *fn, bool asserted)
{
	int line = line_of(fn);
	unsigned int spi;

	if (line < 0)
		return;
	spi = router->first_spi + (unsigned int)line;
	if (asserted) {
		/* fn->intx_asserted is still the previous state (ecam.h). */
		if (!fn->intx_asserted)
			router->asserted[line]++;
		set_level(router, spi, 1, fn);
		return;
	}
	if (fn->intx_asserted && router->asserted[line] > 0)
		router->asserted[line]--;
	if (router->asserted[line] == 0)
		set_level(router, spi, 0, fn);
}
