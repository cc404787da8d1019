#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/boot-test.sh: `make boot-test`. Real Xen 4.17 (rebuilt with
# IOREQ servers) on qemu-system-aarch64, a Linux 6.12 dom0 that runs the
# daemon (cross-built for arm64), and an xl guest whose own drivers
# (pci-host-generic, virtio_pci, virtio_blk, virtio-rng) use its devices:
# one guest on Linux 6.12, then one on 6.1.
# Prints "PASS" or "FAIL: STEP: why" last; exits 0 only on PASS. The serial
# log (Xen, dom0 and the guest) is kept in build/boot/logs/.
#
# Environment:
#   BOOT_TEST_DAEMON        an arm64 daemon to use instead of building one
#   BOOT_TEST_DAEMON_EXTRA  extra options for the serving daemon only (not for
#                           its fragment), e.g. "--intx-spi 48" to prove that
#                           a daemon whose interrupts the guest never sees
#                           makes the test FAIL
#   BOOT_TEST_GUEST_KERNELS the guests' kernels, one guest after the other:
#                           "6.12 6.1" (trixie's and bookworm's, the default)
#   BOOT_TEST_SECONDS       the whole QEMU run (default 600)
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

step initramfs 300 env DAEMON_EXTRA="${BOOT_TEST_DAEMON_EXTRA:-}" \
	GUEST_KERNELS="${BOOT_TEST_GUEST_KERNELS:-6.12 6.1}" \
	sh "$BOOT_SRC/mkinitramfs.sh" "$daemon" "$BOOT/initramfs"

serial=$LOGS/serial-$(date +%Y%m%d-%H%M%S).log
ln -sfn "$(basename "$serial")" "$LOGS/serial.log"
log "booting Xen + dom0 under QEMU; serial log: $serial"
secs=${BOOT_TEST_SECONDS:-600}
boot_start=$(date +%s)
sh "$BOOT_SRC/run-qemu.sh" "$xen" "$KROOT/6.12/Image" "$BOOT/initramfs/dom0.cpio" \
	"$serial" "$secs" | grep -a --line-buffered -E '^(BOOTTEST|GUEST): |^\(XEN\) .*(Panic|BUG|Assertion)|Kernel panic' >&2 || true
took="boot $(($(date +%s) - boot_start)) s, total $(($(date +%s) - start)) s"

tr -d '\r' < "$serial" > "$serial.tmp" && mv "$serial.tmp" "$serial"
if grep -aq '^BOOTTEST: PASS' "$serial"; then
	log "serial log: $serial ($took)"
	echo "PASS"
	exit 0
fi
why=$(grep -a '^BOOTTEST: FAIL' "$serial" | head -1 | sed 's/^BOOTTEST: FAIL //')
if [ -z "$why" ]; then
	last=$(grep -a '^BOOTTEST: step' "$serial" | tail -1 | sed 's/^BOOTTEST: step //; s/ (.*//')
	if grep -aq '^(XEN) .*Panic\|Kernel panic' "$serial"; then
		why="${last:-boot}: a panic (see the log)"
	elif [ -z "$last" ]; then
		why="boot: dom0 never reached its test script within $secs s"
	else
		why="$last: no result (QEMU stopped or killed after $secs s at most)"
	fi
fi
log "serial log: $serial ($took)"
echo "FAIL: $why"
exit 1
