#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fdt/check-fragment.sh: the fragment `xen-virtio-pcid fdt` writes,
# checked with the tools an integrator would use: dtc must decompile it
# without a single warning, and dt-validate (Debian's dt-schema, whose
# pci/pci-bus.yaml applies to pcie@ nodes) must report nothing but what is
# inherent to a Xen partial device tree: the root node has no compatible and
# no model, and the simple-bus is named "passthrough" (the name Xen and libxl
# look for). Reports like cmocka, so tests/run-tests.sh counts its tests.
#
# Usage: XVP_BUILD=build sh tests/fdt/check-fragment.sh
set -u

daemon="${XVP_BUILD:-build}/xen-virtio-pcid"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CUSTOM="--ecam 0x10000000000,16M --mmio 0x30000000,0x8000000 --mmio64 0x10100000000,8G
	--intx-spi 200 --pci-domain 3 --device rng --device blk,path=/nonexistent/disk.img,addr=5"

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

run() {
	report_check "$@"
}

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "$1 is not installed (mk/ensure-deps.sh installs the Debian package $2)"
	return 1
}

# generate NAME OPTIONS...: $work/NAME.dtb, its stdout in $work/NAME.lines; silent on stderr.
generate() {
	base=$1
	shift
	"$daemon" fdt "$@" -o "$work/$base.dtb" >"$work/$base.lines" 2>"$work/$base.err" ||
		{ echo "xen-virtio-pcid fdt $* failed:"; cat "$work/$base.err"; return 1; }
	[ ! -s "$work/$base.err" ] || { echo "stderr:"; cat "$work/$base.err"; return 1; }
}

# dtc -I dtb -O dts: exit 0 and not one byte on stderr (warnings included).
dtc_is_silent() {
	need dtc device-tree-compiler || return 1
	dtc -I dtb -O dts -o "$work/$1.dts" "$work/$1.dtb" 2>"$work/$1.dtc-err" ||
		{ cat "$work/$1.dtc-err"; return 1; }
	[ ! -s "$work/$1.dtc-err" ] || { echo "dtc said:"; cat "$work/$1.dtc-err"; return 1; }
}

# dt-validate's report on FILE without exactly the three complaints (and the
# "From schema" line that follows each) inherent to a partial device tree.
validate_filtered() {
	dt-validate "$1" 2>&1 | awk -v f="$1" '
		BEGIN {
			root_compatible = f ": /: \047compatible\047 is a required property"
			root_model = f ": /: \047model\047 is a required property"
			passthrough = f ": passthrough: $nodename:0: \047passthrough\047 does not match "
		}
		expect != "" && index($0, "\tFrom schema: ") == 1 &&
		    substr($0, length($0) - length(expect) + 1) == expect { expect = ""; next }
		{ expect = "" }
		$0 == root_compatible || $0 == root_model { expect = "/root-node.yaml"; next }
		index($0, passthrough) == 1 { expect = "/simple-bus.yaml"; next }
		{ print }'
}

dt_validate_is_quiet() {
	need dt-validate dt-schema || return 1
	[ -s "$work/$1.dtb" ] || { echo "no $1.dtb"; return 1; }
	report=$(validate_filtered "$work/$1.dtb")
	[ -z "$report" ] || { echo "dt-validate said:"; printf '%s\n' "$report"; return 1; }
}

# Guards against a quiet dt-validate that did not look: pci-bus.yaml must be applied.
dt_validate_applies_pci_bus_yaml() {
	need dt-validate dt-schema || return 1
	dt-validate -M "$work/$1.dtb" 2>&1 | awk -v node="/passthrough/$2: matched on schema" '
		index($0, node) { in_node = 1; next }
		in_node && /^\t/ && /\/pci\/pci-bus\.yaml#/ { found = 1 }
		!/^\t/ { in_node = 0 }
		END { exit !found }' || { echo "pci-bus.yaml not applied to $2"; return 1; }
}

# The filter lets a real problem through: a bus-range beyond 255 is reported.
filter_reports_a_broken_bridge() {
	need dtc device-tree-compiler && need dt-validate dt-schema || return 1
	sed 's/bus-range = <0x00 0xff>/bus-range = <0x00 0x100>/' "$work/default.dts" >"$work/broken.dts"
	dtc -q -I dts -O dtb -o "$work/broken.dtb" "$work/broken.dts" || return 1
	validate_filtered "$work/broken.dtb" | grep -q "pcie@10000000: bus-range" ||
		{ echo "dt-validate did not report bus-range <0 0x100>"; return 1; }
}

