#!/bin/sh
# bcm2711-rpi-4-b-qemu.dtb: the board's device tree as qemu's raspi4b
# machine can run it, for forge run and forge test (QEMU_DTB); the SD card
# keeps the real one. qemu (10.0) attaches its SD card to the SoC's SDHCI
# controller (mmc@7e300000), which the Pi 4's device tree wires to the WiFi
# chip through a power sequence whose reset line is on the firmware's GPIO
# expander; qemu's firmware does not answer for that expander, so the
# controller never comes up and the kernel waits for its root device for
# ever. The copy drops that power sequence. Argument: the images dir.
set -eu
images=$1
dtb="$images/bcm2711-rpi-4-b.dtb"
qemu_dtb="$images/bcm2711-rpi-4-b-qemu.dtb"
cp "$dtb" "$qemu_dtb.tmp"
fdtput -d "$qemu_dtb.tmp" /soc/mmc@7e300000 mmc-pwrseq
mv "$qemu_dtb.tmp" "$qemu_dtb"
