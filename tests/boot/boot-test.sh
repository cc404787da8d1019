#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/boot-test.sh: `make boot-test`. Real Xen 4.17 (rebuilt with
# IOREQ servers) on qemu-system-aarch64, a Linux 6.12 dom0 that runs the
# daemon's supervisor (cross-built for arm64) with a config file, and xl
# guests whose own drivers (pci-host-generic, virtio_pci, virtio_blk,
# virtio-rng) use the devices of their workers: one guest on Linux 6.12, then
# one on 6.1. Then the dom0less run (a second boot): Xen starts two guests
# from /chosen (trap-unmapped-accesses = <0>, patched into 4.17 by
# tests/boot/xen-patches/), Linux 6.12 with the C rescan helper and 6.1 with
# the sh one; they boot to an empty bus, dom0 runs init-dom0less and the
# supervisor, the helpers rescan, the guests use their disks. The run reports
# how long after each worker attached its guest's disk appeared.
# Then the same three boots on Xen 4.22.0, built from its release tarball
# with no patch of ours (build-xen-tarball.sh, cached), with 4.22's tools and
# a daemon built against them: xl guests with nr_spis and
# trap_unmapped_accesses = 0, dom0less guests with upstream's
# trap-unmapped-accesses. Every kernel (dom0 and guests) checks its dmesg.
# Prints "PASS" or "FAIL: STEP: why" last; exits 0 only on PASS. The serial
# log (Xen, dom0 and the guest) is kept in build/boot/logs/.
#
# Environment:
#   BOOT_TEST_XEN           which Xen: 4.17, 4.22 or all (the default; 4.22 is
#                           skipped, with one line saying why, when there is no
#                           tarball; asked for alone, it fails instead)
#   BOOT_TEST_XEN_TARBALL   Xen 4.22's tarball (default: ../shared/xen/ beside
#                           the clone), checked against BOOT_TEST_XEN_SHA256 or
#                           the SHA256SUMS beside it
#   BOOT_TEST_CACHE         where the tarball's builds are cached (default
#                           /var/cache/xen-virtio-pci-boot as root, else
#                           build/boot/cache)
#   BOOT_TEST_CPU           QEMU's CPU model (default cortex-a57)
#   BOOT_TEST_DAEMON        an arm64 daemon to use instead of building one
#                           (the 4.17 boots; it links against 4.17's libraries)
#   BOOT_TEST_BLOCK_EXTRA   lines added to every [domain] block of the
#                           supervisor's config in dom0 (not to the fragment),
#                           e.g. "intx_spi = 48" to prove that a daemon whose
#                           interrupts the guest never sees makes the test FAIL
#   BOOT_TEST_NET_BYTES     bytes each xl guest sends dom0 and receives from it
#                           over TCP (default 1048576; 16777216 is the issue's
#                           figure: on a quiet host a guest with its 16 MiB each
#                           way ran in 42-53 s, but with the host's two cores
#                           busy the 6.12 guest took 208 s and the 6.1 guest
#                           missed the 300 s bound)
#   BOOT_TEST_GUEST_KERNELS the xl guests' kernels, one guest after the other:
#                           "6.12 6.1 5.10" (trixie's, bookworm's and bullseye's,
#                           the default)
#   BOOT_TEST_DM_KERNELS    then, with the service stopped, xl guests started by
#                           plain `xl create` with the daemon as their device
#                           model, one after the other on these kernels (default:
#                           BOOT_TEST_GUEST_KERNELS; the first is rebooted once;
#                           "": none; on the newest Xen: "6.12 6.1"); then xl
#                           destroy, and vnc=1 and a channel must fail
#   BOOT_TEST_DM_MORE_CREATES  no: on the newest Xen, leave out xl destroy and
#                           the refusals (default yes)
#   BOOT_TEST_SECONDS       each whole QEMU run (default 1800: three xl guests
#                           with their network and console steps)
#   BOOT_TEST_DOM0LESS      1: also the dom0less run (the default); 0: the xl
#                           run only; only: the dom0less run only
#   BOOT_TEST_RESCAN        the dom0less C helper: dynamic (default) or static
#   BOOT_TEST_TRAP_UNMAPPED the dom0less guests' trap-unmapped-accesses (default 0;
#                           1 shows the data abort the patch avoids)
#   BOOT_TEST_TRAP_PROOF    1 (default): after the dom0less run, boot it again with
#                           trap-unmapped-accesses = <1> and require guest 1's panic
#                           in pci_generic_config_read; 0: skip that boot
#   BOOT_TEST_INJECT_KWARN  1: dom0 and the dom0less guests write a WARNING: line
#                           to their kernel log before its check, so the run
#                           must FAIL (the proof that the dmesg check works)
set -eu
. "$(dirname "$0")/env.sh"
. "$BOOT_SRC/xen-tarball.sh"
start=$(date +%s)
mkdir -p "$LOGS"
STAGE_TIMES=$(mktemp)
trap 'rm -f "$STAGE_TIMES"' EXIT
# finish VERDICT: every stage's time, then VERDICT (PASS or FAIL: ...).
finish() {
	log "stage times:"
	sed 's/^/boot-test:   /' "$STAGE_TIMES" >&2
	log "  total $(($(date +%s) - start)) s"
	echo "$1"
	[ "$1" = PASS ]
}

