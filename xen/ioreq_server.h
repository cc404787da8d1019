/* SPDX-License-Identifier: MIT */
/*
 * xen/ioreq_server.h: one IOREQ server for one domain, from creation to
 * teardown.
 *
 * Set-up is a ladder of named stages (enum ioreq_server_stage); the server
 * remembers how far it got, and xen_ioreq_server_destroy() walks back down
 * exactly that far, whether set-up failed half-way or the daemon is stopping.
 */
#ifndef XVP_XEN_IOREQ_SERVER_H
#define XVP_XEN_IOREQ_SERVER_H

#include <stdint.h>
#include <xen/xen.h>

#include "xen/ioreq_dispatch.h"
#include "xen/mmio_regions.h"

struct event_base;
struct xen_ioreq_server;

/*
 * Stage 1: xen_ioreq_server_open() opens the handles (devicemodel,
 * foreignmemory, evtchn). Then the caller restricts every handle of the
 * process to the domain (xen/isolation.h). Stages 2-4:
 * xen_ioreq_server_create() reads the vCPU count, creates the server and
 * maps its ioreq page; on failure the caller destroys @server. Then the
 * caller registers its MMIO ranges (xen_ioreq_server_add_mmio). Stages 5-7:
 * xen_ioreq_server_enable() enables the server, binds each vCPU's event
 * channel and starts listening on the event loop.
 */
int xen_ioreq_server_open(struct xen_ioreq_server **out, domid_t domid,
			  const struct ioreq_dispatch_hooks *hooks, void *opaque);
int xen_ioreq_server_create(struct xen_ioreq_server *server);
int xen_ioreq_server_enable(struct xen_ioreq_server *server, struct event_base *base);

/*
 * Route guest accesses to [base, base + size) to @ops: the range is added to
 * the table and registered with Xen (both or neither). May be called at any
 * time after create.
 */
int xen_ioreq_server_add_mmio(struct xen_ioreq_server *server, uint64_t base, uint64_t size,
			      const struct xen_mmio_ops *ops, void *opaque);
int xen_ioreq_server_remove_mmio(struct xen_ioreq_server *server, uint64_t base, uint64_t size);

/*
 * Stop serving: answer every request pending in the vCPU slots, disable the
 * server and unbind the ports. From the return on, no range handler is called.
 */
void xen_ioreq_server_disable(struct xen_ioreq_server *server);

/*
 * Answer every request pending in the vCPU slots, disable the server, unbind
 * the ports, unregister the ranges, unmap the page, destroy the server, close
 * the handles: as far as set-up got. Frees @server.
 */
void xen_ioreq_server_destroy(struct xen_ioreq_server *server);

/* Raise or lower an interrupt line (an SPI on Arm). 0 or -errno. */
int xen_ioreq_server_set_irq_level(struct xen_ioreq_server *server, uint32_t irq, unsigned int level);

/*
 * Destroy server @id of @domid that an earlier process created and left
 * behind (it was killed): 0 when it is gone (or was already), else -errno.
 */
int xen_ioreq_server_destroy_stale(domid_t domid, unsigned int id);

unsigned int xen_ioreq_server_id(const struct xen_ioreq_server *server);
unsigned int xen_ioreq_server_nr_vcpus(const struct xen_ioreq_server *server);
const struct ioreq_dispatcher *xen_ioreq_server_stats(const struct xen_ioreq_server *server);

#endif
