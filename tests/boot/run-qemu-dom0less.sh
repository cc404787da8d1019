#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/run-qemu-dom0less.sh XEN DOM0-KERNEL DOM0-INITRD LOG SECONDS
#     DOM0-CMDLINE-EXTRA GUEST...
# Boot Xen on qemu-system-aarch64 as run-qemu.sh does, but with a dom0less
# set-up: each GUEST (KERNEL:INITRD:FRAGMENT:BOOTARGS, FRAGMENT the dtb from
# `xen-virtio-pcid fdt`) becomes /chosen/domU1, domU2, ... with
# trap-unmapped-accesses = <0>, nr_spis = <16>, xen,enhanced = "enabled" and a
# vpl011 console. The machine's device tree is QEMU's own (dumped with
# -machine dumpdtb=) plus those /chosen nodes, given back with -dtb; the
# images load with -device loader (guest-loader cannot be combined with -dtb).
# QEMU puts the device tree at 0x48000000 (RAM + 128 MiB): the images go
# above it, from 0x49000000, each on a 2 MiB boundary after the previous one.
# Xen's console lines carry timestamps (console_timestamps=boot): the guests'
# vpl011 lines come out through Xen's printk, so the run can compare times.
set -eu
. "$(dirname "$0")/env.sh"
xen=$1 kernel=$2 initrd=$3 log=$4 secs=$5 dom0extra=$6
shift 6
machine="virt,virtualization=on,gic-version=3"
common="-cpu $QEMU_CPU -smp 2 -m 2048 -nographic -no-reboot -net none"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dtb=$tmp/virt.dtb
# shellcheck disable=SC2086
qemu-system-aarch64 -machine "$machine,dumpdtb=$dtb" $common >/dev/null 2>&1 || true
[ -s "$dtb" ] || { echo "boot-test: cannot dump QEMU's device tree" >&2; exit 1; }

addr=$((0x49000000))
loaders=""
# place FILE: a (load address) and s (size) for FILE, which a loader device loads.
place() {
	a=$addr
	s=$(stat -c %s "$1")
	addr=$(( (a + s + 0x1fffff) & ~0x1fffff ))
	loaders="$loaders -device loader,file=$1,addr=$(printf '0x%x' "$a"),force-raw=on"
}
hex() { printf '0x%x' "$1"; }

c=/chosen
fdtput -t i "$dtb" $c '#address-cells' 2
fdtput -t i "$dtb" $c '#size-cells' 2
fdtput -t s "$dtb" $c xen,xen-bootargs \
	"console=dtuart dtuart=/pl011@9000000 dom0_mem=768M dom0_max_vcpus=2 loglvl=all guest_loglvl=all conring_size=4M console_timestamps=boot"
fdtput -t s "$dtb" $c xen,dom0-bootargs \
	"console=hvc0 earlycon=xen rdinit=/init loglevel=4 panic=1 $TCG_CMDLINE $dom0extra"
place "$kernel"
fdtput -c "$dtb" "$c/module@$(hex "$a" | cut -c3-)"
fdtput -t s "$dtb" "$c/module@$(hex "$a" | cut -c3-)" compatible multiboot,kernel multiboot,module
fdtput -t x "$dtb" "$c/module@$(hex "$a" | cut -c3-)" reg 0 "$(hex "$a")" 0 "$(hex "$s")"
place "$initrd"
fdtput -c "$dtb" "$c/module@$(hex "$a" | cut -c3-)"
fdtput -t s "$dtb" "$c/module@$(hex "$a" | cut -c3-)" compatible multiboot,ramdisk multiboot,module
fdtput -t x "$dtb" "$c/module@$(hex "$a" | cut -c3-)" reg 0 "$(hex "$a")" 0 "$(hex "$s")"

# fdtput -c adds a node as its parent's first child, and Xen numbers the
# domains in the order of their nodes: add domUn, ..., domU1.
i=$(($# + 1))
rev=""
for g in "$@"; do rev="$g
$rev"; done
while IFS= read -r g; do
	[ -n "$g" ] || continue
	i=$((i - 1))
	gk=${g%%:*} rest=${g#*:}
	gi=${rest%%:*} rest=${rest#*:}
	gf=${rest%%:*} gargs=${rest#*:}
	d=$c/domU$i
	fdtput -c "$dtb" "$d"
	fdtput -t s "$dtb" "$d" compatible xen,domain
	fdtput -t i "$dtb" "$d" '#address-cells' 2
	fdtput -t i "$dtb" "$d" '#size-cells' 1
	fdtput -t i "$dtb" "$d" memory 0 262144
	fdtput -t i "$dtb" "$d" cpus 1
	fdtput -t i "$dtb" "$d" nr_spis 16
	fdtput -t i "$dtb" "$d" trap-unmapped-accesses "${BOOT_TEST_TRAP_UNMAPPED:-0}"
	fdtput -t s "$dtb" "$d" xen,enhanced enabled
	fdtput "$dtb" "$d" vpl011 ""
	for m in "kernel:$gk" "ramdisk:$gi" "device-tree:$gf"; do
		place "${m#*:}"
		n=$d/module@$(hex "$a" | cut -c3-)
		fdtput -c "$dtb" "$n"
		fdtput -t s "$dtb" "$n" compatible "multiboot,${m%%:*}" multiboot,module
		fdtput -t x "$dtb" "$n" reg 0 "$(hex "$a")" "$(hex "$s")"
		[ "${m%%:*}" = kernel ] && fdtput -t s "$dtb" "$n" bootargs "$gargs"
	done
done <<END
$rev
END
[ $addr -lt $((0x80000000)) ] || { echo "boot-test: the images do not fit below 2 GiB" >&2; exit 1; }
cp "$dtb" "${log%.log}.dtb"

# shellcheck disable=SC2086
timeout --foreground -k 5 "$secs" qemu-system-aarch64 -machine "$machine" $common \
	-kernel "$xen" -dtb "$dtb" $loaders \
	< /dev/null 2>&1 | tee "$log"
