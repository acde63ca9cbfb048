//! Unit tests of the Buildroot filesystem image symbols: tar, ext2/3/4,
//! squashfs, UBIFS and UBI translated into forge's image options, and the
//! variants, compressions and defaults forge cannot follow reported.

use super::*;

#[test]
fn tar_is_on_by_default_like_buildroots() {
    let v = values(
        "BR2_arm=y\nBR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM=y\n\
                    BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y\n",
    );
    assert!(v["ROOTFS_TAR"].is_true());
    assert!(!values(BASE)["ROOTFS_TAR"].is_true());
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_ROOTFS_TAR=y\nBR2_TARGET_ROOTFS_TAR_XZ=y\nBR2_TARGET_ROOTFS_TAR_OPTIONS=\"-v\"\n"
    ));
    assert_eq!(
        got,
        [
            (Some(7), "BR2_TARGET_ROOTFS_TAR_XZ=y".into()),
            (Some(8), "BR2_TARGET_ROOTFS_TAR_OPTIONS=\"-v\"".into()),
        ]
    );
}

#[test]
fn an_ext4_image_takes_size_label_inodes_and_reserved_blocks() {
    let ext4 = "BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_4=y\n\
                BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS=\"\"\n";
    let v = values(&format!("{BASE}{ext4}"));
    assert!(v["ROOTFS_EXT4"].is_true());
    // Buildroot's defaults: 60 MiB, "rootfs", inodes by mke2fs, 5% reserved.
    assert_eq!(text_of(&v, "ROOTFS_EXT4_SIZE_MB"), "60");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_LABEL"), "rootfs");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_INODES"), "0");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_RESERVED"), "5");
    let v = values(&format!(
        "{BASE}{ext4}BR2_TARGET_ROOTFS_EXT2_SIZE=\"131072\"\nBR2_TARGET_ROOTFS_EXT2_LABEL=\"root\"\n\
         BR2_TARGET_ROOTFS_EXT2_INODES=4096\nBR2_TARGET_ROOTFS_EXT2_RESBLKS=0\n"
    ));
    assert_eq!(text_of(&v, "ROOTFS_EXT4_SIZE_MB"), "128");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_LABEL"), "root");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_INODES"), "4096");
    assert_eq!(text_of(&v, "ROOTFS_EXT4_RESERVED"), "0");
    assert_eq!(
        text_of(
            &values(&format!("{BASE}{ext4}BR2_TARGET_ROOTFS_EXT2_SIZE=\"1G\"\n")),
            "ROOTFS_EXT4_SIZE_MB"
        ),
        "1024"
    );
}

#[test]
fn ext2_ext3_variants_compression_and_buildroots_mkfs_options() {
    // Buildroot's default variant, ext2 (revision 1), is honoured; its
    // default mkfs options matter only for ext4.
    let v = values(&format!("{BASE}BR2_TARGET_ROOTFS_EXT2=y\n"));
    assert!(v["ROOTFS_EXT4"].is_true());
    assert_eq!(text_of(&v, "ROOTFS_EXT4_TYPE"), "ext2");
    let v = values(&format!(
        "{BASE}BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_3=y\n"
    ));
    assert_eq!(text_of(&v, "ROOTFS_EXT4_TYPE"), "ext3");
    // ext4 is made with 64bit, which Buildroot's default options remove:
    // accepted with a note; written in the file, other options are refused.
    let v = values(&format!(
        "{BASE}BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_4=y\n"
    ));
    assert_eq!(text_of(&v, "ROOTFS_EXT4_TYPE"), "ext4");
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_4=y\n\
         BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS=\"-O ^64bit\"\n"
    ));
    assert_eq!(
        got,
        [(
            Some(8),
            "BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS=\"-O ^64bit\"".into()
        )]
    );
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_3=y\nBR2_TARGET_ROOTFS_EXT2_GZIP=y\n"
    ));
    let lines: Vec<Option<usize>> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [Some(8)], "{got:?}");
    let p = problems(&format!(
        "{BASE}BR2_TARGET_ROOTFS_EXT2=y\nBR2_TARGET_ROOTFS_EXT2_4=y\nBR2_TARGET_ROOTFS_EXT2_SIZE=\"1500k\"\n\
         BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS=\"\"\n"
    ));
    let text = format!("{p:?}");
    assert!(text.contains("whole MiB; `1500k` is not"), "{text}");
}

