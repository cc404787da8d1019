#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/docs/check-layers.sh: the folder contract of docs/architecture.md
# ("Folders, as built"), checked over every #include of the daemon's and the
# guest tools' sources: a layer includes only the layers below it that the
# table here allows (a folder, or one header of it), and only xen/, daemon/
# and guest/ include a libxen header. A folder with sources that the table
# does not name fails too, so a new layer has to be placed. The checker is
# itself checked: copies of the tree with one forbidden include must fail.
# Reports like cmocka, so tests/run-tests.sh counts its checks.
#
# Usage: sh tests/docs/check-layers.sh   (from the top of the tree)
set -u

# layer: what its files may include besides their own folder ("-": nothing).
# Keep in step with the table in docs/architecture.md.
EDGES='
lib: -
ecam: lib
virtio: ecam lib
backends: virtio/device.h virtio/virtqueue.h virtio/virtio_mem.h virtio/queue_service.h lib
xen: lib virtio/virtio_mem.h
fdt: ecam/guest_layout.h ecam/intx.h
daemon: lib ecam virtio backends xen fdt
guest: -
'
# The layers whose files may include libxen headers (<xen...>, <xenctrl.h>).
XEN_LAYERS="xen daemon guest"

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

# allowed LAYER: the layer's line of EDGES without its name; fails for an unknown layer.
allowed() {
	line=$(printf '%s\n' "$EDGES" | grep "^$1: ") || return 1
	printf '%s\n' "${line#*: }"
}

# may_include LAYER TARGET: is #include "TARGET" allowed in LAYER?
may_include() {
	case $2 in
	"$1"/*) return 0 ;;
	*/*) ;;
	*) return 0 ;;	# a file beside it ("fuzz.h")
	esac
	for edge in $(allowed "$1"); do
		case $2 in
		"$edge" | "$edge"/*) return 0 ;;
		esac
	done
	return 1
}

# check_tree DIR: every violation in DIR on stdout; 0 if there is none.
check_tree() {
	bad=0
	for src in "$1"/*/*.c "$1"/*/*.h; do
		[ -f "$src" ] || continue
		layer=$(basename "$(dirname "$src")")
		case $layer in
		build | tests | dist | docs | mk) continue ;;
		esac
		if ! allowed "$layer" >/dev/null; then
			echo "$layer/: a folder the layer table does not name ($src)"
			bad=1
			continue
		fi
		for target in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src"); do
			may_include "$layer" "$target" && continue
			echo "${src#"$1"/}: includes \"$target\": $layer/ may include only: $(allowed "$layer")"
			bad=1
		done
		case " $XEN_LAYERS " in
		*" $layer "*) continue ;;
		esac
		if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<xen' "$src"; then
			echo "${src#"$1"/}: includes a libxen header: only $XEN_LAYERS may"
			bad=1
		fi
	done
	return $bad
}

tree_keeps_the_contract() {
	check_tree .
}

# copy_with FILE LINE: a copy of the sources with LINE appended to FILE; its path on stdout.
copy_with() {
	copy=$(mktemp -d)
	for d in lib ecam virtio backends xen fdt daemon guest; do
		cp -r "$d" "$copy/"
	done
	mkdir -p "$copy/$(dirname "$1")"
	printf '%s\n' "$2" >> "$copy/$1"
	echo "$copy"
}

# must_fail FILE LINE: the checker refuses the tree with LINE added to FILE.
must_fail() {
	copy=$(copy_with "$1" "$2")
	out=$(check_tree "$copy")
	status=$?
	rm -rf "$copy"
	[ "$status" != 0 ] || { echo "'$2' in $1 passed the check"; return 1; }
	echo "$out" | head -1
}

echo "[==========] Running the layer checks."
report_check tree_keeps_the_contract tree_keeps_the_contract
report_check ecam_including_xen_is_refused must_fail ecam/pci_config.c '#include "xen/ioreq_server.h"'
report_check fdt_including_xen_is_refused must_fail fdt/boot_config.c '#include "xen/guest_memory.h"'
report_check fdt_including_more_of_ecam_is_refused must_fail fdt/boot_config.c '#include "ecam/host_bridge.h"'
report_check xen_including_backends_is_refused must_fail xen/guest_memory.c '#include "backends/blk.h"'
report_check lib_including_anything_is_refused must_fail lib/log.c '#include "ecam/ecam.h"'
report_check backends_including_daemon_is_refused must_fail backends/rng.c '#  include "daemon/options.h"'
report_check backends_including_the_pci_transport_is_refused must_fail backends/blk.c '#include "virtio/pci.h"'
report_check ecam_including_libxen_is_refused must_fail ecam/host_bridge.c '#include <xenctrl.h>'
report_check unknown_folder_is_refused must_fail newlayer/thing.c '#include "lib/log.h"'
report_summary
