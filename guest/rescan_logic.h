/* SPDX-License-Identifier: MIT */
/*
 * guest/rescan_logic.h: what xen-virtio-pci-rescan decides and does in
 * sysfs and reads in procfs, apart from xenstore, so that tests run it
 * against fake trees.
 * This folder is the guest side of the project: nothing here is linked into
 * the daemon, and nothing here includes the daemon's headers.
 */
#ifndef XVP_GUEST_RESCAN_LOGIC_H
#define XVP_GUEST_RESCAN_LOGIC_H

#include <stdbool.h>

/* Interface version 1 (docs/dom0less.md), relative to the guest's /local/domain/<domid>. */
#define RESCAN_GENERATION_KEY	"data/virtio-pci/generation"
#define RESCAN_VIRTIO_VENDOR	0x1af4	/* virtio 1.2, 4.1.2: every virtio-pci function */

/* Write "1" to @sysfs/bus/pci/rescan: the kernel scans every PCI bus again. 0 or -errno. */
int rescan_trigger(const char *sysfs);

/*
 * How many PCI functions in @sysfs/bus/pci/devices have the virtio vendor
 * ID (their "vendor" file reads 0x1af4), or -errno if the directory cannot
 * be read.
 */
int rescan_count_virtio(const char *sysfs);

/*
 * Whether the kernel's xenbus may be asked anything yet, from the names in
 * @proc/interrupts. Linux (6.1, 6.12) defers xenbus in a dom0less guest
 * with xen,enhanced = "enabled" until dom0 runs init-dom0less, and a request
 * to /dev/xen/xenbus before then breaks xenstore in that guest for good
 * (docs/dom0less.md).
 */
enum rescan_xenbus {
	/* Neither interrupt: no xenstore ("no-xenstore"), or not a guest with xenbus. */
	RESCAN_XENBUS_ABSENT,
	/* "xenstore_late_init" and no "xenbus": xenstore comes later; ask nothing yet. */
	RESCAN_XENBUS_LATE,
	/* "xenbus": the kernel connected to xenstore (or never had to wait). */
	RESCAN_XENBUS_READY,
};

/*
 * An enum rescan_xenbus, or -errno if @proc/interrupts cannot be read. The
 * name of an interrupt is the last whitespace-separated field of its line
 * ("  5:   12    3  xen-dyn    -event     xenbus"), matched whole.
 */
int rescan_xenbus_state(const char *proc);

/* Waits between rescans when there is no xenstore: @first seconds, doubling up to @max. */
struct rescan_backoff {
	double next;
	double max;
};

void rescan_backoff_init(struct rescan_backoff *backoff, double first, double max);
/* The wait before the next rescan (seconds); the one after is twice as long, at most max. */
double rescan_backoff_next(struct rescan_backoff *backoff);

/*
 * The last generation acted on. The consumer's rule of interface version 1:
 * rescan whenever the key holds a value other than the last one acted on;
 * a missing key (no daemon, or it stopped) is no reason to rescan, and the
 * next value after it is, whatever it is.
 */
struct rescan_generation {
	bool known;
	char last[32];
};

/* @value read from the key (NULL: it does not exist). True when a rescan is due. */
bool rescan_generation_changed(struct rescan_generation *generation, const char *value);

#endif
