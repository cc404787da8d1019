// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_dm_argv.c: the command lines libxl gives a PV/PVH device
 * model (as libxl__build_device_model_args_new() and the 4.20+ probe in
 * tools/libs/light/libxl_dm.c build them), read into what they mean; what we
 * cannot honour refused with the reason the user reads in qemu-dm-NAME.log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/dm_argv.h"

#define DM "/usr/lib/xen-virtio-pci/xl-device-model"

/*
 * Xen 4.17.5's libxl for `xl create` of domain 7 named vm1, 512 MiB, with our
 * two devices: as recorded on real Xen 4.17 by the boot test
 * (tests/boot/dom0-xl-dm.sh prints the device model's /proc/PID/cmdline).
 */
static char *argv_417[] = {
	DM, "-xen-domid", "7", "-no-shutdown",
	"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-7,server=on,wait=off",
	"-mon", "chardev=libxl-cmd,mode=control",
	"-chardev", "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-7,server=on,wait=off",
	"-mon", "chardev=libxenstat-cmd,mode=control",
	"-nodefaults", "-no-user-config", "-xen-attach", "-name", "vm1",
	"-vnc", "none", "-display", "none", "-nographic",
	"--device=blk,path=/srv/vm1.img,serial=root", "--device=rng",
	"-machine", "xenpv", "-m", "512", NULL,
};

/* Older libxl's spelling of the socket flags (before QEMU 6.0's server=on,wait=off). */
static char *argv_old_spelling[] = {
	DM, "-xen-domid", "9", "-no-shutdown",
	"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-9,server,nowait",
	"-mon", "chardev=libxl-cmd,mode=control",
	"-nodefaults", "-no-user-config", "-xen-attach", "-name", "vm3",
	"-vnc", "none", "-display", "none", "-nographic", "-machine", "xenpv", "-m", "128", NULL,
};

/* Xen 4.20+ (the same line), with --fdt=. */
static char *argv_420[] = {
	DM, "-xen-domid", "12", "-no-shutdown",
	"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-12,server=on,wait=off",
	"-mon", "chardev=libxl-cmd,mode=control",
	"-chardev", "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-12,server=on,wait=off",
	"-mon", "chardev=libxenstat-cmd,mode=control",
	"-nodefaults", "-no-user-config", "-xen-attach", "-name", "vm2",
	"-vnc", "none", "-display", "none", "-nographic",
	"--device=rng", "-machine", "xenpv", "--fdt=/usr/share/xen-virtio-pci/pcie-default.dtb",
	"-m", "256", NULL,
};

/* Xen 4.20+'s probe (device_model_probe_cmdline()): a socket libxl listens on, fd 9. */
static char *argv_probe[] = {
	DM, "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=xen",
	"-chardev", "socket,id=libxl-cmd,fd=9,server=on,wait=off",
	"-mon", "chardev=libxl-cmd,mode=control", NULL,
};

static struct dm_argv parsed;
static char why[1024];

static int argc_of(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return argc;
}

static int parse(char **argv)
{
	why[0] = '\0';
	return dm_argv_parse(argc_of(argv), argv, &parsed, why, sizeof(why));
}

static void test_xen_417_line_is_the_guest_and_our_devices(void **state)
{
	(void)state;
	assert_true(dm_argv_requested(argc_of(argv_417), argv_417));
	assert_int_equal(parse(argv_417), 0);
	assert_int_equal(parsed.mode, DM_ARGV_SERVE);
	assert_int_equal(parsed.domid, 7);
	assert_string_equal(parsed.name, "vm1");
	assert_string_equal(parsed.qmp_path, "/var/run/xen/qmp-libxl-7");
	assert_string_equal(parsed.stat_path, "/var/run/xen/qmp-libxenstat-7");
	assert_int_equal(parsed.qmp_fd, -1);
	assert_int_equal(parsed.nr_own, 2);
	assert_string_equal(parsed.own[0], "--device=blk,path=/srv/vm1.img,serial=root");
	assert_string_equal(parsed.own[1], "--device=rng");
	assert_null(parsed.fdt_path);
}

