#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/build-xen.sh: build the arm64 Xen hypervisor with IOREQ servers.
# Debian's arm64 hypervisor is built without CONFIG_EXPERT, so it has no IOREQ
# servers (every device-model call returns ENOSYS). Rebuild it from Debian's
# own xen source package, with Debian's config plus CONFIG_EXPERT=y and
# CONFIG_IOREQ_SERVER=y, and our patches in tests/boot/xen-patches/ (each
# says what it backports; today trap-unmapped-accesses for dom0less guests).
# Output: build/boot/xen-VERSION-PATCHHASH/xen (cached; the key includes the
# patches' hash, so changing a patch rebuilds).
set -eu
. "$(dirname "$0")/env.sh"

apt_setup bookworm
version=$(apt_cache bookworm showsrc xen | sed -n 's/^Version: //p' | head -1)
[ -n "$version" ] || die "no xen source package in bookworm"
patches=$(ls "$BOOT_SRC"/xen-patches/*.patch 2>/dev/null | sort)
# shellcheck disable=SC2086
phash=$(cat /dev/null $patches | sha256sum | cut -c1-12)
out=$BOOT/xen-$version-$phash
if [ -f "$out/xen" ]; then
	echo "$out/xen"
	exit 0
fi

src=$BOOT/src
mkdir -p "$src" "$DEBS"
upstream=${version%-*}
if [ ! -d "$src/xen-$upstream" ]; then
	log "fetching the xen $version source package"
	(cd "$src" && apt_get bookworm -q source "xen=$version" >&2) || die "apt-get source xen failed"
fi

# Debian's hypervisor config, from the binary package of the same version.
hvpkg=xen-hypervisor-$XEN_SERIES-arm64
(cd "$DEBS" && ls "${hvpkg}_${version}"_arm64.deb >/dev/null 2>&1 ||
	apt_get bookworm -q download "$hvpkg=$version" >&2) || die "download $hvpkg failed"
cfgdir=$BOOT/tmp-xen-config
rm -rf "$cfgdir"
dpkg-deb -x "$DEBS/${hvpkg}_$(echo "$version" | sed 's/:/%3a/')_arm64.deb" "$cfgdir"
config=$(ls "$cfgdir"/boot/xen-*-arm64.config 2>/dev/null | head -1)
[ -n "$config" ] || die "no /boot/xen-*-arm64.config in $hvpkg"

# Our patches: the tree keeps a copy of what it has applied (.xvp-patches/),
# so that a changed patch is first reversed in its old form.
top=$src/xen-$upstream
applied=$top/.xvp-patches
mkdir -p "$applied"
for old in $(ls "$applied"/*.patch 2>/dev/null | sort -r); do
	new=$BOOT_SRC/xen-patches/$(basename "$old")
	if ! cmp -s "$old" "$new"; then
		log "reversing the old $(basename "$old")"
		(cd "$top" && patch -p1 -R -s -f < "$old" >&2) || die "cannot reverse $(basename "$old")"
		rm -f "$old"
	fi
done
for p in $patches; do
	[ -f "$applied/$(basename "$p")" ] && continue
	if (cd "$top" && patch -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1); then
		log "$(basename "$p") is already applied"
	else
		log "applying $(basename "$p")"
		(cd "$top" && patch -p1 -N -s -f < "$p" >&2) || die "$(basename "$p") does not apply"
	fi
	cp "$p" "$applied/"
done

log "building the Xen $version hypervisor (arm64, IOREQ servers, patches $phash)"
tree=$top/xen
cp "$config" "$tree/.config"
cat >> "$tree/.config" <<-END
	CONFIG_EXPERT=y
	CONFIG_IOREQ_SERVER=y
END
make -C "$tree" -s XEN_TARGET_ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- olddefconfig >&2
grep -q '^CONFIG_IOREQ_SERVER=y' "$tree/.config" || die "CONFIG_IOREQ_SERVER did not stick"
make -C "$tree" -s -j"$(nproc)" XEN_TARGET_ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- >&2 ||
	die "the hypervisor build failed"
mkdir -p "$out"
cp "$tree/.config" "$out/config"
cp "$tree/xen" "$out/xen"
rm -rf "$cfgdir"
echo "$out/xen"
