#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/dom0-test.sh: the boot test as dom0 runs it. Each step has a
# timeout and reports "BOOTTEST: step NAME" when it starts, then
# "BOOTTEST: FAIL NAME: why" (and stops) or, after the last one,
# "BOOTTEST: PASS". boot-test.sh on the host reads these lines off the serial log.
# The guests are served the way an integrator's dom0 does it: the supervisor
# (xen-virtio-pcid --config) started once, before any guest exists, starts a
# worker when xl creates a configured guest and stops it when the guest goes.
# Reads /test/params: BLOCK_EXTRA (lines added to every [domain] block of the
# supervisor's config, not to the fragment: a way to break it on purpose),
# PATTERN_SHA256, PATTERN_SIZE, GUEST_SECONDS (how long a guest may take),
# GUEST_KERNELS (one guest after the other, each on one of these kernels: /test/K/),
# DM_KERNELS (then, the service stopped, guests on these kernels with the
# daemon as their device model, started by plain xl create: dom0-xl-dm.sh).
. /test/params
# The devices, in this order: 00:01.0, 00:02.0, 00:03.0 (guest-init expects it).
DEVICES="--device blk,path=/tmp/disk.img --device rng --device blk,path=/tmp/disk2.img,direct=on"
# Each guest's images are its own (the config refuses one writable image in two blocks).
config_devices() {
	printf '"blk,path=/tmp/disk-%s.img", "rng", "blk,path=/tmp/disk2-%s.img,direct=on"' "$1" "$1"
}
LOG=/tmp/supervisor.log

. /test/dom0-lib.sh
fail() {
	echo "BOOTTEST: FAIL $STEP: $*"
	[ -f $LOG ] && sed 's/^/BOOTTEST: supervisor: /' $LOG
	exit 1
}

step xenstored
xenstored --pid-file /var/run/xenstored.pid || fail "xenstored did not start"
wait_for 20 xenstore-exists / 2>/dev/null || fail "xenstore does not answer"
timeout 30 xen-init-dom0 || fail "xen-init-dom0"
xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
	fail "xenconsoled did not start"

step fdt
# The guest's device-tree fragment: the daemon's own when it can make one.
if xen-virtio-pcid fdt --help 2>&1 | grep -qw -- -o; then
	# shellcheck disable=SC2086
	timeout 30 xen-virtio-pcid fdt -o /tmp/guest.dtb --xl /tmp/fdt-xl.cfg $DEVICES || fail "xen-virtio-pcid fdt"
	echo "BOOTTEST: fragment from xen-virtio-pcid fdt"
else
	cp /test/guest.dtb /tmp/guest.dtb
	echo "BOOTTEST: fragment from tests/boot/guest-fragment.sh"
fi

# The guest's xl config. Xen 4.19+: the lines xen-virtio-pcid fdt --xl wrote
# (nr_spis, and trap_unmapped_accesses = 0, which 4.21+ knows) instead of
# 4.17's vuart (docs/xl.md).
if xen_at_least 4.19; then
	[ -s /tmp/fdt-xl.cfg ] || fail "no xl lines from xen-virtio-pcid fdt --xl"
	{ grep -Ev '^(vuart|device_tree) ' /test/guest.cfg; cat /tmp/fdt-xl.cfg; } > /tmp/guest.cfg
else
	cp /test/guest.cfg /tmp/guest.cfg
fi
grep -v '^#' /tmp/guest.cfg | sed 's/^/BOOTTEST: xl.cfg: /'

step supervisor-start
# One block per guest, by name: dom0-test.sh names them guest-612, guest-61, ...
for k in $GUEST_KERNELS; do
	tag=$(echo "$k" | tr -d .)
	printf '[domain "guest-%s"]\ndevice = [ %s ]\n%s\n\n' "$tag" "$(config_devices "$tag")" \
		"$BLOCK_EXTRA"
done > /tmp/virtio-pci.cfg
sed 's/^/BOOTTEST: config: /' /tmp/virtio-pci.cfg
xen-virtio-pcid --check --config /tmp/virtio-pci.cfg || fail "--check refused the config"
# No uid option: each worker runs as its domain's own uid once serving, in
# its sandbox, with handles restricted to its guest.
xen-virtio-pcid --config /tmp/virtio-pci.cfg 2>$LOG &
supervisor=$!
wait_for 10 grep -q 'supervising' $LOG || fail "the supervisor did not start"

# shut_down NAME: the domain has shut down (and is kept: on_poweroff = "preserve").
# A guest that crashed is destroyed (on_crash = "destroy"): fail at once with
# its panic line from the console log $log, rather than after GUEST_SECONDS.
shut_down() {
	xl list "$1" >/dev/null 2>&1 ||
		fail "the guest crashed: $(grep -m1 'Kernel panic' "$log" || tail -1 "$log")"
	xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n { exit $5 ~ /s/ ? 0 : 1 }'
}

# worker_log DOMID: the lines of domain DOMID's worker in the supervisor's log.
worker_log() { grep "dom$1: " $LOG; }