xen_old=yes xen_new=yes
case ${BOOT_TEST_XEN:-all} in
all) ;;
4.17) xen_new=no ;;
"$XEN_NEW_SERIES" | "$XEN_NEW_VERSION") xen_old=no ;;
*) die "BOOT_TEST_XEN: 4.17, $XEN_NEW_SERIES or all" ;;
esac
if [ "$xen_new" = yes ] && ! xen_tarball; then
	[ "$xen_old" = yes ] || { finish "FAIL: xen-$XEN_NEW_SERIES: no tarball"; exit 1; }
	xen_new=no
fi

step host-packages 900 sh "$BOOT_SRC/host-deps.sh"
step fetch 1200 sh "$BOOT_SRC/fetch.sh"
dom0less=${BOOT_TEST_DOM0LESS:-1}
case ${BOOT_TEST_RESCAN:-dynamic} in
static | dynamic) ;;
*) die "BOOT_TEST_RESCAN: static or dynamic" ;;
esac
# The C helper in the guest: the dynamic build (default) or the static one,
# which reads the key periodically (its libxenstore cannot watch).
rescan_name=xen-virtio-pci-rescan
[ "${BOOT_TEST_RESCAN:-dynamic}" = static ] && rescan_name=xen-virtio-pci-rescan-static

# build_arm64 TAG BUILD CROSS_ROOT: the daemon (and, for the dom0less boots,
# the rescan helper) cross-built into BUILD against CROSS_ROOT. The targets
# as the Makefile names them (relative): an absolute path would match no
# rule, and make would keep a stale binary. BOOT_SYSROOT in make's own
# environment too: the Makefile exports it, but make (before 4.4) does not
# pass exported variables to $(shell pkg-config ...), which then reads the
# default tree (and links 4.17's libxenctrl.so.4.17).
build_arm64() {
	step "daemon-build$1" 600 env BOOT_SYSROOT="$3" make -s -C "$REPO" CROSS=aarch64-linux-gnu- \
		BUILD="$2" CROSS_ROOT="$3" "$2/xen-virtio-pcid"
	[ "$dom0less" = 0 ] ||
		step "rescan-build$1" 600 env BOOT_SYSROOT="$3" make -s -C "$REPO" CROSS=aarch64-linux-gnu- \
			BUILD="$2" CROSS_ROOT="$3" "$2/$rescan_name"
	# The dom0 probe of the workers' Xen handles (tests/boot/fd_probe.c) and
	# the client of the guests' console sockets (tests/boot/sock_client.c).
	step "probe-build$1" 600 env BOOT_SYSROOT="$3" make -s -C "$REPO" CROSS=aarch64-linux-gnu- \
		BUILD="$2" CROSS_ROOT="$3" "$2/tests/boot/xvp-fd-probe" "$2/tests/boot/xvp-sock"
}

