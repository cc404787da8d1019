#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/mkinitramfs.sh DAEMON OUTDIR [RESCAN]: build the guest's and
# dom0's initramfs (uncompressed newc cpio, the fastest to unpack under
# emulation):
#   OUTDIR/guest-K.cpio  busybox, guest-init, virtio modules of Linux K, the
#                      pattern (K in GUEST_KERNELS, default "6.12 6.1"), and
#                      for the dom0less run the rescan helpers: RESCAN (the
#                      arm64 C helper, static or dynamic), the sh helper and
#                      the xenstore tools it uses
#   OUTDIR/dom0.cpio   busybox, Xen tools + libraries (4.17's, or those in
#                      BOOT_ROOT: see env.sh), xen modules, the
#                      daemon (DAEMON, arm64) + its libraries, the guests'
#                      kernels and initramfs (/test/K/), the xl config, and
#                      a fallback device-tree fragment
#   OUTDIR/dom0-dom0less.cpio  the same without the guests (/test/K/), plus
#                      init-dom0less: dom0 of the dom0less run
# Also writes OUTDIR/pattern.bin: 4 MiB of fresh random data per run, so an
# image left from an earlier run cannot pass.
set -eu
. "$(dirname "$0")/env.sh"
daemon=$1
out=$2
rescan=${3:-}
kernels=${GUEST_KERNELS:-6.12 6.1}
mkdir -p "$out"
RE=aarch64-linux-gnu-readelf

