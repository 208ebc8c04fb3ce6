#!/usr/bin/env bash
# Produces the dtb a VM under the test monitor boots with: QEMU's own dtb for
# the exact machine (dumped with dumpdtb), plus /chosen (bootargs, initrd)
# and reserved-memory nodes: the CSM window (compatible "arm,csm-window",
# the kmod finds it there), the monitor and node 1 (all no-map).
#   make-dtb.sh OUT.dtb INITRD_SIZE BOOTARGS QEMU_MACHINE_ARGS...
set -euo pipefail
out=${1:?out dtb}; initrd_size=${2:?initrd size}; bootargs=${3:?bootargs}; shift 3
# Addresses: tests/vm/rsi-monitor/layout.h.
initrd_start=0x48000000
base=$out.base
qemu-system-aarch64 "$@" -machine dumpdtb="$base" -display none -nographic >/dev/null 2>&1 ||
  { echo "make-dtb: qemu dumpdtb failed" >&2; exit 1; }
{
  dtc -q -I dtb -O dts "$base"
  cat <<DTS
/ {
	chosen {
		bootargs = "$bootargs";
		linux,initrd-start = <0x0 $initrd_start>;
		linux,initrd-end = <0x0 $(printf '0x%x' $((initrd_start + initrd_size)))>;
	};
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		csm-window@5c000000 {
			compatible = "arm,csm-window";
			reg = <0x0 0x5c000000 0x0 0x3e00000>;
			no-map;
		};
		csm-monitor@5fe00000 {
			reg = <0x0 0x5fe00000 0x0 0x200000>;
			no-map;
		};
		csm-node1@60000000 {
			reg = <0x0 0x60000000 0x0 0x4000000>;
			no-map;
		};
	};
};
DTS
} >"$out.dts"
dtc -q -I dts -O dtb -o "$out" "$out.dts" || { echo "make-dtb: dtc failed on $out.dts" >&2; exit 1; }
rm -f "$base"