static void test_xen_420_line_with_fdt_check(void **state)
{
	(void)state;
	assert_int_equal(parse(argv_420), 0);
	assert_int_equal(parsed.mode, DM_ARGV_SERVE);
	assert_int_equal(parsed.domid, 12);
	assert_string_equal(parsed.qmp_path, "/var/run/xen/qmp-libxl-12");
	assert_int_equal(parsed.nr_own, 1);
	assert_string_equal(parsed.own[0], "--device=rng");
	assert_string_equal(parsed.fdt_path, "/usr/share/xen-virtio-pci/pcie-default.dtb");
}

static void test_older_spelling_and_no_libxenstat_socket(void **state)
{
	(void)state;
	assert_int_equal(parse(argv_old_spelling), 0);
	assert_int_equal(parsed.domid, 9);
	assert_string_equal(parsed.qmp_path, "/var/run/xen/qmp-libxl-9");
	assert_string_equal(parsed.stat_path, "");
	assert_int_equal(parsed.nr_own, 0);
}

static void test_probe_is_recognised(void **state)
{
	(void)state;
	assert_true(dm_argv_requested(argc_of(argv_probe), argv_probe));
	assert_int_equal(parse(argv_probe), 0);
	assert_int_equal(parsed.mode, DM_ARGV_PROBE);
	assert_int_equal(parsed.qmp_fd, 9);
	assert_string_equal(parsed.qmp_path, "");
	assert_int_equal(parsed.nr_own, 0);
}

static void test_our_other_command_lines_are_not_libxl(void **state)
{
	char *by_hand[] = { "xen-virtio-pcid", "--domain", "3", "--device", "rng", NULL };
	char *fdt[] = { "xen-virtio-pcid", "fdt", "-o", "x.dtb", NULL };
	char *alone[] = { "xen-virtio-pcid", NULL };

	(void)state;
	assert_false(dm_argv_requested(argc_of(by_hand), by_hand));
	assert_false(dm_argv_requested(argc_of(fdt), fdt));
	assert_false(dm_argv_requested(argc_of(alone), alone));
}

/* argv_417 with @count words from @at replaced by @words; parsed; returns the result. */
static int parse_with(int at, int count, char **words, int nr_words)
{
	char *argv[128];
	int n = 0;

	for (int i = 0; argv_417[i]; i++) {
		if (i == at)
			for (int j = 0; j < nr_words; j++)
				argv[n++] = words[j];
		if (i < at || i >= at + count)
			argv[n++] = argv_417[i];
	}
	argv[n] = NULL;
	return parse(argv);
}

static void assert_refused(int at, int count, char **words, int nr_words, const char *reason)
{
	assert_int_equal(parse_with(at, count, words, nr_words), -EINVAL);
	if (!strstr(why, reason))
		print_error("refusal '%s' lacks '%s'\n", why, reason);
	assert_non_null(strstr(why, reason));
}

/* Index of the word @word in argv_417. */
static int at_417(const char *word)
{
	for (int i = 0; argv_417[i]; i++)
		if (!strcmp(argv_417[i], word))
			return i;
	fail();
	return -1;
}

static void test_vnc_on_is_refused(void **state)
{
	char *vnc[] = { "-vnc", "127.0.0.1:0,to=99" };
	char *sdl[] = { "-sdl" };

	(void)state;
	assert_refused(at_417("-vnc"), 2, vnc, 2, "vfb = [ \"vnc=0\" ]");
	assert_refused(at_417("-vnc"), 0, sdl, 1, "SDL is not served");
}

static void test_channel_is_refused(void **state)
{
	char *pty[] = { "-chardev", "pty,id=libxl-channel0" };
	char *sock[] = { "-chardev", "socket,id=libxl-channel1,path=/tmp/c,server,nowait" };

	(void)state;
	assert_refused(at_417("-nodefaults"), 0, pty, 2, "channels are not served");
	assert_refused(at_417("-nodefaults"), 0, sock, 2, "channels are not served");
}

