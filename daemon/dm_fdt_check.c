// SPDX-License-Identifier: MIT
/*
 * daemon/dm_fdt_check.c: the guest's fragment, read with libfdt, against
 * the one built for the serving options: the host bridge node's properties
 * one by one, so that the refusal names the one that differs.
 */
#include "daemon/dm_fdt_check.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "fdt/guest_fragment.h"

#define PROGRAM "xen-virtio-pcid"
#define HOST_BRIDGE "pci-host-ecam-generic"

/* The file into @buf: its size, or -1 after a message (missing, too big, not a tree). */
static long read_fragment(const char *path, void *buf, size_t size, FILE *err)
{
	FILE *file = fopen(path, "rb");
	size_t len;

	if (!file) {
		fprintf(err, PROGRAM ": --fdt=%s: %s\n", path, strerror(errno));
		return -1;
	}
	len = fread(buf, 1, size, file);
	fclose(file);
	if (len == size || len < sizeof(struct fdt_header) || fdt_check_header(buf) ||
	    fdt_totalsize(buf) > len) {
		fprintf(err, PROGRAM ": --fdt=%s: not a device-tree fragment of this program "
			"(a flattened device tree of at most %zu bytes)\n", path, size - 1);
		return -1;
	}
	return (long)len;
}

/* The file's linux,pci-domain, so that only the layout is compared. */
static long pci_domain_of(const void *fdt, int node)
{
	int len;
	const fdt32_t *value = fdt_getprop(fdt, node, "linux,pci-domain", &len);

	if (!value || len != sizeof(*value))
		return GUEST_FRAGMENT_NO_PCI_DOMAIN;
	return (long)fdt32_to_cpu(*value);
}

/* Every property of the expected host bridge, equal in the file's: NULL, or the first that differs. */
static const char *differing_property(const void *expected, int expected_node, const void *file,
				      int file_node)
{
	int offset;

	fdt_for_each_property_offset(offset, expected, expected_node) {
		const char *name;
		int len, file_len;
		const void *value = fdt_getprop_by_offset(expected, offset, &name, &len);
		const void *file_value = fdt_getprop(file, file_node, name, &file_len);

		if (!value || !file_value || len != file_len || memcmp(value, file_value, (size_t)len))
			return name;
	}
	return NULL;
}

int dm_fdt_check(const char *path, const struct guest_layout *layout, FILE *err)
{
	static uint64_t file[GUEST_FRAGMENT_MAX_SIZE * 4 / sizeof(uint64_t)];
	static uint64_t expected[GUEST_FRAGMENT_MAX_SIZE / sizeof(uint64_t)];
	struct guest_fragment_config config = { .layout = layout, .target = GUEST_FRAGMENT_FOR_XL };
	int file_node, expected_node;
	const char *property;
	char why[256];

	if (read_fragment(path, file, sizeof(file), err) < 0)
		return -1;
	file_node = fdt_node_offset_by_compatible(file, -1, HOST_BRIDGE);
	if (file_node < 0) {
		fprintf(err, PROGRAM ": --fdt=%s: no " HOST_BRIDGE " node: not a fragment of this "
			"program (write one: " PROGRAM " fdt --for xl -o FILE)\n", path);
		return -1;
	}
	config.pci_domain = pci_domain_of(file, file_node);
	if (guest_fragment_build(&config, expected, sizeof(expected), why, sizeof(why))) {
		fprintf(err, PROGRAM ": --fdt=%s: %s\n", path, why);
		return -1;
	}
	expected_node = fdt_node_offset_by_compatible(expected, -1, HOST_BRIDGE);
	property = differing_property(expected, expected_node, file, file_node);
	if (property) {
		fprintf(err, PROGRAM ": --fdt=%s: its host bridge's \"%s\" is not what these options "
			"serve (the windows or INTx SPIs differ): write the guest's fragment with "
			PROGRAM " fdt --for xl and the same --ecam/--mmio/--mmio64/--intx-spi\n",
			path, property);
		return -1;
	}
	return 0;
}
