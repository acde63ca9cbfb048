//! Root filesystem images selected by options (cpio, tar, ext4, squashfs,
//! UBIFS/UBI) and a partitioned disk image made from them: each read back by
//! an independent tool (tar, e2fsck/debugfs, unsquashfs, ubi_reader, sfdisk,
//! mtools), ownership and device nodes from metadata, and bit-identical
//! across two clean builds (clean output dir and clean cache).

mod common;

use common::Tree;
use std::path::{Path, PathBuf};
use std::process::Command;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n\
    ROOTFS_TAR=y\nROOTFS_EXT4=y\nROOTFS_EXT4_SIZE_MB=16\nROOTFS_SQUASHFS=y\nROOTFS_SQUASHFS_COMPRESSION=\"xz\"\n";
const IMAGES: [&str; 7] = [
    "rootfs.cpio.gz",
    "rootfs.tar",
    "rootfs.ext4",
    "rootfs.squashfs",
    "rootfs.ubifs",
    "rootfs.ubi",
    "sdcard.img",
];

/// UBI without sub-pages (so 0x1f000-byte LEBs), a board permission table,
/// and an SD card: a FAT partition with what the `bootfiles` fixture put in
/// images/, then rootfs.ext4, padded to 32 MiB.
const FLASH: &str = "PACKAGE_BOOTFILES=y\nROOTFS_DEVICE_TABLE=\"boards/img/perms.txt\"\n\
    ROOTFS_UBI=y\nROOTFS_UBI_SUB_PAGE_SIZE=\"0\"\nROOTFS_UBI_VOLUME_NAME=\"system\"\n\
    DISK_IMAGE_LAYOUT=\"boards/img/disk.ron\"\n";

const BOOTFILES: &str = r#"Recipe(
    name: "bootfiles",
    version: "1",
    description: "Test fixture: files for a boot partition, in images/",
    license: ["MIT"],
    kind: Generic(install: [
        "printf 'console=ttyAMA0 root=/dev/mmcblk0p2\\n' > \"$IMAGES_DIR/cmdline.txt\"",
        "mkdir -p \"$IMAGES_DIR/overlays\" && printf 'overlay\\n' > \"$IMAGES_DIR/overlays/a.dtbo\"",
    ]),
)"#;

const LAYOUT: &str = r#"(
    name: "sdcard.img",
    table: Mbr,
    seed: "img",
    size: 33554432,
    partitions: [
        (name: "boot", size: 8388608, type: "c", bootable: true, content: Fat(label: "BOOT", files: [
            (source: "cmdline.txt", dest: "cmdline.txt"),
            (source: "overlays/a.dtbo", dest: "overlays/a.dtbo"),
        ])),
        (name: "rootfs", size: 16777216, type: "83", content: File("rootfs.ext4")),
    ],
)"#;

/// A tree with the board of every format, the disk image and its fixtures.
fn flash_tree() -> Tree {
    let t = Tree::new();
    t.write("boards/img_defconfig", &format!("{BOARD}{FLASH}"));
    t.write("packages/bootfiles/bootfiles.ron", BOOTFILES);
    t.write("boards/img/disk.ron", LAYOUT);
    t.write(
        "boards/img/perms.txt",
        "/etc/fstab f 640 1000 100 - - - - -\n",
    );
    t
}

/// A ubi_reader tool: where scripts/setup installs it (the venv under
/// `$FORGE_TOOLS_DIR`, default `~/.cache/forge-tools`), else on PATH.
fn ubireader(tool: &str) -> PathBuf {
    let tools = std::env::var_os("FORGE_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/forge-tools")))
        .unwrap_or_default();
    let venv = tools.join("venv/bin").join(tool);
    if venv.is_file() {
        return venv;
    }
    which::which(tool).unwrap_or_else(|_| {
        panic!(
            "{tool} (PyPI package ubi_reader) is neither at {} nor on PATH: run scripts/setup, which installs it there",
            venv.display()
        )
    })
}

/// Run a shell command in the board's images dir (sbin on PATH).
fn sh(t: &Tree, script: &str) -> String {
    common::sh_in(&t.root.join("output/img/images"), script)
}

