#!/bin/sh
# Runs inside the Debian root filesystem as its root after the packages are
# installed (natively: the target is amd64 like the build machine).
set -e
# DHCP on every wired interface (overlay: /etc/systemd/network).
systemctl enable systemd-networkd.service
# No SSH host keys in a shared image: ssh.service makes them at boot
# (overlay: ssh.service.d/host-keys.conf).
rm -f /etc/ssh/ssh_host_*
# The initramfs is held in RAM: no documentation but the copyright files
# (which the licenses ask to ship), no manual pages or translations, and
# no apt lists or caches.
find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
    /var/cache/apt/*.bin /var/lib/apt/lists/*
