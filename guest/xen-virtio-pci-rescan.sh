#!/bin/sh
# SPDX-License-Identifier: MIT
#
# xen-virtio-pci-rescan.sh: the guest-side rescan helper of xen-virtio-pci in
# POSIX sh, for minimal guests without the C helper. Same options, messages
# and exit status as xen-virtio-pci-rescan (docs/dom0less.md):
#   - with xenstore, rescan PCI whenever data/virtio-pci/generation (interface
#     version 1) holds a new value: with xenstore-watch, or, without it, with
#     xenstore-read every FIRST seconds (the tools of Debian's xenstore-utils);
#   - without xenstore, rescan with growing waits until a virtio function
#     appears or the timeout;
#   - while the kernel waits for dom0's init-dom0less (xenstore_late_init in
#     /proc/interrupts), ask xenstore nothing and rescan with growing waits
#     until xenbus is up.
# Needs sh, cat, awk, date, sleep (fractions of seconds, as GNU and busybox
# have), and mkfifo, mktemp, rm, touch for xenstore-watch.
set -u

PROGRAM=xen-virtio-pci-rescan
# The Makefile's VERSION (tests/install/check-install.sh checks that they agree).
VERSION=0.1.0
KEY=data/virtio-pci/generation

sysfs=/sys
proc=/proc
once=0
timeout=600
poll_first=1
poll_max=60
verbose=0
no_watch=0

usage() {
	cat <<EOF
Usage: $PROGRAM [--once] [--timeout S] [--poll FIRST[,MAX]] [--no-watch]
         [--sysfs DIR] [--proc DIR] [-v|--verbose]
   or: $PROGRAM -h|--help | -V|--version
In a Xen guest: rescan PCI when xen-virtio-pcid's functions appear.
With xenstore, rescans whenever $KEY changes; without,
rescans with growing waits until a virtio function appears. While the kernel
waits for dom0's init-dom0less (xenstore_late_init in /proc/interrupts), it
leaves xenstore alone and rescans with growing waits until xenbus is up.
  --sysfs DIR          where sysfs is (default /sys)
  --proc DIR           where procfs is (default /proc)
  --once               exit 0 after the first rescan that finds a virtio function
  --timeout S          give up (exit 1) after S seconds without one: always
                       without xenstore, with --once otherwise (default 600)
  --poll FIRST[,MAX]   without xenstore or before xenbus is up: seconds
                       between rescans, doubling from FIRST up to MAX
                       (default 1,60)
  --no-watch           with xenstore: read the key every FIRST seconds instead of
                       watching it
  -v, --verbose        say what happens
  -h, --help           this text
  -V, --version        print the version and exit
EOF
}

say() {
	echo "$PROGRAM: $*" >&2
}

refuse() {
	say "$1"
	echo "Try '$PROGRAM --help'." >&2
	exit 2
}

# is_seconds TEXT: a number of seconds, 0 < TEXT <= 1000000.
is_seconds() {
	case $1 in
	'' | . | *[!0-9.]* | *.*.*) return 1 ;;
	esac
	awk -v s="$1" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 1000000) }'
}

# at_least A B: A >= B, as numbers.
at_least() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

set_poll() {
	first=${1%%,*}
	is_seconds "$first" || return 1
	case $1 in
	*,*)
		is_seconds "${1#*,}" && at_least "${1#*,}" "$first" || return 1
		poll_max=${1#*,}
		;;
	*)
		at_least "$poll_max" "$first" || poll_max=$first
		;;
	esac
	poll_first=$first
}

# needs_value OPTION COUNT: refuse OPTION when it is the last argument.
needs_value() {
	[ "$2" -ge 2 ] || refuse "$1: needs a value"
}

