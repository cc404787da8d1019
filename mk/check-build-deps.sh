#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mk/check-build-deps.sh NAME=PACKAGE...: run by make before its first
# compiler run. Checks that the compiler ($CC), pkg-config ($PKG_CONFIG) and
# each NAME are there: a pkg-config module, or a header (NAME ending in .h)
# under $SYSROOT/usr/include. If anything is missing it prints the one
# `apt-get install` line that brings every missing PACKAGE and fails, so
# make stops before a compiler error. It installs nothing: packagers build
# as root without network (`make deps` installs, and so do `make demo` and
# `make check`, through mk/ensure-deps.sh).
#
# Cross builds ($CROSS, e.g. aarch64-linux-gnu-) look into $SYSROOT; when it
# is empty and $FETCH_SYSROOT is set, that command fills it first (the
# boot test's arm64 packages, unpacked under build/, never installed).
set -u

cc=${CC:-cc}
pkg_config=${PKG_CONFIG:-pkg-config}
cross=${CROSS:-}
sysroot=${SYSROOT:-}
missing=""

need() {
	case " $missing " in
	*" $1 "*) ;;
	*) missing="${missing:+$missing }$1" ;;
	esac
}

# The compiler, and the C library's headers it compiles against.
if [ -n "$cross" ]; then
	target=${cross%-}
	command -v "$cc" >/dev/null 2>&1 || need "gcc-$target"
	case $target in
	aarch64-linux-gnu) [ -e "/usr/$target/include/stdio.h" ] || need libc6-dev-arm64-cross ;;
	esac
else
	command -v "$cc" >/dev/null 2>&1 || need gcc
	[ -e /usr/include/stdio.h ] || need libc6-dev
fi

# Without the compiler, say what to install before a download it cannot use.
if [ -n "$cross" ] && [ -z "$missing" ] && [ ! -d "$sysroot/usr/include" ]; then
	if [ -z "${FETCH_SYSROOT:-}" ]; then
		echo "make: CROSS_ROOT=$sysroot holds no sysroot (no usr/include)" >&2
		exit 1
	fi
	echo "make: fetching the arm64 packages to build against into $sysroot (no install)" >&2
	sh -c "$FETCH_SYSROOT" >&2 || { echo "make: $FETCH_SYSROOT failed" >&2; exit 1; }
fi

if ! $pkg_config --version >/dev/null 2>&1; then
	need pkg-config
elif [ -z "$missing" ] || [ -d "$sysroot/usr/include" ]; then
	for spec in "$@"; do
		name=${spec%%=*}
		case $name in
		*.h) [ -e "$sysroot/usr/include/$name" ] || need "${spec#*=}" ;;
		*) $pkg_config --exists "$name" 2>/dev/null || need "${spec#*=}" ;;
		esac
	done
fi

[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo "
echo "make: the build needs Debian packages that are not installed: $missing" >&2
echo "Install them with (or run \`make deps\`, which installs what \`make check\` needs too):" >&2
echo "  ${sudo}apt-get install $missing" >&2
exit 1
