#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/boot/guest-fragment.sh [FIRST_SPI]: print the guest's partial device
# tree (DTS) for xl's device_tree= option: the daemon's default host bridge,
# pci-host-ecam-generic at ECAM 0x10000000 (256 MiB), 32-bit BAR window
# 0x23000000+256M, 64-bit prefetchable window 0x100000000+4G, and INTx on SPIs
# FIRST..FIRST+3 (default 44) with the standard swizzle:
#   SPI = FIRST + (device + pin - 1) % 4, pin 1..4 for INTA..INTD.
# The guest's GIC is phandle 65000 (0xfde8) with #address-cells = <0>, so each
# interrupt-map entry has 8 cells: devfn.hi 0 0 pin, GIC, GIC_SPI SPI-32 level.
# A fallback for a daemon without `xen-virtio-pcid fdt` (dom0-test.sh uses
# that when it is there), and an independent statement of the same node.
set -eu
first=${1:-44}
map=""
for dev in 0 1 2 3; do
	for pin in 1 2 3 4; do
		spi=$((first + (dev + pin - 1) % 4))
		map="$map
				$(printf '0x%x 0 0 %d 0xfde8 0 %d 4' $((dev << 11)) "$pin" $((spi - 32)))"
	done
done
cat <<END
/dts-v1/;

/ {
	#address-cells = <2>;
	#size-cells = <2>;

	passthrough {
		compatible = "simple-bus";
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;

		pcie@10000000 {
			compatible = "pci-host-ecam-generic";
			device_type = "pci";
			reg = <0 0x10000000 0 0x10000000>;
			bus-range = <0 255>;
			#address-cells = <3>;
			#size-cells = <2>;
			ranges = <0x02000000 0 0x23000000 0 0x23000000 0 0x10000000>,
				 <0x43000000 1 0 1 0 1 0>;
			#interrupt-cells = <1>;
			interrupt-map-mask = <0x1800 0 0 7>;
			interrupt-map = <$map
			>;
			dma-coherent;
		};
	};
};
END
