//! Loading Buildroot defconfigs directly (no `forge import`): a file
//! trimmed to what forge honours configures forge's options, `savedefconfig`
//! writes it back in forge names, and forge and Buildroot names mix.

use super::assert_has;
use crate::common::{Tree, steps_with};

/// The same board with only settings forge honours: an external toolchain,
/// a kernel tarball on this machine, a cpio image.
const TRIMMED_VEXPRESS: &str = r#"# Buildroot's qemu_arm_vexpress, trimmed to what forge honours
BR2_arm=y
BR2_TOOLCHAIN_EXTERNAL=y
BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y
BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX="$(ARCH)-linux-gnueabihf"
BR2_TOOLCHAIN_EXTERNAL_GCC_12=y
BR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y
BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y
BR2_LINUX_KERNEL=y
BR2_LINUX_KERNEL_CUSTOM_TARBALL=y
BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION="file:///usr/src/linux-source-6.1.tar.xz"
BR2_LINUX_KERNEL_DEFCONFIG="vexpress"
BR2_LINUX_KERNEL_DTS_SUPPORT=y
BR2_LINUX_KERNEL_INTREE_DTS_NAME="arm/vexpress-v2p-ca9"

# Images
BR2_TARGET_ROOTFS_CPIO=y
BR2_TARGET_ROOTFS_CPIO_GZIP=y
# BR2_TARGET_ROOTFS_TAR is not set
"#;

fn dot_config(t: &Tree, board: &str) -> String {
    String::from_utf8(t.read(&format!("output/{board}/.config"))).expect("utf8")
}

#[test]
fn the_trimmed_vexpress_defconfig_configures_forge_options() {
    let t = Tree::new();
    let file = "boards/br_vexpress_defconfig";
    t.write(file, TRIMMED_VEXPRESS);
    // Building only the skeleton keeps this fast: no kernel, no BusyBox.
    t.ok(&[file, "skeleton"]);
    assert_eq!(steps_with(&t.record("br_vexpress"), "built"), ["skeleton"]);
    let dot = dot_config(&t, "br_vexpress");
    assert_has(
        &dot,
        &[
            "TARGET_ARCH=\"arm\"",
            "PACKAGE_TOOLCHAIN_EXTERNAL=y",
            "TOOLCHAIN_EXTERNAL_PREFIX=\"arm-linux-gnueabihf-\"",
            "PACKAGE_LINUX=y",
            "LINUX_SOURCE=\"tarball\"",
            "LINUX_TARBALL_URL=\"file:///usr/src/linux-source-6.1.tar.xz\"",
            "LINUX_DEFCONFIG=\"vexpress_defconfig\"",
            // Linux 6.1 keeps 32-bit arm device trees flat.
            "LINUX_DTS=\"vexpress-v2p-ca9\"",
            "LINUX_IMAGE=\"zImage\"",
            "ROOTFS_CPIO=y",
            "ROOTFS_CPIO_COMPRESSION=\"gzip\"",
            // Buildroot's defaults, which the file does not state.
            "PACKAGE_BUSYBOX=y",
            "PACKAGE_SKELETON=y",
            "SYSTEM_HOSTNAME=\"buildroot\"",
            "SYSTEM_BANNER=\"Welcome to Buildroot\"",
        ],
    );
    assert!(!dot.contains("BR2_"), "{dot}");
}

#[test]
fn savedefconfig_writes_a_buildroot_defconfig_back_in_forge_names() {
    let t = Tree::new();
    let file = "boards/br_vexpress_defconfig";
    t.write(file, TRIMMED_VEXPRESS);
    t.ok(&[file, "skeleton"]);
    let before = dot_config(&t, "br_vexpress");
    t.ok(&["savedefconfig"]);
    let saved = String::from_utf8(t.read(file)).expect("utf8");
    assert!(!saved.contains("BR2_"), "{saved}");
    assert!(
        saved.starts_with("# Buildroot's qemu_arm_vexpress, trimmed"),
        "{saved}"
    );
    assert!(saved.contains("\n# Images\n"), "comments stay:\n{saved}");
    assert_has(
        &saved,
        &[
            "PACKAGE_LINUX=y",
            "LINUX_DTS=\"vexpress-v2p-ca9\"",
            "PACKAGE_BUSYBOX=y",
        ],
    );
    // The forge-name file means the same configuration, and saves unchanged.
    t.ok(&[file, "skeleton"]);
    assert_eq!(dot_config(&t, "br_vexpress"), before);
    t.ok(&["savedefconfig"]);
    assert_eq!(String::from_utf8(t.read(file)).expect("utf8"), saved);
}

#[test]
fn forge_and_buildroot_names_mix_in_one_file() {
    let t = Tree::new();
    let file = "boards/mixed_defconfig";
    t.write(
        file,
        "BR2_arm=y\nPACKAGE_TOOLCHAIN_EXTERNAL=y\nBR2_LINUX_KERNEL=y\n\
         LINUX_SOURCE_PATH=\"/usr/src/linux-source-6.1.tar.xz\"\n\
         BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG=y\n\
         BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE=\"$(TOPDIR)/boards/qemu_arm_vexpress/linux.config\"\n\
         BR2_TARGET_GENERIC_HOSTNAME=\"vexpress\"\n# BR2_PACKAGE_BUSYBOX is not set\n\
         PACKAGE_BUSYBOX_STATIC=y\n# BR2_TARGET_ROOTFS_TAR is not set\nQEMU_MACHINE=\"vexpress-a9\"\n",
    );
    t.ok(&[file, "skeleton"]);
    let dot = dot_config(&t, "mixed");
    assert_has(
        &dot,
        &[
            "PACKAGE_LINUX=y",
            "LINUX_CONFIG_FILE=\"boards/qemu_arm_vexpress/linux.config\"",
            "SYSTEM_HOSTNAME=\"vexpress\"",
            "# PACKAGE_BUSYBOX is not set",
            "PACKAGE_BUSYBOX_STATIC=y",
            "QEMU_MACHINE=\"vexpress-a9\"",
        ],
    );

    // A Buildroot path forge cannot resolve is named with its line.
    t.write(
        file,
        "BR2_arm=y\nPACKAGE_TOOLCHAIN_EXTERNAL=y\n# BR2_TARGET_ROOTFS_TAR is not set\n\
         BR2_ROOTFS_DEVICE_TABLE=\"$(BR2_EXTERNAL_ACME_PATH)/board/perms.txt\"\n",
    );
    let err = t.fails(&[file, "skeleton"]);
    assert!(
        err.contains("mixed_defconfig:4: BR2_ROOTFS_DEVICE_TABLE="),
        "{err}"
    );
    assert!(
        err.contains("which tree `$(BR2_EXTERNAL_ACME_PATH)` is"),
        "{err}"
    );
}
