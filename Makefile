# SPDX-License-Identifier: MIT
#
# xen-virtio-pci: plain GNU make, libraries through pkg-config.
#
#   make            build/xen-virtio-pcid, the guest's build/xen-virtio-pci-rescan
#                   (and -static, for an initramfs), and their simulated-hypervisor builds
#   make demo       the daemon against the simulated hypervisor with a test guest
#   make check      unit and simulated-hypervisor tests
#   make asan       the same objects with ASan+UBSan under build/asan/
#   make check-asan the suites, built with ASan+UBSan
#   make profile    the simulated-hypervisor daemon and the benchmarks under build/profile/,
#                   whose worker runs under valgrind: no empty root, no seccomp filter,
#                   no descriptor bound (docs/benchmarks.md, "Profiling it"); never installed
#   make bench      virtio-blk through the daemon against fio on the same image
#                   (BENCH_SECONDS=10 per measurement, BENCH_IMAGE=build/bench/disk.img)
#   make boot-test  real Xen (arm64, under qemu-system-aarch64) with Linux guests using
#                   the daemon's devices; see docs/testing.md (downloads into build/boot/)
#   make fuzz       the libFuzzer targets of tests/fuzz/ (clang), FUZZ_SECONDS=60 each
#   make install    the dom0 side: daemon, systemd unit, init script, example config,
#                   man page, docs (PREFIX=/usr/local, DESTDIR, SBINDIR, MANDIR,
#                   DOCDIR, SYSCONFDIR=/etc, SYSTEMDUNITDIR; see README.md)
#   make install-guest  the guest side: the rescan helper (C and sh), its unit and
#                   busybox init script, its man page
#   make uninstall, make uninstall-guest  remove what those installed
#   make deps       install the Debian packages make check needs (as root)
#   make sysroot-arm64  the arm64 packages a CROSS=aarch64-linux-gnu- build
#                   compiles against, under build/boot/root-arm64 (fetched)
#   make readme-usage  README.md's usage block, rewritten from --help
#
# Plain `make` installs nothing: a missing package stops it before the
# compiler, with the apt-get line to run (mk/check-build-deps.sh).
#
# "demo", "check" and "bench" first make sure the Debian packages are there
# (mk/ensure-deps.sh installs them as root, or prints the apt-get line).

BUILD		?= build
CC		?= gcc
PKG_CONFIG	?= pkg-config
VERSION		:= 0.1.0

# Cross-build, e.g. the boot test's arm64 daemon or a guest's helper:
#   make CROSS=aarch64-linux-gnu- BUILD=build/arm64 build/arm64/xen-virtio-pcid
# compiles with $(CROSS)gcc against the arm64 -dev packages that
# tests/boot/fetch.sh unpacks under build/boot/root-arm64 (never installed);
# with that default CROSS_ROOT, the first cross-build fetches them itself
# (`make sysroot-arm64` does only that).
CROSS		?=
DEFAULT_CROSS_ROOT := $(CURDIR)/build/boot/root-arm64
ifneq ($(CROSS),)
CC		:= $(CROSS)gcc
CROSS_ROOT	?= $(DEFAULT_CROSS_ROOT)
export BOOT_SYSROOT := $(CROSS_ROOT)
PKG_CONFIG	:= $(CURDIR)/tests/boot/pkg-config-arm64
LDFLAGS		+= $(foreach d,usr/lib/aarch64-linux-gnu lib/aarch64-linux-gnu,-Wl,-rpath-link=$(CROSS_ROOT)/$(d))
endif

# pkg-config names: xencontrol is libxenctrl. libseccomp (the workers' allow-list),
# libnbd (blk's NBD disks) with libxml-2.0 (their URIs, split as libnbd splits them),
# libmnl (virtio-net's rtnetlink) and json-c (the device-model mode's QMP) go with
# libevent and liburing: every build of the daemon objects links them.
XEN_PKGS	:= xencontrol xendevicemodel xenforeignmemory xenevtchn xenstore xentoolcore
EVENT_PKGS	:= libevent liburing libseccomp libnbd libxml-2.0 libmnl json-c

