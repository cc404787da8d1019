# SPDX-License-Identifier: MIT
#
# tests/boot/dom0-xl-dm.sh: sourced by dom0-test.sh once its supervisor has
# stopped: xl guests started by plain `xl create vm.cfg`, with the daemon as
# their device model (docs/xl.md) and no service running. For each kernel
# of DM_KERNELS: xl create without -p succeeds with no libxl error, the
# guest's first PCI scan finds the devices, its disks hold what it wrote,
# its kernel never waits for the vfb/vkbd trigger's devices; the first
# guest is rebooted with `xl reboot` once its scan is done (a new domain,
# a new device model, the old one stopped); each guest's poweroff stops its
# device model in order (its log line) and leaves no domain behind, and so
# does `xl destroy` of one more guest. Then
# vfb = [ "vnc=1" ] and a channel each make xl create fail, with our reason
# in the device model's log and nothing left.
# Uses dom0-test.sh's fail, step, wait_for, $DM_KERNELS, $GUEST_SECONDS, $PATTERN_*.

DM_PROGRAM=/bin/xen-virtio-pcid

# dm_cfg NAME K TAG: the whole xl config of a device-model guest on Linux K.
dm_cfg() {
	grep -Ev '^(on_poweroff|on_reboot) ' /tmp/guest.cfg
	cat <<-END
	name = "$1"
	kernel = "/test/$2/Image"
	ramdisk = "/test/$2/initrd"
	on_poweroff = "destroy"
	on_reboot = "restart"
	device_model_version = "qemu-xen"
	device_model_override = "$DM_PROGRAM"
	device_model_args = [ "--device=blk,path=/tmp/dm-disk-$3.img", "--device=rng",
	                      "--device=blk,path=/tmp/dm-disk2-$3.img,direct=on", "--fdt=/tmp/guest.dtb" ]
	vfb = [ "vnc=0" ]
	END
}

# dm_logs NAME: the device model's logs of guest NAME, oldest first (libxl rotates them).
dm_logs() {
	for f in /var/log/xen/qemu-dm-$1.log.3 /var/log/xen/qemu-dm-$1.log.2 \
		 /var/log/xen/qemu-dm-$1.log.1 /var/log/xen/qemu-dm-$1.log; do
		[ -f "$f" ] && cat "$f"
	done
}

# only_dom0: no domain but dom0 is left (none dying, held by a mapping).
only_dom0() { [ "$(xl list | tail -n +2 | wc -l)" = 1 ]; }

# dm_ready NAME DOMID: the device model of DOMID said it is ready, its
# process is the one libxl recorded, the trigger's nodes are gone.
dm_ready() {
	dm_logs "$1" | grep -q "device model of domain $2 ($1) ready" ||
		fail "no ready line for domain $2 in qemu-dm-$1.log"
	pid=$(xenstore-read "/local/domain/$2/image/device-model-pid") ||
		fail "libxl recorded no device-model pid for domain $2"
	tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "^$DM_PROGRAM -xen-domid $2 " ||
		fail "process $pid is not our device model of domain $2: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
	echo "BOOTTEST: domain $2's device model is process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
	for node in "/local/domain/$2/device/vfb" "/local/domain/$2/device/vkbd" \
		    "/local/domain/0/backend/vfb/$2" "/libxl/$2/device/vfb"; do
		xenstore-exists "$node" 2>/dev/null && fail "$node is still there"
	done
	return 0
}

# probe_answered NAME: Xen 4.20+ ran the probe first, which we answered until libxl's SIGHUP.
probe_answered() {
	p=/var/log/xen/qemu-probe-$1.log
	[ -f "$p" ] || fail "Xen $XEN_VERSION ran no probe (no $p)"
	sed 's/^/BOOTTEST: qemu-probe: /' "$p"
	grep -q 'QMP: query-command-line-options answered' "$p" || fail "the probe was not asked its options"
	grep -q 'QMP: quit answered' "$p" || fail "the probe was not asked to quit"
	grep -q 'Hangup received: the probe ends' "$p" || fail "the probe did not end on libxl's SIGHUP"
}

# dm_stopped NAME DOMID: its device model logged the orderly stop libxl asked for.
dm_stopped() {
	dm_logs "$1" | grep -q "Hangup received: stopping (device model of domain $2)"
}

