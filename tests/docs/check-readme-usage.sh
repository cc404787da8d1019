#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/docs/check-readme-usage.sh [--update]: the README's usage block (the
# fenced block that starts with "Usage: xen-virtio-pcid") must be exactly
# what `xen-virtio-pcid --help` prints, read from the binary at test time.
# With --update it rewrites the block from --help instead (`make
# readme-usage`), e.g. after a change to the options. Reports like cmocka,
# so tests/run-tests.sh counts its tests.
#
# Usage: XVP_BUILD=build sh tests/docs/check-readme-usage.sh [--update]
# shellcheck disable=SC2317 # the checks are called through run()
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${XVP_BUILD:-build}
daemon=$build/xen-virtio-pcid
readme=${XVP_README:-$here/README.md}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

# usage_block FILE: the lines of FILE's usage block, without its fences.
usage_block() {
	awk '
		inside && /^```/ { exit }
		inside { print; next }
		fence && /^Usage: xen-virtio-pcid/ { inside = 1; print; next }
		{ fence = /^```$/ }
	' "$1"
}

# replace_block FILE HELP: FILE with its usage block replaced by HELP's lines.
replace_block() {
	awk -v help="$2" '
		skipping && /^```/ { skipping = 0 }
		skipping { next }
		fence && /^Usage: xen-virtio-pcid/ {
			while ((getline line < help) > 0) print line
			skipping = 1
			fence = 0
			next
		}
		{ print; fence = /^```$/ }
	' "$1"
}

help_text() {
	"$daemon" --help >"$work/help" || { echo "$daemon --help failed"; return 1; }
}

readme_has_a_usage_block() {
	usage_block "$readme" >"$work/readme-block"
	[ -s "$work/readme-block" ] && return 0
	echo "$readme has no fenced block starting with 'Usage: xen-virtio-pcid'"
	return 1
}

readme_usage_is_the_help() {
	help_text || return 1
	usage_block "$readme" >"$work/readme-block"
	cmp -s "$work/help" "$work/readme-block" && return 0
	echo "README.md's usage block (-) differs from $daemon --help (+);"
	echo "regenerate it with: make readme-usage"
	diff -u "$work/readme-block" "$work/help" | tail -n +3
	return 1
}

if [ "${1:-}" = --update ]; then
	help_text || exit 1
	usage_block "$readme" | grep -q . || { echo "$readme has no usage block" >&2; exit 1; }
	replace_block "$readme" "$work/help" >"$work/readme" && cat "$work/readme" >"$readme" ||
		exit 1
	echo "$readme: usage block written from $daemon --help"
	exit 0
fi

report_check readme_has_a_usage_block readme_has_a_usage_block
report_check readme_usage_is_the_help readme_usage_is_the_help
report_summary
