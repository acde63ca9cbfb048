#!/bin/sh
# Installs the firmware files of one variant ($1: pi4, pi4_x, pi4_cd,
# pi4_db, pi, pi_x, pi_cd, pi_db) from the source tree (the current
# directory) into $IMAGES_DIR/rpi-firmware/, under their upstream names,
# with the board's config.txt and cmdline.txt when their options name them.
set -eu
variant="$1"
if [ -d boot ]; then
    fw=boot # upstream's archive
elif [ -d usr/lib/raspi-firmware ]; then
    fw=usr/lib/raspi-firmware # Debian's raspi-firmware package
else
    echo "rpi-firmware: the source has neither boot/ (upstream's archive) nor usr/lib/raspi-firmware/ (Debian's raspi-firmware package)" >&2
    exit 1
fi
case "$variant" in
pi4) suffix=4 ;;
pi4_*) suffix="4${variant#pi4_}" ;;
pi) suffix="" ;;
pi_*) suffix="_${variant#pi_}" ;;
*)
    echo "rpi-firmware: unknown variant $variant" >&2
    exit 1
    ;;
esac
dest="$IMAGES_DIR/rpi-firmware"
install -D -m 0644 "$fw/start$suffix.elf" "$dest/start$suffix.elf"
install -D -m 0644 "$fw/fixup$suffix.dat" "$dest/fixup$suffix.dat"
case "$variant" in
pi | pi_*) install -D -m 0644 "$fw/bootcode.bin" "$dest/bootcode.bin" ;;
esac
if [ -n "${RPI_FIRMWARE_CONFIG_FILE:-}" ]; then
    install -D -m 0644 "$RPI_FIRMWARE_CONFIG_FILE" "$dest/config.txt"
fi
if [ -n "${RPI_FIRMWARE_CMDLINE_FILE:-}" ]; then
    install -D -m 0644 "$RPI_FIRMWARE_CMDLINE_FILE" "$dest/cmdline.txt"
fi