# dm_create NAME: xl create alone; no libxl error; its domid in $domid.
dm_create() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 120 xl create "/tmp/$1.cfg" > /tmp/xl-create.out 2>&1 ||
		fail "xl create $1: $(tr '\n' ' ' < /tmp/xl-create.out) $(dm_logs "$1" | tail -3 | tr '\n' ' ')"
	sed 's/^/BOOTTEST: xl create: /' /tmp/xl-create.out
	if grep -qi 'libxl: error' /tmp/xl-create.out; then
		# What the device model and the probe said, for the next engineer.
		for f in "/var/log/xen/qemu-dm-$1.log" "/var/log/xen/qemu-probe-$1.log"; do
			[ -f "$f" ] && sed "s|^|BOOTTEST: $(basename "$f"): |" "$f"
		done
		fail "xl create $1 reported a libxl error"
	fi
	domid=$(xl domid "$1") || fail "no domid for $1"
	echo "BOOTTEST: xl create $1 took $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.2f", b - a }') s (device model ready, QMP answered, guest unpaused)"
	dm_logs "$1" | grep 'QMP: ' | sed 's/^/BOOTTEST: /'
}

# new_domid NAME OLD: NAME exists with a domain ID other than OLD.
new_domid() {
	id=$(xl domid "$1" 2>/dev/null) && [ "$id" != "$2" ]
}

# new_device_model NAME DOMID: DOMID's device model said it is ready.
new_device_model() {
	dm_logs "$1" | grep -q "device model of domain $2 ($1) ready"
}

# dm_reboot NAME LOG: xl reboot once the first scan is done; the new domain's ID in $domid.
dm_reboot() {
	old=$domid
	wait_for "$GUEST_SECONDS" grep -q '^GUEST: ok pci' "$2" || fail "guest $1 did not scan its devices"
	timeout 30 xl reboot "$1" || fail "xl reboot $1"
	wait_for 60 new_domid "$1" "$old" || fail "$1 did not come back with a new domain ID"
	domid=$(xl domid "$1")
	wait_for 30 dm_stopped "$1" "$old" || fail "the device model of domain $old did not stop at the reboot"
	wait_for 60 new_device_model "$1" "$domid" || fail "no new device model for domain $domid"
	echo "BOOTTEST: xl reboot $1: domain $old -> $domid, a new device model"
}