# run_guest K LAST: one guest on Linux K (6.12, 6.1) with its own worker and
# images. It is stopped by xl destroy (the supervisor stops the worker of a
# domain that is gone), the LAST one by stopping the supervisor while the
# shut-down domain still exists (each worker tears its server down).
run_guest() {
	k=$1
	last=$2
	step "xl-create[$k]"
	name=guest-$(echo "$k" | tr -d .)
	disk=/tmp/disk-$(echo "$k" | tr -d .).img
	disk2=/tmp/disk2-$(echo "$k" | tr -d .).img
	rm -f "$disk" "$disk2"
	truncate -s 64M "$disk" "$disk2" || fail "cannot make the images"
	timeout 60 xl create -p /tmp/guest.cfg "name=\"$name\"" \
		"kernel=\"/test/$k/Image\"" "ramdisk=\"/test/$k/initrd\"" 2>&1 || fail "xl create -p"
	domid=$(xl domid "$name") || fail "no domid for $name"
	echo "BOOTTEST: guest $name (Linux $k) is domain $domid"
	log=/var/log/xen/console/guest-$name.log
	tail -F "$log" 2>/dev/null &
	tail_pid=$!

	step "worker-start[$k]"
	# The supervisor saw @introduceDomain (or its poll) and started a worker.
	wait_for 30 sh -c "grep -q 'dom$domid: serving ECAM' $LOG" ||
		fail "no worker serves domain $domid"
	grep "domain $domid ($name): worker" $LOG | sed 's/^/BOOTTEST: /'
	wait_for 10 sandboxed "$domid" ||
		fail "the worker of domain $domid did not take its own uid in its sandbox"

	step "isolation[$k]"
	# What a compromised worker could do with its Xen handles: nothing beyond
	# its guest (every privcmd and evtchn fd refuses another domain, no
	# xenstore connection); the supervisor's own handles can, so the probe
	# can fail.
	worker=$(sed -n "s/.*domain $domid ($name): worker \([0-9]*\) started.*/\1/p" $LOG | tail -1)
	[ -n "$worker" ] || fail "no worker pid for domain $domid in the log"
	if command -v xvp-fd-probe >/dev/null; then
		xvp-fd-probe "$worker" > /tmp/probe.out 2>&1
		probe=$?
		sed 's/^/BOOTTEST: probe worker: /' /tmp/probe.out
		[ $probe = 0 ] || fail "worker $worker is not isolated (probe exit $probe)"
		grep -q 'privcmd: .*restricted' /tmp/probe.out || fail "the probe found no privcmd fd in worker $worker"
		xvp-fd-probe "$supervisor" > /tmp/probe.out 2>&1
		probe=$?
		sed 's/^/BOOTTEST: probe supervisor: /' /tmp/probe.out
		[ $probe = 1 ] || fail "the probe finds the supervisor isolated (exit $probe): it cannot tell"
	else
		echo "BOOTTEST: no xvp-fd-probe in this initramfs: isolation not probed"
	fi

	step "guest-run[$k]"
	# on_poweroff = "preserve": the domain stays (shut down) after the guest's
	# poweroff, so that the daemon is stopped while its domain still exists.
	timeout 10 xl unpause "$name" || fail "xl unpause"
	wait_for "$GUEST_SECONDS" shut_down "$name" || {
		fail "the guest did not power off within $GUEST_SECONDS s; its last step: $(grep '^GUEST: step' "$log" | tail -1)"
	}
	sleep 1
	kill "$tail_pid"
	grep -q '^GUEST: DONE' "$log" || fail "the guest stopped before it was done; its last step: $(grep '^GUEST: step' "$log" | tail -1)"
	if grep -q '^GUEST: FAIL' "$log"; then
		fail "guest: $(grep '^GUEST: FAIL' "$log" | head -1 | sed 's/^GUEST: FAIL //')"
	fi
	for s in modules pci blk rng blk-direct dmesg; do
		grep -q "^GUEST: ok $s " "$log" || fail "the guest did not report step $s"
	done

	step "worker-stop[$k]"
	kill -0 "$supervisor" 2>/dev/null || fail "the supervisor died"
	if [ "$last" = yes ]; then
		stop_supervisor
	else
		timeout 30 xl destroy "$name" || fail "xl destroy"
		wait_for 20 sh -c "grep -q 'domain $domid ($name) is gone' $LOG" ||
			fail "the supervisor did not notice that domain $domid is gone"
		wait_for 20 sh -c "grep -q 'dom$domid: stopping' $LOG" ||
			fail "the worker of domain $domid did not stop"
	fi
	worker_log "$domid" | sed 's/^/BOOTTEST: worker: /'
	no_seccomp_violation
	worker_log "$domid" | grep -q 'error:' && fail "the worker of domain $domid logged errors"
	[ "$last" = yes ] && { timeout 30 xl destroy "$name" || fail "xl destroy"; }

	step "image-check[$k]"
	for img in "$disk" "$disk2"; do
		got=$(dd if=$img bs=64k skip=16 count=$((PATTERN_SIZE / 65536)) 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$got" = "$PATTERN_SHA256" ] || fail "$img holds $got at 1 MiB, the guest wrote $PATTERN_SHA256"
		echo "BOOTTEST: $img holds the pattern (sha256 $got)"
	done
}

count=$(echo $GUEST_KERNELS | wc -w)
i=0
for k in $GUEST_KERNELS; do
	i=$((i + 1))
	run_guest "$k" "$([ $i = "$count" ] && echo yes || echo no)"
done
sed 's/^/BOOTTEST: supervisor: /' $LOG
grep -q 'error:' $LOG && fail "the supervisor's log has errors"
if [ -n "${DM_KERNELS:-}" ]; then
	. /test/dom0-xl-dm.sh
	run_dm_guests
fi
dmesg_check
echo "BOOTTEST: PASS"
