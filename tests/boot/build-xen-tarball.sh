#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/build-xen-tarball.sh: Xen from a release tarball (the newest-Xen
# run, 4.22.0 by default; see xen-tarball.sh for where the tarball comes
# from), checked against its sha256 first:
#   - the arm64 hypervisor: upstream's defconfig plus CONFIG_EXPERT=y
#     CONFIG_IOREQ_SERVER=y, no patch of ours;
#   - only the tools the boot needs (the libraries, xl, xenstored,
#     init-dom0less, xen-init-dom0, xenconsoled, the xenstore clients),
#     cross-built with aarch64-linux-gnu-gcc against the arm64 -dev packages
#     fetch.sh unpacked, with everything autodetection would add switched
#     off (ocaml, golang, python bindings, pygrub, qemu, stubdoms, firmware,
#     XSM policy, monitors, docs).
# Both are cached in $(boot_cache)/xen-VERSION-KEY/ (xen, config, dist/ = the
# tools' `make install DESTDIR`), KEY from the tarball's sha256, this script
# (the configuration) and the compiler: a cached build is reused, a missing
# cache only costs time. Then build/boot/root-arm64-xenSERIES/ is made: the
# unpacked bookworm packages without Debian's Xen 4.17 files, plus dist/: the
# sysroot the daemon is cross-built against for this Xen (hard links, cheap).
# Prints the cache entry's path. Each stage logs its time.
set -eu
. "$(dirname "$0")/env.sh"
. "$BOOT_SRC/xen-tarball.sh"

xen_tarball || exit 2
cross=aarch64-linux-gnu-
key=$( { echo "$XEN_TARBALL_SHA256"; cat "$0"; ${cross}gcc --version | head -1; } | sha256sum | cut -c1-12)
cache=$(boot_cache)
entry=$cache/xen-$XEN_NEW_VERSION-$key
sysroot=$BOOT/root-arm64-xen$XEN_NEW_SERIES

# timed NAME CMD...: run CMD, log how long it took.
timed() {
	t=$(date +%s)
	name=$1; shift
	"$@" || die "xen $XEN_NEW_VERSION: $name failed (log: $blog)"
	log "xen $XEN_NEW_VERSION: $name done in $(($(date +%s) - t)) s"
}

# noxen_sysroot OUT: OUT = the unpacked bookworm packages (hard links) minus
# the files of Debian's Xen packages (4.17's headers, libraries and tools),
# so that nothing of 4.17 is found where 4.22 is built or linked.
noxen_sysroot() {
	rm -rf "$1"
	cp -al "$ROOT" "$1"
	rm -f "$1/.stamp"
	for d in "$DEBS"/libxen*_arm64.deb "$DEBS"/xen-utils-*_arm64.deb "$DEBS"/xenstore-utils_*_arm64.deb; do
		[ -f "$d" ] || continue
		dpkg-deb --fsys-tarfile "$d" | tar -t | sed 's|^\./||' | while IFS= read -r f; do
			[ -n "$f" ] && [ ! -d "$1/$f" ] && rm -f "$1/$f"
		done
	done
}