# run_dm_guest K REBOOT: one device-model guest on Linux K.
run_dm_guest() {
	k=$1
	tag=$(echo "$k" | tr -d .)
	name=dm-$tag
	step "dm-create[$k]"
	rm -f "/tmp/dm-disk-$tag.img" "/tmp/dm-disk2-$tag.img"
	truncate -s 64M "/tmp/dm-disk-$tag.img" "/tmp/dm-disk2-$tag.img" || fail "cannot make the images"
	dm_cfg "$name" "$k" "$tag" > "/tmp/$name.cfg"
	grep -E '^(device_model|vfb| +")' "/tmp/$name.cfg" | sed 's/^/BOOTTEST: xl.cfg: /'
	log=/var/log/xen/console/guest-$name.log
	rm -f "$log"
	dm_create "$name"
	echo "BOOTTEST: guest $name (Linux $k) is domain $domid, created by xl create alone"
	dm_ready "$name" "$domid"
	xen_at_least 4.20 && probe_answered "$name"
	tail -F "$log" 2>/dev/null &
	tail_pid=$!

	step "dm-guest-run[$k]"
	first=$domid
	if [ "$2" = yes ]; then
		dm_reboot "$name" "$log"
		dm_ready "$name" "$domid"
	fi
	# on_poweroff = "destroy": libxl destroys the domain and stops its device model.
	wait_for "$GUEST_SECONDS" sh -c "! xl domid '$name' >/dev/null 2>&1" ||
		fail "guest $name did not power off within $GUEST_SECONDS s; its last step: $(grep '^GUEST: step' "$log" | tail -1)"
	sleep 1
	kill "$tail_pid"
	grep -q '^GUEST: DONE' "$log" || fail "the guest stopped before it was done"
	grep -q '^GUEST: FAIL' "$log" && fail "guest: $(grep -m1 '^GUEST: FAIL' "$log")"
	for s in modules pci blk rng blk-direct dmesg; do
		grep -q "^GUEST: ok $s " "$log" || fail "the guest did not report step $s"
	done
	grep -q 'Waiting for devices to initialise' "$log" &&
		fail "the guest's kernel waited for the trigger's vfb/vkbd devices"

	step "dm-stop[$k]"
	wait_for 30 dm_stopped "$name" "$domid" ||
		fail "the device model of domain $domid did not log its stop: $(dm_logs "$name" | tail -3 | tr '\n' ' ')"
	wait_for 30 only_dom0 || fail "a domain is left: $(xl list | tail -n +3 | tr '\n' ' ')"
	wait_for 30 reaped "$pid" || fail "the device model of domain $domid (process $pid) still runs"
	dm_logs "$name" | sed 's/^/BOOTTEST: qemu-dm: /'
	dm_logs "$name" | grep -q 'error:' && fail "the device model of $name logged errors"
	echo "BOOTTEST: $name: domain $first${2:+, rebooted as $domid,} stopped by libxl, nothing left"

	step "dm-image-check[$k]"
	for img in "/tmp/dm-disk-$tag.img" "/tmp/dm-disk2-$tag.img"; do
		got=$(dd if=$img bs=64k skip=16 count=$((PATTERN_SIZE / 65536)) 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$got" = "$PATTERN_SHA256" ] || fail "$img holds $got at 1 MiB, the guest wrote $PATTERN_SHA256"
	done
}

# dm_refused CASE REASON LINES...: a guest config with LINES added fails to
# be created, REASON in its device model's log, no domain left.
dm_refused() {
	what=$1 name=dm-refused-$1 reason=$2
	shift 2
	{ dm_cfg "$name" "$(echo $DM_KERNELS | cut -d' ' -f1)" refused | grep -v '^vfb '
	  for line in "$@"; do echo "$line"; done; } > "/tmp/$name.cfg"
	if timeout 120 xl create "/tmp/$name.cfg" > /tmp/xl-create.out 2>&1; then
		fail "xl create accepted $what"
	fi
	sed 's/^/BOOTTEST: xl create: /' /tmp/xl-create.out
	dm_logs "$name" | grep -q "$reason" ||
		fail "$what: the device model's log lacks '$reason': $(dm_logs "$name" | tr '\n' ' ')"
	wait_for 30 only_dom0 || fail "$what: a domain is left: $(xl list | tail -n +3 | tr '\n' ' ')"
	echo "BOOTTEST: $what refused: $(dm_logs "$name" | grep "$reason")"
}

# run_dm_destroy K: a guest on Linux K destroyed by `xl destroy` once its
# first PCI scan is done: libxl stops its device model the same way.
run_dm_destroy() {
	step "dm-destroy[$1]"
	name=dm-destroy
	rm -f /tmp/dm-disk-destroy.img /tmp/dm-disk2-destroy.img
	truncate -s 64M /tmp/dm-disk-destroy.img /tmp/dm-disk2-destroy.img || fail "cannot make the images"
	dm_cfg "$name" "$1" destroy > "/tmp/$name.cfg"
	log=/var/log/xen/console/guest-$name.log
	rm -f "$log"
	dm_create "$name"
	dm_ready "$name" "$domid"
	wait_for "$GUEST_SECONDS" grep -q '^GUEST: ok pci' "$log" || fail "guest $name did not scan its devices"
	timeout 30 xl destroy "$name" || fail "xl destroy $name"
	wait_for 30 dm_stopped "$name" "$domid" ||
		fail "the device model of domain $domid did not log its stop: $(dm_logs "$name" | tail -3 | tr '\n' ' ')"
	wait_for 30 only_dom0 || fail "a domain is left: $(xl list | tail -n +3 | tr '\n' ' ')"
	wait_for 30 reaped "$pid" || fail "the device model of domain $domid (process $pid) still runs"
	dm_logs "$name" | grep -q 'error:' && fail "the device model of $name logged errors: $(dm_logs "$name" | grep 'error:')"
	echo "BOOTTEST: xl destroy $name: domain $domid's device model stopped, nothing left"
}

run_dm_guests() {
	reboot=yes
	for k in $DM_KERNELS; do
		run_dm_guest "$k" "$reboot"
		reboot=""
	done
	# BOOT_TEST_DM_MORE_CREATES=no (boot-test.sh) leaves these out on the newest Xen.
	[ "${DM_MORE_CREATES:-yes}" = yes ] || {
		echo "BOOTTEST: xl destroy and the refusals skipped on Xen $XEN_VERSION (BOOT_TEST_DM_MORE_CREATES=yes runs them)"
		return 0
	}
	run_dm_destroy "$(echo $DM_KERNELS | cut -d' ' -f1)"
	step dm-refusals
	dm_refused vnc "VNC is not served by this device model" 'vfb = [ "vnc=1" ]'
	dm_refused channel "channels are not served" 'vfb = [ "vnc=0" ]' \
		'channel = [ "connection=pty,name=org.xen-virtio-pci.test" ]'
}
