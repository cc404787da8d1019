// SPDX-License-Identifier: MIT
/* daemon/backend_types.c: the table of device types. */
#include "daemon/backend_types.h"

#include <stdio.h>
#include <string.h>

#include "backends/blk.h"
#include "backends/net.h"
#include "backends/rng.h"

static const struct backend_type *const types[] = {
	&rng_backend,
	&blk_backend,
	&net_backend,
};

#define NR_TYPES (sizeof(types) / sizeof(types[0]))

const struct backend_type *backend_type_at(size_t index)
{
	return index < NR_TYPES ? types[index] : NULL;
}

const struct backend_type *backend_type_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_TYPES; i++)
		if (strlen(types[i]->name) == len && !strncmp(types[i]->name, name, len))
			return types[i];
	return NULL;
}

const char *backend_type_names(void)
{
	static char names[256];

	if (!names[0]) {
		for (size_t i = 0; i < NR_TYPES; i++) {
			size_t used = strlen(names);

			snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 types[i]->name);
		}
	}
	return names;
}
