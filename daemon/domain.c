// SPDX-License-Identifier: MIT
/*
 * daemon/domain.c: one served domain. ecam/ and xen/ do not know each other;
 * this file is the adapter: the host bridge's platform operations become
 * IOREQ-server ranges, and the server's ranges call back into the bridge.
 */
#include "daemon/domain.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ecam/ecam.h"
#include "ecam/intx.h"
#include "lib/log.h"
#include "virtio/pci.h"
#include "xen/guest_memory.h"
#include "xen/ioreq_server.h"
#include "xen/isolation.h"
#include "daemon/stale_server.h"
#include "daemon/worker_channel.h"

/* How long a stopping worker waits for its key and record to be removed. */
#define STOP_ANSWER_MS 1000

/* A BAR the host bridge routed: what the IOREQ range's handler calls. */
struct bar_route {
	struct bar_route *next;
	struct pci_function *fn;
	unsigned int bar;
	uint64_t base;
	uint64_t size;
};

struct served_device {
	const struct device_config *config;
	struct virtio_device *vdev;
	bool on_bus;
};

struct served_domain {
	uint32_t domid;
	struct guest_layout layout;
	struct xen_ioreq_server *server;
	struct guest_memory *memory;
	struct virtio_mem virtio_memory;
	struct intx_router intx;
	struct ecam_host *ecam;
	struct bar_route *routes;
	struct log_ratelimit bar_log;	/* the guest maps and unmaps BARs at will */
	struct served_device devices[DEVICE_MAX];
	unsigned int nr_devices;
	int channel;		/* to the supervisor, which writes xenstore for us */
	bool announced;		/* the supervisor was told the functions answer */
	bool server_recorded;	/* ... and asked to record our server */
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
	log_ratelimited(&d->bar_log, LOG_LEVEL_DEBUG, "%s: BAR%u at 0x%llx+0x%llx", fn->name, bar,
			(unsigned long long)base, (unsigned long long)size);
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
		log_ratelimited(&d->bar_log, LOG_LEVEL_DEBUG, "%s: BAR%u unmapped", fn->name, bar);
		return;
	}
}

/*
 * An INTx line is an SPI of the guest's vGIC. Xen's Arm vGIC ignores a
 * level of 0 for a virtual SPI (vgic_inject_irq), so a raised SPI behaves
 * like an edge: the router raises again for every event (ecam/intx.c).
 */
static int platform_set_spi_level(void *ctx, unsigned int spi, unsigned int level)
{
	return xen_ioreq_server_set_irq_level(ctx, spi, level);
}

static const struct intx_router_ops spi_ops = {
	.set_level = platform_set_spi_level,
	.einval_hint = " (does the guest have this SPI? xl: nr_spis, or vuart = \"sbsa_uart\" before Xen 4.19)",
};

static void platform_intx_changed(void *opaque, struct pci_function *fn, bool asserted)
{
	struct served_domain *d = opaque;

	intx_router_update(&d->intx, fn, asserted);
}

static const struct ecam_platform_ops platform_ops = {
	.map_bar = platform_map_bar,
	.unmap_bar = platform_unmap_bar,
	.intx_changed = platform_intx_changed,
};