dts_format_is_dtcs_decompilation() {
	"$daemon" fdt $CUSTOM --format dts -o "$work/custom-direct.dts" >"$work/dts.out" 2>&1 ||
		{ cat "$work/dts.out"; return 1; }
	[ ! -s "$work/dts.out" ] || { echo "unexpected output:"; cat "$work/dts.out"; return 1; }
	cmp "$work/custom-direct.dts" "$work/custom.dts"
}

lines_name_the_fragment_and_the_spis() {
	grep -qx "device_tree = \"$work/default.dtb\"" "$work/default.lines" &&
	grep -qx "nr_spis = 16" "$work/default.lines" &&
	grep -qx "	nr_spis = <16>;" "$work/default.lines" &&
	grep -qx "trap_unmapped_accesses = 0" "$work/default.lines" &&
	grep -qx "	trap-unmapped-accesses = <0>;" "$work/default.lines" &&
	grep -qx "nr_spis = 172" "$work/custom.lines" ||
		{ echo "lines:"; cat "$work/default.lines"; return 1; }
}

# --for dom0less: every phandle below 65000 (Xen 4.22 refuses the rest), the
# /gic stand-in at 1 and the interrupt-map naming it; the xl fragment keeps
# GUEST_PHANDLE_GIC, the phandle libxl gives the guest's GIC.
dom0less_fragment_has_a_low_gic_phandle() {
	[ "$(fdtget -t u "$work/dom0less.dtb" /gic phandle)" = 1 ] &&
	[ "$(fdtget -t u "$work/default.dtb" /gic phandle)" = 65000 ] &&
	[ -z "$(dtc -I dtb -O dts "$work/dom0less.dtb" 2>/dev/null | grep -e 0xfde8 -e 65000)" ] &&
	[ "$(fdtget -t u "$work/dom0less.dtb" /passthrough/pcie@10000000 interrupt-map |
		tr ' ' '\n' | sed -n '5~8p' | sort -u)" = 1 ] ||
		{ echo "dom0less fragment:"; dtc -I dtb -O dts "$work/dom0less.dtb"; return 1; }
}

overlapping_windows_are_refused_with_exit_2() {
	"$daemon" fdt --mmio 0x18000000,16M -o "$work/refused.dtb" >/dev/null 2>"$work/refused.err"
	status=$?
	[ "$status" -eq 2 ] || { echo "exit status $status, expected 2"; return 1; }
	grep -q "^xen-virtio-pcid fdt: --ecam 0x10000000,0x10000000 overlaps --mmio 0x18000000,0x1000000$" \
		"$work/refused.err" || { cat "$work/refused.err"; return 1; }
	[ ! -e "$work/refused.dtb" ] || { echo "a refused layout wrote a file"; return 1; }
}

echo "[==========] Running the fragment checks of $daemon."
run generate_default generate default &&
	run dtc_is_silent_on_default dtc_is_silent default &&
	run dt_validate_is_quiet_on_default dt_validate_is_quiet default &&
	run dt_validate_applies_pci_bus_yaml dt_validate_applies_pci_bus_yaml default pcie@10000000 &&
	run filter_reports_a_broken_bridge filter_reports_a_broken_bridge
# CUSTOM unquoted: it is a list of words.
run generate_custom generate custom $CUSTOM &&
	run dtc_is_silent_on_custom dtc_is_silent custom &&
	run dt_validate_is_quiet_on_custom dt_validate_is_quiet custom &&
	run dts_format_is_dtcs_decompilation dts_format_is_dtcs_decompilation
run lines_name_the_fragment_and_the_spis lines_name_the_fragment_and_the_spis
run generate_dom0less generate dom0less --for dom0less &&
	run dtc_is_silent_on_dom0less dtc_is_silent dom0less &&
	run dom0less_fragment_has_a_low_gic_phandle dom0less_fragment_has_a_low_gic_phandle
run overlapping_windows_are_refused_with_exit_2 overlapping_windows_are_refused_with_exit_2

report_summary
