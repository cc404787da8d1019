// SPDX-License-Identifier: MIT
/*
 * daemon/fdt_command.c: `xen-virtio-pcid fdt`: the command line (the serving
 * options, parsed and checked by the same code as serving, plus its own),
 * and the files it writes. The fragment itself is fdt/'s.
 */
#include "daemon/fdt_command.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libfdt.h>

#include "daemon/config_file.h"
#include "lib/parse.h"
#include "fdt/boot_config.h"
#include "fdt/guest_fragment.h"

#define PROGRAM "xen-virtio-pcid fdt"

extern char **environ;

static const char usage_text[] =
	"Usage: xen-virtio-pcid fdt [OPTIONS] -o FILE\n"
	"   or: xen-virtio-pcid fdt --config FILE [--domain NAME|ID] [OPTIONS] -o FILE\n"
	"Write the partial device tree that gives a Xen Arm guest the PCI host bridge\n"
	"xen-virtio-pcid serves with the same options (for xl's device_tree= or a\n"
	"dom0less multiboot,device-tree module), and print the matching xl.cfg lines\n"
	"and dom0less domain-node properties.\n"
	"\n"
	"  -o, --output FILE    write the fragment to FILE (required)\n"
	"  --format dtb|dts     a blob (default), or source text through dtc\n"
	"  --for xl|dom0less    who merges the fragment (default xl): a dom0less\n"
	"                       fragment keeps its phandles below 65000, as Xen 4.22\n"
	"                       requires; xl's must name Xen's GUEST_PHANDLE_GIC\n"
	"  --pci-domain N       give the bridge linux,pci-domain = <N> (0..65535)\n"
	"  --xl FILE            write the xl.cfg lines to FILE instead of stdout\n"
	"  --dom0less FILE      write the dom0less lines to FILE instead of stdout\n"
	"  --config FILE        the layout of a block of the supervisor's config file:\n"
	"                       the one the supervisor serves, so devices and fragment\n"
	"                       come from one file (instead of the options below)\n"
	"  --domain NAME|ID     with --config: the block [domain \"NAME\"] or [domain ID]\n"
	"                       (needed if FILE has more than one block)\n"
	"  --ecam, --mmio, --mmio64, --intx-spi, --device, --domain, --map-budget,\n"
	"  --user, -v           as for serving (see xen-virtio-pcid --help): checked the\n"
	"                       same way; --domain, --map-budget, --user and -v change nothing\n"
	"  -h, --help           print this help and exit\n"
	"  -V, --version        print the version and exit\n"
	"\n"
	"Exit status: 0 when written, 1 if a file cannot be written (or dtc cannot\n"
	"run for --format dts), 2 for a bad option.\n";

enum {
	OPT_OUTPUT = 'o',
	OPT_FORMAT = OPTIONS_FIRST_FREE,
	OPT_FOR,
	OPT_PCI_DOMAIN,
	OPT_XL,
	OPT_DOM0LESS,
	OPT_CONFIG,
};

