// SPDX-License-Identifier: MIT
/*
 * daemon/dm_argv.c: libxl's device-model command line, one QEMU option at
 * a time from a table: what each means for us, or why it is refused.
 */
#include "daemon/dm_argv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"

/* DOMID_FIRST_RESERVED in xen/xen.h: IDs from 0x7ff0 up are not domains. */
#define MAX_DOMID 0x7fef
/* An fd number libxl passes (it is below its own RLIMIT_NOFILE). */
#define MAX_FD 65535

struct parse_state {
	struct dm_argv *out;
	bool paused;		/* -S */
	bool machine_given;
	bool mon_libxl;		/* -mon chardev=libxl-cmd,mode=control */
	char *why;
	size_t why_len;
};

typedef int option_fn(struct parse_state *st, const char *option, const char *value);

struct qemu_option {
	const char *name;
	bool takes_value;
	option_fn *apply;
	const char *refusal;	/* apply == NULL: refused with this reason */
};

static int refuse(struct parse_state *st, const char *fmt, const char *option, const char *value)
{
	char shown[PARSE_SHOWN_MAX + 8];

	snprintf(shown, sizeof(shown), "%.*s%s", PARSE_SHOWN(value ? value : ""));
	snprintf(st->why, st->why_len, fmt, option, shown);
	return -EINVAL;
}

static int ignore(struct parse_state *st, const char *option, const char *value)
{
	(void)st, (void)option, (void)value;
	return 0;
}

static int set_domid(struct parse_state *st, const char *option, const char *value)
{
	char reason[128];
	uint64_t domid;

	if (parse_number(value, PARSE_NUMBER, 1, MAX_DOMID, "a guest domain ID from 1 to 32751",
			 &domid, reason, sizeof(reason))) {
		snprintf(st->why, st->why_len, "%s '%.*s%s': %s", option, PARSE_SHOWN(value), reason);
		return -EINVAL;
	}
	st->out->domid = (uint32_t)domid;
	return 0;
}

static int set_name(struct parse_state *st, const char *option, const char *value)
{
	(void)option;
	st->out->name = value;
	return 0;
}

static int set_paused(struct parse_state *st, const char *option, const char *value)
{
	(void)option, (void)value;
	st->paused = true;
	return 0;
}

/* -vnc none and -display none: libxl's way of saying "no display"; anything else is one. */
static int only_none(struct parse_state *st, const char *option, const char *value)
{
	if (!strcmp(value, "none"))
		return 0;
	if (!strcmp(option, "-vnc"))
		return refuse(st, "%s %s: VNC is not served by this device model: give the guest "
			      "vfb = [ \"vnc=0\" ] (and no sdl)", option, value);
	return refuse(st, "%s %s: no display is served by this device model", option, value);
}

static int set_machine(struct parse_state *st, const char *option, const char *value)
{
	st->machine_given = true;
	if (!strcmp(value, "xenpv")) {
		st->out->mode = DM_ARGV_SERVE;
		return 0;
	}
	/* Xen 4.20+ libxl's probe of QEMU's options (device_model_probe_cmdline()). */
	if (!strcmp(value, "none,accel=xen")) {
		st->out->mode = DM_ARGV_PROBE;
		return 0;
	}
	return refuse(st, "%s %s: only a PV/PVH guest's device model (-machine xenpv) is "
		      "served: an HVM guest keeps QEMU", option, value);
}


/* One KEY=VALUE (or KEY) of a -chardev, for the chardev being read. */
struct chardev {
	const char *id;
	const char *path;
	const char *fd;
};

static void chardev_key(struct chardev *c, char *key)
{
	char *eq = strchr(key, '=');
	const char *value = eq ? eq + 1 : "";

	if (eq)
		*eq = '\0';
	if (!strcmp(key, "id"))
		c->id = value;
	else if (!strcmp(key, "path"))
		c->path = value;
	else if (!strcmp(key, "fd"))
		c->fd = value;
	/* server, nowait, server=on, wait=off: libxl's, and what we do anyway. */
}

static int take_qmp_fd(struct parse_state *st, const char *option, const char *fd)
{
	uint64_t number;

	if (!parse_u64(fd, &number) || number < 3 || number > MAX_FD)
		return refuse(st, "%s fd=%s: expected the number of a socket libxl listens on",
			      option, fd);
	st->out->qmp_fd = (int)number;
	return 0;
}

