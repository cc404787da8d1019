// SPDX-License-Identifier: MIT
/*
 * daemon/options.c: command-line parsing and validation. Every refusal names
 * the option and the value at fault; the layout checks are the same function
 * the device-tree generator uses (guest_layout_validate).
 */
#include "daemon/options.h"

#include "lib/parse.h"
#include "xen/guest_memory.h"
#include "daemon/backend_types.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* DOMID_FIRST_RESERVED in xen/xen.h: IDs from 0x7ff0 up are not domains. */
#define MAX_DOMID 0x7fef

static const char usage_head[] =
	"Usage: xen-virtio-pcid --domain ID [OPTIONS]\n"
	"   or: xen-virtio-pcid --config FILE [--check]   (the supervisor: see\n"
	"       xen-virtio-pcid --config FILE --help)\n"
	"   or: xen-virtio-pcid fdt [OPTIONS] -o FILE   (see xen-virtio-pcid fdt --help)\n"
	"   or: xen-virtio-pcid -xen-domid ID ...   (started by libxl as a guest's device\n"
	"       model, each of these options one OPTION=VALUE token of device_model_args:\n"
	"       docs/xl.md)\n"
	"Serve virtio-pci devices behind an emulated pci-host-ecam-generic host bridge\n"
	"to Xen domain ID, as an IOREQ server; or (--config) run one such worker for\n"
	"each guest a config file describes; or (fdt) write the guest's device-tree\n"
	"fragment for the same options.\n"
	"\n"
	"  --domain ID          the guest domain to serve (1..32751); it must exist\n"
	"  --ecam BASE,SIZE     ECAM window (default 0x10000000,0x10000000: 256 buses)\n"
	"  --mmio BASE,SIZE     32-bit BAR window, below 4 GiB (default 0x23000000,0x10000000)\n"
	"  --mmio64 BASE,SIZE   64-bit prefetchable BAR window (default 0x100000000,0x100000000)\n"
	"  --intx-spi FIRST     SPIs for INTA..INTD: FIRST..FIRST+3, in 32..1019 (default 44)\n"
	"  --device SPEC        add a device (repeatable); SPEC is TYPE[,KEY=VALUE...]:\n";

/* After the types' own lines (usage_device_lines()). */
static const char usage_device_keys[] =
	"                       addr: device number 1..31 on bus 0 (default: the lowest free)\n"
	"                       queue-size: entries per virtqueue, a power of two (default 256)\n"
	"                       poll-max-ns: after a batch, watch an idle queue for at most\n"
	"                         this long before asking for a kick, 0..1000000 (default 64000)\n";

static const char usage_tail[] =
	"                       each KEY at most once (console's port=: once per port);\n"
	"                       one writable image, one device\n"
	"  --map-budget SIZE    guest memory kept mapped at most (default 1G, at least 64M)\n"
	"  --uid-base N         once serving, run as uid and gid N + ID (default 1879048192)\n"
	"  --user USER          run as USER instead (a name, or UID[:GID]; root: stay root,\n"
	"                       not recommended); the Xen handles are restricted in any case\n"
	"  -v, --verbose        log debug messages\n"
	"  -h, --help           print this help and exit\n"
	"  -V, --version        print the version and exit\n"
	"\n"
	"Numbers are decimal or 0x-prefixed hexadecimal, never octal: a leading 0 is\n"
	"refused. Sizes (BASE,SIZE, --map-budget, rate) may end in K, M or G.\n"
	"Each option is given once, but --device (once per device).\n"
	"The windows must not overlap each other or what Xen puts in every Arm guest\n"
	"(RAM banks, GIC, PL011, grant table, magic pages, ACPI area, virtio-mmio).\n"
	"Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 if serving failed,\n"
	"2 for a bad option or a domain that does not exist.\n";

#define PROGRAM "xen-virtio-pcid"

