//! Root filesystem images selected by options (cpio, tar, ext4, squashfs):
//! each read back by an independent tool, ownership and device nodes from
//! metadata, and bit-identical across two clean builds (clean output dir
//! and clean cache).

mod common;

use common::Tree;
use std::process::Command;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n\
    ROOTFS_TAR=y\nROOTFS_EXT4=y\nROOTFS_EXT4_SIZE_MB=16\nROOTFS_SQUASHFS=y\nROOTFS_SQUASHFS_COMPRESSION=\"xz\"\n";
const IMAGES: [&str; 4] = [
    "rootfs.cpio.gz",
    "rootfs.tar",
    "rootfs.ext4",
    "rootfs.squashfs",
];

/// Run a shell command in the tree with the system tools (sbin included).
fn sh(t: &Tree, script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(t.root.join("output/img/images"))
        .env(
            "PATH",
            format!(
                "{}:/usr/sbin:/sbin",
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

#[test]
fn every_format_reads_back_with_owners_and_devices_and_is_reproducible() {
    let t = Tree::new();
    t.write("boards/img_defconfig", BOARD);
    t.ok(&["boards/img_defconfig"]);

    let tar = sh(&t, "tar -tvf rootfs.tar --numeric-owner");
    assert!(
        tar.lines()
            .any(|l| l.starts_with("crw-------") && l.contains("0/0") && l.contains("dev/console")),
        "{tar}"
    );
    assert!(
        tar.lines()
            .any(|l| l.starts_with("drwxrwxrwt") && l.ends_with("tmp/")),
        "{tar}"
    );
    assert!(tar.contains("usr/bin/hello"), "{tar}");

    sh(&t, "e2fsck -fn rootfs.ext4");
    let stat = sh(&t, "debugfs -R 'stat /dev/console' rootfs.ext4");
    assert!(
        stat.contains("Type: character special") && stat.contains("User:     0"),
        "{stat}"
    );
    assert!(stat.contains("Device major/minor number: 05:01"), "{stat}");
    let hello = sh(&t, "debugfs -R 'stat /usr/bin/hello' rootfs.ext4");
    assert!(hello.contains("Mode:  0755"), "{hello}");

    let sq = sh(&t, "unsquashfs -lln rootfs.squashfs");
    assert!(
        sq.lines().any(|l| l.starts_with("crw-------")
            && l.contains("0/0")
            && l.contains("/dev/console")),
        "{sq}"
    );
    assert!(sh(&t, "unsquashfs -s rootfs.squashfs").contains("xz"));

    // A second tree: empty output dir and empty cache; the same bytes.
    let u = Tree::new();
    u.write("boards/img_defconfig", BOARD);
    u.ok(&["boards/img_defconfig"]);
    assert_eq!(
        u.record("img")["cached"],
        0,
        "the second build must not share the first's cache"
    );
    for image in IMAGES {
        let a = t.read(&format!("output/img/images/{image}"));
        let b = u.read(&format!("output/img/images/{image}"));
        assert!(a == b, "{image} differs between two clean builds");
    }
}

#[test]
fn turning_a_format_off_removes_it_from_images() {
    let t = Tree::new();
    t.write("boards/img_defconfig", BOARD);
    t.ok(&["boards/img_defconfig"]);
    t.ok(&["config", "set", "ROOTFS_EXT4=n"]);
    t.ok(&[]);
    let images = t.root.join("output/img/images");
    assert!(!images.join("rootfs.ext4").exists());
    assert!(images.join("rootfs.tar").exists());
    assert_eq!(
        common::steps_with(&t.record("img"), "built"),
        Vec::<String>::new()
    );
}
