// SPDX-License-Identifier: MIT
/*
 * daemon/domain.c: one served domain. ecam/ and xen/ do not know each other;
 * this file is the adapter: the host bridge's platform operations become
 * IOREQ-server ranges, and the server's ranges call back into the bridge.
 */
#include "daemon/domain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ecam/ecam.h"
#include "lib/log.h"
#include "xen/ioreq_server.h"

/* A BAR the host bridge routed: what the IOREQ range's handler calls. */
struct bar_route {
	struct bar_route *next;
	struct pci_function *fn;
	unsigned int bar;
	uint64_t base;
	uint64_t size;
};

struct served_domain {
	uint32_t domid;
	struct guest_layout layout;
	struct xen_ioreq_server *server;
	struct ecam_host *ecam;
	struct bar_route *routes;
	uint64_t invalidations;
};

/* ---- IOREQ ranges -> host bridge */

static uint64_t ecam_range_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct served_domain *d = opaque;

	return ecam_host_read(d->ecam, offset, size);
}

static void ecam_range_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
	struct served_domain *d = opaque;

	ecam_host_write(d->ecam, offset, size, value);
}

static const struct xen_mmio_ops ecam_range_ops = {
	.read = ecam_range_read,
	.write = ecam_range_write,
};

static uint64_t bar_range_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct bar_route *route = opaque;

	return route->fn->ops->bar_read(route->fn, route->bar, offset, size);
}

static void bar_range_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
	struct bar_route *route = opaque;

	route->fn->ops->bar_write(route->fn, route->bar, offset, size, value);
}

static const struct xen_mmio_ops bar_range_ops = {
	.read = bar_range_read,
	.write = bar_range_write,
};

/* ---- host bridge platform operations -> IOREQ server */

static int platform_map_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			    uint64_t base, uint64_t size)
{
	struct served_domain *d = opaque;
	struct bar_route *route = calloc(1, sizeof(*route));
	int ret;

	if (!route)
		return -ENOMEM;
	*route = (struct bar_route){ d->routes, fn, bar, base, size };
	ret = xen_ioreq_server_add_mmio(d->server, base, size, &bar_range_ops, route);
	if (ret) {
		free(route);
		return ret;
	}
	d->routes = route;
	log_debug("%s: BAR%u at 0x%llx+0x%llx", fn->name, bar, (unsigned long long)base,
		  (unsigned long long)size);
	return 0;
}

static void platform_unmap_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			       uint64_t base, uint64_t size)
{
	struct served_domain *d = opaque;

	if (!d->server)
		return;
	for (struct bar_route **link = &d->routes; *link; link = &(*link)->next) {
		struct bar_route *route = *link;

		if (route->fn != fn || route->bar != bar || route->base != base || route->size != size)
			continue;
		xen_ioreq_server_remove_mmio(d->server, base, size);
		*link = route->next;
		free(route);
		log_debug("%s: BAR%u unmapped", fn->name, bar);
		return;
	}
}

static void platform_intx_changed(void *opaque, struct pci_function *fn, bool asserted)
{
	(void)opaque;
	/* No function served by this build has an interrupt pin (the host bridge has none). */
	log_debug("%s: INTx %s", fn->name, asserted ? "asserted" : "deasserted");
}

static const struct ecam_platform_ops platform_ops = {
	.map_bar = platform_map_bar,
	.unmap_bar = platform_unmap_bar,
	.intx_changed = platform_intx_changed,
};

static void on_invalidate(void *opaque)
{
	struct served_domain *d = opaque;

	/* Nothing caches guest memory yet; the count shows Xen's requests arrive. */
	d->invalidations++;
}

static const struct ioreq_dispatch_hooks dispatch_hooks = {
	.invalidate = on_invalidate,
};

static int create_host_bridge(struct served_domain *d)
{
	const struct ecam_host_config config = {
		.ecam = { d->layout.ecam.base, d->layout.ecam.size },
		.bar_windows = {
			{ d->layout.mmio.base, d->layout.mmio.size },
			{ d->layout.mmio64.base, d->layout.mmio64.size },
		},
		.nr_bar_windows = 2,
	};
	int ret = ecam_host_create(&d->ecam, &config, &platform_ops, d);

	if (ret)
		log_error("cannot create the host bridge: %s", strerror(-ret));
	return ret;
}

/*
 * Tear down in the order that never calls a freed handler: the server stops
 * (answering what is pending while the bridge still exists), the bridge goes
 * (unregistering its BARs through the server), then the server with its ECAM
 * range, page, ports and handles.
 */
static void teardown(struct served_domain *d)
{
	if (d->server)
		xen_ioreq_server_disable(d->server);
	if (d->ecam)
		ecam_host_destroy(d->ecam);
	xen_ioreq_server_destroy(d->server);
	free(d);
}

int served_domain_start(struct served_domain **out, uint32_t domid,
			const struct guest_layout *layout, struct event_base *base)
{
	struct served_domain *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->layout = *layout;
	ret = xen_ioreq_server_create(&d->server, (domid_t)domid, &dispatch_hooks, d);
	if (ret)
		goto fail;
	ret = create_host_bridge(d);
	if (ret)
		goto fail;
	ret = xen_ioreq_server_add_mmio(d->server, layout->ecam.base, layout->ecam.size,
					&ecam_range_ops, d);
	if (ret)
		goto fail;
	ret = xen_ioreq_server_enable(d->server, base);
	if (ret)
		goto fail;
	log_info("serving ECAM 0x%llx+0x%llx (%u buses), BAR windows 0x%llx+0x%llx and 0x%llx+0x%llx",
		 (unsigned long long)layout->ecam.base, (unsigned long long)layout->ecam.size,
		 guest_layout_bus_count(layout),
		 (unsigned long long)layout->mmio.base, (unsigned long long)layout->mmio.size,
		 (unsigned long long)layout->mmio64.base, (unsigned long long)layout->mmio64.size);
	*out = d;
	return 0;

fail:
	teardown(d);
	return ret;
}

void served_domain_stop(struct served_domain *d)
{
	const struct ioreq_dispatcher *stats;

	if (!d)
		return;
	stats = xen_ioreq_server_stats(d->server);
	log_info("stopping: %llu requests served (%llu refused, %llu unclaimed), %llu invalidations",
		 (unsigned long long)stats->handled, (unsigned long long)stats->refused,
		 (unsigned long long)stats->unclaimed, (unsigned long long)d->invalidations);
	teardown(d);
}