# Recursive (=) so that pkg-config runs only when a rule needs it, after
# ensure-deps has installed the packages.
XEN_CFLAGS	= $(shell $(PKG_CONFIG) --cflags $(XEN_PKGS))
XEN_LIBS	= $(shell $(PKG_CONFIG) --libs $(XEN_PKGS))
EVENT_CFLAGS	= $(shell $(PKG_CONFIG) --cflags $(EVENT_PKGS))
EVENT_LIBS	= $(shell $(PKG_CONFIG) --libs $(EVENT_PKGS))
# Debian 12's libfdt-dev ships no libfdt.pc: fall back to plain -lfdt.
FDT_CFLAGS	= $(shell $(PKG_CONFIG) --cflags libfdt 2>/dev/null)
FDT_LIBS	= $(shell $(PKG_CONFIG) --libs libfdt 2>/dev/null || echo -lfdt)
# Every object is compiled with it, but only the tests need cmocka.
CMOCKA_CFLAGS	= $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS	= $(shell $(PKG_CONFIG) --libs cmocka)
# `make bench` reads fio's JSON report with json-c.
JSON_LIBS	= $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)
XENSTORE_LIBS	= $(shell $(PKG_CONFIG) --libs xenstore)
XENSTORE_STATIC_LIBS = $(shell $(PKG_CONFIG) --static --libs xenstore)

WARNINGS	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		   -Wno-missing-field-initializers
CFLAGS		?= -O2 -g
SAN_FLAGS	?=
ALL_CFLAGS	= -std=gnu11 $(WARNINGS) $(CFLAGS) $(SAN_FLAGS) -iquote . -D_GNU_SOURCE \
		  -DXVP_VERSION='"$(VERSION)"' -MMD -MP
LDFLAGS		?=
ALL_LDFLAGS	= $(LDFLAGS) $(SAN_FLAGS)