if [ "$xen_old" = yes ]; then
	step xen-build 900 sh -c "sh '$BOOT_SRC/build-xen.sh' > '$BOOT/xen-path'"
	xen=$(cat "$BOOT/xen-path")
	# Also with BOOT_TEST_DAEMON: the rescan helper and the probe come from here.
	build_arm64 "" build/arm64 "$ROOT"
	daemon=${BOOT_TEST_DAEMON:-$REPO/build/arm64/xen-virtio-pcid}
fi
if [ "$xen_new" = yes ]; then
	# Hypervisor and tools: cached (xen-tarball.sh's boot_cache), minutes when not.
	step "xen-$XEN_NEW_SERIES-build" 5400 sh -c "sh '$BOOT_SRC/build-xen-tarball.sh' > '$BOOT/xen-new-path'"
	new_entry=$(cat "$BOOT/xen-new-path")
	new_root=$BOOT/root-arm64-xen$XEN_NEW_SERIES
	new_build=build/arm64-xen$XEN_NEW_SERIES
	build_arm64 "[$XEN_NEW_SERIES]" "$new_build" "$new_root"
fi
[ "$dom0less" = 0 ] || step fdt-build 600 make -s -C "$REPO" build/xen-virtio-pcid

# initramfs TAG OUTDIR DAEMON BUILD [ENV...]: mkinitramfs.sh for one Xen, with
# the rescan helper and the fd probe of BUILD.
initramfs() {
	tag=$1 dir=$2 d=$3 b=$4; shift 4
	r=$REPO/$b/$rescan_name
	[ "$dom0less" != 0 ] || r=""
	step "initramfs$tag" 300 env BLOCK_EXTRA="${BOOT_TEST_BLOCK_EXTRA:-}" NET_BYTES="${BOOT_TEST_NET_BYTES:-1048576}" \
		FD_PROBE="$REPO/$b/tests/boot/xvp-fd-probe" SOCK_CLIENT="$REPO/$b/tests/boot/xvp-sock" \
		GUEST_KERNELS="${BOOT_TEST_GUEST_KERNELS:-6.12 6.1 5.10}" \
		DM_KERNELS="${BOOT_TEST_DM_KERNELS-${BOOT_TEST_GUEST_KERNELS:-6.12 6.1 5.10}}" "$@" \
		sh "$BOOT_SRC/mkinitramfs.sh" "$d" "$dir" ${r:+"$r"}
}
[ "$xen_old" = no ] ||
	initramfs "" "$BOOT/initramfs" "$daemon" build/arm64
# On the newest Xen the device-model phase runs 6.12 and 6.1 (the kernels it
# passed on once the QMP server kept the probe's connection open after quit;
# before, the second xl create saw libxl's QMP socket hang up);
# BOOT_TEST_DM_MORE_CREATES=no leaves out xl destroy and the refusals there.
[ "$xen_new" = no ] ||
	initramfs "[$XEN_NEW_SERIES]" "$BOOT/initramfs-xen$XEN_NEW_SERIES" "$REPO/$new_build/xen-virtio-pcid" \
		"$new_build" BOOT_ROOT="$new_root" XEN_VERSION="$XEN_NEW_VERSION" \
		DM_KERNELS="${BOOT_TEST_DM_KERNELS-6.12 6.1}" DM_MORE_CREATES="${BOOT_TEST_DM_MORE_CREATES:-yes}"

secs=${BOOT_TEST_SECONDS:-1800}
filter='^(BOOTTEST|GUEST): |^\(XEN\) .*(DOM[0-9]+: GUEST: (ok|FAIL|clock|start)|Panic|BUG|Assertion)|Kernel panic'

