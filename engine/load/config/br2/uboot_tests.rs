//! Unit tests of the Buildroot U-Boot symbols (BR2_TARGET_UBOOT_*):
//! source, configuration, binary formats, SPL, environment image and boot
//! script translated into the uboot recipe's options.

use super::*;

const UBOOT: &str = "BR2_TARGET_UBOOT=y\nBR2_TARGET_UBOOT_BUILD_SYSTEM_KCONFIG=y\n\
                     BR2_TARGET_UBOOT_CUSTOM_TARBALL=y\n\
                     BR2_TARGET_UBOOT_CUSTOM_TARBALL_LOCATION=\"file:///src/u-boot-2023.01.tar.bz2\"\n";

#[test]
fn source_defconfig_fragments_and_formats() {
    let v = values(&format!(
        "{BASE}{UBOOT}BR2_TARGET_UBOOT_BOARD_DEFCONFIG=\"CHIP_pro\"\n\
         BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES=\"board/chip/uboot.fragment\"\n\
         BR2_TARGET_UBOOT_FORMAT_IMG=y\nBR2_TARGET_UBOOT_FORMAT_CUSTOM=y\n\
         BR2_TARGET_UBOOT_FORMAT_CUSTOM_NAME=\"u-boot-sunxi-with-spl.bin\"\n\
         BR2_TARGET_UBOOT_SPL=y\nBR2_TARGET_UBOOT_SPL_NAME=\"spl/sunxi-spl-with-ecc.bin\"\n\
         BR2_TARGET_UBOOT_NEEDS_DTC=y\n"
    ));
    assert!(v["PACKAGE_UBOOT"].is_true());
    assert_eq!(text_of(&v, "UBOOT_SOURCE"), "tarball");
    assert_eq!(
        text_of(&v, "UBOOT_TARBALL_URL"),
        "file:///src/u-boot-2023.01.tar.bz2"
    );
    assert_eq!(text_of(&v, "UBOOT_BOARD_DEFCONFIG"), "CHIP_pro");
    assert_eq!(
        text_of(&v, "UBOOT_CONFIG_FRAGMENTS"),
        "board/chip/uboot.fragment"
    );
    // u-boot.bin is Buildroot's default format.
    assert!(v["UBOOT_FORMAT_BIN"].is_true());
    assert!(v["UBOOT_FORMAT_IMG"].is_true());
    assert!(!v["UBOOT_FORMAT_DTB_BIN"].is_true());
    assert_eq!(
        text_of(&v, "UBOOT_FORMAT_CUSTOM_NAME"),
        "u-boot-sunxi-with-spl.bin"
    );
    assert!(v["UBOOT_SPL"].is_true());
    assert_eq!(text_of(&v, "UBOOT_SPL_NAME"), "spl/sunxi-spl-with-ecc.bin");
}

#[test]
fn environment_image_and_boot_script() {
    let v = values(&format!(
        "{BASE}{UBOOT}BR2_TARGET_UBOOT_BOARD_DEFCONFIG=\"qemu_arm64\"\n\
         # BR2_TARGET_UBOOT_FORMAT_BIN is not set\nBR2_TARGET_UBOOT_FORMAT_DTB_BIN=y\n\
         BR2_TARGET_UBOOT_ENVIMAGE=y\n\
         BR2_TARGET_UBOOT_ENVIMAGE_SOURCE=\"$(TOPDIR)/board/x/uboot-env.txt\"\n\
         BR2_TARGET_UBOOT_ENVIMAGE_SIZE=\"0x400000\"\nBR2_TARGET_UBOOT_ENVIMAGE_REDUNDANT=y\n\
         BR2_TARGET_UBOOT_BOOT_SCRIPT=y\nBR2_TARGET_UBOOT_BOOT_SCRIPT_SOURCE=\"board/x/boot.cmd\"\n\
         BR2_TARGET_UBOOT_CUSTOM_MAKEOPTS=\"V=1\"\n"
    ));
    assert!(!v["UBOOT_FORMAT_BIN"].is_true());
    assert!(v["UBOOT_FORMAT_DTB_BIN"].is_true());
    assert!(v["UBOOT_ENVIMAGE"].is_true());
    assert_eq!(
        text_of(&v, "UBOOT_ENVIMAGE_SOURCE"),
        "board/x/uboot-env.txt"
    );
    assert_eq!(text_of(&v, "UBOOT_ENVIMAGE_SIZE"), "0x400000");
    assert!(v["UBOOT_ENVIMAGE_REDUNDANT"].is_true());
    assert!(v["UBOOT_BOOT_SCRIPT"].is_true());
    assert_eq!(text_of(&v, "UBOOT_BOOT_SCRIPT_SOURCE"), "board/x/boot.cmd");
    assert_eq!(text_of(&v, "UBOOT_MAKE_OPTS"), "V=1");
}

#[test]
fn what_forge_cannot_build_is_refused() {
    // Mercurial is a source forge does not fetch.
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_UBOOT=y\nBR2_TARGET_UBOOT_CUSTOM_HG=y\n\
         BR2_TARGET_UBOOT_BOARD_DEFCONFIG=\"qemu_arm64\"\n"
    ));
    assert!(
        got.iter()
            .any(|(_, s)| s.contains("BR2_TARGET_UBOOT_CUSTOM_HG")),
        "{got:?}"
    );
    let got = unsupported(&format!("{BASE}{UBOOT}BR2_TARGET_UBOOT_FORMAT_ITB=y\n"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].1.contains("BR2_TARGET_UBOOT_FORMAT_ITB=y"),
        "{got:?}"
    );
}
