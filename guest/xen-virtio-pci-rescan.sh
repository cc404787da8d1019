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
#     appears or the timeout.
# Needs sh, cat, awk, date, sleep (fractions of seconds, as GNU and busybox
# have), and mkfifo, mktemp, rm, touch for xenstore-watch.
set -u

PROGRAM=xen-virtio-pci-rescan
KEY=data/virtio-pci/generation

sysfs=/sys
once=0
timeout=600
poll_first=1
poll_max=60
verbose=0

usage() {
	cat <<EOF
Usage: $PROGRAM [OPTIONS]
In a Xen guest: rescan PCI when xen-virtio-pcid's functions appear.
With xenstore, rescans whenever $KEY changes; without,
rescans with growing waits until a virtio function appears.
  --sysfs DIR          where sysfs is (default /sys)
  --once               exit 0 after the first rescan that finds a virtio function
  --timeout S          give up (exit 1) after S seconds without one: always
                       without xenstore, with --once otherwise (default 600)
  --poll FIRST[,MAX]   without xenstore: seconds between rescans, doubling
                       from FIRST up to MAX (default 1,60)
  -v, --verbose        say what happens
  -h, --help           this text
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
	-v | --verbose) verbose=1 ;;
	-h | --help)
		usage
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
		wait=$(awk -v w="$wait" -v m="$poll_max" 'BEGIN { w *= 2; print (w > m ? m : w) }')
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
		(
			trap 'kill $sleeper 2>/dev/null; exit 0' TERM
			sleep "$timeout" &
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

# A guest can read its own domid key when it has xenstore (init-dom0less and libxl write it).
if command -v xenstore-read >/dev/null 2>&1 && xenstore-read domid >/dev/null 2>&1; then
	if command -v xenstore-watch >/dev/null 2>&1; then
		[ "$verbose" -eq 0 ] || say "watching $KEY"
		watch_key
		status=$?
		[ "$status" -eq 2 ] || exit "$status"
		say "xenstore-watch ended: polling instead"
	else
		[ "$verbose" -eq 0 ] || say "no xenstore-watch: reading $KEY every $poll_first s"
		poll_key
		exit $?
	fi
else
	say "no xenstore: rescanning until a virtio function appears"
fi
poll_sysfs
