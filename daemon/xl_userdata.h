/* SPDX-License-Identifier: MIT */
/*
 * daemon/xl_userdata.h: our options in the device_model_args of a domain's
 * saved libxl configuration, for sites that keep QEMU as the device model
 * or forbid device_model_override (the dom0 service's --from-xl).
 *
 * libxl keeps the domain's whole configuration as JSON in
 * /var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json (libxl__userdata_path,
 * tools/libs/light/libxl_dom.c; written while the domain is built, before
 * `xl create` unpauses it, removed when it is destroyed), with
 * device_model_args in b_info.extra and device_model_args_pv in
 * b_info.extra_pv (libxl_types.idl, libxl_domain_build_info). A PV/PVH
 * guest with no device that needs QEMU (no vfb, vkbd, 9pfs...) gets no
 * device model at all, and its device_model_args are kept there unused.
 *
 * A domain is ours when those lists hold a --device= token; then every
 * token must be one of ours, in the device-model mode's form
 * (--option=value, one token each: docs/xl.md), and the file's own name and
 * domain name must be this domain's. The file is read as hostile input:
 * bounded in size and depth, parsed with json-c.
 */
#ifndef XVP_DAEMON_XL_USERDATA_H
#define XVP_DAEMON_XL_USERDATA_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/config_file.h"

#define XL_USERDATA_DIR		"/var/lib/xen"
#define XL_USERDATA_MAX		(1024 * 1024)	/* bytes of one saved configuration */

/*
 * The block our tokens in @json (@len bytes, the saved configuration of
 * domain @name) make: by name, its args as the worker takes them
 * ("--device", "blk,path=..."), checked with the worker's own option
 * checks. 0; -ENOENT when the configuration holds no --device= token, or
 * names a device model of its own (device_model_override: ours in its
 * device-model mode serves the domain itself); -EINVAL with the reason in @why (bad JSON, another domain's name,
 * a token that is not ours or not valid); -ENOMEM.
 * config_domain_free_args() frees @block's args.
 */
int xl_userdata_parse(const char *json, size_t len, const char *name, struct config_domain *block,
		      char *why, size_t why_len);

/*
 * The same from @dir's saved configuration of domain @domid: -ENOENT also
 * when there is none (libxl did not write it yet, or the domain is not
 * libxl's); -EINVAL when there are several (a stale one from an earlier
 * domain with this ID) or it is too large.
 */
int xl_userdata_read(const char *dir, uint32_t domid, const char *name,
		     struct config_domain *block, char *why, size_t why_len);

/* Free what xl_userdata_parse() put in @block's args. */
void config_domain_free_args(struct config_domain *block);

#endif
