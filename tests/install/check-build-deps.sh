#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/install/check-build-deps.sh: plain `make` on a machine that lacks a
# -dev package must stop before the first compiler run, with the
# `apt-get install` line to run, and install nothing (packagers build as
# root without network; only `make deps`, `demo` and `check` install, through
# mk/ensure-deps.sh). Each check runs the real Makefile into an empty BUILD
# with stand-ins:
#   - a pkg-config that passes every question to the real one but reports
#     the packages named in $FAKE_MISSING as absent;
#   - a compiler that only notes that it was run (and fails);
#   - apt-get and dpkg stand-ins first in PATH that note any call, so a
#     check sees that nothing was installed.
# Reports like cmocka, so tests/run-tests.sh counts its tests.
#
# Usage: sh tests/install/check-build-deps.sh
# shellcheck disable=SC2317 # the checks are called through run()
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

run() {
	report_check "$@"
}

real_pkg_config=$(command -v pkg-config)

make_stand_ins() {
	mkdir -p "$work/bin"
	# pkg-config: "--exists NAME..." fails when one NAME is in
	# $FAKE_MISSING; everything else goes to the real pkg-config.
	cat >"$work/pkg-config" <<-END
		#!/bin/sh
		for arg in "\$@"; do
			for gone in \$FAKE_MISSING; do
				[ "\$arg" = "\$gone" ] && exit 1
			done
		done
		exec $real_pkg_config "\$@"
	END
	cat >"$work/cc" <<-END
		#!/bin/sh
		echo "cc \$*" >>"$work/calls"
		exit 1
	END
	for tool in apt-get apt dpkg; do
		cat >"$work/bin/$tool" <<-END
			#!/bin/sh
			echo "$tool \$*" >>"$work/calls"
			exit 1
		END
	done
	chmod +x "$work/pkg-config" "$work/cc" "$work"/bin/*
}

# plain_make [VAR=VALUE...] [MISSING...]: plain `make` (with -j2, as a user
# would) with those variables into an empty BUILD, with those pkg-config
# modules reported missing (and $CC_USED, $PKG_CONFIG_USED in place of the
# stand-ins if set); output in $work/out, exit status in $status, stand-in
# calls in $work/calls.
plain_make() {
	vars=""
	while [ $# -gt 0 ]; do
		case $1 in
		*=*) vars="$vars $1" ;;
		*) break ;;
		esac
		shift
	done
	rm -rf "$work/build" "$work/calls"
	: >"$work/calls"
	# shellcheck disable=SC2086 # VAR=VALUE words, without spaces
	FAKE_MISSING="$*" PATH="$work/bin:$PATH" \
		make -s -j2 --no-print-directory -C "$here" BUILD="$work/build" \
		CC="${CC_USED:-$work/cc}" PKG_CONFIG="${PKG_CONFIG_USED:-$work/pkg-config}" $vars \
		>"$work/out" 2>&1
	status=$?
}

# stops_with_line PACKAGE...: make failed, printed an apt-get install line
# naming exactly PACKAGE..., ran no compiler, installed nothing.
stops_with_line() {
	if [ "$status" -eq 0 ]; then
		echo "make exited 0:"
		cat "$work/out"
		return 1
	fi
	line=$(grep 'apt-get install' "$work/out")
	if [ -z "$line" ]; then
		echo "no apt-get install line; make said:"
		cat "$work/out"
		return 1
	fi
	for package in "$@"; do
		case " $line " in
		*" $package "*) ;;
		*) echo "the line does not name $package: $line"; return 1 ;;
		esac
	done
	if [ -s "$work/calls" ]; then
		echo "make ran (expected nothing of these):"
		cat "$work/calls"
		return 1
	fi
	if [ -n "$(find "$work/build" -name '*.o' 2>/dev/null)" ]; then
		echo "objects were built"
		return 1
	fi
}

missing_libevent_stops_make() {
	plain_make libevent
	stops_with_line libevent-dev
}

missing_xen_and_uring_name_both_packages() {
	plain_make xenstore liburing
	stops_with_line libxen-dev liburing-dev || return 1
	# One line per package would be two lines; the user wants one to paste.
	[ "$(grep -c 'apt-get install' "$work/out")" -eq 1 ] ||
		{ echo "more than one apt-get line:"; cat "$work/out"; return 1; }
	# Each Debian package once, however many pkg-config names it covers.
	[ "$(grep 'apt-get install' "$work/out" | tr ' ' '\n' | grep -c '^libxen-dev$')" -eq 1 ] ||
		{ echo "libxen-dev named more than once:"; cat "$work/out"; return 1; }
}

missing_pkg_config_is_named() {
	PKG_CONFIG_USED="$work/no-such-pkg-config" plain_make
	stops_with_line pkg-config
}

missing_compiler_is_named() {
	CC_USED="$work/no-such-gcc" plain_make
	stops_with_line gcc
}

# A cross-build without the cross compiler names it (the sysroot it would
# fetch is no use without it, so nothing is downloaded first).
cross_build_names_the_cross_compiler() {
	CC_USED="$work/no-such-gcc" plain_make CROSS=aarch64-linux-gnu- CROSS_ROOT="$work/no-root"
	stops_with_line gcc-aarch64-linux-gnu
}

# A CROSS_ROOT of one's own that is not a sysroot: one line, no compiler run.
cross_build_refuses_an_empty_cross_root() {
	[ -e /usr/aarch64-linux-gnu/include/stdio.h ] ||
		{ echo "libc6-dev-arm64-cross is not installed: skipped"; return 77; }
	plain_make CROSS=aarch64-linux-gnu- CROSS_ROOT="$work/no-root"
	[ "$status" -ne 0 ] && grep -q "CROSS_ROOT=$work/no-root holds no sysroot" "$work/out" &&
		[ ! -s "$work/calls" ] && return 0
	echo "make exited $status and said:"
	cat "$work/out" "$work/calls"
	return 1
}

# With everything there, the check passes and the first compiler run comes.
nothing_missing_reaches_the_compiler() {
	plain_make
	grep -q '^cc ' "$work/calls" && ! grep -q 'apt-get install' "$work/out" && return 0
	echo "the compiler was not run, or an apt-get line was printed:"
	cat "$work/out" "$work/calls"
	return 1
}

make_stand_ins
run missing_libevent_stops_make missing_libevent_stops_make
run missing_xen_and_uring_name_both_packages missing_xen_and_uring_name_both_packages
run missing_pkg_config_is_named missing_pkg_config_is_named
run missing_compiler_is_named missing_compiler_is_named
run cross_build_names_the_cross_compiler cross_build_names_the_cross_compiler
run cross_build_refuses_an_empty_cross_root cross_build_refuses_an_empty_cross_root
run nothing_missing_reaches_the_compiler nothing_missing_reaches_the_compiler
report_summary
