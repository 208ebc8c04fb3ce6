#!/bin/busybox sh
# shellcheck shell=dash
# /init of the VM test initramfs: mount, run /test.sh for the suite named on
# the kernel command line (vmtest=<suite>), dump the kernel log, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
suite=$(sed -n 's/.*vmtest=\([a-z0-9_-]*\).*/\1/p' /proc/cmdline)
echo "VMTEST BOOTED suite=$suite"
sh /test.sh "$suite"
echo "VMTEST DMESG BEGIN"
dmesg
echo "VMTEST DMESG END"
echo "VMTEST DONE"
poweroff -f