# ---- sources, by layer (each layer includes only the ones listed before it)
LIB_SRCS	:= $(wildcard lib/*.c)
ECAM_SRCS	:= $(wildcard ecam/*.c)
VIRTIO_SRCS	:= $(wildcard virtio/*.c)
BACKEND_SRCS	:= $(wildcard backends/*.c)
XEN_SRCS	:= $(wildcard xen/*.c)
FDT_SRCS	:= $(wildcard fdt/*.c)
DAEMON_SRCS	:= $(filter-out daemon/main.c,$(wildcard daemon/*.c))

obj		= $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_OBJS	= $(call obj,$(LIB_SRCS) $(ECAM_SRCS) $(VIRTIO_SRCS) $(BACKEND_SRCS))
XEN_OBJS	= $(call obj,$(XEN_SRCS))
FDT_OBJS	= $(call obj,$(FDT_SRCS))
DAEMON_OBJS	= $(call obj,$(DAEMON_SRCS) daemon/main.c)

# ---- the simulated hypervisor: daemon side (libxen* functions) and test side
SIM_LIB_SRCS	:= $(wildcard tests/sim/libxen_*.c)
SIM_HV_SRCS	:= $(wildcard tests/sim/hv_*.c)
GUEST_SRCS	:= $(wildcard tests/guest/*.c)

# ---- the guest side (guest/): xen-virtio-pci-rescan, a program of its own
RESCAN_SRCS	:= $(filter-out guest/rescan.c,$(wildcard guest/*.c))
RESCAN_OBJS	= $(call obj,guest/rescan.c $(RESCAN_SRCS))

UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
INTEG_TESTS	:= $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(wildcard tests/integration/test_*.c))

DAEMON		:= $(BUILD)/xen-virtio-pcid
SIM_DAEMON	:= $(BUILD)/tests/xen-virtio-pcid-sim
DEMO		:= $(BUILD)/tests/demo
RESCAN		:= $(BUILD)/xen-virtio-pci-rescan
RESCAN_STATIC	:= $(BUILD)/xen-virtio-pci-rescan-static
SIM_RESCAN	:= $(BUILD)/tests/xen-virtio-pci-rescan-sim
FD_PROBE	:= $(BUILD)/tests/boot/xvp-fd-probe
SOCK_CLIENT	:= $(BUILD)/tests/boot/xvp-sock
BENCH		:= $(BUILD)/tests/bench/bench_blk
BENCH_NET	:= $(BUILD)/tests/bench/bench_net
BENCH_IMAGE	?= $(BUILD)/bench/disk.img

.PHONY: all build tests demo check check-run asan check-asan profile bench deps build-deps clean \
	boot-test sysroot-arm64 readme-usage install install-guest uninstall uninstall-guest

# Keep the objects of test binaries (make would delete them as intermediates).
.SECONDARY:

all: build
# Sanitizers do not link statically: no -static helper in the ASan build.
build: $(DAEMON) $(SIM_DAEMON) $(RESCAN) $(SIM_RESCAN) $(if $(SAN_FLAGS),,$(RESCAN_STATIC))
tests: $(UNIT_TESTS) $(INTEG_TESTS) $(SIM_DAEMON) $(DEMO) $(BENCH) $(BENCH_NET) $(RESCAN) $(SIM_RESCAN)

deps:
	@sh mk/ensure-deps.sh

# What the compiler needs, checked before its first run (every object waits
# for it): a missing package stops make with the apt-get line to run, and
# nothing is installed. NAME=PACKAGE: a pkg-config module, or a header
# (Debian 12's libfdt-dev has no libfdt.pc), and the Debian package with it.
BUILD_DEPS	:= $(addsuffix =libxen-dev,$(XEN_PKGS)) libevent=libevent-dev \
		   liburing=liburing-dev libnbd=libnbd-dev libxml-2.0=libxml2-dev libmnl=libmnl-dev json-c=libjson-c-dev \
		   libfdt.h=libfdt-dev
ifneq ($(filter tests check-run asan $(BUILD)/tests/%,$(MAKECMDGOALS)),)
BUILD_DEPS	+= cmocka=libcmocka-dev json-c=libjson-c-dev
endif
build-deps:
	@CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' CROSS='$(CROSS)' SYSROOT='$(CROSS_ROOT)' \
		FETCH_SYSROOT='$(if $(filter $(DEFAULT_CROSS_ROOT),$(CROSS_ROOT)),BOOT_DIR=$(CURDIR)/build/boot sh $(CURDIR)/tests/boot/fetch.sh sysroot)' \
		sh mk/check-build-deps.sh $(BUILD_DEPS)

# The arm64 packages a cross-build compiles against (tests/boot/fetch.sh,
# under build/boot/root-arm64), and the cross compiler (installed as root).
sysroot-arm64:
	@sh mk/ensure-deps.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	@BOOT_DIR=$(CURDIR)/build/boot sh tests/boot/fetch.sh sysroot

demo: deps
	@$(MAKE) --no-print-directory $(DEMO) $(SIM_DAEMON)
	$(DEMO) $(SIM_DAEMON) $(BUILD)/demo-disk.img

check: deps
	@$(MAKE) --no-print-directory check-run

# Scripts (*.sh) report like cmocka and are counted the same way.
CHECK_SCRIPTS	:= tests/fdt/check-fragment.sh tests/guest-helper/check-rescan-sh.sh \
		   tests/install/check-build-deps.sh tests/docs/check-readme-usage.sh \
		   tests/docs/check-doc-references.sh tests/cli/check-bad-input.sh \
		   tests/docs/check-layers.sh

check-run: tests $(DAEMON)
	@sh tests/run-tests.sh $(BUILD) $(UNIT_TESTS) $(INTEG_TESTS) $(CHECK_SCRIPTS)

# README.md's usage block, rewritten from --help (make check compares them).
readme-usage: $(DAEMON)
	@XVP_BUILD=$(BUILD) sh tests/docs/check-readme-usage.sh --update

# Not part of check: it takes two measurements of BENCH_SECONDS and has no thresholds.
bench:
	@sh mk/ensure-deps.sh fio
	@$(MAKE) --no-print-directory $(BENCH) $(BENCH_NET) $(SIM_DAEMON)
	@mkdir -p $(dir $(BENCH_IMAGE))
	$(BENCH) $(SIM_DAEMON) $(BENCH_IMAGE)
	$(BENCH_NET) $(SIM_DAEMON) $(or $(BENCH_SECONDS),10)

# Not part of check: it downloads Debian packages (arm64) and boots Xen under
# QEMU twice, xl guests then dom0less ones (about 1.5 minutes warm). It
# cross-builds the daemon itself.
boot-test:
	@sh tests/boot/boot-test.sh

asan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
		SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" build tests

# The worker under valgrind (callgrind counts instructions, repeatable on a loaded machine).
profile:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/profile CFLAGS="-O2 -g -DXVP_PROFILE_BUILD" \
		$(BUILD)/profile/tests/xen-virtio-pcid-sim $(BUILD)/profile/tests/bench/bench_net \
		$(BUILD)/profile/tests/bench/bench_blk

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
		SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" check-run

# ---- fuzzing (tests/fuzz/): libFuzzer targets built with clang under
# $(BUILD)/fuzz/, each run for FUZZ_SECONDS from its seeds; a crash fails.
# `make check` replays the same targets' corpora through a gcc build with
# ASan+UBSan and a plain driver (tests/fuzz/run_corpus.c).
FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang
FUZZ_DIR	:= $(BUILD)/fuzz
FUZZ_REGRESS_DIR := $(BUILD)/fuzz-regress
FUZZ_TARGETS	:= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS	= -std=gnu11 $(WARNINGS) -O1 -g -iquote . -D_GNU_SOURCE -MMD -MP
# What each target links besides itself: only code a guest reaches, no Xen, no libevent.
FUZZ_DEPS_fuzz_ecam		:= lib/log.c $(ECAM_SRCS)
FUZZ_DEPS_fuzz_virtio_pci	:= lib/log.c $(ECAM_SRCS) $(VIRTIO_SRCS) tests/fuzz/guest_ram.c
FUZZ_DEPS_fuzz_virtqueue	:= lib/log.c virtio/virtqueue.c tests/fuzz/guest_ram.c
FUZZ_DEPS_fuzz_blk_request	:= lib/log.c virtio/virtqueue.c backends/blk_request.c
# Not a guest's parser: a compromised worker's, which the supervisor runs.
FUZZ_DEPS_fuzz_worker_protocol	:= daemon/worker_protocol.c
FUZZ_REGRESS	:= $(addprefix $(FUZZ_REGRESS_DIR)/,$(FUZZ_TARGETS))
CHECK_SCRIPTS	+= tests/fuzz/check-corpus.sh

.PHONY: fuzz
check-run: $(FUZZ_REGRESS)

fuzz:
	@sh mk/ensure-deps.sh clang libclang-rt-dev
	@$(MAKE) --no-print-directory $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
	@sh tests/fuzz/run-fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_REGRESS_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<

define fuzz_target
$(FUZZ_DIR)/$(1): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,tests/fuzz/$(1).c $(FUZZ_DEPS_$(1)))
	$$(FUZZ_CC) $$(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^

$(FUZZ_REGRESS_DIR)/$(1): $(patsubst %.c,$(FUZZ_REGRESS_DIR)/obj/%.o,tests/fuzz/$(1).c tests/fuzz/run_corpus.c $(FUZZ_DEPS_$(1)))
	$$(CC) $$(FUZZ_SAN) -o $$@ $$^
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

# ---- install (begin) --------------------------------------------------------
# Two sides, one target each, so that a packager makes one package per side:
#   install        dom0: the daemon, its systemd unit and init script, the
#                  example configuration, its man page and the documentation;
#   install-guest  guests: the rescan helper (C and sh), its systemd unit and
#                  busybox init script, its man page.
# DESTDIR stages the tree (packages). The configuration itself is never
# installed, only virtio-pci.cfg.example beside it: an install never
# overwrites what the administrator wrote. Units, init scripts and man pages
# name the installed paths: SBINDIR, SYSCONFDIR, SYSTEMDUNITDIR and DOCDIR
# are written into them as they are copied. Debian packaging would pass
# PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system (man pages are installed
# uncompressed; dh_compress gzips them).
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/xen-virtio-pci
SYSCONFDIR	?= /etc
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
DATADIR		?= $(PREFIX)/share/xen-virtio-pci
INSTALL		?= install

# The xl guests' fragment for the default layout (docs/xl.md): it names no
# device, so one file serves every guest on that layout. Written by the
# daemon's own `fdt`; a cross-build writes it with a native one.
FRAGMENT	:= $(BUILD)/pcie-default.dtb
FDT_TOOL	:= $(if $(CROSS),build/xen-virtio-pcid,$(DAEMON))

# What each side installs, as paths below DESTDIR (uninstall removes these).
# All of docs/: the README and the guides name each other.
INSTALL_DOCS	:= README.md $(wildcard docs/*.md)
DOM0_FILES	= $(SBINDIR)/xen-virtio-pcid \
		  $(SYSTEMDUNITDIR)/xen-virtio-pcid.service \
		  $(SYSCONFDIR)/init.d/xen-virtio-pcid \
		  $(SYSCONFDIR)/xen/virtio-pci.cfg.example \
		  $(MANDIR)/man8/xen-virtio-pcid.8 \
		  $(DATADIR)/pcie-default.dtb \
		  $(addprefix $(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
GUEST_FILES	= $(SBINDIR)/xen-virtio-pci-rescan \
		  $(SBINDIR)/xen-virtio-pci-rescan.sh \
		  $(SYSTEMDUNITDIR)/xen-virtio-pci-rescan.service \
		  $(SYSCONFDIR)/init.d/S40xen-virtio-pci-rescan \
		  $(MANDIR)/man8/xen-virtio-pci-rescan.8

# The sources say /usr/sbin, /etc and the Debian paths; the copies say where
# things were installed.
INSTALL_SUBST	= sed -e 's|/usr/sbin/xen-virtio-pci|$(SBINDIR)/xen-virtio-pci|g' \
		      -e 's|/etc/xen/virtio-pci\.cfg|$(SYSCONFDIR)/xen/virtio-pci.cfg|g' \
		      -e 's|/etc/default/xen-virtio-pci|$(SYSCONFDIR)/default/xen-virtio-pci|g' \
		      -e 's|^\.ds sbindir .*|.ds sbindir $(SBINDIR)|' \
		      -e 's|^\.ds sysconfdir .*|.ds sysconfdir $(SYSCONFDIR)|' \
		      -e 's|^\.ds systemdunitdir .*|.ds systemdunitdir $(SYSTEMDUNITDIR)|' \
		      -e 's|^\.ds docdir .*|.ds docdir $(DOCDIR)|'
# $(call install_subst,MODE,SOURCE,DEST): SOURCE with INSTALL_SUBST applied,
# staged under $(BUILD)/install/, installed as DEST.
define install_subst
@mkdir -p $(BUILD)/install/$(dir $(2)) && $(INSTALL_SUBST) $(2) >$(BUILD)/install/$(2)
$(INSTALL) -D -m $(1) $(BUILD)/install/$(2) $(DESTDIR)$(3)
endef

$(FRAGMENT): $(DAEMON)
	$(if $(CROSS),$(MAKE) CROSS= BUILD=build build/xen-virtio-pcid)
	$(FDT_TOOL) fdt --for xl -o $@ --xl /dev/null

install: $(DAEMON) $(FRAGMENT)
	$(INSTALL) -D -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/xen-virtio-pcid
	$(INSTALL) -D -m 0644 $(FRAGMENT) $(DESTDIR)$(DATADIR)/pcie-default.dtb
	$(call install_subst,0644,dist/xen-virtio-pcid.service,$(SYSTEMDUNITDIR)/xen-virtio-pcid.service)
	$(call install_subst,0755,dist/init.d/xen-virtio-pcid,$(SYSCONFDIR)/init.d/xen-virtio-pcid)
	$(call install_subst,0644,dist/virtio-pci.cfg,$(SYSCONFDIR)/xen/virtio-pci.cfg.example)
	$(call install_subst,0644,docs/man/xen-virtio-pcid.8,$(MANDIR)/man8/xen-virtio-pcid.8)
	$(foreach doc,$(INSTALL_DOCS),$(INSTALL) -D -m 0644 $(doc) $(DESTDIR)$(DOCDIR)/$(notdir $(doc)) &&) true

install-guest: $(RESCAN)
	$(INSTALL) -D -m 0755 $(RESCAN) $(DESTDIR)$(SBINDIR)/xen-virtio-pci-rescan
	$(INSTALL) -D -m 0755 guest/xen-virtio-pci-rescan.sh $(DESTDIR)$(SBINDIR)/xen-virtio-pci-rescan.sh
	$(call install_subst,0644,guest/xen-virtio-pci-rescan.service,$(SYSTEMDUNITDIR)/xen-virtio-pci-rescan.service)
	$(call install_subst,0755,guest/S40xen-virtio-pci-rescan,$(SYSCONFDIR)/init.d/S40xen-virtio-pci-rescan)
	$(call install_subst,0644,docs/man/xen-virtio-pci-rescan.8,$(MANDIR)/man8/xen-virtio-pci-rescan.8)

# Never $(SYSCONFDIR)/xen/virtio-pci.cfg, the administrator's file.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(DOM0_FILES))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

uninstall-guest:
	rm -f $(addprefix $(DESTDIR),$(GUEST_FILES))

# Installs both sides under a temporary DESTDIR and checks the tree.
CHECK_SCRIPTS	+= tests/install/check-install.sh
# ---- install (end) ----------------------------------------------------------

# ---- rules
$(BUILD)/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(XEN_CFLAGS) $(EVENT_CFLAGS) $(FDT_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(DAEMON): $(DAEMON_OBJS) $(FDT_OBJS) $(XEN_OBJS) $(CORE_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(XEN_LIBS) $(EVENT_LIBS) $(FDT_LIBS) -lpthread

# The same daemon objects, with the simulated libxen* functions in place of Xen's.
$(SIM_DAEMON): $(DAEMON_OBJS) $(FDT_OBJS) $(XEN_OBJS) $(CORE_OBJS) $(call obj,$(SIM_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(EVENT_LIBS) $(FDT_LIBS) -lpthread

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(CORE_OBJS) $(XEN_OBJS) $(FDT_OBJS) $(call obj,$(DAEMON_SRCS) $(SIM_LIB_SRCS) $(RESCAN_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(EVENT_LIBS) $(FDT_LIBS) -lpthread

# The mapping cache alone, over the simulated hypervisor in the same process.
$(BUILD)/tests/unit/test_guest_memory: $(BUILD)/tests/unit/test_guest_memory.o $(CORE_OBJS) $(XEN_OBJS) $(call obj,$(SIM_LIB_SRCS) $(SIM_HV_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(EVENT_LIBS) -lpthread

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(call obj,$(SIM_HV_SRCS) $(GUEST_SRCS) $(LIB_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lpthread

# The guest's helper against libxenstore, and as one static file for an initramfs.
$(RESCAN): $(RESCAN_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(XENSTORE_LIBS)

# The static one reads the key periodically: Debian's libxenstore.a has no
# reader thread, without which its watches are unreliable (guest/rescan.c).
$(BUILD)/guest/rescan-static.o: guest/rescan.c | build-deps
	$(CC) $(ALL_CFLAGS) $(XEN_CFLAGS) -DRESCAN_READ_KEY_PERIODICALLY -c -o $@ $<

$(RESCAN_STATIC): $(BUILD)/guest/rescan-static.o $(call obj,$(RESCAN_SRCS))
	$(CC) $(ALL_LDFLAGS) -static -o $@ $^ $(XENSTORE_STATIC_LIBS) -lpthread

# The boot test's dom0 probe of a worker's Xen handles (built by boot-test.sh): Xen's headers only.
$(FD_PROBE): tests/boot/fd_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(XEN_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# The boot test's dom0 client of a console port's unix socket (built by boot-test.sh).
$(SOCK_CLIENT): tests/boot/sock_client.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# The same objects with the simulated libxenstore, for the integration tests.
$(SIM_RESCAN): $(RESCAN_OBJS) $(call obj,tests/sim/libxen_xenstore.c tests/sim/libxen_conn.c tests/sim/libxen_toolcore.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

$(DEMO): $(BUILD)/tests/demo.o $(call obj,$(SIM_HV_SRCS) $(GUEST_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

$(BENCH): $(call obj,$(wildcard tests/bench/*.c) $(SIM_HV_SRCS) $(GUEST_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(JSON_LIBS) -lpthread

$(BENCH_NET): $(call obj,tests/bench/net/bench_net.c $(SIM_HV_SRCS) $(GUEST_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

clean:
	rm -rf $(BUILD)

# Dependency files of our own objects only (build/boot holds a Xen tree with its own).
-include $(shell find $(BUILD) -path '$(BUILD)/boot' -prune -o -name '*.d' -type f -print 2>/dev/null)
