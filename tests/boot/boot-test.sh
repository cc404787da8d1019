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
# Prints "PASS" or "FAIL: STEP: why" last; exits 0 only on PASS. The serial
# log (Xen, dom0 and the guest) is kept in build/boot/logs/.
#
# Environment:
#   BOOT_TEST_DAEMON        an arm64 daemon to use instead of building one
#   BOOT_TEST_BLOCK_EXTRA   lines added to every [domain] block of the
#                           supervisor's config in dom0 (not to the fragment),
#                           e.g. "intx_spi = 48" to prove that a daemon whose
#                           interrupts the guest never sees makes the test FAIL
#   BOOT_TEST_GUEST_KERNELS the guests' kernels, one guest after the other:
#                           "6.12 6.1" (trixie's and bookworm's, the default)
#   BOOT_TEST_SECONDS       each whole QEMU run (default 600)
#   BOOT_TEST_DOM0LESS      1: also the dom0less run (the default); 0: the xl
#                           run only; only: the dom0less run only
#   BOOT_TEST_RESCAN        the dom0less C helper: dynamic (default) or static
#   BOOT_TEST_TRAP_UNMAPPED the dom0less guests' trap-unmapped-accesses (default 0;
#                           1 shows the data abort the patch avoids)
#   BOOT_TEST_TRAP_PROOF    1 (default): after the dom0less run, boot it again with
#                           trap-unmapped-accesses = <1> and require guest 1's panic
#                           in pci_generic_config_read; 0: skip that boot
set -eu
. "$(dirname "$0")/env.sh"
start=$(date +%s)
mkdir -p "$LOGS"

step host-packages 900 sh "$BOOT_SRC/host-deps.sh"
step fetch 1200 sh "$BOOT_SRC/fetch.sh"
step xen-build 900 sh -c "sh '$BOOT_SRC/build-xen.sh' > '$BOOT/xen-path'"
xen=$(cat "$BOOT/xen-path")

daemon=${BOOT_TEST_DAEMON:-}
if [ -z "$daemon" ]; then
	step daemon-build 600 make -s -C "$REPO" CROSS=aarch64-linux-gnu- BUILD=build/arm64 build/arm64/xen-virtio-pcid
	daemon=$REPO/build/arm64/xen-virtio-pcid
fi

dom0less=${BOOT_TEST_DOM0LESS:-1}
rescan=""
if [ "$dom0less" != 0 ]; then
	# The C helper in the guest: the dynamic build (default) or the static one,
	# which reads the key periodically (its libxenstore cannot watch).
	case ${BOOT_TEST_RESCAN:-dynamic} in
	static) rescan=$REPO/build/arm64/xen-virtio-pci-rescan-static ;;
	dynamic) rescan=$REPO/build/arm64/xen-virtio-pci-rescan ;;
	*) die "BOOT_TEST_RESCAN: static or dynamic" ;;
	esac
	# The target as the Makefile names it (relative): an absolute path would
	# match no rule, and make would keep a stale helper.
	step rescan-build 600 make -s -C "$REPO" CROSS=aarch64-linux-gnu- BUILD=build/arm64 \
		"build/arm64/$(basename "$rescan")"
	step fdt-build 600 make -s -C "$REPO" build/xen-virtio-pcid
fi

# The dom0 probe of the workers' Xen handles (tests/boot/fd_probe.c).
step probe-build 600 make -s -C "$REPO" CROSS=aarch64-linux-gnu- BUILD=build/arm64 \
	build/arm64/tests/boot/xvp-fd-probe

step initramfs 300 env BLOCK_EXTRA="${BOOT_TEST_BLOCK_EXTRA:-}" \
	FD_PROBE="$REPO/build/arm64/tests/boot/xvp-fd-probe" \
	GUEST_KERNELS="${BOOT_TEST_GUEST_KERNELS:-6.12 6.1}" \
	sh "$BOOT_SRC/mkinitramfs.sh" "$daemon" "$BOOT/initramfs" ${rescan:+"$rescan"}

secs=${BOOT_TEST_SECONDS:-600}
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
	echo "FAIL: $1: $why"
	return 1
}

if [ "$dom0less" != only ]; then
	serial=$LOGS/serial-$(date +%Y%m%d-%H%M%S).log
	ln -sfn "$(basename "$serial")" "$LOGS/serial.log"
	log "booting Xen + dom0 under QEMU; serial log: $serial"
	boot_start=$(date +%s)
	sh "$BOOT_SRC/run-qemu.sh" "$xen" "$KROOT/6.12/Image" "$BOOT/initramfs/dom0.cpio" \
		"$serial" "$secs" | grep -a --line-buffered -E "$filter" >&2 || true
	verdict xl "$serial" "boot $(($(date +%s) - boot_start)) s, total $(($(date +%s) - start)) s" || exit 1
