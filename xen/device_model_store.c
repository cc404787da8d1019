// SPDX-License-Identifier: MIT
/*
 * xen/device_model_store.c: the trigger's nodes removed and "running"
 * written, in that order, in one xenstore connection.
 */
#include "xen/device_model_store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

#include "lib/log.h"

/* What libxl__device_vfb_add() and libxl__device_vkbd_add() wrote, for the vfb entry. */
static const char *const trigger_nodes[] = {
	"/local/domain/%u/device/vfb",
	"/local/domain/%u/device/vkbd",
	"/local/domain/0/backend/vfb/%u",
	"/local/domain/0/backend/vkbd/%u",
	"/libxl/%u/device/vfb",
	"/libxl/%u/device/vkbd",
};

static void remove_trigger(struct xs_handle *xsh, uint32_t domid)
{
	char path[96];

	for (size_t i = 0; i < sizeof(trigger_nodes) / sizeof(trigger_nodes[0]); i++) {
		snprintf(path, sizeof(path), trigger_nodes[i], domid);
		/* ENOENT: a guest without the vfb entry (started by hand): nothing to remove. */
		if (!xs_rm(xsh, XBT_NULL, path) && errno != ENOENT)
			log_warn("device model: cannot remove %s: %s", path, strerror(errno));
	}
}

int xen_device_model_announce(uint32_t domid)
{
	struct xs_handle *xsh = xs_open(0);
	char path[64];
	int ret = 0;

	if (!xsh) {
		ret = -errno;
		log_error("device model: cannot reach xenstore: %s", strerror(errno));
		return ret;
	}
	remove_trigger(xsh, domid);
	snprintf(path, sizeof(path), XEN_DEVICE_MODEL_STATE_FORMAT, domid);
	if (!xs_write(xsh, XBT_NULL, path, "running", strlen("running"))) {
		ret = -errno;
		log_error("device model: cannot write %s: %s", path, strerror(errno));
	}
	xs_close(xsh);
	return ret;
}
