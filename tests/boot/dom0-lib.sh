# SPDX-License-Identifier: MIT
#
# tests/boot/dom0-lib.sh: what dom0-test.sh and dom0less-test.sh share,
# sourced from /test/ in dom0. Each script defines fail() itself (what it
# prints besides the reason differs), and sets $supervisor and $LOG.

# step NAME: "BOOTTEST: step NAME (UPTIME s)"; fail() names the current step.
step() { STEP=$1; echo "BOOTTEST: step $1 ($(cut -d' ' -f1 /proc/uptime) s)"; }

# wait_for SECONDS TEST...: poll until TEST succeeds, for SECONDS of uptime
# (a TEST may itself take a while under emulation).
wait_for() {
	end=$(($(cut -d. -f1 /proc/uptime) + $1)); shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# sandboxed DOMID: domain DOMID's worker runs as its domain's own uid (the
# default base, 1879048192, + DOMID: the boot config gives no uid option).
sandboxed() {
	uid=$((1879048192 + $1))
	grep -q "dom$1: running as uid $uid gid $uid (this domain's own)" "$LOG" &&
		grep -q "dom$1: sandboxed: uid $uid, empty root" "$LOG"
}

# no_seccomp_violation: no worker met its seccomp filter (the line names the
# call's number: add it to daemon/seccomp_policy.c with what made it).
no_seccomp_violation() {
	if grep 'seccomp: forbidden system call' "$LOG"; then
		fail "a worker made a system call its seccomp filter forbids (above)"
	fi
}

# stop_supervisor: SIGTERM; it stops its workers and must exit 0 within 20 s,
# having logged its stop.
stop_supervisor() {
	kill -0 "$supervisor" 2>/dev/null || fail "the supervisor died while serving"
	kill -TERM "$supervisor"
	n=0
	while kill -0 "$supervisor" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
	kill -0 "$supervisor" 2>/dev/null && { kill -KILL "$supervisor"; fail "the supervisor did not stop within 20 s of SIGTERM"; }
	wait "$supervisor"
	rc=$?
	[ "$rc" = 0 ] || fail "the supervisor exited with status $rc after SIGTERM"
	grep -q 'stopping [0-9]* worker' "$LOG" || fail "the supervisor did not log its stop"
}

# xen_at_least X.Y: the Xen under test ($XEN_VERSION from /test/params) is X.Y or later.
xen_at_least() {
	awk -v v="$XEN_VERSION" -v w="$1" 'BEGIN { split(v, a, "."); split(w, b, ".")
		exit !(a[1] > b[1] || (a[1] == b[1] && a[2] + 0 >= b[2] + 0)) }'
}

# dmesg_check: this kernel's (dom0's) whole log, not only what its console
# loglevel let through: fails on a WARNING:, BUG:, Oops or Call trace line
# (anchored after the timestamp), after printing the log. guest-init checks
# each guest's kernel the same way.
KWARN_RE='^(\[[^]]*\] )?(WARNING:|BUG:|Oops|Internal error: Oops|Call trace:)'
dmesg_check() {
	step dmesg
	if [ "${xvp_inject_kwarn:-}" = 1 ]; then
		echo "WARNING: CPU: 0 PID: 1 at injected by BOOT_TEST_INJECT_KWARN" > /dev/kmsg
	fi
	n=$(dmesg | grep -cE "$KWARN_RE")
	if [ "$n" != 0 ]; then
		dmesg | sed 's/^/BOOTTEST: dmesg: /'
		fail "dom0's kernel logged $n WARNING/BUG/Oops/Call trace lines, first: $(dmesg | grep -m1 -E "$KWARN_RE")"
	fi
	echo "BOOTTEST: dom0 dmesg: $(dmesg | wc -l) lines, no WARNING/BUG/Oops/Call trace"
}

# make_bridge: the guests' network in dom0: bridge br0 (MTU 9000, set by hand
# so that it stays when a port with a smaller MTU joins) with dom0's address
# $NET_DOM0 (10.0.0.1/24); the daemon puts each guest's tap on it
# (--device net,bridge=br0). tun and bridge are dom0-init's modules.
NET_DOM0=10.0.0.1
make_bridge() {
	step bridge
	[ -c /dev/net/tun ] || fail "no /dev/net/tun (is the tun module loaded?)"
	ip link add br0 type bridge || fail "ip link add br0 type bridge"
	ip link set br0 mtu 9000 || fail "ip link set br0 mtu 9000"
	ip addr add $NET_DOM0/24 dev br0 || fail "ip addr add $NET_DOM0/24 dev br0"
	ip link set br0 up || fail "ip link set br0 up"
	echo "BOOTTEST: bridge br0 $NET_DOM0/24, MTU $(cat /sys/class/net/br0/mtu)"
}

# tap_on_bridge DOMID: domain DOMID's first virtio-net tap (the daemon's
# default name vpciDOMID.0) exists and is a port of br0.
tap_on_bridge() {
	[ "$(basename "$(readlink "/sys/class/net/vpci$1.0/master" 2>/dev/null)")" = br0 ]
}

# reaped PID: process PID has exited (a zombie counts: init reaps it later).
reaped() {
	[ ! -e "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}