#[test]
fn every_format_reads_back_with_owners_and_devices_and_is_reproducible() {
    let t = flash_tree();
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
    assert!(tar.contains("-rw-r----- 1000/100"), "{tar}");

    check_ubi(&t);
    check_disk(&t);
    t.ok(&[]);
    assert_eq!(
        common::steps_with(&t.record("img"), "built"),
        Vec::<String>::new(),
        "nothing changed, nothing runs"
    );

    // A second tree: empty output dir and empty cache; the same bytes.
    let u = flash_tree();
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

/// rootfs.ubi and rootfs.ubifs as ubi_reader sees them: the geometry and
/// volume the options asked for, files with their owners and modes.
fn check_ubi(t: &Tree) {
    let images = t.root.join("output/img/images");
    let run = |tool: &str, args: &[&str], image: &str| {
        let out = Command::new(ubireader(tool))
            .args(args)
            .arg(images.join(image))
            .output()
            .expect(tool);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{tool} {args:?} {image}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let info = run("ubireader_display_info", &[], "rootfs.ubi");
    for want in [
        "PEB Size: 131072",
        "LEB Size: 126976",
        "Volume Name:system",
        "flags: 'autoresize'",
    ] {
        assert!(info.contains(want), "{want:?} not in\n{info}");
    }
    for image in ["rootfs.ubi", "rootfs.ubifs"] {
        let list = |dir: &str| run("ubireader_list_files", &["-P", dir], image);
        let (root, dev, etc, bin) = (list("/"), list("/dev"), list("/etc"), list("/usr/bin"));
        let line = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.ends_with(&format!(" {name}")))
                .map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    format!("{} {}:{}", f[0], f[2], f[3])
                })
                .unwrap_or_else(|| panic!("{name} not in {image}:\n{text}"))
        };
        assert_eq!(line(&root, "tmp"), "41777 0:0", "{image}");
        assert_eq!(line(&dev, "console"), "20600 0:0", "{image}");
        assert_eq!(line(&etc, "fstab"), "100640 1000:100", "{image}");
        assert_eq!(line(&bin, "hello"), "100755 0:0", "{image}");
    }
}

/// sdcard.img: the partition table, the FAT partition's files, and the
/// ext4 partition byte-identical to rootfs.ext4 and clean.
fn check_disk(t: &Tree) {
    let table = sh(t, "sfdisk -d sdcard.img");
    assert!(table.contains("label: dos"), "{table}");
    let parts: Vec<&str> = table.lines().filter(|l| l.contains("start=")).collect();
    assert_eq!(
        parts,
        [
            "sdcard.img1 : start=        2048, size=       16384, type=c, bootable",
            "sdcard.img2 : start=       18432, size=       32768, type=83",
        ],
        "{table}"
    );
    assert_eq!(t.read("output/img/images/sdcard.img").len(), 32 << 20);
    let fat = "MTOOLS_SKIP_CHECK=1 mdir -i sdcard.img@@1048576";
    let files = sh(t, &format!("{fat} -b -/ ::"));
    let mut files: Vec<&str> = files.lines().collect();
    files.sort_unstable();
    assert_eq!(
        files,
        ["::/cmdline.txt", "::/overlays/", "::/overlays/a.dtbo"]
    );
    let cmdline = sh(
        t,
        "MTOOLS_SKIP_CHECK=1 mtype -i sdcard.img@@1048576 ::/cmdline.txt",
    );
    assert_eq!(cmdline, "console=ttyAMA0 root=/dev/mmcblk0p2\n");
    sh(
        t,
        "dd if=sdcard.img of=../p2.ext4 bs=512 skip=18432 count=32768 status=none",
    );
    sh(t, "cmp ../p2.ext4 rootfs.ext4 && e2fsck -fn ../p2.ext4");
    let hello = sh(t, "debugfs -R 'stat /usr/bin/hello' ../p2.ext4");
    assert!(hello.contains("Mode:  0755"), "{hello}");
}

#[test]
fn bad_image_settings_are_named() {
    let t = Tree::new();
    // Caught while planning: nothing builds.
    t.write(
        "boards/bad_defconfig",
        "PACKAGE_SKELETON=y\nROOTFS_UBI=y\nROOTFS_UBI_PEB_SIZE=\"0x20100\"\n",
    );
    let err = t.fails(&["boards/bad_defconfig"]);
    assert!(
        err.contains("option ROOTFS_UBI_PEB_SIZE: 0x20100 is not a positive multiple of the minimum I/O size 0x800"),
        "{err}"
    );
    assert!(!t.root.join("output/bad/build").exists(), "nothing built");

    // A layout naming an image no step makes: its file, the name, what exists.
    t.write("boards/bad/disk.ron", LAYOUT);
    t.write(
        "boards/bad_defconfig",
        "PACKAGE_SKELETON=y\nDISK_IMAGE_LAYOUT=\"boards/bad/disk.ron\"\n",
    );
    let err = t.fails(&["boards/bad_defconfig"]);
    assert!(
        err.contains("boards/bad/disk.ron: cmdline.txt is not an image any step produced; images/ holds: rootfs.cpio.gz"),
        "{err}"
    );
}
