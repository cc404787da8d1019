#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/fetch.sh: download the arm64 packages the boot test needs with
# `apt-get download` (private apt state, see env.sh) and unpack them with
# dpkg-deb -x; nothing is installed into the host.
#   build/boot/root-arm64/   bookworm: busybox, libc, Xen 4.17 tools and
#                            libraries, and the -dev packages to cross-build
#                            the daemon against (and what the Xen tools of
#                            build-xen-tarball.sh are cross-built against)
#   build/boot/kernel/K/     trixie's Linux 6.12 (K=6.12), bookworm's 6.1
#                            (K=6.1) and bullseye's 5.10 (K=5.10, the oldest
#                            LTS the archive serves): Image, modules
#                            (decompressed), config
# Downloads are cached in build/boot/debs/ by file name, which holds the
# version; an unpacked tree is redone only when its package list changes.
# `fetch.sh sysroot` stops after root-arm64 (what a cross-build needs).
set -eu
. "$(dirname "$0")/env.sh"

# bookworm arm64: what dom0 runs and what the daemon links against.
BOOKWORM_PKGS="
	libc6 libgcc-s1 busybox-static
	xen-utils-$XEN_SERIES xen-utils-common libxenmisc$XEN_SERIES
	libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1
	libxengnttab1 libxenhypfs1 libxenstore4 libxentoolcore1 libxentoollog1
	xenstore-utils libcmocka0 libcmocka-dev
	libyajl2 libfdt1 libuuid1 zlib1g libext2fs2 libcom-err2 libblkid1
	libncurses6 libtinfo6 liblzma5 libzstd1 libbz2-1.0 liblzo2-2 libgnutls30
	libevent-2.1-7 libevent-core-2.1-7 libevent-pthreads-2.1-7 liburing2 libseccomp2 libjson-c5 libmnl0
	libxen-dev libevent-dev liburing-dev libfdt-dev libseccomp-dev libjson-c-dev libmnl-dev
	libyajl-dev uuid-dev zlib1g-dev libncurses-dev
	libnbd0 libnbd-dev libxml2 libxml2-dev libicu72 libstdc++6 libidn2-0 libp11-kit0 libtasn1-6
	libunistring2 libnettle8 libhogweed6 libgmp10 libffi8
"

mkdir -p "$DEBS"

# fetch SUITE PKG...: the .deb files of the candidate versions, printed.
fetch() {
	suite=$1; shift
	files=$(apt_get "$suite" --print-uris download "$@" | awk '{print $2}')
	[ -n "$files" ] || die "apt-get download --print-uris $* ($suite) failed"
	missing=""
	for f in $files; do
		[ -f "$DEBS/$f" ] || missing="$missing ${f%%_*}"
	done
	if [ -n "$missing" ]; then
		# shellcheck disable=SC2086
		(cd "$DEBS" && apt_get "$suite" -q download $missing >&2) || die "download$missing failed"
	fi
	for f in $files; do echo "$DEBS/$f"; done
}

# unpack DIR DEB...: unpack into DIR unless it already holds exactly these.
unpack() {
	dir=$1; shift
	stamp=$(echo "$@" | md5sum | cut -c1-32)
	if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		for d in "$@"; do dpkg-deb -x "$d" "$dir"; done
		echo "$stamp" > "$dir/.stamp"
	fi
}

apt_setup bookworm
if [ "${1:-}" != sysroot ]; then
	apt_setup trixie
	apt_setup bullseye
fi
# shellcheck disable=SC2086
unpack "$ROOT" $(fetch bookworm $BOOKWORM_PKGS)
if [ "${1:-}" = sysroot ]; then
	log "packages ready: $ROOT"
	exit 0
fi

# kernel SUITE NAME: the current kernel of SUITE, under build/boot/kernel/NAME.
kernel() {
	abi=$(apt_cache "$1" depends linux-image-arm64 | sed -n 's/^  Depends: \(linux-image-[^ ]*-arm64\)$/\1/p' | head -1)
	[ -n "$abi" ] || die "cannot find the kernel of $1 from linux-image-arm64"
	kdir=$KROOT/$2
	deb=$(fetch "$1" "$abi")
	if [ "$(cat "$kdir/deb" 2>/dev/null)" != "$deb" ]; then
		unpack "$kdir/pkg" "$deb"
		cp "$kdir"/pkg/boot/vmlinuz-* "$kdir/Image"
		cp "$kdir"/pkg/boot/config-* "$kdir/config"
		# Modules are .ko.xz in trixie: decompress them now (the
		# initramfs' busybox insmod wants them plain).
		mods=$kdir/pkg/usr/lib/modules
		[ -d "$mods" ] || mods=$kdir/pkg/lib/modules
		find "$mods" -name '*.ko.xz' -exec xz -d {} +
		ln -sfn "$mods"/* "$kdir/modules"
		ls "$mods" > "$kdir/release"
		echo "$deb" > "$kdir/deb"
	fi
}
kernel trixie 6.12
kernel bookworm 6.1
kernel bullseye 5.10
log "packages ready: $ROOT, $KROOT"