# verdict NAME SERIAL TOOK: PASS (return 0) or FAIL: why, from the serial log.
verdict() {
	tr -d '\r' < "$2" > "$2.tmp" && mv "$2.tmp" "$2"
	if grep -aq '^BOOTTEST: PASS' "$2"; then
		log "$1: serial log: $2 ($3)"
		return 0
	fi
	why=$(grep -a '^BOOTTEST: FAIL' "$2" | head -1 | sed 's/^BOOTTEST: FAIL //')
	if [ -z "$why" ]; then
		last=$(grep -a '^BOOTTEST: step' "$2" | tail -1 | sed 's/^BOOTTEST: step //; s/ (.*//')
		if grep -aq '^(XEN) .*Panic\|Kernel panic' "$2"; then
			why="${last:-boot}: a panic (see the log)"
		elif [ -z "$last" ]; then
			why="boot: dom0 never reached its test script within $secs s"
		else
			why="$last: no result (QEMU stopped or killed after $secs s at most)"
		fi
	fi
	log "$1: serial log: $2 ($3)"
	finish "FAIL: $1: $why"
	return 1
}

# report_to [FILE]: stdin to FILE, or to stderr. (Not `> /dev/stderr`: that
# opens the file stderr is, and truncates a log that 2>&1 points at.)
report_to() {
	if [ -n "$1" ]; then cat > "$1"; else cat >&2; fi
}

# The dom0less guests' fragments, from the host's xen-virtio-pcid with the
# options dom0less-test.sh serves them with (domain N: disk-N.img), written
# --for dom0less: Xen 4.22 refuses a partial device tree whose highest
# phandle is 65000 or more (domain_handle_dtb_boot_module in
# xen/common/device-tree/dom0less-build.c: "Device tree generation failed
# (-75)", then a panic), and both 4.17 and 4.22 take the /gic stand-in's
# phandle (1 in this fragment) as the guest GIC's.
spec=""
if [ "$dom0less" != 0 ]; then
	n=0
	for k in 6.12:c 6.1:sh; do
		n=$((n + 1))
		for dir in "$BOOT/initramfs" "$BOOT/initramfs-xen$XEN_NEW_SERIES"; do
			mkdir -p "$dir"
			"$REPO/build/xen-virtio-pcid" fdt --for dom0less -o "$dir/domU$n.dtb" --dom0less /dev/null \
				--xl /dev/null --device "blk,path=/tmp/disk-$n.img" --device rng \
				--device "blk,path=/tmp/disk2-$n.img,direct=on" --device net,bridge=br0 >&2 || { finish "FAIL: dom0less: xen-virtio-pcid fdt"; exit 1; }
		done
		spec="$spec${spec:+,}$k"
	done
fi
guest_args="console=ttyAMA0 rdinit=/init loglevel=${BOOT_TEST_GUEST_LOGLEVEL:-4} panic=1 $TCG_CMDLINE"

# run_xl TAG XEN INITRAMFS-DIR: the xl boot.
run_xl() {
	serial=$LOGS/serial$1-$(date +%Y%m%d-%H%M%S).log
	ln -sfn "$(basename "$serial")" "$LOGS/serial$1.log"
	log "booting Xen + dom0 under QEMU; serial log: $serial"
	boot_start=$(date +%s)
	sh "$BOOT_SRC/run-qemu.sh" "$2" "$KROOT/6.12/Image" "$3/dom0.cpio" \
		"$serial" "$secs" | grep -a --line-buffered -E "$filter" >&2 || true
	stage_time "xl$1-boot" $(($(date +%s) - boot_start))
}