while [ $# -gt 0 ]; do
	case $1 in
	--*=*)
		option=${1%%=*}
		value=${1#*=}
		shift
		set -- "$option" "$value" "$@"
		continue
		;;
	--sysfs)
		needs_value "$1" $#
		[ -n "$2" ] || refuse "--sysfs '': expected a directory"
		sysfs=$2
		shift
		;;
	--proc)
		needs_value "$1" $#
		[ -n "$2" ] || refuse "--proc '': expected a directory"
		proc=$2
		shift
		;;
	--once) once=1 ;;
	--timeout)
		needs_value "$1" $#
		is_seconds "$2" || refuse "--timeout '$2': expected seconds (> 0)"
		timeout=$2
		shift
		;;
	--poll)
		needs_value "$1" $#
		set_poll "$2" || refuse "--poll '$2': expected FIRST[,MAX] seconds, FIRST <= MAX"
		shift
		;;
	--no-watch) no_watch=1 ;;
	-v | --verbose) verbose=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-V | --version)
		echo "$PROGRAM $VERSION"
		exit 0
		;;
	-*) refuse "$1: unknown option" ;;
	*) refuse "unexpected argument '$1'" ;;
	esac
	shift
done

# The number of PCI functions whose vendor reads 0x1af4 (virtio 1.2, 4.1.2).
count_virtio() {
	n=0
	for vendor in "$sysfs"/bus/pci/devices/*/vendor; do
		case $(cat "$vendor" 2>/dev/null) in
		0x1af4 | 0x1AF4) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# rescan WHY: echo 1 > bus/pci/rescan, then $found virtio functions.
rescan() {
	found=0
	if ! (echo 1 >"$sysfs/bus/pci/rescan") 2>/dev/null; then
		say "cannot write $sysfs/bus/pci/rescan"
		return 1
	fi
	found=$(count_virtio)
	plural=s
	[ "$found" -ne 1 ] || plural=
	if [ "$verbose" -eq 1 ] || [ "$found" -gt 0 ]; then
		say "$1: rescanned, $found virtio function$plural"
	fi
}

started=$(date +%s)

expired() {
	at_least "$(($(date +%s) - started))" "$timeout"
}

give_up() {
	say "no virtio function after $timeout s: giving up"
	return 1
}

# next_wait: the wait after $wait, twice as long, at most $poll_max.
next_wait() {
	awk -v w="$wait" -v m="$poll_max" 'BEGIN { w *= 2; print (w > m ? m : w) }'
}

# No xenstore: rescan with growing waits until a virtio function appears.
poll_sysfs() {
	started=$(date +%s)
	wait=$poll_first
	while :; do
		rescan polling && [ "$found" -gt 0 ] && return 0
		if expired; then
			give_up
			return 1
		fi
		sleep "$wait"
		wait=$(next_wait)
	done
}

# xenbus_state: ready, late or absent, from the names of the interrupts in
# $proc/interrupts (the last field of a line, matched whole): "xenbus" once
# the kernel connected to xenstore, "xenstore_late_init" while it waits for
# dom0's init-dom0less, neither without xenstore. "unreadable" if it cannot
# be read.
xenbus_state() {
	[ -r "$proc/interrupts" ] || { echo unreadable; return; }
	awk '$NF == "xenbus" { ready = 1 } $NF == "xenstore_late_init" { late = 1 }
		END { print (ready ? "ready" : late ? "late" : "absent") }' "$proc/interrupts" 2>/dev/null
}

# While xenbus is not up, /proc/interrupts is read every this many seconds (at most 1).
xenbus_check=$(awk -v f="$poll_first" 'BEGIN { print (f < 1 ? f : 1) }')

# xenbus is not up yet: Linux (6.1, 6.12) probes it in a dom0less guest
# once dom0 has run init-dom0less, and a request to /dev/xen/xenbus before
# then breaks xenstore in this guest for good, so nothing here asks
# xenstore. The daemon may attach before: rescan with growing waits
# meanwhile (until a virtio function is there), reading /proc/interrupts
# every second at most. Only "xenbus" ends the wait ("xenstore_late_init"
# goes a moment before it comes). Returns 0 (--once satisfied), 1 (timed
# out, with --once only, as with xenstore) or 2 (xenbus is up).
wait_xenbus() {
	wait=$poll_first
	have=0
	while :; do
		if [ "$have" -eq 0 ] && rescan "xenbus not up yet" && [ "$found" -gt 0 ]; then
			[ "$once" -eq 0 ] || return 0
			have=1	# what comes later, the key will say
		fi
		checks=$(awk -v w="$wait" -v c="$xenbus_check" 'BEGIN { n = int(w / c + 0.5); print (n < 1 ? 1 : n) }')
		while [ "$checks" -gt 0 ]; do
			[ "$(xenbus_state)" != ready ] || return 2
			if [ "$once" -eq 1 ] && expired; then
				give_up
				return 1
			fi
			sleep "$xenbus_check"
			checks=$((checks - 1))
		done
		wait=$(next_wait)
	done
}

# The rule of interface version 1: rescan on a value other than the last
# acted on; a missing key is no reason to, and forgets the last value.
known=0
last=
on_value() {
	if [ -z "$1" ]; then
		known=0
		return 1
	fi
	[ "$known" -eq 0 ] || [ "$1" != "$last" ] || return 1
	known=1
	last=$1
	rescan "generation $1"
}

# read_key, then act on it: 0 when --once is satisfied.
check_key() {
	value=$(xenstore-read "$KEY" 2>/dev/null) || value=
	on_value "$value" && [ "$once" -eq 1 ] && [ "$found" -gt 0 ]
}

# What watch_key started, ended however the script ends (stopped by its init too).
dir=
watcher=
timer=
end_watch() {
	# shellcheck disable=SC2086 # empty when not started
	[ -z "$watcher$timer" ] || kill $watcher $timer 2>/dev/null
	[ -z "$dir" ] || rm -rf "$dir"
	watcher=
	timer=
	dir=
}
trap end_watch EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# xenstore-watch prints the key's path once at start and on every change.
# Returns 0 (--once satisfied), 1 (timed out) or 2 (xenstore-watch ended).
watch_key() {
	dir=$(mktemp -d) || return 2
	mkfifo "$dir/events" || return 2
	xenstore-watch "$KEY" >"$dir/events" 2>/dev/null &
	watcher=$!
	if [ "$once" -eq 1 ]; then
		# What is left of --timeout (the wait for xenbus counts too).
		left=$(awk -v t="$timeout" -v e="$(($(date +%s) - started))" 'BEGIN { l = t - e; print (l > 0 ? l : 0) }')
		(
			trap 'kill $sleeper 2>/dev/null; exit 0' TERM
			sleep "$left" &
			sleeper=$!
			wait "$sleeper"
			touch "$dir/timed-out"
			kill "$watcher" 2>/dev/null
		) >/dev/null 2>&1 &
		timer=$!
	fi
	status=2
	while read -r _path; do
		if check_key; then
			status=0
			break
		fi
	done <"$dir/events"
	if [ -e "$dir/timed-out" ]; then
		give_up
		status=1
	fi
	end_watch
	return $status
}

# No xenstore-watch: read the key every FIRST seconds.
poll_key() {
	while :; do
		check_key && return 0
		if [ "$once" -eq 1 ] && expired; then
			give_up
			return 1
		fi
		sleep "$poll_first"
	done
}

case $(xenbus_state) in
late)
	say "xenbus not up yet (xenstore_late_init in $proc/interrupts): leaving xenstore alone until it is, rescanning meanwhile"
	waited=$(date +%s)
	wait_xenbus
	status=$?
	[ "$status" -eq 2 ] || exit "$status"
	say "xenbus is up after $(($(date +%s) - waited)) s: using xenstore"
	;;
ready) [ "$verbose" -eq 0 ] || say "xenbus is up" ;;
absent) [ "$verbose" -eq 0 ] || say "no xenbus in $proc/interrupts" ;;
*) say "cannot read $proc/interrupts: taking it for no xenbus" ;;
esac

# A guest can read its own domid key when it has xenstore (init-dom0less and libxl write it).
if command -v xenstore-read >/dev/null 2>&1 && xenstore-read domid >/dev/null 2>&1; then
	if [ "$no_watch" -eq 0 ] && command -v xenstore-watch >/dev/null 2>&1; then
		[ "$verbose" -eq 0 ] || say "watching $KEY"
		watch_key
		status=$?
		[ "$status" -eq 2 ] || exit "$status"
		say "xenstore-watch ended: polling instead"
	else
		why="no xenstore-watch"
		[ "$no_watch" -eq 0 ] || why="--no-watch"
		[ "$verbose" -eq 0 ] || say "$why: reading $KEY every $poll_first s"
		poll_key
		exit $?
	fi
else
	say "no xenstore: rescanning until a virtio function appears"
fi
poll_sysfs