fi

# report_to [FILE]: stdin to FILE, or to stderr. (Not `> /dev/stderr`: that
# opens the file stderr is, and truncates a log that 2>&1 points at.)
report_to() {
	if [ -n "$1" ]; then cat > "$1"; else cat >&2; fi
}

# run_dom0less NAME [OUT]: the dom0less boot (trap-unmapped-accesses from
# $BOOT_TEST_TRAP_UNMAPPED), its report lines echoed to OUT (default
# stderr); its serial log's path in $serial.
run_dom0less() {
	serial=$LOGS/serial-$1-$(date +%Y%m%d-%H%M%S).log
	ln -sfn "$(basename "$serial")" "$LOGS/serial-$1.log"
	log "booting Xen with dom0less guests under QEMU; serial log: $serial"
	boot_start=$(date +%s)
	sh "$BOOT_SRC/run-qemu-dom0less.sh" "$xen" "$KROOT/6.12/Image" "$BOOT/initramfs/dom0-dom0less.cpio" \
		"$serial" "$secs" "xvp_dom0less=$spec" \
		"$KROOT/6.12/Image:$BOOT/initramfs/guest-6.12.cpio:$BOOT/initramfs/domU1.dtb:console=ttyAMA0 rdinit=/init loglevel=${BOOT_TEST_GUEST_LOGLEVEL:-4} panic=1 xvp_rescan=c" \
		"$KROOT/6.1/Image:$BOOT/initramfs/guest-6.1.cpio:$BOOT/initramfs/domU2.dtb:console=ttyAMA0 rdinit=/init loglevel=${BOOT_TEST_GUEST_LOGLEVEL:-4} panic=1 xvp_rescan=sh" \
		| grep -a --line-buffered -E "$filter" | report_to "${2:-}" || true
	took="boot $(($(date +%s) - boot_start)) s, total $(($(date +%s) - start)) s"
}

if [ "$dom0less" != 0 ]; then
	# The guests' fragments, from the host's xen-virtio-pcid with the options
	# dom0less-test.sh serves them with (domain N: disk-N.img).
	spec=""
	n=0
	for k in 6.12:c 6.1:sh; do
		n=$((n + 1))
		"$REPO/build/xen-virtio-pcid" fdt -o "$BOOT/initramfs/domU$n.dtb" --dom0less /dev/null \
			--xl /dev/null --device "blk,path=/tmp/disk-$n.img" --device rng \
			--device "blk,path=/tmp/disk2-$n.img,direct=on" >&2 || { echo "FAIL: dom0less: xen-virtio-pcid fdt"; exit 1; }
		spec="$spec${spec:+,}$k"
	done
	run_dom0less dom0less
	verdict dom0less "$serial" "$took" || exit 1
	# Attach to disk visible, on Xen's clock: the "Synced stime skew" line dom0
	# causes right after worker n logged "generation = 1", to guest n's line
	# saying its disk appeared.
	for n in 1 2; do
		t0=$(grep -a "Synced stime skew" "$serial" | sed -n "${n}s/^(XEN) \[ *\([0-9.]*\)\].*/\1/p")
		t1=$(sed -n "s/^(XEN) \[ *\([0-9.]*\)\] DOM$n: GUEST: clock disk-visible.*/\1/p" "$serial" | head -1)
		[ -n "$t0" ] && [ -n "$t1" ] &&
			log "dom0less guest $n: disk visible $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after its daemon attached"
	done
fi

# The proof that the run above depends on the all-ones background: the same
# boot with trap-unmapped-accesses = <1> (Xen's default, and 4.17 without
# our patch) must end with the first guest's kernel panicking in its ECAM
# accessor at its first PCI scan.
if [ "$dom0less" != 0 ] && [ "${BOOT_TEST_TRAP_PROOF:-1}" = 1 ] &&
   [ "${BOOT_TEST_TRAP_UNMAPPED:-0}" = 0 ]; then
	# Its FAIL lines are the expected result: not echoed, checked below.
	BOOT_TEST_TRAP_UNMAPPED=1 run_dom0less dom0less-trap /dev/null
	tr -d '\r' < "$serial" > "$serial.tmp" && mv "$serial.tmp" "$serial"
	if grep -aq '^BOOTTEST: FAIL guests-run: guest 1 panicked' "$serial" &&
	   grep -aq 'DOM1: .*pc : pci_generic_config_read' "$serial"; then
		log "dom0less with trap-unmapped-accesses = <1>: guest 1 panicked in pci_generic_config_read, as it must ($took)"
	else
		log "dom0less-trap: serial log: $serial ($took)"
		echo "FAIL: dom0less-trap: with trap-unmapped-accesses = <1> the guest did not take the data abort it must"
		exit 1
	fi
fi
echo "PASS"
exit 0