# run_dom0less NAME XEN INITRAMFS-DIR [OUT]: the dom0less boot
# (trap-unmapped-accesses from $BOOT_TEST_TRAP_UNMAPPED), its report lines
# echoed to OUT (default stderr); its serial log's path in $serial.
run_dom0less() {
	serial=$LOGS/serial-$1-$(date +%Y%m%d-%H%M%S).log
	ln -sfn "$(basename "$serial")" "$LOGS/serial-$1.log"
	log "booting Xen with dom0less guests under QEMU; serial log: $serial"
	boot_start=$(date +%s)
	sh "$BOOT_SRC/run-qemu-dom0less.sh" "$2" "$KROOT/6.12/Image" "$3/dom0-dom0less.cpio" \
		"$serial" "$secs" "xvp_dom0less=$spec" \
		"$KROOT/6.12/Image:$3/guest-6.12.cpio:$3/domU1.dtb:$guest_args xvp_rescan=c xvp_net=10.0.0.101/24" \
		"$KROOT/6.1/Image:$3/guest-6.1.cpio:$3/domU2.dtb:$guest_args xvp_rescan=sh xvp_net=10.0.0.102/24" \
		| grep -a --line-buffered -E "$filter" | report_to "${4:-}" || true
	stage_time "$1-boot" $(($(date +%s) - boot_start))
	took="boot $(($(date +%s) - boot_start)) s, total $(($(date +%s) - start)) s"
}

# runs TAG XEN INITRAMFS-DIR: the xl boot, the dom0less boot and the trap
# proof on one Xen; TAG is "" (4.17: the log names of old) or -xenSERIES.
runs() {
	t=$1 name=${1:+[${1#-xen}]}
	if [ "$dom0less" != only ]; then
		run_xl "$t" "$2" "$3"
		verdict "xl$name" "$serial" "boot $(($(date +%s) - boot_start)) s, total $(($(date +%s) - start)) s" || exit 1
	fi
	[ "$dom0less" != 0 ] || return 0
	run_dom0less "dom0less$t" "$2" "$3"
	verdict "dom0less$name" "$serial" "$took" || exit 1
	# Attach to disk visible, on Xen's clock: the "Synced stime skew" line dom0
	# causes right after worker n logged "generation = 1", to guest n's line
	# saying its disk appeared.
	for n in 1 2; do
		t0=$(grep -a "Synced stime skew" "$serial" | sed -n "${n}s/^(XEN) \[ *\([0-9.]*\)\].*/\1/p")
		t1=$(sed -n "s/^(XEN) \[ *\([0-9.]*\)\] DOM$n: GUEST: clock disk-visible.*/\1/p" "$serial" | head -1)
		[ -n "$t0" ] && [ -n "$t1" ] &&
			log "dom0less$name guest $n: disk visible $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after its daemon attached"
	done
	# The proof that the run above depends on the all-ones background: the
	# same boot with trap-unmapped-accesses = <1> (Xen's default, and 4.17
	# without our patch) must end with the first guest's kernel panicking in
	# its ECAM accessor at its first PCI scan.
	[ "${BOOT_TEST_TRAP_PROOF:-1}" = 1 ] && [ "${BOOT_TEST_TRAP_UNMAPPED:-0}" = 0 ] || return 0
	# Its FAIL lines are the expected result: not echoed, checked below.
	BOOT_TEST_TRAP_UNMAPPED=1 run_dom0less "dom0less$t-trap" "$2" "$3" /dev/null
	tr -d '\r' < "$serial" > "$serial.tmp" && mv "$serial.tmp" "$serial"
	if grep -aq '^BOOTTEST: FAIL guests-run: guest 1 panicked' "$serial" &&
	   grep -aq 'DOM1: .*pc : pci_generic_config_read' "$serial"; then
		log "dom0less$name with trap-unmapped-accesses = <1>: guest 1 panicked in pci_generic_config_read, as it must ($took)"
	else
		log "dom0less$name-trap: serial log: $serial ($took)"
		finish "FAIL: dom0less$name-trap: with trap-unmapped-accesses = <1> the guest did not take the data abort it must"
		exit 1
	fi
}

[ "$xen_old" = no ] || runs "" "$xen" "$BOOT/initramfs"
[ "$xen_new" = no ] || runs "-xen$XEN_NEW_SERIES" "$new_entry/xen" "$BOOT/initramfs-xen$XEN_NEW_SERIES"
finish PASS