static const struct option long_options[] = {
	OPTIONS_CONFIG_LONG_OPTIONS,
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "for", required_argument, NULL, OPT_FOR },
	{ "pci-domain", required_argument, NULL, OPT_PCI_DOMAIN },
	{ "xl", required_argument, NULL, OPT_XL },
	{ "dom0less", required_argument, NULL, OPT_DOM0LESS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static enum options_result apply_one(int code, const char *arg, void *ctx, FILE *err)
{
	struct fdt_command_options *opts = ctx;
	char why[OPTIONS_WHY_MAX];
	uint64_t value;

	switch (code) {
	case OPT_OUTPUT:
		opts->output = arg;
		return OPTIONS_RUN;
	case OPT_FORMAT:
		if (strcmp(arg, "dtb") && strcmp(arg, "dts"))
			return options_bad_value(err, PROGRAM, "--format", arg, "expected dtb or dts");
		opts->format = strcmp(arg, "dtb") ? FDT_FORMAT_DTS : FDT_FORMAT_DTB;
		return OPTIONS_RUN;
	case OPT_FOR:
		if (strcmp(arg, "xl") && strcmp(arg, "dom0less"))
			return options_bad_value(err, PROGRAM, "--for", arg, "expected xl or dom0less");
		opts->target = strcmp(arg, "xl") ? GUEST_FRAGMENT_FOR_DOM0LESS : GUEST_FRAGMENT_FOR_XL;
		return OPTIONS_RUN;
	case OPT_PCI_DOMAIN:
		if (parse_number(arg, PARSE_NUMBER, 0, GUEST_FRAGMENT_PCI_DOMAIN_MAX,
				 "a PCI domain from 0 to 65535", &value, why, sizeof(why)))
			return options_bad_value(err, PROGRAM, "--pci-domain", arg, why);
		opts->pci_domain = (long)value;
		return OPTIONS_RUN;
	case OPT_CONFIG:
		opts->config_path = arg;
		return OPTIONS_RUN;
	case OPTIONS_DOMAIN:
		/* A name or an ID: which, is known once every option is (--config). */
		opts->domain = arg;
		return OPTIONS_RUN;
	case OPT_XL:
		opts->xl_path = arg;
		return OPTIONS_RUN;
	case OPT_DOM0LESS:
		opts->dom0less_path = arg;
		return OPTIONS_RUN;
	case 'h':
		fputs(usage_text, stdout);
		return OPTIONS_EXIT_OK;
	case 'V':
		printf("xen-virtio-pcid %s\n", XVP_VERSION);
		return OPTIONS_EXIT_OK;
	default:
		if (!opts->serving_option)
			opts->serving_option = options_name(code);
		return options_apply(code, arg, &opts->config, PROGRAM, err);
	}
}

static enum options_result refuse(FILE *err, const char *message)
{
	fprintf(err, PROGRAM ": %s\n", message);
	fprintf(err, "Try '" PROGRAM " --help'.\n");
	return OPTIONS_EXIT_ERROR;
}

/* The block of @file that --domain (or its being the only one) names; NULL after a message. */
static const struct config_domain *select_block(const struct config_file *file, const char *domain,
						FILE *err)
{
	const struct config_domain *block;
	uint64_t domid;
	bool by_id;

	if (!domain) {
		if (file->nr_domains == 1)
			return &file->domains[0];
		fprintf(err, PROGRAM ": %s has %u [domain ...] blocks: choose one with --domain "
			"NAME|ID\n", file->path, file->nr_domains);
		return NULL;
	}
	/*
	 * Names are never all digits (the file refuses them): digits are an ID,
	 * and match a [domain ID] block only (domid 0 matches no block).
	 */
	by_id = parse_u64(domain, &domid);
	if (by_id)
		block = domid <= UINT32_MAX ? config_file_match(file, NULL, (uint32_t)domid) : NULL;
	else
		block = config_file_match(file, domain, 0);
	if (block)
		return block;
	fprintf(err, PROGRAM ": --domain '%s': %s has no [domain %s%s%s] block\n", domain,
		file->path, by_id ? "" : "\"", domain, by_id ? "" : "\"");
	return NULL;
}

/* --config FILE [--domain NAME|ID]: the serving options are the block's, as its worker gets them. */
static enum options_result options_from_config(struct fdt_command_options *opts, FILE *err)
{
	const struct config_domain *block;
	struct config_file file;
	char why[OPTIONS_WHY_MAX];
	enum options_result result = OPTIONS_EXIT_ERROR;

	if (opts->serving_option) {
		fprintf(err, PROGRAM ": %s with --config: the file's block gives the layout and the "
			"devices; give one or the other\n", opts->serving_option);
		fprintf(err, "Try '" PROGRAM " --help'.\n");
		return OPTIONS_EXIT_ERROR;
	}
	if (config_file_load(opts->config_path, &file, err))
		return OPTIONS_EXIT_ERROR;
	block = select_block(&file, opts->domain, err);
	if (block && config_domain_options(block, &opts->config, why, sizeof(why)))
		fprintf(err, PROGRAM ": %s:%u: %s\n", file.path, block->line, why);
	else if (block)
		result = OPTIONS_RUN;
	config_file_free(&file);
	return result;
}

enum options_result fdt_command_parse(int argc, char **argv, struct fdt_command_options *opts,
				      FILE *err)
{
	enum options_result result;

	memset(opts, 0, sizeof(*opts));
	options_init(&opts->config);
	opts->pci_domain = GUEST_FRAGMENT_NO_PCI_DOMAIN;
	opts->format = FDT_FORMAT_DTB;
	result = options_getopt(argc, argv, ":o:vhV", long_options, PROGRAM, apply_one, opts, err);
	if (result != OPTIONS_RUN)
		return result;
	if (!opts->output || !*opts->output)
		return refuse(err, "-o FILE is required");
	if (opts->config_path)
		result = options_from_config(opts, err);
	else if (opts->domain)
		result = options_apply(OPTIONS_DOMAIN, opts->domain, &opts->config, PROGRAM, err);
	if (result != OPTIONS_RUN)
		return result;
	/* xl and dom0less load a blob: lines naming a source file would not work. */
	if (opts->format == FDT_FORMAT_DTS && (opts->xl_path || opts->dom0less_path))
		return refuse(err, "--xl and --dom0less describe a dtb: use them with --format dtb");
	return options_check(&opts->config, PROGRAM, err);
}

/* A whole buffer to @path; 0 or -errno. */
static int write_file(const char *path, const void *data, size_t len)
{
	FILE *file = fopen(path, "wb");
	int ret = 0;

	if (!file)
		return -errno;
	if (fwrite(data, 1, len, file) != len)
		ret = -EIO;
	if (fclose(file) && !ret)
		ret = -errno;
	return ret;
}

/*
 * dtc -I dtb -O dts -o PATH -, the blob on its standard input. dtc's own
 * messages reach our stderr. 0, -ENOENT if there is no dtc, -EIO if it failed.
 */
static int run_dtc(const char *path, const void *blob, size_t len)
{
	char *argv[] = { "dtc", "-I", "dtb", "-O", "dts", "-o", (char *)path, "-", NULL };
	posix_spawn_file_actions_t actions;
	int pipe_fds[2], status, ret;
	ssize_t written = 0;
	pid_t pid;

	if (pipe2(pipe_fds, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
	ret = -posix_spawnp(&pid, "dtc", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipe_fds[0]);
	if (!ret) {
		/* The blob is far smaller than a pipe's buffer: this cannot block on dtc. */
		written = write(pipe_fds[1], blob, len);
	}
	close(pipe_fds[1]);
	if (ret)
		return ret;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (written != (ssize_t)len || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return 0;
}

static int write_fragment(const struct fdt_command_options *opts, const void *blob, FILE *err)
{
	size_t len = fdt_totalsize(blob);
	int ret;

	if (opts->format == FDT_FORMAT_DTB) {
		ret = write_file(opts->output, blob, len);
		if (ret)
			fprintf(err, PROGRAM ": -o %s: %s\n", opts->output, strerror(-ret));
		return ret;
	}
	ret = run_dtc(opts->output, blob, len);
	if (ret == -ENOENT)
		fprintf(err, PROGRAM ": --format dts runs dtc, which is not installed "
			     "(Debian package device-tree-compiler); --format dtb needs nothing\n");
	else if (ret)
		fprintf(err, PROGRAM ": -o %s: dtc -I dtb -O dts failed\n", opts->output);
	return ret;
}

/* One set of lines: to @path if given, else to @out. */
static int write_lines(int (*writer)(FILE *, const struct boot_config *),
		       const struct boot_config *config, const char *option, const char *path,
		       FILE *out, FILE *err)
{
	FILE *file = path ? fopen(path, "w") : out;
	int ret;

	if (!file) {
		ret = -errno;
		fprintf(err, PROGRAM ": %s %s: %s\n", option, path, strerror(-ret));
		return ret;
	}
	ret = writer(file, config);
	if (path && fclose(file) && !ret)
		ret = -EIO;
	if (ret)
		fprintf(err, PROGRAM ": %s %s: cannot write\n", option, path ? path : "(stdout)");
	return ret;
}

static int write_boot_config(const struct fdt_command_options *opts, const void *blob,
			     FILE *out, FILE *err)
{
	char *absolute = realpath(opts->output, NULL);
	struct boot_config config = {
		.layout = &opts->config.layout,
		/* xl resolves a relative device_tree against its own working directory. */
		.dtb_path = absolute ? absolute : opts->output,
		.dtb_size = fdt_totalsize(blob),
		.for_dom0less = opts->target == GUEST_FRAGMENT_FOR_DOM0LESS,
	};
	int ret = write_lines(boot_config_write_xl, &config, "--xl", opts->xl_path, out, err);

	if (!ret && !opts->xl_path && !opts->dom0less_path)
		fputc('\n', out);
	if (!ret)
		ret = write_lines(boot_config_write_dom0less, &config, "--dom0less",
				  opts->dom0less_path, out, err);
	free(absolute);
	return ret;
}

int fdt_command_run(const struct fdt_command_options *opts, FILE *out, FILE *err)
{
	/* uint64_t: libfdt wants the blob 8-byte aligned. */
	uint64_t blob[GUEST_FRAGMENT_MAX_SIZE / sizeof(uint64_t)];
	const struct guest_fragment_config config = {
		.layout = &opts->config.layout,
		.pci_domain = opts->pci_domain,
		.target = opts->target,
	};
	char why[256];

	if (guest_fragment_build(&config, blob, sizeof(blob), why, sizeof(why))) {
		fprintf(err, PROGRAM ": %s\n", why);
		return EXIT_CONFIG_ERROR;
	}
	if (write_fragment(opts, blob, err))
		return EXIT_FAILURE;
	/* --format dts is for reading: xl and dom0less take the blob. */
	if (opts->format == FDT_FORMAT_DTB && write_boot_config(opts, blob, out, err))
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

int fdt_command_main(int argc, char **argv)
{
	static struct fdt_command_options opts;

	switch (fdt_command_parse(argc, argv, &opts, stderr)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_ERROR:
		return EXIT_CONFIG_ERROR;
	case OPTIONS_RUN:
		break;
	}
	/* A dtc that exits early must be an error return, not a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	return fdt_command_run(&opts, stdout, stderr);
}
