# SPDX-License-Identifier: MIT
#
# tests/boot/env.sh: sourced by the boot-test scripts. Paths and the private
# apt setup; nothing here touches the host's apt state or installs arm64
# packages into the host.

BOOT_SRC=${BOOT_SRC:-$(cd "$(dirname "$0")" && pwd)}
REPO=$(cd "$BOOT_SRC/../.." && pwd)
BOOT=${BOOT_DIR:-$REPO/build/boot}
mkdir -p "$BOOT"
BOOT=$(cd "$BOOT" && pwd)

DEBS=$BOOT/debs			# downloaded .deb files (names carry the version)
# bookworm arm64 packages, unpacked (dom0 + sysroot); BOOT_ROOT: another tree
# (build-xen-tarball.sh's root-arm64-xenSERIES, for mkinitramfs.sh)
ROOT=${BOOT_ROOT:-$BOOT/root-arm64}
KROOT=$BOOT/kernel		# kernels and their modules, unpacked
LOGS=$BOOT/logs

XEN_SERIES=4.17

# On every kernel's command line (dom0 and guests; guest.cfg has a copy):
# under QEMU's software emulation a vCPU can stall for many seconds, so the
# soft-lockup, RCU-stall, workqueue and hung-task reports get their highest
# thresholds rather than being ignored (the run fails on kernel warnings).
TCG_CMDLINE="watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300 workqueue.watchdog_thresh=300 sysctl.kernel.hung_task_timeout_secs=600"
# BOOT_TEST_INJECT_KWARN=1: every kernel that reads it (dom0, the dom0less
# guests) writes a WARNING: line to its log before the dmesg check, which
# must then fail the run: the proof that the check sees what the console hides.
if [ "${BOOT_TEST_INJECT_KWARN:-0}" = 1 ]; then
	TCG_CMDLINE="$TCG_CMDLINE xvp_inject_kwarn=1"
fi
# The emulated CPU model (BOOT_TEST_CPU): any arm64 model with EL2 that QEMU knows.
QEMU_CPU=${BOOT_TEST_CPU:-cortex-a57}

log() { printf '%s\n' "boot-test: $*" >&2; }
die() { printf '%s\n' "boot-test: $*" >&2; exit 1; }

# apt_in SUITE ARGS...: apt-get/apt-cache with a private state directory under
# build/boot/apt/SUITE, arm64 binary packages of SUITE, and bookworm's sources.
apt_opts() {
	d=$BOOT/apt/$1
	echo "-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=/dev/null" \
	     "-o Dir::State::Lists=$d/lists -o Dir::State::Status=$d/status" \
	     "-o Dir::Cache=$d/cache -o APT::Architecture=arm64 -o APT::Architectures=arm64" \
	     "-o Debug::NoLocking=1 -o APT::Sandbox::User=root"
}
apt_setup() {
	d=$BOOT/apt/$1
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	[ -f "$d/status" ] || : > "$d/status"
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	case $1 in
	bookworm) cat > "$d/sources.list" <<-END
		deb [signed-by=$key] http://deb.debian.org/debian bookworm main
		deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
		deb-src [signed-by=$key] http://deb.debian.org/debian bookworm main
		END
		;;
	trixie) cat > "$d/sources.list" <<-END
		deb [signed-by=$key] http://deb.debian.org/debian trixie main
		END
		;;
	bullseye) # main only: its last point release's Linux 5.10 (the archive
		# here does not serve bullseye-security's newer kernel package)
		cat > "$d/sources.list" <<-END
		deb [signed-by=$key] http://deb.debian.org/debian bullseye main
		END
		;;
	esac
	# Refresh the lists once a day at most (a warm run needs no network).
	if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		# shellcheck disable=SC2046
		apt-get $(apt_opts "$1") -q update >&2 || die "apt-get update ($1) failed"
	fi
}
apt_get() { s=$1; shift; apt-get $(apt_opts "$s") "$@"; }
apt_cache() { s=$1; shift; apt-cache $(apt_opts "$s") "$@"; }

# step NAME SECONDS CMD...: run CMD with a timeout; on failure print FAIL and exit.
step() {
	name=$1 secs=$2; shift 2
	log "step $name (timeout ${secs}s)"
	t0=$(date +%s)
	if ! timeout --foreground "$secs" "$@"; then
		echo "FAIL: $name"
		exit 1
	fi
	log "step $name done in $(($(date +%s) - t0)) s"
	stage_time "$name" $(($(date +%s) - t0))
}
# stage_time NAME SECONDS: noted in $STAGE_TIMES (if set) for boot-test.sh's summary.
stage_time() {
	[ -n "${STAGE_TIMES:-}" ] && echo "$1 $2 s" >> "$STAGE_TIMES"
	return 0
}