static const struct option long_options[] = {
	OPTIONS_CONFIG_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* BASE,SIZE: both sizes as --map-budget's (K, M, G). */
static int parse_window(const char *text, struct guest_window *window, char *why, size_t why_len)
{
	const char *comma = strchr(text, ',');
	char base_text[64];
	int ret;

	if (!comma || (size_t)(comma - text) >= sizeof(base_text) || strchr(comma + 1, ',')) {
		snprintf(why, why_len, "expected BASE,SIZE");
		return -EINVAL;
	}
	memcpy(base_text, text, (size_t)(comma - text));
	base_text[comma - text] = '\0';
	ret = parse_number(base_text, PARSE_SIZE, 0, UINT64_MAX, "BASE,SIZE", &window->base, why,
			   why_len);
	if (!ret)
		ret = parse_number(comma + 1, PARSE_SIZE, 0, UINT64_MAX, "BASE,SIZE", &window->size,
				   why, why_len);
	return ret;
}

enum options_result options_bad_value(FILE *err, const char *program, const char *option,
				      const char *value, const char *expected)
{
	fprintf(err, "%s: %s '%s': %s\n", program, option, value, expected);
	fprintf(err, "Try '%s --help'.\n", program);
	return OPTIONS_EXIT_ERROR;
}

static int add_device(struct daemon_options *opts, const char *arg, char *why, size_t why_len)
{
	if (opts->nr_devices == DEVICE_MAX) {
		snprintf(why, why_len, "at most %d devices", DEVICE_MAX);
		return -EINVAL;
	}
	if (device_config_parse(arg, &opts->devices[opts->nr_devices], why, why_len))
		return -EINVAL;
	opts->nr_devices++;
	return 0;
}

/* privileges_parse_*() name the option themselves: keep only the reason. */
static int keep_reason(const char *option, const char *arg, char *why)
{
	char *prefix;

	if (asprintf(&prefix, "%s '%s': ", option, arg) >= 0) {
		size_t len = strlen(prefix);

		if (!strncmp(why, prefix, len))
			memmove(why, why + len, strlen(why + len) + 1);
		free(prefix);
	}
	return -EINVAL;
}

static int set_user(struct daemon_options *opts, const char *arg, char *why, size_t why_len)
{
	if (privileges_parse_user(arg, &opts->user, why, why_len))
		return keep_reason("--user", arg, why);
	return 0;
}

static int set_uid_base(struct daemon_options *opts, const char *arg, char *why, size_t why_len)
{
	if (privileges_parse_uid_base(arg, &opts->uid_base, why, why_len))
		return keep_reason("--uid-base", arg, why);
	return 0;
}

/*
 * The one statement of the INTx rule (guest_layout_validate() says the same
 * of FIRST..FIRST+3): here only FIRST is known.
 */
#define INTX_SPI_EXPECTED "the first of four INTx SPIs, which must lie in 32..1019"

/*
 * Internal: the supervisor tells a worker its domain's name (from xenstore),
 * from which devices derive what must survive reboots and new domain IDs
 * (virtio-net's default MAC). Printable, at most OPTIONS_DOMAIN_NAME_MAX bytes.
 */
static int set_domain_name(struct daemon_options *opts, const char *arg, char *why, size_t why_len)
{
	size_t len = strlen(arg);

	if (!len || len > OPTIONS_DOMAIN_NAME_MAX)
		return parse_refuse(why, why_len, "expected a domain name of 1 to %d bytes",
				    OPTIONS_DOMAIN_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)arg[i]))
			return parse_refuse(why, why_len, "expected a printable domain name");
	memcpy(opts->domain_name, arg, len + 1);
	return 0;
}