/* A socket's path, which must fit a sockaddr_un. */
static int copy_path(struct parse_state *st, const char *option, const char *path,
		     char dest[DM_ARGV_PATH_MAX])
{
	if (strlen(path) >= DM_ARGV_PATH_MAX)
		return refuse(st, "%s path=%s: longer than a socket's path may be", option, path);
	strcpy(dest, path);
	return 0;
}

/*
 * -chardev socket,id=libxl-cmd,path=P|fd=N,...: libxl's QMP socket;
 * id=libxenstat-cmd: libxenstat's. Any other is a `channel` of the guest's
 * config, which this device model does not serve.
 */
static int add_chardev(struct parse_state *st, const char *option, const char *value)
{
	char copy[4096], *save, *key;
	struct chardev c = { 0 };

	if (snprintf(copy, sizeof(copy), "%s", value) >= (int)sizeof(copy))
		return refuse(st, "%s '%s': too long", option, value);
	key = strtok_r(copy, ",", &save);
	if (!key || strcmp(key, "socket"))
		goto channel;
	while ((key = strtok_r(NULL, ",", &save)))
		chardev_key(&c, key);
	if (!c.id || (strcmp(c.id, "libxl-cmd") && strcmp(c.id, "libxenstat-cmd")))
		goto channel;
	if (!strcmp(c.id, "libxenstat-cmd"))
		return c.path ? copy_path(st, option, c.path, st->out->stat_path) : 0;
	if (c.fd)
		return take_qmp_fd(st, option, c.fd);
	if (!c.path || !*c.path)
		return refuse(st, "%s '%s': libxl's QMP socket without a path or fd", option, value);
	return copy_path(st, option, c.path, st->out->qmp_path);
channel:
	return refuse(st, "%s '%s': channels are not served by this device model: remove the "
		      "guest's channel = [ ... ]", option, value);
}

/* -mon chardev=ID,mode=control: QMP on a chardev given before. */
static int check_mon(struct parse_state *st, const char *option, const char *value)
{
	if (!strcmp(value, "chardev=libxl-cmd,mode=control")) {
		st->mon_libxl = true;
		return 0;
	}
	if (!strcmp(value, "chardev=libxenstat-cmd,mode=control"))
		return 0;
	return refuse(st, "%s '%s': only libxl's QMP monitors are served", option, value);
}

static int set_memory(struct parse_state *st, const char *option, const char *value)
{
	uint64_t mb;

	/* The guest's RAM is Xen's to build: the size only has to be a number. */
	if (!parse_u64(value, &mb))
		return refuse(st, "%s '%s': expected the guest's memory in MiB", option, value);
	return 0;
}

#define REFUSED(option, why) { option, true, NULL, why }
#define REFUSED_FLAG(option, why) { option, false, NULL, why }

static const struct qemu_option qemu_options[] = {
	{ "-xen-domid", true, set_domid, NULL },
	{ "-name", true, set_name, NULL },
	{ "-chardev", true, add_chardev, NULL },
	{ "-mon", true, check_mon, NULL },
	{ "-vnc", true, only_none, NULL },
	{ "-display", true, only_none, NULL },
	{ "-machine", true, set_machine, NULL },
	{ "-m", true, set_memory, NULL },
	{ "-S", false, set_paused, NULL },
	/* Meaningless for a device model that is no QEMU: accepted, ignored. */
	{ "-no-shutdown", false, ignore, NULL },
	{ "-nodefaults", false, ignore, NULL },
	{ "-no-user-config", false, ignore, NULL },
	{ "-xen-attach", false, ignore, NULL },
	{ "-nographic", false, ignore, NULL },
	{ "-k", true, ignore, NULL },	/* a keymap, for a display there is not */
	REFUSED_FLAG("-xen-domid-restrict", "%s: dm_restrict is not supported for this device "
		     "model (its workers run as their own uid instead): remove dm_restrict from "
		     "the guest's config"),
	REFUSED("-chroot", "%s %s: dm_restrict is not supported for this device model: remove "
		"dm_restrict from the guest's config"),
	REFUSED("-run-with", "%s %s: dm_restrict and device_model_user are not supported for "
		"this device model (its workers run as their own uid instead)"),
	REFUSED("-runas", "%s %s: device_model_user is not supported for this device model "
		"(its workers run as their own uid instead)"),
	REFUSED("-incoming", "%s %s: save, restore and migration are not supported: the "
		"devices' state cannot be carried over (docs/xl.md)"),
	REFUSED_FLAG("-sdl", "%s: SDL is not served by this device model: remove sdl from the "
		     "guest's vfb"),
	REFUSED("-spice", "%s %s: SPICE is not served by this device model"),
	REFUSED("-serial", "%s %s: serial ports are not served by this device model"),
	REFUSED("-device", "%s %s: QEMU devices are not served by this device model: give ours "
		"as --device=TYPE,... in device_model_args"),
	REFUSED("-drive", "%s %s: QEMU drives are not served: give a disk as "
		"--device=blk,path=FILE in device_model_args"),
	REFUSED("-netdev", "%s %s: QEMU network backends are not served by this device model"),
};

