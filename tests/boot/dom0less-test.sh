#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/dom0less-test.sh K:HELPER,...: the dom0less boot run as dom0 runs
# it. Xen started the guests from /chosen/domU1, domU2, ... (domain 1 runs
# Linux K with the C rescan helper or the sh one, HELPER c or sh; then domain
# 2, ...) before dom0, with trap-unmapped-accesses = <0>: their buses were
# empty. Here dom0 introduces them to xenstore (init-dom0less), starts the
# supervisor with a [domain N] block per guest (it runs one worker each), and follows the guests' consoles in Xen's console ring
# (`xl dmesg`: their vpl011 lines read "(XEN) DOMn: ..."). Same report lines
# as dom0-test.sh: "BOOTTEST: step", "BOOTTEST: FAIL STEP: why", "BOOTTEST: PASS";
# plus "BOOTTEST: clock daemon-attached[n]", each after `xl debug-keys t`,
# whose "Synced stime skew" line in Xen's log carries Xen's timestamp: the host takes
# the time from there to the guest's "DOMn: GUEST: clock disk-visible" line.
. /test/params
guests=$(echo "$1" | tr ',' ' ')

. /test/dom0-lib.sh
fail() {
	echo "BOOTTEST: FAIL $STEP: $*"
	xenstore-ls -fp /local/domain 2>/dev/null | grep -v '^/local/domain/0/' | sed 's/^/BOOTTEST: xenstore: /' | head -80
	[ -f $LOG ] && sed 's/^/BOOTTEST: supervisor: /' $LOG
	exit 1
}
LOG=/tmp/supervisor.log
block() { # DOMID: its block of the supervisor's config (dom0less guests: by ID)
	printf '[domain %s]\ndevice = [ "blk,path=/tmp/disk-%s.img", "rng",\n' "$1" "$1"
	printf '           "blk,path=/tmp/disk2-%s.img,direct=on", "net,bridge=br0" ]\n%s\n\n' "$1" "$BLOCK_EXTRA"
}
guest_log() { xl dmesg | sed -n "s/^.*DOM$1: //p" | tr -d '\r'; }
# guest_done DOMID: true once the guest reported DONE; a guest that panicked
# fails the run at once (with where: the faulting function), not after GUEST_SECONDS.
guest_done() {
	log=$(guest_log "$1")
	echo "$log" | grep -q '^GUEST: DONE' && return 0
	echo "$log" | grep -q 'Kernel panic' || return 1
	fail "guest $1 panicked: $(echo "$log" | grep -m1 'Kernel panic' | sed 's/^\[ *[0-9.]*\] //')" \
		"($(echo "$log" | grep -m1 'pc : ' | sed 's/^\[ *[0-9.]*\] //'))"
}

step xenstored
xenstored --pid-file /var/run/xenstored.pid || fail "xenstored did not start"
wait_for 20 xenstore-exists / 2>/dev/null || fail "xenstore does not answer"
timeout 30 xen-init-dom0 || fail "xen-init-dom0"

step init-dom0less
timeout 60 init-dom0less || fail "init-dom0less"
domid=0
for g in $guests; do
	domid=$((domid + 1))
	xenstore-exists "/local/domain/$domid" || fail "domain $domid ($g) is not in xenstore"
	echo "BOOTTEST: domain $domid: Linux ${g%:*}, ${g#*:} helper, in xenstore as $(xenstore-read "/local/domain/$domid/name" 2>/dev/null)"
done

make_bridge

step supervisor-start
domid=0
for g in $guests; do
	domid=$((domid + 1))
	rm -f "/tmp/disk-$domid.img" "/tmp/disk2-$domid.img"
	truncate -s 64M "/tmp/disk-$domid.img" "/tmp/disk2-$domid.img" || fail "cannot make the images"
	block "$domid"
done > /tmp/virtio-pci.cfg
sed 's/^/BOOTTEST: config: /' /tmp/virtio-pci.cfg
# No uid option: each worker takes its domain's own uid (dom0-lib.sh, sandboxed).
xen-virtio-pcid --config /tmp/virtio-pci.cfg 2>$LOG &
supervisor=$!
domid=0
for g in $guests; do
	domid=$((domid + 1))
	# Poll finely: the moment the guest was told (by the supervisor, for its
	# worker, which holds no xenstore connection) is the reference.
	n=0
	while ! grep -q "xenstore: /local/domain/$domid/data/virtio-pci/generation = 1" $LOG; do
		kill -0 "$supervisor" 2>/dev/null || fail "the supervisor exited"
		n=$((n + 1))
		[ $n -lt 1200 ] || fail "no worker wrote domain $domid's generation key within 60 s"
		sleep 0.05
	done
	xl debug-keys t
	echo "BOOTTEST: clock daemon-attached[$domid] uptime $(cut -d' ' -f1 /proc/uptime)"
done
domid=0
for g in $guests; do
	domid=$((domid + 1))
	wait_for 10 tap_on_bridge "$domid" || fail "no tap vpci$domid.0 on br0 for domain $domid"
done
sed 's/^/BOOTTEST: supervisor: /' $LOG

step guests-run
domid=0
for g in $guests; do
	domid=$((domid + 1))
	wait_for "$GUEST_SECONDS" guest_done "$domid" ||
		fail "guest $domid not done within $GUEST_SECONDS s; its last step: $(guest_log $domid | grep '^GUEST: step' | tail -1)"
done
sleep 1
domid=0
for g in $guests; do
	domid=$((domid + 1))
	guest_log "$domid" | grep '^GUEST: ' | sed "s/^/BOOTTEST: guest $domid: /"
	if guest_log "$domid" | grep -q '^GUEST: FAIL'; then
		fail "guest $domid: $(guest_log "$domid" | grep '^GUEST: FAIL' | head -1 | sed 's/^GUEST: FAIL //')"
	fi
	for s in modules bus-empty xenstore rescan pci blk rng blk-direct net net-ping dmesg; do
		guest_log "$domid" | grep -q "^GUEST: ok $s " || fail "guest $domid did not report step $s"
	done
	guest_log "$domid" | grep -q "^GUEST: start ${g%:*}" || fail "guest $domid does not run Linux ${g%:*}"
done

step supervisor-stop
# SIGTERM: every worker tears its server down while its domain still runs.
stop_supervisor
domid=0
for g in $guests; do
	domid=$((domid + 1))
	grep -q "dom$domid: stopping" $LOG || fail "the worker of domain $domid did not log its teardown"
	sandboxed "$domid" || fail "the worker of domain $domid did not take its own uid in its sandbox"
done
no_seccomp_violation
grep -q 'error:' $LOG && fail "the supervisor or a worker logged errors"

step image-check
domid=0
for g in $guests; do
	domid=$((domid + 1))
	for img in "/tmp/disk-$domid.img" "/tmp/disk2-$domid.img"; do
		got=$(dd if="$img" bs=64k skip=16 count=$((PATTERN_SIZE / 65536)) 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$got" = "$PATTERN_SHA256" ] || fail "$img holds $got at 1 MiB, the guest wrote $PATTERN_SHA256"
		echo "BOOTTEST: $img holds the pattern (sha256 $got)"
	done
done
dmesg_check
echo "BOOTTEST: PASS"
