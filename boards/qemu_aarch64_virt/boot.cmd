# Boot script of qemu_aarch64_virt (compiled into boot.scr). U-Boot's distro
# boot found it on the bootable FAT partition of ${devtype} ${devnum} and
# set those variables; the kernel gets the device tree qemu made, which
# U-Boot runs with (fdtcontroladdr).
setenv bootargs "console=ttyAMA0 root=/dev/vda2 rootwait rw"
load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} Image
booti ${kernel_addr_r} - ${fdtcontroladdr}
