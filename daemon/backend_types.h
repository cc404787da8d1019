/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend_types.h: the device types the daemon serves, one
 * descriptor each (backends/backend.h). Adding a type is one line in
 * backend_types.c; nothing else in daemon/ names a type.
 */
#ifndef XVP_DAEMON_BACKEND_TYPES_H
#define XVP_DAEMON_BACKEND_TYPES_H

#include <stddef.h>

#include "backends/backend.h"

/* The @index-th type (in --help's order), NULL past the last. */
const struct backend_type *backend_type_at(size_t index);
/* The type named by the @len bytes at @name, or NULL. */
const struct backend_type *backend_type_find(const char *name, size_t len);
/* "rng, blk": every type's name, for messages. */
const char *backend_type_names(void);

#endif