# add_elf TREE FILE DEST: copy FILE to TREE/DEST and every library it needs
# (from the unpacked bookworm packages) to TREE/lib/aarch64-linux-gnu.
add_elf() {
	local lib src dir
	mkdir -p "$1/$(dirname "$3")" "$1/lib/aarch64-linux-gnu"
	cp -L "$2" "$1/$3"
	for lib in $($RE -d "$2" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		[ -e "$1/lib/aarch64-linux-gnu/$lib" ] && continue
		src=""
		for dir in "$ROOT/lib/aarch64-linux-gnu" "$ROOT/usr/lib/aarch64-linux-gnu"; do
			[ -e "$dir/$lib" ] && { src=$dir/$lib; break; }
		done
		[ -n "$src" ] || die "$2 needs $lib, which no unpacked package has"
		add_elf "$1" "$src" "lib/aarch64-linux-gnu/$lib"
	done
}

# add_modules TREE KVER MODULE...: the modules of kernel KVER (6.12 or 6.1)
# and those they depend on, with the insmod order in TREE/lib/modules/load.
add_modules() {
	local tree kmods kv m f
	tree=$1 kmods=$KROOT/$2/modules kv=$2; shift 2
	mkdir -p "$tree/lib/modules"
	for m in "$@"; do
		m=$(echo "$m" | tr - _)
		f=$(find "$kmods/kernel" -name '*.ko' | grep -E "/$(echo "$m" | sed 's/_/[-_]/g')\.ko$" | head -1)
		[ -n "$f" ] || die "no module $m in $kmods"
		grep -qx "$(basename "$f")" "$tree/lib/modules/load" 2>/dev/null && continue
		# shellcheck disable=SC2046
		add_modules "$tree" "$kv" $(modinfo -F depends "$f" | tr ',' ' ')
		cp "$f" "$tree/lib/modules/"
		basename "$f" >> "$tree/lib/modules/load"
	done
}

# base TREE: busybox and the directories every init needs.
base() {
	rm -rf "$1"
	mkdir -p "$1/bin" "$1/dev" "$1/proc" "$1/sys" "$1/tmp" "$1/test"
	cp "$ROOT/bin/busybox" "$1/bin/busybox"
	ln -s busybox "$1/bin/sh"
}

cpio_of() { (cd "$1" && find . | sort | cpio -o -H newc -R 0:0 --quiet) > "$2"; }

# ---- the guests: one initramfs per kernel
head -c 4M /dev/urandom > "$out/pattern.bin"
for k in $kernels; do
	g=$out/guest-$k
	base "$g"
	cp "$BOOT_SRC/guest-init" "$g/init"
	chmod 755 "$g/init"
	mods="virtio_blk virtio-rng virtio_net"
	grep -q '^CONFIG_VIRTIO_CONSOLE=m' "$KROOT/$k/config" && mods="$mods virtio_console"
	grep -q '^CONFIG_VIRTIO_PCI=m' "$KROOT/$k/config" && mods="virtio_pci $mods"
	grep -q '^CONFIG_PCI_HOST_GENERIC=m' "$KROOT/$k/config" && mods="pci-host-generic $mods"
	# shellcheck disable=SC2086
	add_modules "$g" "$k" $mods
	cp "$out/pattern.bin" "$g/pattern.bin"
	if [ -n "$rescan" ]; then
		add_elf "$g" "$rescan" bin/xen-virtio-pci-rescan
		# glibc dlopens libgcc_s for pthread_cancel (libxenstore's reader thread).
		add_elf "$g" "$ROOT/lib/aarch64-linux-gnu/libgcc_s.so.1" lib/aarch64-linux-gnu/libgcc_s.so.1
		cp "$REPO/guest/xen-virtio-pci-rescan.sh" "$g/bin/"
		add_elf "$g" "$ROOT/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" lib/ld-linux-aarch64.so.1
		for t in xenstore-read xenstore-watch xenstore-exists; do
			add_elf "$g" "$ROOT/usr/bin/$t" "bin/$t"
		done
	fi
	cpio_of "$g" "$out/guest-$k.cpio"
done

# ---- dom0
d=$out/dom0
base "$d"
cp "$BOOT_SRC/dom0-init" "$d/init"
chmod 755 "$d/init"
add_elf "$d" "$ROOT/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" lib/ld-linux-aarch64.so.1
# The Xen tools where their packages put them (Debian's 4.17: /usr/lib/xen-4.17/bin;
# a tarball's build: /usr/sbin, /usr/libexec/xen/bin): dom0-init's PATH has both.
for t in xl xenstored xenconsoled xen-init-dom0 xenstore-control init-dom0less; do
	xb=""
	for dir in usr/lib/xen-$XEN_SERIES/bin usr/sbin usr/libexec/xen/bin usr/lib/xen/bin usr/bin; do
		[ -f "$ROOT/$dir/$t" ] && { xb=$dir; break; }
	done
	[ -n "$xb" ] || die "no $t in $ROOT"
	add_elf "$d" "$ROOT/$xb/$t" "$xb/$t"
done
for t in xenstore-exists xenstore-read xenstore-write xenstore-ls xenstore-list xenstore-rm; do
	add_elf "$d" "$ROOT/usr/bin/$t" "bin/$t"
done
add_elf "$d" "$daemon" bin/xen-virtio-pcid
# The workers' seccomp filter: a NEEDED library of the daemon, copied above.
[ -e "$d/lib/aarch64-linux-gnu/libseccomp.so.2" ] || die "the daemon does not link libseccomp.so.2"
# The probe of a worker's Xen handles (FD_PROBE, from boot-test.sh), if given.
[ -n "${FD_PROBE:-}" ] && add_elf "$d" "$FD_PROBE" bin/xvp-fd-probe
# The client of the guests' console sockets (SOCK_CLIENT, from boot-test.sh).
[ -n "${SOCK_CLIENT:-}" ] && add_elf "$d" "$SOCK_CLIENT" bin/xvp-sock
# glibc dlopens libgcc_s for pthread_cancel (xl uses it; the workers load it
# before they enter their empty root): not a NEEDED entry.
add_elf "$d" "$ROOT/lib/aarch64-linux-gnu/libgcc_s.so.1" lib/aarch64-linux-gnu/libgcc_s.so.1
mkdir -p "$d/etc/xen" "$d/var/lib/xen"
: > "$d/etc/xen/xl.conf"
# tun and bridge: the guests' virtio-net taps, on a bridge dom0 has an address on.
add_modules "$d" 6.12 xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs tun bridge
for k in $kernels; do
	mkdir -p "$d/test/$k"
	cp "$KROOT/$k/Image" "$d/test/$k/Image"
	cp "$out/guest-$k.cpio" "$d/test/$k/initrd"
done
cp "$BOOT_SRC/guest.cfg" "$BOOT_SRC/dom0-test.sh" "$BOOT_SRC/dom0less-test.sh" \
	"$BOOT_SRC/dom0-lib.sh" "$BOOT_SRC/dom0-xl-dm.sh" "$d/test/"
sh "$BOOT_SRC/guest-fragment.sh" | dtc -q -I dts -O dtb -o "$d/test/guest.dtb" -
cat > "$d/test/params" <<END
BLOCK_EXTRA="${BLOCK_EXTRA:-}"
GUEST_SECONDS=${GUEST_SECONDS:-300}
NET_BYTES=${NET_BYTES:-1048576}
GUEST_KERNELS="$kernels"
DM_KERNELS="${DM_KERNELS-$kernels}"
DM_MORE_CREATES=${DM_MORE_CREATES:-yes}
XEN_VERSION=${XEN_VERSION:-$XEN_SERIES}
PATTERN_SHA256=$(sha256sum < "$out/pattern.bin" | cut -d' ' -f1)
PATTERN_SIZE=$(stat -c %s "$out/pattern.bin")
END
cpio_of "$d" "$out/dom0.cpio"
# dom0 of the dom0less run: Xen starts the guests itself, dom0 needs no images.
(cd "$d" && find . | grep -Ev '^\./test/[0-9][^/]*(/|$)' | sort | cpio -o -H newc -R 0:0 --quiet) > "$out/dom0-dom0less.cpio"
log "initramfs: $out/dom0.cpio ($(du -m "$out/dom0.cpio" | cut -f1) MiB), guest kernels $kernels"