int options_set(int code, const char *arg, struct daemon_options *opts, char *why, size_t why_len)
{
	uint64_t value;
	int ret;

	switch (code) {
	case OPTIONS_DOMAIN:
		ret = parse_number(arg, PARSE_NUMBER, 1, MAX_DOMID,
				   "a guest domain ID from 1 to 32751", &value, why, why_len);
		if (!ret)
			opts->domid = (uint32_t)value;
		return ret ? -EINVAL : 0;
	case OPTIONS_ECAM:
		return parse_window(arg, &opts->layout.ecam, why, why_len) ? -EINVAL : 0;
	case OPTIONS_MMIO:
		return parse_window(arg, &opts->layout.mmio, why, why_len) ? -EINVAL : 0;
	case OPTIONS_MMIO64:
		return parse_window(arg, &opts->layout.mmio64, why, why_len) ? -EINVAL : 0;
	case OPTIONS_INTX_SPI:
		ret = parse_number(arg, PARSE_NUMBER, GUEST_LAYOUT_SPI_MIN, GUEST_LAYOUT_SPI_MAX,
				   INTX_SPI_EXPECTED, &value, why, why_len);
		if (!ret)
			opts->layout.intx_spi = (unsigned int)value;
		return ret ? -EINVAL : 0;
	case OPTIONS_DEVICE:
		return add_device(opts, arg, why, why_len);
	case OPTIONS_MAP_BUDGET:
		ret = parse_number(arg, PARSE_SIZE, GUEST_MEMORY_MIN_BUDGET, UINT64_MAX,
				   "a size of at least 64M", &value, why, why_len);
		if (!ret)
			opts->map_budget = value;
		return ret ? -EINVAL : 0;
	case OPTIONS_USER:
		return set_user(opts, arg, why, why_len);
	case OPTIONS_UID_BASE:
		return set_uid_base(opts, arg, why, why_len);
	case OPTIONS_SUPERVISOR_PID:
		/* Internal: the supervisor passes its own pid to its workers (workers.c). */
		ret = parse_number(arg, PARSE_NUMBER, 1, INT32_MAX, "a pid", &value, why, why_len);
		if (!ret)
			opts->supervisor_pid = (int)value;
		return ret ? -EINVAL : 0;
	case OPTIONS_DOMAIN_NAME:
		return set_domain_name(opts, arg, why, why_len);
	case 'v':
		opts->verbose++;
		return 0;
	default:
		snprintf(why, why_len, "not a configuration option");
		return -EINVAL;
	}
}

const char *options_name(int code)
{
	static const char *const names[] = {
		"--domain", "--ecam", "--mmio", "--mmio64", "--intx-spi", "--device",
		"--map-budget", "--user", "--uid-base", "--supervisor-pid", "--guest-name",
	};

	if (code == 'v')
		return "--verbose";
	if (code >= OPTIONS_DOMAIN && code < OPTIONS_DOMAIN + (int)(sizeof(names) / sizeof(names[0])))
		return names[code - OPTIONS_DOMAIN];
	return "(unknown option)";
}

int options_code(const char *name)
{
	if (!strcmp(name, "--verbose"))
		return 'v';
	for (int code = OPTIONS_DOMAIN; code < OPTIONS_FIRST_FREE; code++)
		if (!strcmp(options_name(code), name))
			return code;
	return -1;
}

enum options_result options_apply(int code, const char *arg, struct daemon_options *opts,
				  const char *program, FILE *err)
{
	char why[OPTIONS_WHY_MAX];

	if (options_set(code, arg, opts, why, sizeof(why)))
		return options_bad_value(err, program, options_name(code), arg ? arg : "", why);
	return OPTIONS_RUN;
}

/* The long options whose names begin with @word ("--d" -> domain, device): how many. */
static int count_matches(const char *word, const struct option *longopts, char *names,
			 size_t names_len)
{
	size_t len = strcspn(word + 2, "=");
	int count = 0;

	names[0] = '\0';
	for (const struct option *o = longopts; o->name; o++) {
		size_t used = strlen(names);

		if (strncmp(o->name, word + 2, len))
			continue;
		if (strlen(o->name) == len)
			return 1;	/* an exact name is never ambiguous */
		snprintf(names + used, names_len - used, "%s--%s", count ? ", " : "", o->name);
		count++;
	}
	return count;
}