#[test]
fn squashfs_takes_its_compression() {
    let v = values(&format!(
        "{BASE}BR2_TARGET_ROOTFS_SQUASHFS=y\nBR2_TARGET_ROOTFS_SQUASHFS4_XZ=y\n"
    ));
    assert!(v["ROOTFS_SQUASHFS"].is_true());
    assert_eq!(text_of(&v, "ROOTFS_SQUASHFS_COMPRESSION"), "xz");
    let v = values(&format!("{BASE}BR2_TARGET_ROOTFS_SQUASHFS=y\n"));
    assert_eq!(text_of(&v, "ROOTFS_SQUASHFS_COMPRESSION"), "gzip");
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_ROOTFS_SQUASHFS=y\nBR2_TARGET_ROOTFS_SQUASHFS4_LZ4=y\n\
         BR2_TARGET_ROOTFS_SQUASHFS_BS_64K=y\n# BR2_TARGET_ROOTFS_SQUASHFS_PAD is not set\n"
    ));
    let lines: Vec<Option<usize>> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [Some(7), Some(8), Some(9)], "{got:?}");
}

#[test]
fn ubi_and_ubifs_take_the_flash_geometry() {
    let v = values(&format!(
        "{BASE}BR2_TARGET_ROOTFS_UBIFS=y\nBR2_TARGET_ROOTFS_UBI=y\nBR2_TARGET_ROOTFS_UBI_PEBSIZE=0x40000\n\
         BR2_TARGET_ROOTFS_UBI_SUBSIZE=0\nBR2_TARGET_ROOTFS_UBIFS_MINIOSIZE=0x1000\n\
         BR2_TARGET_ROOTFS_UBIFS_LEBSIZE=0x3e000\nBR2_TARGET_ROOTFS_UBIFS_MAXLEBCNT=4096\n"
    ));
    assert!(v["ROOTFS_UBI"].is_true() && v["ROOTFS_UBIFS"].is_true());
    assert_eq!(text_of(&v, "ROOTFS_UBI_PEB_SIZE"), "0x40000");
    assert_eq!(text_of(&v, "ROOTFS_UBI_SUB_PAGE_SIZE"), "0");
    assert_eq!(text_of(&v, "ROOTFS_UBI_MIN_IO_SIZE"), "0x1000");
    assert_eq!(text_of(&v, "ROOTFS_UBI_LEB_SIZE"), "0x3e000");
    assert_eq!(text_of(&v, "ROOTFS_UBI_MAX_LEB_COUNT"), "4096");
    let g = crate::plan::imageopts::ubi_geometry(&v).unwrap();
    assert_eq!(
        (g.peb_size, g.leb_size, g.sub_page_size),
        (0x40000, 0x3e000, 0x1000)
    );
    // Buildroot's defaults, including its LEB size, which forge would derive.
    let v = values(&format!("{BASE}BR2_TARGET_ROOTFS_UBI=y\n"));
    assert!(v["ROOTFS_UBIFS"].is_true(), "UBI selects UBIFS");
    assert_eq!(text_of(&v, "ROOTFS_UBI_LEB_SIZE"), "0x1f800");
    assert_eq!(
        crate::plan::imageopts::ubi_geometry(&v).unwrap().leb_size,
        0x1f800
    );
    let got = unsupported(&format!(
        "{BASE}BR2_TARGET_ROOTFS_UBIFS=y\nBR2_TARGET_ROOTFS_UBIFS_RT_ZLIB=y\nBR2_TARGET_ROOTFS_UBIFS_XZ=y\n\
         BR2_TARGET_ROOTFS_UBIFS_OPTS=\"-F\"\nBR2_TARGET_ROOTFS_UBI=y\nBR2_TARGET_ROOTFS_UBI_OPTS=\"-v\"\n\
         BR2_TARGET_ROOTFS_UBI_USE_CUSTOM_CONFIG=y\n"
    ));
    let lines: Vec<Option<usize>> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        [Some(7), Some(8), Some(9), Some(11), Some(12)],
        "{got:?}"
    );
}
