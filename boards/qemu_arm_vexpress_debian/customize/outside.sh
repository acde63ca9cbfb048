#!/bin/sh
# Runs on the build machine with the root filesystem's path as $1, after
# inside.sh: seed 001's "outside the chroot" phase.
set -e
echo "customized outside: $(wc -l < "$1/var/lib/dpkg/status") status lines" >> "$1/etc/forge-customized"
