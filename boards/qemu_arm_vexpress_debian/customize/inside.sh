#!/bin/sh
# Runs inside the Debian root filesystem as its root (through qemu-user on
# the build machine), after the packages are installed: seed 001's "inside
# the chroot" phase. What it installs must be in the lock.
set -e
echo "customized inside: $(uname -m) $(dpkg --print-architecture)" > /etc/forge-customized
# The board's files are bound read-only at $FORGE_FILES.
cat "$FORGE_FILES/motd" > /etc/motd
