#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/host-deps.sh: the host (x86-64 Debian 12) packages the boot test
# needs: QEMU, the arm64 cross compiler (Xen and the daemon), flex and bison
# (Xen's Kconfig), dtc, dpkg-dev (apt-get source), cpio, kmod (modinfo),
# acpica-tools (iasl: the configure of Xen's arm64 tools wants it).
# Installs what is missing as root; otherwise prints the apt-get line.
set -eu
exec sh "$(dirname "$0")/../../mk/ensure-deps.sh" qemu-system-arm gcc-aarch64-linux-gnu \
	libc6-dev-arm64-cross flex bison device-tree-compiler dpkg-dev cpio kmod xz-utils bc \
	acpica-tools
