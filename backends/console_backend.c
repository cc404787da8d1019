// SPDX-License-Identifier: MIT
/*
 * backends/console_backend.c: virtio-console as a type of the daemon's
 * table (backends/backend.h): console=BACKEND, port=NAME:BACKEND (one per
 * named port), buffer=, owner=, mode=.
 *
 * BACKEND is pty, null, socket=PATH or file=PATH. The daemon splits items
 * at ',' and a KEY from its VALUE at the first '=', so "port=NAME:socket=PATH"
 * arrives as key "port", value "NAME:socket=PATH": a name holds no ':' (nor
 * ',' or '='), a path no ','.
 */
#include "backends/console.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/parse.h"

_Static_assert(sizeof(struct console_options) <= BACKEND_CONFIG_MAX, "the daemon stores it");
_Static_assert(CONSOLE_STRINGS <= UINT16_MAX, "string offsets are 16 bits");

static void console_defaults(void *config)
{
	struct console_options *options = config;

	*options = (struct console_options){ .nr_ports = 1, .buffer = CONSOLE_BUFFER_DEFAULT,
					     .strings_used = 1 };
	for (unsigned int i = 0; i < CONSOLE_MAX_PORTS; i++)
		options->ports[i] = (struct console_port_options){ .fd = -1, .listen_fd = -1,
								   .pty_slave = -1 };
	/* The console port is a pty unless console= says otherwise. */
	options->ports[0].kind = CONSOLE_PTY;
}

/* Keep @len bytes of @text in the device's strings: its offset, or 0 when they are full. */
static uint16_t keep_string(struct console_options *options, const char *text, size_t len)
{
	uint16_t off = options->strings_used;

	if (len + 1 > (size_t)(CONSOLE_STRINGS - off))
		return 0;
	memcpy(options->strings + off, text, len);
	options->strings[off + len] = '\0';
	options->strings_used = (uint16_t)(off + len + 1);
	return off;
}