/* getopt_long returned '?' or ':' (with opterr = 0): say which option, on @err. */
static enum options_result getopt_error(int code, char **argv, const struct option *longopts,
					const char *program, FILE *err)
{
	const char *word = argv[optind - 1];
	char names[256];

	if (code == ':')
		fprintf(err, "%s: option '%s' needs a value\n", program, word);
	else if (optopt)
		fprintf(err, "%s: unknown option '-%c'\n", program, optopt);
	else if (!strncmp(word, "--", 2) && count_matches(word, longopts, names, sizeof(names)) > 1)
		fprintf(err, "%s: option '%.*s' is ambiguous: %s\n", program,
			(int)strcspn(word, "="), word, names);
	else
		fprintf(err, "%s: unknown option '%s'\n", program, word);
	fprintf(err, "Try '%s --help'.\n", program);
	return OPTIONS_EXIT_ERROR;
}

void options_init(struct daemon_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	guest_layout_default(&opts->layout);
	opts->map_budget = GUEST_MEMORY_DEFAULT_BUDGET;
	opts->uid_base = PRIVILEGES_DEFAULT_UID_BASE;
}

/*
 * Every device has one 64-bit prefetchable memory BAR of DEVICE_BAR_BYTES,
 * naturally aligned. Linux puts it in the prefetchable window and, when that
 * is full, in the non-prefetchable one (__pci_assign_resource() in
 * drivers/pci/setup-res.c): together they must hold one per device.
 */
static uint64_t bar_slots(const struct guest_window *window)
{
	uint64_t first = (window->base + DEVICE_BAR_BYTES - 1) / DEVICE_BAR_BYTES;
	uint64_t end = (window->base + window->size) / DEVICE_BAR_BYTES;

	return end > first ? end - first : 0;
}

static int check_bar_room(const struct daemon_options *opts, char *why, size_t why_len)
{
	uint64_t slots = bar_slots(&opts->layout.mmio) + bar_slots(&opts->layout.mmio64);

	if (slots >= opts->nr_devices)
		return 0;
	snprintf(why, why_len, "--mmio 0x%llx,0x%llx and --mmio64 0x%llx,0x%llx are too small for "
		 "the BARs of %u devices (%u KiB each, aligned to their size)",
		 (unsigned long long)opts->layout.mmio.base, (unsigned long long)opts->layout.mmio.size,
		 (unsigned long long)opts->layout.mmio64.base,
		 (unsigned long long)opts->layout.mmio64.size, opts->nr_devices,
		 DEVICE_BAR_BYTES / 1024);
	return -EINVAL;
}

int options_validate(struct daemon_options *opts, char *why, size_t why_len)
{
	if (device_configs_finish(opts->devices, opts->nr_devices, why, why_len) ||
	    guest_layout_validate(&opts->layout, why, why_len) ||
	    check_bar_room(opts, why, why_len))
		return -EINVAL;
	return 0;
}

enum options_result options_check(struct daemon_options *opts, const char *program, FILE *err)
{
	char why[OPTIONS_WHY_MAX];

