#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mk/ensure-deps.sh [PACKAGE...]: make sure the Debian packages the build and
# the tests need (and any PACKAGE named, e.g. fio for `make bench`) are
# installed. As root it installs what is missing with apt-get; as anyone else
# it prints the exact apt-get line and fails.
set -eu

# libfdt-dev builds the device-tree fragment; device-tree-compiler (dtc) and
# dt-schema (dt-validate) check it in `make check`, and dtc serves --format dts.
# nbdkit and qemu-system-common (qemu-storage-daemon) serve the NBD exports of
# test_blk (its NBD tests skip where they are missing).
PACKAGES="gcc make pkg-config libxen-dev libevent-dev libcmocka-dev liburing-dev libfdt-dev libseccomp-dev libnbd-dev libxml2-dev libjson-c-dev libmnl-dev
	device-tree-compiler dt-schema nbdkit qemu-system-common $*"

missing=""
for package in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $package"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "mk/ensure-deps.sh: missing Debian packages:$missing" >&2
	echo "Install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "mk/ensure-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