static const struct qemu_option *find_option(const char *word)
{
	for (size_t i = 0; i < sizeof(qemu_options) / sizeof(qemu_options[0]); i++)
		if (!strcmp(qemu_options[i].name, word))
			return &qemu_options[i];
	return NULL;
}

/* Ours, in device_model_args: one token each (libxl passes them verbatim, in order). */
static int add_own(struct parse_state *st, const char *word)
{
	static const char *const libxl_owned[] = { "--domain", "--supervisor-pid", "--config",
						   "--check" };
	size_t len = strcspn(word, "=");

	for (size_t i = 0; i < sizeof(libxl_owned) / sizeof(libxl_owned[0]); i++)
		if (len == strlen(libxl_owned[i]) && !strncmp(word, libxl_owned[i], len))
			return refuse(st, "%s: not an option of the device-model mode (the domain is "
				      "libxl's -xen-domid)", word, NULL);
	if (!strncmp(word, "--fdt=", 6)) {
		st->out->fdt_path = word + 6;
		return 0;
	}
	if (!word[len] && strcmp(word, "--verbose"))
		return refuse(st, "%s: give each of our options as one --option=value token in "
			      "device_model_args (libxl passes them one by one)", word, NULL);
	if (st->out->nr_own == DM_ARGV_OWN_MAX)
		return refuse(st, "%s: more than 64 options in device_model_args", word, NULL);
	st->out->own[st->out->nr_own++] = word;
	return 0;
}

static int apply_option(struct parse_state *st, const struct qemu_option *o, const char *value)
{
	if (o->apply)
		return o->apply(st, o->name, value);
	return refuse(st, o->refusal, o->name, value);
}

static int parse_words(int argc, char **argv, struct parse_state *st)
{
	for (int i = 1; i < argc; i++) {
		const struct qemu_option *o;
		int ret;

		if (!strncmp(argv[i], "--", 2)) {
			ret = add_own(st, argv[i]);
		} else if (!(o = find_option(argv[i]))) {
			ret = refuse(st, "%s: not an option libxl gives a PV/PVH device model (this "
				     "device model is not QEMU)", argv[i], NULL);
		} else if (o->takes_value && i + 1 == argc) {
			ret = refuse(st, "%s: needs a value", argv[i], NULL);
		} else {
			ret = apply_option(st, o, o->takes_value ? argv[++i] : NULL);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* What the whole line must have, once every word is read. */
static int check_complete(struct parse_state *st)
{
	struct dm_argv *out = st->out;

	if (st->paused && out->mode != DM_ARGV_PROBE)
		return refuse(st, "%s: a paused start is libxl's dm_restrict start-up, which is not "
			      "supported for this device model", "-S", NULL);
	if (!st->machine_given)
		return refuse(st, "%s: no -machine (this mode is libxl's, for a PV/PVH guest)",
			      "-machine", NULL);
	if (!st->mon_libxl || (!out->qmp_path[0] && out->qmp_fd < 0))
		return refuse(st, "%s: no QMP socket (-chardev socket,id=libxl-cmd,... and -mon "
			      "chardev=libxl-cmd,mode=control): libxl could not be told we are ready",
			      "-chardev", NULL);
	if (out->mode == DM_ARGV_SERVE && !out->domid)
		return refuse(st, "%s: missing: the device model has no guest to serve",
			      "-xen-domid", NULL);
	return 0;
}

bool dm_argv_requested(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "-xen-domid") || !strcmp(argv[1], "-S"));
}

int dm_argv_parse(int argc, char **argv, struct dm_argv *out, char *why, size_t why_len)
{
	struct parse_state st = { .out = out, .why = why, .why_len = why_len };

	memset(out, 0, sizeof(*out));
	out->qmp_fd = -1;
	if (parse_words(argc, argv, &st))
		return -EINVAL;
	return check_complete(&st);
}