	if (options_validate(opts, why, sizeof(why))) {
		fprintf(err, "%s: %s\n", program, why);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

/* How an option is named in messages: its long name, else its letter. */
static void option_word(int code, const struct option *longopts, char *word, size_t len)
{
	for (const struct option *o = longopts; o->name; o++) {
		if (!o->flag && o->val == code) {
			snprintf(word, len, "--%s", o->name);
			return;
		}
	}
	snprintf(word, len, "-%c", code);
}

/* Options with a value seen so far: more than any command line has. */
#define OPTIONS_ONCE_MAX 32

struct given {
	int code;
	const char *arg;
};

/* An option with a value, given before: refused (--device adds a device each time). */
static enum options_result check_once(struct given *given, unsigned int *count, int code,
				      const char *arg, const struct option *longopts,
				      const char *program, FILE *err)
{
	char word[64];

	if (!arg || code == OPTIONS_DEVICE)
		return OPTIONS_RUN;
	for (unsigned int i = 0; i < *count; i++) {
		if (given[i].code != code)
			continue;
		option_word(code, longopts, word, sizeof(word));
		fprintf(err, "%s: %s '%s': given twice (first '%s'); give it once\n", program, word,
			arg, given[i].arg);
		fprintf(err, "Try '%s --help'.\n", program);
		return OPTIONS_EXIT_ERROR;
	}
	if (*count < OPTIONS_ONCE_MAX)
		given[(*count)++] = (struct given){ code, arg };
	return OPTIONS_RUN;
}

enum options_result options_getopt(int argc, char **argv, const char *shortopts,
				   const struct option *longopts, const char *program,
				   options_apply_fn *apply, void *ctx, FILE *err)
{
	struct given given[OPTIONS_ONCE_MAX];
	unsigned int nr_given = 0;
	int opt;

	/* 0, not 1: glibc then also forgets a half-parsed cluster such as -hv. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		enum options_result result;

		if (opt == '?' || opt == ':')
			return getopt_error(opt, argv, longopts, program, err);
		result = check_once(given, &nr_given, opt, optarg, longopts, program, err);
		if (result == OPTIONS_RUN)
			result = apply(opt, optarg, ctx, err);
		if (result != OPTIONS_RUN)
			return result;
	}
	if (optind < argc) {
		fprintf(err, "%s: unexpected argument '%s'\n", program, argv[optind]);
		fprintf(err, "Try '%s --help'.\n", program);
		return OPTIONS_EXIT_ERROR;
	}
	return OPTIONS_RUN;
}

/* One indented line of --help per line of @text (a type's usage or help). */
static void print_indented(const char *text, const char *indent)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		printf("%s%.*s\n", indent, (int)len, text);
		text += len + (text[len] == '\n');
	}
}

/* --help: the device lines come from the types themselves. */
static void print_usage(void)
{
	const struct backend_type *type;

	fputs(usage_head, stdout);
	for (size_t i = 0; (type = backend_type_at(i)); i++)
		print_indented(type->usage, "                         ");
	fputs(usage_device_keys, stdout);
	for (size_t i = 0; (type = backend_type_at(i)); i++)
		print_indented(type->help, "                       ");
	fputs(usage_tail, stdout);
}

/* -h and -V: only the serving command line's own. */
static enum options_result apply_serving(int code, const char *arg, void *ctx, FILE *err)
{
	struct daemon_options *opts = ctx;

	switch (code) {
	case 'h':
		print_usage();
		return OPTIONS_EXIT_OK;
	case 'V':
		printf("xen-virtio-pcid %s\n", XVP_VERSION);
		return OPTIONS_EXIT_OK;
	default:
		return options_apply(code, arg, opts, PROGRAM, err);
	}
}

enum options_result options_parse(int argc, char **argv, struct daemon_options *opts, FILE *err)
{
	enum options_result result;

	options_init(opts);
	result = options_getopt(argc, argv, ":vhV", long_options, PROGRAM, apply_serving, opts, err);
	if (result != OPTIONS_RUN)
		return result;
	/* --domain takes 1..32751, so 0 means it was not given. */
	if (opts->domid == 0) {
		fprintf(err, PROGRAM ": --domain ID is required\n");
		fprintf(err, "Try '" PROGRAM " --help'.\n");
		return OPTIONS_EXIT_ERROR;
	}
	/* Legitimate once devices can be added at run time; today most likely a slip. */
	if (opts->nr_devices == 0)
		fprintf(err, PROGRAM ": warning: --domain %u with no --device: the guest gets a host "
			"bridge and nothing behind it\n", opts->domid);
	return options_check(opts, PROGRAM, err);
}