static void on_invalidate(void *opaque)
{
	struct served_domain *d = opaque;

	/* Before the request completes: Xen may reuse the old pages right after. */
	guest_memory_invalidate(d->memory);
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

static int create_device(struct served_domain *d, const struct daemon_options *opts,
			 const struct device_config *config, struct event_base *base,
			 struct served_device *dev)
{
	struct backend_common common = device_config_common(config);
	struct backend_env env = {
		.domid = d->domid,
		.domain_name = opts->domain_name,
		.nr_vcpus = xen_ioreq_server_nr_vcpus(d->server),
		.mem = &d->virtio_memory,
		.size_max = GUEST_MEMORY_MAX_TRANSLATE,
		.base = base,
		.transport = &virtio_pci_transport,
	};
	char described[PATH_MAX + 32] = "";
	int ret;

	dev->config = config;
	ret = config->type->create(&dev->vdev, &env, &common, config->options);
	if (ret) {
		log_error("%s: cannot create: %s", config->name, strerror(-ret));
		return ret;
	}
	virtio_device_set_poll_max(dev->vdev, config->poll_max_ns);
	ret = ecam_host_add_function(d->ecam, virtio_pci_function(dev->vdev), 0,
				     PCI_DEVFN(config->slot, 0));
	if (ret) {
		log_error("%s: cannot add at 00:%02x.0: %s", config->name, config->slot, strerror(-ret));
		return ret;
	}
	dev->on_bus = true;
	if (config->type->describe)
		config->type->describe(config->options, described, sizeof(described));
	log_info("%s at 00:%02x.0, INTA on SPI %u%s", config->name, config->slot,
		 intx_spi_of(&d->intx, virtio_pci_function(dev->vdev)), described);
	return 0;
}

/* What polling cost and saved (docs/benchmarks.md reads this line). */
static void log_poll_stats(struct served_device *dev)
{
	struct virtio_poll_stats stats;

	virtio_device_poll_stats(dev->vdev, &stats);
	log_info("%s: idle-ring watches: %llu, %llu of them found a request (a kick saved), "
		 "%llu us watching (poll-max-ns=%llu)", dev->config->name,
		 (unsigned long long)stats.watches, (unsigned long long)stats.hits,
		 (unsigned long long)(stats.watched_ns / 1000),
		 (unsigned long long)dev->config->poll_max_ns);
}

static void destroy_device(struct served_domain *d, struct served_device *dev)
{
	log_poll_stats(dev);
	if (dev->on_bus)
		ecam_host_remove_function(d->ecam, virtio_pci_function(dev->vdev));
	dev->config->type->destroy(dev->vdev);
}

static int create_devices(struct served_domain *d, const struct daemon_options *opts,
			  struct event_base *base)
{
	for (unsigned int i = 0; i < opts->nr_devices; i++) {
		struct served_device *dev = &d->devices[d->nr_devices];
		int ret = create_device(d, opts, &opts->devices[i], base, dev);

		if (dev->vdev)
			d->nr_devices++;
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Tear down in the order that never calls a freed handler: the readiness
 * key goes, the server stops
 * (answering what is pending while everything still exists), the devices
 * leave the bus (their BARs unregistered through the server), the bridge
 * goes, the memory cache, then the server with its ECAM range, page, ports
 * and handles.
 */
static void teardown(struct served_domain *d)
{
	/* First: the key must not say the functions answer once they no longer do. */
	if (d->announced || d->server_recorded)
		worker_channel_request(d->channel, WORKER_MSG_STOPPING, 0, STOP_ANSWER_MS);
	if (d->server)
		xen_ioreq_server_disable(d->server);
	while (d->nr_devices > 0)
		destroy_device(d, &d->devices[--d->nr_devices]);
	if (d->ecam)
		ecam_host_destroy(d->ecam);
	guest_memory_destroy(d->memory);
	xen_ioreq_server_destroy(d->server);
	log_ratelimit_flush(&d->bar_log);
	free(d);
}

static void log_serving(const struct guest_layout *layout)
{
	log_info("serving ECAM 0x%llx+0x%llx (%u buses), BAR windows 0x%llx+0x%llx and 0x%llx+0x%llx",
		 (unsigned long long)layout->ecam.base, (unsigned long long)layout->ecam.size,
		 guest_layout_bus_count(layout),
		 (unsigned long long)layout->mmio.base, (unsigned long long)layout->mmio.size,
		 (unsigned long long)layout->mmio64.base, (unsigned long long)layout->mmio64.size);
}

/*
 * Every Xen handle the worker will ever use is opened here, then all of
 * them are restricted at once (xen/isolation.h): nothing the guest controls
 * has been read yet (the ioreq page is not even mapped), so no request
 * waiting in a slot is served before the restriction.
 */
/* The supervisor destroys the server an earlier worker left, before ours comes. */
static int clear_stale_server(struct served_domain *d)
{
	int answer = worker_channel_request(d->channel, WORKER_MSG_CLEAR_STALE, 0,
					    STALE_SERVER_READ_MS);

	if (answer == EBUSY) {
		log_error("domain %u is served by another process: not serving it twice", d->domid);
		return -EBUSY;
	}
	if (answer < 0)
		log_warn("the supervisor did not answer (%s): a server an earlier worker left "
			 "for this domain (if any) stays registered", strerror(-answer));
	return 0;
}

int served_domain_open(struct served_domain **out, const struct daemon_options *opts, int channel,
		       struct event_base *base)
{
	struct served_domain *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->domid = opts->domid;
	log_ratelimit_init(&d->bar_log, "BAR mappings");
	d->layout = opts->layout;
	d->channel = channel;
	ret = clear_stale_server(d);
	if (ret)
		goto fail;
	ret = xen_ioreq_server_open(&d->server, (domid_t)opts->domid, &dispatch_hooks, d);
	if (ret)
		goto fail;
	ret = guest_memory_create(&d->memory, opts->domid, opts->map_budget, base);
	if (ret)
		goto fail;
	/* docs/security.md: from here on every handle can name this domain only. */
	ret = xen_isolation_restrict_all((domid_t)opts->domid);
	if (ret)
		goto fail;
	*out = d;
	return 0;

fail:
	teardown(d);
	return ret;
}

/*
 * Every call from here on goes through the restricted handles and names
 * this domain only: dm_ops (create, ranges, enable, IRQ levels), the ioreq
 * page (IOCTL_PRIVCMD_MMAP_RESOURCE), foreign maps of its memory and binds
 * of its event channels are what Linux still allows on them
 * (drivers/xen/privcmd.c, drivers/xen/evtchn.c). No Xen device is opened.
 */
int served_domain_serve(struct served_domain *d, const struct daemon_options *opts,
			struct event_base *base)
{
	const struct guest_layout *layout = &d->layout;
	int ret = xen_ioreq_server_create(d->server);

	if (ret)
		goto fail;
	/* Before it can serve: killed from here on, it leaves a server the next worker finds. */
	d->server_recorded = true;
	ret = worker_channel_request(d->channel, WORKER_MSG_SERVER_CREATED,
				     xen_ioreq_server_id(d->server), STALE_SERVER_READ_MS);
	if (ret < 0)
		log_warn("the supervisor did not confirm the server record (%s): killed, this "
			 "worker may leave its server behind", strerror(-ret));
	intx_router_init(&d->intx, &spi_ops, d->server, layout->intx_spi);
	intx_router_lower_all(&d->intx);
	d->virtio_memory = guest_memory_virtio(d->memory);
	ret = create_host_bridge(d);
	if (ret)
		goto fail;
	ret = create_devices(d, opts, base);
	if (ret)
		goto fail;
	ret = xen_ioreq_server_add_mmio(d->server, layout->ecam.base, layout->ecam.size,
					&ecam_range_ops, d);
	if (ret)
		goto fail;
	ret = xen_ioreq_server_enable(d->server, base);
	if (ret)
		goto fail;
	log_serving(layout);
	/* From here the functions answer: tell the guest (or log why it cannot be told). */
	served_domain_functions_changed(d);
	return 0;

fail:
	teardown(d);
	return ret;
}

void served_domain_functions_changed(struct served_domain *d)
{
	d->announced = true;
	worker_channel_notify(d->channel, WORKER_MSG_FUNCTIONS_CHANGED, 0);
}

void served_domain_stop(struct served_domain *d)
{
	const struct ioreq_dispatcher *stats;
	const struct guest_memory_stats *memory;

	if (!d)
		return;
	stats = xen_ioreq_server_stats(d->server);
	memory = guest_memory_stats(d->memory);
	log_info("stopping: %llu requests served (%llu refused, %llu unclaimed), "
		 "%llu invalidations, %llu guest-memory map calls, %llu waits for mapping room",
		 (unsigned long long)stats->handled, (unsigned long long)stats->refused,
		 (unsigned long long)stats->unclaimed, (unsigned long long)memory->invalidations,
		 (unsigned long long)memory->map_calls, (unsigned long long)memory->waits);
	teardown(d);
}