static void test_restriction_and_migration_are_refused(void **state)
{
	char *restrict_[] = { "-xen-domid-restrict" };
	char *chroot_[] = { "-chroot", "/var/empty" };
	char *run_with[] = { "-run-with", "user=xen-qemuuser-range-base" };
	char *runas[] = { "-runas", "xen-qemuuser-7" };
	char *incoming[] = { "-incoming", "fd:5" };
	char *paused[] = { "-S" };

	(void)state;
	assert_refused(at_417("-nodefaults"), 0, restrict_, 1, "dm_restrict is not supported");
	assert_refused(at_417("-nodefaults"), 0, chroot_, 2, "dm_restrict is not supported");
	assert_refused(at_417("-nodefaults"), 0, run_with, 2, "device_model_user");
	assert_refused(at_417("-nodefaults"), 0, runas, 2, "device_model_user");
	assert_refused(at_417("-nodefaults"), 0, incoming, 2, "migration are not supported");
	assert_refused(at_417("-nodefaults"), 0, paused, 1, "paused start");
}

static void test_other_machines_and_qemu_options_are_refused(void **state)
{
	char *hvm[] = { "-machine", "xenfv" };
	char *device[] = { "-device", "virtio-net-pci" };
	char *unknown[] = { "-usb" };

	(void)state;
	assert_refused(at_417("-machine"), 2, hvm, 2, "HVM guest keeps QEMU");
	assert_refused(at_417("-machine"), 0, device, 2, "--device=TYPE");
	assert_refused(at_417("-machine"), 0, unknown, 1, "-usb: not an option libxl gives");
}

static void test_missing_pieces_are_refused(void **state)
{
	(void)state;
	assert_refused(at_417("-machine"), 2, NULL, 0, "no -machine");
	assert_refused(at_417("-xen-domid"), 2, NULL, 0, "-xen-domid: missing");
	/* Both QMP chardev words and their -mon. */
	assert_refused(at_417("-chardev"), 4, NULL, 0, "no QMP socket");
	assert_refused(at_417("-m") + 1, 1, NULL, 0, "-m: needs a value");
}

static void test_bad_values_are_refused(void **state)
{
	char *domid[] = { "-xen-domid", "0x8000" };
	char *mb[] = { "-m", "lots" };
	char *fd[] = { "-chardev", "socket,id=libxl-cmd,fd=1,server=on,wait=off" };
	char *mon[] = { "-mon", "chardev=other,mode=readline" };
	char long_path[300] = "socket,id=libxl-cmd,path=/";
	char *path[] = { "-chardev", long_path };

	(void)state;
	memset(long_path + strlen(long_path), 'a', 200);
	assert_refused(at_417("-xen-domid"), 2, domid, 2, "from 1 to 32751");
	assert_refused(at_417("-m"), 2, mb, 2, "memory in MiB");
	assert_refused(at_417("-chardev"), 2, fd, 2, "a socket libxl listens on");
	assert_refused(at_417("-mon"), 2, mon, 2, "only libxl's QMP monitors");
	assert_refused(at_417("-chardev"), 2, path, 2, "longer than a socket's path");
}

static void test_our_options_are_single_tokens(void **state)
{
	char *split[] = { "--device", "rng" };
	char *domain[] = { "--domain=3" };
	char *verbose[] = { "--verbose" };
	char many[70][16];
	char *words[70];

	(void)state;
	assert_refused(at_417("-machine"), 0, split, 2, "one --option=value token");
	assert_refused(at_417("-machine"), 0, domain, 1, "libxl's -xen-domid");
	assert_int_equal(parse_with(at_417("-machine"), 0, verbose, 1), 0);
	assert_string_equal(parsed.own[2], "--verbose");
	for (int i = 0; i < 70; i++) {
		snprintf(many[i], sizeof(many[i]), "--device=rng");
		words[i] = many[i];
	}
	assert_refused(at_417("-machine"), 0, words, 70, "more than 64 options");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xen_417_line_is_the_guest_and_our_devices),
		cmocka_unit_test(test_xen_420_line_with_fdt_check),
		cmocka_unit_test(test_older_spelling_and_no_libxenstat_socket),
		cmocka_unit_test(test_probe_is_recognised),
		cmocka_unit_test(test_our_other_command_lines_are_not_libxl),
		cmocka_unit_test(test_vnc_on_is_refused),
		cmocka_unit_test(test_channel_is_refused),
		cmocka_unit_test(test_restriction_and_migration_are_refused),
		cmocka_unit_test(test_other_machines_and_qemu_options_are_refused),
		cmocka_unit_test(test_missing_pieces_are_refused),
		cmocka_unit_test(test_bad_values_are_refused),
		cmocka_unit_test(test_our_options_are_single_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
