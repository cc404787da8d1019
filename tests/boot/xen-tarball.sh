# SPDX-License-Identifier: MIT
#
# tests/boot/xen-tarball.sh: sourced (after env.sh) by build-xen-tarball.sh
# and boot-test.sh. Where the Xen release tarball of the newest-Xen run is,
# its checksum, and where its builds are cached.

XEN_NEW_VERSION=${BOOT_TEST_XEN_NEW_VERSION:-4.22.0}
XEN_NEW_SERIES=${XEN_NEW_VERSION%.*}

# xen_tarball: sets XEN_TARBALL and XEN_TARBALL_SHA256 (checked), or prints
# why there is none and returns 1. BOOT_TEST_XEN_TARBALL=PATH names it;
# otherwise CI's copy beside the clone, ../shared/xen/. The checksum comes from
# a SHA256SUMS file beside the tarball, or BOOT_TEST_XEN_SHA256.
xen_tarball() {
	XEN_TARBALL=${BOOT_TEST_XEN_TARBALL:-$REPO/../shared/xen/xen-$XEN_NEW_VERSION.tar.xz}
	if [ ! -f "$XEN_TARBALL" ]; then
		if [ -n "${BOOT_TEST_XEN_TARBALL:-}" ]; then
			die "BOOT_TEST_XEN_TARBALL=$XEN_TARBALL: no such file"
		fi
		log "Xen $XEN_NEW_VERSION run skipped: no tarball (give one with BOOT_TEST_XEN_TARBALL=PATH, e.g. \`git archive --prefix=xen-$XEN_NEW_VERSION/ RELEASE-$XEN_NEW_VERSION\` of xenbits.xen.org/git-http/xen.git, with BOOT_TEST_XEN_SHA256 or a SHA256SUMS beside it)"
		return 1
	fi
	XEN_TARBALL=$(cd "$(dirname "$XEN_TARBALL")" && pwd)/$(basename "$XEN_TARBALL")
	want=${BOOT_TEST_XEN_SHA256:-}
	sums=$(dirname "$XEN_TARBALL")/SHA256SUMS
	if [ -z "$want" ] && [ -f "$sums" ]; then
		want=$(awk -v f="$(basename "$XEN_TARBALL")" '$2 == f || $2 == "*" f { print $1 }' "$sums")
	fi
	[ -n "$want" ] || die "$XEN_TARBALL: no checksum (no line for it in $sums; give BOOT_TEST_XEN_SHA256)"
	XEN_TARBALL_SHA256=$(sha256sum < "$XEN_TARBALL" | cut -d' ' -f1)
	[ "$XEN_TARBALL_SHA256" = "$want" ] ||
		die "$XEN_TARBALL: sha256 $XEN_TARBALL_SHA256, want $want"
}

# boot_cache: prints the directory the Xen builds are cached in (made if
# need be): BOOT_TEST_CACHE; else /var/cache/xen-virtio-pci-boot when it
# exists and is writable, or we are root (then it is made); else
# build/boot/cache in the clone.
boot_cache() {
	c=${BOOT_TEST_CACHE:-}
	if [ -z "$c" ]; then
		c=/var/cache/xen-virtio-pci-boot
		if ! { [ -d "$c" ] && [ -w "$c" ]; } && [ "$(id -u)" != 0 ]; then
			c=$BOOT/cache
		fi
	fi
	mkdir -p "$c" || die "cannot make the cache directory $c"
	(cd "$c" && pwd)
}
