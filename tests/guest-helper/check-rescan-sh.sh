#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/guest-helper/check-rescan-sh.sh: the guest's rescan helpers against a
# fake sysfs tree (bus/pci/rescan, bus/pci/devices/*/vendor) and a fake
# proc/interrupts (what says whether the kernel's xenbus is up):
#   - guest/xen-virtio-pci-rescan.sh, run by dash with a PATH holding only
#     the tools it may use, and stand-ins for xenstore-read and
#     xenstore-watch that behave as Debian's xenstore-utils do (the watch
#     prints the key's path once at start and on every change), backed by
#     files: with the watch, with reads only, and with no xenstore; they
#     note every call, so that a check sees whether xenstore was asked;
#     again under busybox sh with busybox's tools when busybox is installed
#     (the boot test's guests are busybox);
#   - the C helper as built for guests (real libxenstore), which finds no
#     xenstore here ($XENSTORED_PATH points nowhere) and polls.
# Its run against xenstore itself, with the daemon, is in
# tests/integration/test_late_appearance.c. Reports like cmocka, so
# tests/run-tests.sh counts its tests.
#
# Usage: XVP_BUILD=build sh tests/guest-helper/check-rescan-sh.sh
# shellcheck disable=SC2317 # the checks are called through run()
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
dash=$(command -v dash || echo /bin/sh)	# Debian's /bin/sh: strictly POSIX
script=$here/guest/xen-virtio-pci-rescan.sh
helper=${XVP_BUILD:-build}/xen-virtio-pci-rescan
work=$(mktemp -d)
pids=""
cleanup() {
	for started in $pids; do
		kill "$started" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
WAIT=100	# tenths of a second

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

run() {
	reset_tree
	report_check "$@"
	stop_helper
}

# ---- the fake guest

# PATH directories: $work/tools (what the script may use: the host's, or
# busybox's applets with $work/busybox-tools), stand-ins on top. Every call
# of a stand-in adds a line to $work/xs-calls.
make_tools() {
	mkdir -p "$work/tools" "$work/busybox-tools" "$work/xs-watch" "$work/xs-read" "$work/no-xs"
	for tool in sh cat awk date sleep mkfifo mktemp rm touch; do
		ln -s "$(command -v "$tool")" "$work/tools/$tool" || return 1
		[ -z "$busybox" ] || ln -s "$busybox" "$work/busybox-tools/$tool" || return 1
	done
	# xenstore-read KEY: the file $work/xs/KEY (relative keys, as a guest uses them).
	cat >"$work/xs-read/xenstore-read" <<-EOF
		#!/bin/sh
		echo "xenstore-read \$*" >>"$work/xs-calls"
		cat "$work/xs/\$1" 2>/dev/null || { echo "xenstore-read: couldn't read path \$1" >&2; exit 1; }
	EOF
	cat >"$work/no-xs/xenstore-read" <<-EOF
		#!/bin/sh
		echo "xenstore-read \$*" >>"$work/xs-calls"
		echo "xenstore-read: xs_open: No such file or directory" >&2
		exit 1
	EOF
	# xenstore-watch KEY: the key's path at once, then at every change of the file.
	cat >"$work/xs-watch/xenstore-watch" <<-EOF
		#!/bin/sh
		echo "xenstore-watch \$*" >>"$work/xs-calls"
		echo "\$1"
		last=\$(cat "$work/xs/\$1" 2>/dev/null)
		while sleep 0.02 && [ -d "$work" ]; do
			now=\$(cat "$work/xs/\$1" 2>/dev/null)
			[ "\$now" = "\$last" ] || echo "\$1"
			last=\$now
		done
	EOF
	cp "$work/xs-read/xenstore-read" "$work/xs-watch/"
	chmod +x "$work"/xs-read/* "$work"/xs-watch/* "$work"/no-xs/*
}

reset_tree() {
	rm -rf "$work/sys" "$work/xs" "$work/log" "$work/proc" "$work/xs-calls"
	mkdir -p "$work/sys/bus/pci/devices" "$work/xs/data/virtio-pci" "$work/proc"
	: >"$work/sys/bus/pci/rescan"
	echo 1 >"$work/xs/domid"
	add_function 0000:00:00.0 0x1b36	# the host bridge
	set_xenbus absent
}

# set_xenbus late|ready|absent: proc/interrupts as an arm64 dom0less guest's
# (Linux 6.12, two vCPUs) before dom0 ran init-dom0less, after, or without
# xenstore; with names that only look alike around them.
set_xenbus() {
	case $1 in
	late) xenstore="  5:          0          0  xen-dyn    -event     xenstore_late_init" ;;
	ready) xenstore="  5:         12          3  xen-dyn    -event     xenbus" ;;
	absent) xenstore="  6:          0          0  xen-dyn    -event     xenbus_frontend" ;;
	esac
	cat >"$work/proc/interrupts.new" <<-EOF
		           CPU0       CPU1       
		 11:       4123       3991     GICv3  27 Level     arch_timer
		$xenstore
		  7:          0          0  xen-dyn    -event     my-xenstore_late_init
		 46:          0          0     GICv3  45 Level     virtio0
		IPI0:       213        250       Rescheduling interrupts
		IPI1:        17         31       xenbus interrupts
		IPI2:         0          0       CPU stop interrupts
		Err:          0
	EOF
	mv "$work/proc/interrupts.new" "$work/proc/interrupts"
}

# No stand-in was called: nothing asked xenstore.
xenstore_untouched() {
	[ ! -e "$work/xs-calls" ] || { echo "xenstore was asked:"; cat "$work/xs-calls"; return 1; }
}

add_function() {
	mkdir -p "$work/sys/bus/pci/devices/$1"
	echo "$2" >"$work/sys/bus/pci/devices/$1/vendor"
}

set_generation() {
	printf '%s' "$1" >"$work/xs/data/virtio-pci/generation.new"
	mv "$work/xs/data/virtio-pci/generation.new" "$work/xs/data/virtio-pci/generation"
}

# ---- running a helper

# start_sh STANDINS OPTION...: the sh helper under $shell, in the background.
start_sh() {
	standins=$1
	shift
	# shellcheck disable=SC2086 # $shell may be "busybox sh"
	PATH="$work/$standins:$work/$tools" $shell "$script" --sysfs "$work/sys" --proc "$work/proc" \
		"$@" >"$work/log" 2>&1 &
	pid=$!
	pids="$pids $pid"
}

start_c() {
	XENSTORED_PATH=$work/no-xenstored "$helper" --sysfs "$work/sys" --proc "$work/proc" "$@" \
		>"$work/log" 2>&1 &
	pid=$!
	pids="$pids $pid"
}

stop_helper() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pid=""
}

# wait_exit TENTHS: the helper's exit status, or 124 if it still runs then.
wait_exit() {
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le "$1" ] || return 124
		sleep 0.1
	done
	wait "$pid"
	status=$?
	pid=""
	return "$status"
}

# wait_rescan TENTHS: until the helper wrote bus/pci/rescan; then it is emptied.
wait_rescan() {
	i=0
	until [ -s "$work/sys/bus/pci/rescan" ]; do
		i=$((i + 1))
		[ "$i" -le "$1" ] || return 1
		sleep 0.1
	done
	[ "$(cat "$work/sys/bus/pci/rescan")" = 1 ] || { echo "rescan holds:"; cat "$work/sys/bus/pci/rescan"; return 1; }
	: >"$work/sys/bus/pci/rescan"
}

expect_status() {
	wait_exit "$WAIT"
	status=$?
	[ "$status" -eq "$1" ] || { echo "exit status $status, expected $1; its output:"; cat "$work/log"; return 1; }
}

log_has() {
	grep -q "$1" "$work/log" || { echo "output lacks '$1':"; cat "$work/log"; return 1; }
}

log_lacks() {
	! grep -q "$1" "$work/log" || { echo "output has '$1':"; cat "$work/log"; return 1; }
}

# wait_log TENTHS TEXT: until the helper's output has TEXT.
wait_log() {
	i=0
	until grep -q "$2" "$work/log"; do
		i=$((i + 1))
		[ "$i" -le "$1" ] || { echo "output lacks '$2':"; cat "$work/log"; return 1; }
		sleep 0.1
	done
}

# ---- the tests

sh_help_and_refusals() {
	# shellcheck disable=SC2086 # $shell may be "busybox sh"
	PATH="$work/$tools" $shell "$script" --help >"$work/log" 2>&1 || return 1
	log_has "^  --poll FIRST\[,MAX\]" && log_has "^  --proc DIR" || return 1
	for bad in "--poll 2,1" "--poll 1," "--timeout 0" "--timeout=soon" "--sysfs" "--proc" "--proc=" \
		"--rescan-now" "now"; do
		# shellcheck disable=SC2086 # $bad and $shell are lists of words
		PATH="$work/$tools" $shell "$script" $bad >"$work/log" 2>&1
		status=$?
		[ "$status" -eq 2 ] || { echo "$bad: exit status $status, expected 2"; return 1; }
		log_has "Try 'xen-virtio-pci-rescan --help'" || return 1
	done
}

sh_without_xenstore_polls_until_virtio_appears() {
	start_sh no-xs --poll 0.05,0.2 --timeout 20 --verbose
	wait_rescan "$WAIT" || return 1
	wait_rescan "$WAIT" || return 1	# nothing yet: again, later
	add_function 0000:00:01.0 0x1af4
	expect_status 0 || return 1
	log_has "no xenstore: rescanning until a virtio function appears" &&
		log_has "polling: rescanned, 1 virtio function$"
}

sh_without_xenstore_gives_up_after_the_timeout() {
	start_sh no-xs --poll 0.1 --timeout 1
	expect_status 1 || return 1
	log_has "no virtio function after 1 s: giving up"
}

# The key appears after the helper started: one rescan, and --once is satisfied.
sh_watch_rescans_when_the_key_appears() {
	set_xenbus ready
	add_function 0000:00:01.0 0x1af4
	start_sh xs-watch --once --verbose
	sleep 0.3
	[ ! -s "$work/sys/bus/pci/rescan" ] || { echo "rescanned before the key existed"; return 1; }
	set_generation 1
	expect_status 0 || return 1
	wait_rescan 1 && log_has "generation 1: rescanned, 1 virtio function$"
}

# As a service: a rescan per new value, none for the same value written again.
sh_watch_rescans_on_every_new_generation() {
	set_xenbus ready
	set_generation 1
	start_sh xs-watch
	wait_rescan "$WAIT" || return 1
	set_generation 2
	wait_rescan "$WAIT" || return 1
	set_generation 2
	! wait_rescan 3 || { echo "rescanned for the same value"; return 1; }
	kill -0 "$pid" 2>/dev/null || { echo "the helper exited"; return 1; }
}

sh_watch_with_once_gives_up_after_the_timeout() {
	set_xenbus ready
	start_sh xs-watch --once --timeout 1
	expect_status 1 || return 1
	log_has "no virtio function after 1 s: giving up"
}

# No xenstore-watch: the key is read every FIRST seconds instead.
sh_reads_the_key_without_xenstore_watch() {
	set_xenbus ready
	add_function 0000:00:01.0 0x1af4
	start_sh xs-read --once --poll 0.05 --verbose
	sleep 0.3
	[ ! -s "$work/sys/bus/pci/rescan" ] || { echo "rescanned before the key existed"; return 1; }
	set_generation 3
	expect_status 0 || return 1
	log_has "no xenstore-watch: reading data/virtio-pci/generation every 0.05 s" &&
		log_has "generation 3: rescanned, 1 virtio function$"
}

# --no-watch: the key is read every FIRST seconds although xenstore-watch is there.
sh_no_watch_reads_the_key() {
	set_xenbus ready
	add_function 0000:00:01.0 0x1af4
	start_sh xs-watch --once --no-watch --poll 0.05 --verbose
	sleep 0.3
	set_generation 4
	expect_status 0 || return 1
	log_has "no-watch: reading data/virtio-pci/generation every 0.05 s" &&
		log_has "generation 4: rescanned, 1 virtio function$" || return 1
	! grep -q xenstore-watch "$work/xs-calls" || { echo "xenstore-watch was run:"; cat "$work/xs-calls"; return 1; }
}

# --version and -V: the program and its version, exit 0.
sh_version() {
	for option in --version -V; do
		# shellcheck disable=SC2086 # $shell may be "busybox sh"
		PATH="$work/$tools" $shell "$script" "$option" >"$work/log" 2>&1 || return 1
		grep -qx 'xen-virtio-pci-rescan [0-9][0-9.]*' "$work/log" ||
			{ echo "$option printed:"; cat "$work/log"; return 1; }
	done
}

# ---- before dom0 ran init-dom0less (xenstore_late_init in proc/interrupts)

# Nothing asks xenstore, although the key is there: rescans through sysfs
# with growing waits; once xenbus is up, the watch, and the key's value.
sh_late_xenbus_polls_then_watches() {
	set_xenbus late
	set_generation 1	# the daemon attached before init-dom0less
	start_sh xs-watch --poll 0.05,0.2 --verbose
	wait_rescan "$WAIT" || return 1
	wait_rescan "$WAIT" || return 1	# nothing yet: again, later
	xenstore_untouched || return 1
	log_has "xenbus not up yet (xenstore_late_init in $work/proc/interrupts): leaving xenstore alone" &&
		log_has "xenbus not up yet: rescanned, 0 virtio functions$" || return 1
	add_function 0000:00:01.0 0x1af4
	set_xenbus ready
	wait_log "$WAIT" "generation 1: rescanned, 1 virtio function$" || return 1
	log_has "xenbus is up after [0-9]* s: using xenstore" && log_has "watching data/virtio-pci/generation" ||
		return 1
	set_generation 2
	wait_log "$WAIT" "generation 2: rescanned" || return 1
	kill -0 "$pid" 2>/dev/null || { echo "the helper exited"; return 1; }
}

# --once: a virtio function found through sysfs while xenbus is not up ends it.
sh_late_xenbus_with_once_ends_on_a_virtio_function() {
	set_xenbus late
	start_sh xs-watch --once --poll 0.05,0.2
	wait_rescan "$WAIT" || return 1
	add_function 0000:00:01.0 0x1af4
	expect_status 0 || return 1
	xenstore_untouched && log_has "xenbus not up yet: rescanned, 1 virtio function$"
}

sh_late_xenbus_with_once_gives_up_after_the_timeout() {
	set_xenbus late
	start_sh xs-watch --once --poll 0.1 --timeout 1
	expect_status 1 || return 1
	xenstore_untouched && log_has "no virtio function after 1 s: giving up"
}

# Whole last fields only (set_xenbus writes look-alikes); no procfs counts as no xenbus.
sh_xenbus_state_from_interrupt_names() {
	add_function 0000:00:01.0 0x1af4	# every run ends at its first rescan
	start_sh no-xs --once --verbose
	expect_status 0 && log_has "no xenbus in $work/proc/interrupts" || return 1
	set_xenbus ready
	start_sh no-xs --once --verbose
	expect_status 0 && log_has ": xenbus is up$" || return 1
	set_xenbus late
	rm -f "$work/xs-calls"
	start_sh no-xs --once --verbose
	expect_status 0 && log_has "xenbus not up yet (" && xenstore_untouched || return 1
	printf '  5:\t12\t3\txen-dyn\t-event\txenbus \t' >"$work/proc/interrupts"
	start_sh no-xs --once --verbose
	expect_status 0 && log_has ": xenbus is up$" || return 1
	rm "$work/proc/interrupts"
	start_sh no-xs --once
	expect_status 0 && log_has "cannot read $work/proc/interrupts: taking it for no xenbus"
}

# The C build: polls while xenbus is not up; once it is, opens xenstore
# (none here: it says so and polls on).
c_late_xenbus_polls_then_opens_xenstore() {
	[ -x "$helper" ] || { echo "$helper is not built"; return 1; }
	set_xenbus late
	start_c --poll 0.05,0.2 --timeout 20
	wait_rescan "$WAIT" || return 1
	wait_rescan "$WAIT" || return 1
	log_has "xenbus not up yet (xenstore_late_init in $work/proc/interrupts): leaving xenstore alone" &&
		log_lacks "no xenstore" || return 1
	set_xenbus ready
	wait_log "$WAIT" "no xenstore (No such file or directory): rescanning" || return 1
	log_has "xenbus is up after [0-9.]* s: using xenstore" || return 1
	add_function 0000:00:01.0 0x1af4
	expect_status 0 && log_has "polling: rescanned, 1 virtio function$"
}

c_late_xenbus_with_once_ends_on_a_virtio_function() {
	[ -x "$helper" ] || { echo "$helper is not built"; return 1; }
	set_xenbus late
	add_function 0000:00:01.0 0x1af4
	start_c --once
	expect_status 0 && log_has "xenbus not up yet: rescanned, 1 virtio function$" && log_lacks "no xenstore"
}

c_without_xenstore_polls_until_virtio_appears() {
	[ -x "$helper" ] || { echo "$helper is not built"; return 1; }
	start_c --poll 0.05,0.2 --timeout 20
	wait_rescan "$WAIT" || return 1
	add_function 0000:00:01.0 0x1af4
	expect_status 0 || return 1
	log_has "no xenstore (No such file or directory): rescanning" &&
		log_has "polling: rescanned, 1 virtio function$"
}

SH_CHECKS="sh_help_and_refusals sh_without_xenstore_polls_until_virtio_appears
	sh_without_xenstore_gives_up_after_the_timeout sh_watch_rescans_when_the_key_appears
	sh_watch_rescans_on_every_new_generation sh_watch_with_once_gives_up_after_the_timeout
	sh_reads_the_key_without_xenstore_watch sh_no_watch_reads_the_key sh_version
	sh_late_xenbus_polls_then_watches
	sh_late_xenbus_with_once_ends_on_a_virtio_function
	sh_late_xenbus_with_once_gives_up_after_the_timeout sh_xenbus_state_from_interrupt_names"
C_CHECKS="c_late_xenbus_polls_then_opens_xenstore c_late_xenbus_with_once_ends_on_a_virtio_function
	c_without_xenstore_polls_until_virtio_appears"

busybox=$(command -v busybox || true)
echo "[==========] Running the rescan helper checks ($script, $helper)."
make_tools || { echo "cannot make the tool directories"; exit 1; }
shell=$dash
tools=tools
for check in $SH_CHECKS; do
	run "$check" "$check"
done
if [ -n "$busybox" ]; then
	shell="$busybox sh"
	tools="busybox-tools"
	for check in $SH_CHECKS; do
		run "busybox_$check" "$check"
	done
else
	echo "busybox is not installed: the sh helper ran under $dash only"
fi
for check in $C_CHECKS; do
	run "$check" "$check"
done

report_summary
