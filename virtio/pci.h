/* SPDX-License-Identifier: MIT */
/*
 * virtio/pci.h: the modern virtio-pci transport (virtio 1.2, 4.1).
 *
 * A virtio device is a PCI function (ecam/) with one 64-bit prefetchable
 * memory BAR that holds the common configuration, notification, ISR and
 * device-specific structures, each found through its vendor capability. The
 * transport knows nothing of what the device does: a backend implements
 * struct virtio_device_ops, exactly as kvmtool's devices do.
 */
#ifndef XVP_VIRTIO_PCI_H
#define XVP_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "ecam/pci_function.h"
#include "virtio/device.h"

#define VIRTIO_PCI_VENDOR_ID		0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE	0x1040	/* + device type (4.1.2) */

int virtio_pci_create(struct virtio_device **out, const struct virtio_device_info *info,
		      const struct virtio_device_ops *ops, void *backend, const struct virtio_mem *mem);
/* Resets the device (ops->reset) and frees it; take it off the bus first. */
void virtio_pci_destroy(struct virtio_device *vdev);
/* virtio_pci_create() and virtio_pci_destroy(), for devices that take a transport. */
extern const struct virtio_transport virtio_pci_transport;
/* The PCI function to put on the host bridge. */
struct pci_function *virtio_pci_function(struct virtio_device *vdev);

#endif