# build_tools TOP SYSROOT DIST: configure and cross-build the tools of the
# tree TOP against SYSROOT, installed into DIST.
build_tools() {
	top=$1 sys=$2 dist=$3
	# The top-level configure writes config/Paths.mk (install paths), then
	# runs tools/configure with the same options.
	(cd "$top" && ./configure --build="$(gcc -dumpmachine)" --host=aarch64-linux-gnu \
		--disable-xen --disable-docs --disable-stubdom --prefix=/usr --libdir=/usr/lib/aarch64-linux-gnu --with-xenstored=xenstored \
		--with-system-qemu=/usr/lib/xen/bin/qemu-system-i386 \
		--disable-ocamltools --disable-golang --disable-pygrub --disable-monitors \
		--disable-xsmpolicy --disable-seabios --disable-ovmf --disable-ipxe \
		--disable-rombios --disable-libfsimage --disable-pvshim --disable-systemd \
		PYTHON=python3 PKG_CONFIG="$BOOT_SRC/pkg-config-arm64" BOOT_SYSROOT="$sys" \
		LDFLAGS="-Wl,-rpath-link=$sys/usr/lib/aarch64-linux-gnu -Wl,-rpath-link=$sys/lib/aarch64-linux-gnu" \
		APPEND_INCLUDES="$sys/usr/include" \
		APPEND_LIB="$sys/usr/lib/aarch64-linux-gnu $sys/lib/aarch64-linux-gnu") >> "$blog" 2>&1 ||
		return 1
	set -- XEN_TARGET_ARCH=arm64 CROSS_COMPILE=$cross BOOT_SYSROOT="$sys" DESTDIR="$dist" \
		PREPEND_LDFLAGS_XEN_TOOLS="-Wl,-rpath-link=$sys/usr/lib/aarch64-linux-gnu -Wl,-rpath-link=$sys/lib/aarch64-linux-gnu"
	# tools/Makefile's install target makes this one before its subdirectories
	# install into it (each .pc file would otherwise become the directory's name).
	mkdir -p "$dist/usr/lib/aarch64-linux-gnu/pkgconfig"
	for d in include libs xl xenstored helpers console xs-clients; do
		make -C "$top/tools/$d" -j"$(nproc)" "$@" >> "$blog" 2>&1 &&
			make -C "$top/tools/$d" "$@" install >> "$blog" 2>&1 || return 1
	done
}

# build_hypervisor TREE OUT: defconfig + IOREQ servers, OUT/xen and OUT/config.
build_hypervisor() {
	set -- -C "$1" XEN_TARGET_ARCH=arm64 CROSS_COMPILE=$cross
	make "$@" defconfig >> "$blog" 2>&1 || return 1
	printf 'CONFIG_EXPERT=y\nCONFIG_IOREQ_SERVER=y\n' >> "$2/.config"
	make "$@" olddefconfig >> "$blog" 2>&1 || return 1
	grep -q '^CONFIG_IOREQ_SERVER=y' "$2/.config" || { echo "CONFIG_IOREQ_SERVER did not stick" >> "$blog"; return 1; }
	make "$@" -j"$(nproc)" >> "$blog" 2>&1
}

mkdir -p "$LOGS"
blog=$LOGS/xen-$XEN_NEW_VERSION-build.log
if [ -f "$entry/xen" ] && [ -f "$entry/dist/.done" ]; then
	log "xen $XEN_NEW_VERSION: cached build $entry"
else
	log "xen $XEN_NEW_VERSION: building (tarball sha256 ${XEN_TARBALL_SHA256%"${XEN_TARBALL_SHA256#????????????}"}, key $key) into $entry; log: $blog"
	: > "$blog"
	work=$BOOT/src/xen-$XEN_NEW_VERSION-$key
	rm -rf "$BOOT/src/xen-$XEN_NEW_VERSION-"*
	mkdir -p "$work"
	timed unpack tar -xJf "$XEN_TARBALL" -C "$work"
	top=$(echo "$work"/xen-*)
	[ -d "$top/xen" ] || die "$XEN_TARBALL: no xen-*/xen directory in it"
	tmp=$cache/tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp/dist"
	timed build-sysroot noxen_sysroot "$work/sysroot"
	timed tools build_tools "$top" "$work/sysroot" "$tmp/dist"
	timed hypervisor build_hypervisor "$top/xen" "$top/xen"
	cp "$top/xen/xen" "$tmp/xen"
	cp "$top/xen/.config" "$tmp/config"
	: > "$tmp/dist/.done"
	rm -rf "$entry"
	mv "$tmp" "$entry"
	rm -rf "$work"
fi

# The daemon's sysroot for this Xen: redone when ROOT or the build changed.
stamp="$(cat "$ROOT/.stamp") $key"
if [ "$(cat "$sysroot/.stamp" 2>/dev/null)" != "$stamp" ]; then
	timed sysroot noxen_sysroot "$sysroot"
	cp -a --remove-destination "$entry/dist/." "$sysroot/"
	echo "$stamp" > "$sysroot/.stamp"
fi
echo "$entry"