static int set_path(struct console_options *options, struct console_port_options *port,
		    const char *key, const char *path, char *why, size_t why_len)
{
	size_t len = strlen(path);

	if (!len)
		return parse_refuse(why, why_len, "%s: the path is empty", key);
	/* The supervisor's workers run in /: a relative path would mean something else there. */
	if (path[0] != '/')
		return parse_refuse(why, why_len, "%s: %.*s%s is relative: write the absolute path",
				    key, PARSE_SHOWN(path));
	if (port->kind == CONSOLE_SOCKET && len >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return parse_refuse(why, why_len, "%s: socket=%.*s%s: a unix socket's path has at "
				    "most %zu bytes", key, PARSE_SHOWN(path),
				    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	port->path = keep_string(options, path, len);
	if (!port->path)
		return parse_refuse(why, why_len, "%s: %.*s%s: the names and paths of one console "
				    "device exceed %u bytes", key, PARSE_SHOWN(path), CONSOLE_STRINGS);
	return 0;
}

/* BACKEND: pty, null, socket=PATH, file=PATH. @key names it in messages. */
static int set_backend(struct console_options *options, struct console_port_options *port,
		       const char *key, const char *value, char *why, size_t why_len)
{
	if (!strcmp(value, "pty") || !strcmp(value, "null")) {
		port->kind = value[0] == 'p' ? CONSOLE_PTY : CONSOLE_NULL;
		return 0;
	}
	if (!strncmp(value, "socket=", 7)) {
		port->kind = CONSOLE_SOCKET;
		return set_path(options, port, key, value + 7, why, why_len);
	}
	if (!strncmp(value, "file=", 5)) {
		port->kind = CONSOLE_FILE;
		return set_path(options, port, key, value + 5, why, why_len);
	}
	return parse_refuse(why, why_len, "%s=%.*s%s: expected pty, null, socket=PATH or file=PATH",
			    key, PARSE_SHOWN(value));
}

/* 5.3.6.2: the name is the guest's only way to find a port: plain, as guest agents expect. */
static bool name_is_plain(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

static int check_name(const struct console_options *options, const char *value, size_t len,
		      char *why, size_t why_len)
{
	if (!len || len > CONSOLE_NAME_MAX || !name_is_plain(value, len))
		return parse_refuse(why, why_len, "port=%.*s%s: expected NAME:BACKEND, NAME of 1 to "
				    "%u letters, digits, '.', '_' or '-'", PARSE_SHOWN(value),
				    CONSOLE_NAME_MAX);
	for (unsigned int i = 1; i < options->nr_ports; i++) {
		const char *other = console_string(options, options->ports[i].name);

		if (strlen(other) == len && !strncmp(other, value, len))
			return parse_refuse(why, why_len, "port=%.*s%s: a second port named '%.*s'",
					    PARSE_SHOWN(value), (int)len, value);
	}
	return 0;
}

static int add_port(struct console_options *options, const char *value, char *why, size_t why_len)
{
	const char *colon = strchr(value, ':');
	size_t len = colon ? (size_t)(colon - value) : strlen(value);
	struct console_port_options *port;
	int ret;

	if (options->nr_ports >= CONSOLE_MAX_PORTS)
		return parse_refuse(why, why_len, "port=%.*s%s: at most %u ports, the console's included",
				    PARSE_SHOWN(value), CONSOLE_MAX_PORTS);
	ret = check_name(options, value, colon ? len : 0, why, why_len);
	if (ret)
		return ret;
	port = &options->ports[options->nr_ports];
	port->name = keep_string(options, value, len);
	if (!port->name)
		return parse_refuse(why, why_len, "port=%.*s%s: the names and paths of one console "
				    "device exceed %u bytes", PARSE_SHOWN(value), CONSOLE_STRINGS);
	ret = set_backend(options, port, "port", colon + 1, why, why_len);
	if (!ret)
		options->nr_ports++;
	return ret;
}

/* A user or group id: a number below (uid_t)-1, which means "unchanged" to chown(2). */
static bool id_number(const char *text, unsigned int *id)
{
	uint64_t number;

	if (!parse_u64(text, &number) || number >= UINT32_MAX)
		return false;
	*id = (unsigned int)number;
	return true;
}

/* owner=USER[:GROUP], names or numbers; a user's name alone brings its group. */
static int set_owner(struct console_options *options, const char *value, char *why, size_t why_len)
{
	char user[64], *group;
	const struct passwd *pw = NULL;
	const struct group *gr = NULL;
	unsigned int uid, gid = (unsigned int)-1;

	if (strlen(value) >= sizeof(user) || !*value)
		return parse_refuse(why, why_len, "owner=%.*s%s: expected USER[:GROUP]", PARSE_SHOWN(value));
	strcpy(user, value);
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!id_number(user, &uid)) {
		pw = getpwnam(user);
		if (!pw)
			return parse_refuse(why, why_len, "owner=%s: no user '%s'", value, user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group && !id_number(group, &gid)) {
		gr = getgrnam(group);
		if (!gr)
			return parse_refuse(why, why_len, "owner=%s: no group '%s'", value, group);
		gid = gr->gr_gid;
	}
	options->uid = (uid_t)uid;
	options->gid = (gid_t)gid;
	options->has_owner = true;
	return 0;
}

/* mode=0660: octal permission bits. */
static int set_mode(struct console_options *options, const char *value, char *why, size_t why_len)
{
	char *end;
	unsigned long mode;

	errno = 0;
	mode = strtoul(value, &end, 8);
	if (!*value || *end || errno || mode > 0777 || value[0] == '-' || value[0] == '+')
		return parse_refuse(why, why_len, "mode=%.*s%s: expected octal permission bits, such "
				    "as 0660", PARSE_SHOWN(value));
	options->mode = (unsigned int)mode;
	options->has_mode = true;
	return 0;
}

static int console_set_key(void *config, const char *key, const char *value, char *why,
			   size_t why_len)
{
	struct console_options *options = config;

	if (!strcmp(key, "console"))
		return set_backend(options, &options->ports[0], "console", value, why, why_len);
	if (!strcmp(key, "port"))
		return add_port(options, value, why, why_len);
	if (!strcmp(key, "buffer"))
		return parse_key_number("buffer", value, PARSE_SIZE, CONSOLE_BUFFER_MIN,
					CONSOLE_BUFFER_MAX, "a size from 4K to 16M", &options->buffer,
					why, why_len);
	if (!strcmp(key, "owner"))
		return set_owner(options, value, why, why_len);
	if (!strcmp(key, "mode"))
		return set_mode(options, value, why, why_len);
	return -ENOENT;
}

/* Two ports on one socket path would each take the other's clients. */
static int console_check(void *config, const struct backend_common *common, char *why,
			 size_t why_len)
{
	const struct console_options *options = config;

	(void)common;
	for (unsigned int i = 0; i < options->nr_ports; i++) {
		const struct console_port_options *a = &options->ports[i];

		for (unsigned int j = 0; j < i; j++) {
			const struct console_port_options *b = &options->ports[j];

			if (a->kind == b->kind && (a->kind == CONSOLE_SOCKET || a->kind == CONSOLE_FILE) &&
			    !strcmp(console_string(options, a->path), console_string(options, b->path)))
				return parse_refuse(why, why_len, "%s=%.*s%s: two ports on one %s",
						    a->kind == CONSOLE_SOCKET ? "socket" : "file",
						    PARSE_SHOWN(console_string(options, a->path)),
						    a->kind == CONSOLE_SOCKET ? "socket" : "file");
		}
	}
	return 0;
}

static int console_open(void *config, const struct backend_common *common, char *why,
			size_t why_len)
{
	(void)common;
	return console_host_open(config, why, why_len);
}

static void console_close(void *config)
{
	console_host_close(config);
}

static int console_backend_create(struct virtio_device **out, const struct backend_env *env,
				  const struct backend_common *common, const void *config)
{
	return console_create(out, common->name, common->queue_size, config, env->mem, env->base,
			      env->transport);
}

static const char *kind_name(enum console_kind kind)
{
	static const char *const names[] = { "null", "pty", "socket", "file" };

	return names[kind];
}

/* ", console pty /dev/pts/3, port org.qemu.guest_agent.0 socket /run/qga.sock" */
static void console_describe(const void *config, char *buf, size_t len)
{
	const struct console_options *options = config;
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < options->nr_ports && used < len; i++) {
		const struct console_port_options *port = &options->ports[i];
		const char *where = port->kind == CONSOLE_PTY ? port->pty_path :
				    console_string(options, port->path);
		int n = snprintf(buf + used, len - used, ", %s%s %s%s%s", i ? "port " : "console",
				 console_string(options, port->name), kind_name(port->kind),
				 *where ? " " : "", where);

		used += n > 0 ? (size_t)n : 0;
	}
}

const struct backend_type console_backend = {
	.name = "console",
	.keys = "console, port, buffer, owner, mode, addr, queue-size, poll-max-ns",
	.repeatable = "port",
	.usage = "console[,console=BACKEND][,port=NAME:BACKEND]...[,buffer=SIZE]\n"
		 "   [,owner=USER[:GROUP]][,mode=OCTAL][,addr=DEV][,queue-size=N]",
	.help = "console: the console port's BACKEND (default pty): pty, null,\n"
		"   socket=PATH (a unix socket server) or file=PATH (output appended)\n"
		"port: a named port (at most 30): NAME of letters, digits, '.', '_', '-'\n"
		"buffer: each port's output kept while no one reads it (default 64K)\n"
		"owner, mode: of the sockets, ptys and files the console makes\n",
	.config_size = sizeof(struct console_options),
	.defaults = console_defaults,
	.set_key = console_set_key,
	.check = console_check,
	.open = console_open,
	.close = console_close,
	.create = console_backend_create,
	.destroy = console_destroy,
	.describe = console_describe,
};
