#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/run-qemu.sh XEN KERNEL INITRD LOG [SECONDS]: boot Xen on
# qemu-system-aarch64 (software emulation, GICv3, virtualization=on) with
# KERNEL + INITRD as dom0, serial console to LOG (and to stdout), killed
# after SECONDS (default 600). dom0's /init powers off when done, which
# makes Xen stop the machine and QEMU exit (-no-reboot). QEMU puts its own
# device tree at 0x48000000 (RAM + 128 MiB): the modules go above it.
# BOOT_TEST_CPU: the CPU model (env.sh).
set -eu
. "$(dirname "$0")/env.sh"
xen=$1 kernel=$2 initrd=$3 log=$4 secs=${5:-600}
timeout --foreground -k 5 "$secs" qemu-system-aarch64 \
	-machine virt,virtualization=on,gic-version=3 -cpu "$QEMU_CPU" -smp 2 -m 2048 \
	-nographic -no-reboot -net none \
	-kernel "$xen" \
	-append "console=dtuart dtuart=/pl011@9000000 dom0_mem=768M dom0_max_vcpus=2 loglvl=all guest_loglvl=all" \
	-device "guest-loader,addr=0x49000000,kernel=$kernel,bootargs=console=hvc0 earlycon=xen rdinit=/init loglevel=4 panic=1 $TCG_CMDLINE" \
	-device "guest-loader,addr=0x4c000000,initrd=$initrd" \
	< /dev/null 2>&1 | tee "$log"
