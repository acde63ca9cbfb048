//! The C.H.I.P. Pro board (`boards/chippro_defconfig`) built offline from
//! Debian's copies of its upstream sources, from an empty cache and an
//! empty `dl/`. qemu has no GR8 machine, so its NAND artifacts are checked
//! with tools that are not forge's: the SPL's eGON header and checksum
//! (computed here), u-boot.img's legacy header, the padded images' sizes
//! against the NAND geometry, the environment read back by `fw_printenv`
//! (libubootenv) through the board's own `/etc/fw_env.config`, its
//! `mtdparts` against where U-Boot's SPL reads U-Boot and where U-Boot
//! keeps its environment, ubi_reader reading the UBI image with the flash's
//! erase block size and finding `/boot/zImage` and the device tree
//! byte-identical to `images/`, and `dtc` decompiling the device tree.
//! Then a no-op rebuild, and a second clean build (another tree and output
//! dir, an empty cache and `dl/`) that must deliver byte-identical images,
//! all of them: the raw SPL `sunxi-spl-with-ecc*.bin` too, which U-Boot
//! 2023.01's `sunxi-spl-image-builder` filled from /dev/urandom until the
//! board's `GLOBAL_PATCH_DIR` patch (`boards/chippro/patches/uboot/`) made
//! that fill deterministic.
//!
//! Needs what `scripts/setup` installs and fetches (the armhf cross gcc,
//! linux-source-6.12, mtd-utils, libubootenv-tool, device-tree-compiler,
//! ubi_reader in its venv, and `${FORGE_TOOLS_DIR}/mirror` and
//! `debian-sources`).

mod common;

use common::offline::{assert_same_images, configure_offline, tools_dir};
use common::{Tree, steps_with};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BOARD: &str = "chippro";
const DEFCONFIG: &str = "boards/chippro_defconfig";
/// The TC58NVG2S0H: 256 KiB erase blocks, 4 KiB pages with 256 bytes of
/// out-of-band data each, 512 MiB.
const PEB: usize = 0x40000;
const PAGE: usize = 4096;
const OOB: usize = 256;
const CHIP: usize = 512 << 20;
const DTB: &str = "sun5i-gr8-chip-pro.dtb";

fn images(t: &Tree) -> PathBuf {
    t.root.join("output").join(BOARD).join("images")
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("images/{name}: {e}"))
}

/// Configure the board offline in a new tree and build it cold; returns
/// the build's duration.
fn cold_build(t: &Tree) -> std::time::Duration {
    configure_offline(t, DEFCONFIG, &[]);
    let start = Instant::now();
    t.ok(&[]);
    let took = start.elapsed();
    let record = t.record(BOARD);
    assert!(steps_with(&record, "cached").is_empty(), "{record}");
    for step in [
        "linux",
        "uboot",
        "busybox",
        "rootfs-ubifs",
        "rootfs-ubi",
        "post-image",
    ] {
        assert!(
            steps_with(&record, "built").iter().any(|s| s == step),
            "{step} was not built: {record}"
        );
    }
    took
}

#[test]
fn chippro_offline_nand_images_checked_and_noop() {
    let test = Instant::now();
    let a = Tree::new();
    let cold = cold_build(&a);
    eprintln!("chippro cold build: {cold:?}");
    let img = images(&a);
    check_spl(&img);
    check_uboot_img(&img);
    check_env(&a, &img);
    check_ubi(&a, &img);
    check_dtb(&img);

    // Nothing changed: nothing runs.
    let start = Instant::now();
    a.ok(&[]);
    let noop = start.elapsed();
    eprintln!("chippro no-op build: {noop:?}");
    assert!(
        steps_with(&a.record(BOARD), "built").is_empty(),
        "{}",
        a.record(BOARD)
    );

    // Byte-identical across two clean builds: another tree (so another
    // output dir), its own empty cache and dl/.
    let b = Tree::new();
    assert_ne!(a.cache, b.cache);
    let cold2 = cold_build(&b);
    eprintln!("chippro second clean build: {cold2:?}");
    let second = images(&b);
    for raw in ["sunxi-spl-with-ecc.bin", "sunxi-spl-with-ecc-padded.bin"] {
        assert!(second.join(raw).is_file(), "images/{raw} is missing");
    }
    assert_same_images(&img, &second);
    eprintln!("chippro test: {:?}", test.elapsed());
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The SPL as the boot ROM checks it: `eGON.BT0` at 4, the length at 16
/// (a multiple of 4, within the file), and the checksum at 12: the sum of
/// every 32-bit little-endian word of `length` bytes, taken with the
/// checksum field holding the stamp 0x5F0A6C39. The ECC image is what is
/// written raw to the NAND: whole pages, each with its out-of-band bytes,
/// within one erase block; its padded copy is exactly one erase block of
/// raw pages (64 × 4352 bytes): the ECC image, then 0xff.
fn check_spl(img: &Path) {
    let spl = read(img, "sunxi-spl.bin");
    assert_eq!(&spl[4..12], b"eGON.BT0", "no eGON header");
    let length = le32(&spl, 16) as usize;
    assert!(
        length.is_multiple_of(4) && length <= spl.len() && length >= 32,
        "eGON length {length}, file {}",
        spl.len()
    );
    let stored = le32(&spl, 12);
    let sum = (0..length / 4).fold(0u32, |acc, i| {
        let word = if i == 3 {
            0x5F0A_6C39
        } else {
            le32(&spl, i * 4)
        };
        acc.wrapping_add(word)
    });
    assert_eq!(
        sum, stored,
        "eGON checksum: computed {sum:#x}, stored {stored:#x}"
    );

    let ecc = read(img, "sunxi-spl-with-ecc.bin");
    let raw_block = PEB / PAGE * (PAGE + OOB);
    assert!(
        ecc.len() > spl.len() && ecc.len().is_multiple_of(PAGE + OOB) && ecc.len() <= raw_block,
        "sunxi-spl-with-ecc.bin is {} bytes",
        ecc.len()
    );
    let padded = read(img, "sunxi-spl-with-ecc-padded.bin");
    assert_eq!(
        padded.len(),
        raw_block,
        "the padded SPL is not one erase block"
    );
    assert_eq!(padded[..ecc.len()], ecc[..]);
    assert!(padded[ecc.len()..].iter().all(|&b| b == 0xff));
}

/// u-boot.img carries a legacy image header (magic 0x27051956, big
/// endian); its padded copy is whole erase blocks within the 4 MiB
/// partition, the image then 0xff.
fn check_uboot_img(img: &Path) {
    let uboot = read(img, "u-boot.img");
    assert_eq!(uboot[..4], [0x27, 0x05, 0x19, 0x56], "no legacy header");
    let padded = read(img, "u-boot-padded.img");
    assert_eq!(padded.len() % PEB, 0, "u-boot-padded.img: {}", padded.len());
    assert!(padded.len() <= 4 << 20 && padded.len() >= uboot.len());
    assert!(
        padded.len() - uboot.len() < PEB,
        "padded by more than a block"
    );
    assert_eq!(padded[..uboot.len()], uboot[..]);
    assert!(padded[uboot.len()..].iter().all(|&b| b == 0xff));
}

/// One `CONFIG_NAME=value` of U-Boot's resolved configuration.
fn uboot_config(t: &Tree, name: &str) -> String {
    let path = t
        .root
        .join("output")
        .join(BOARD)
        .join("build/uboot/src/.config");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("CONFIG_{name}=")))
        .unwrap_or_else(|| panic!("CONFIG_{name} not in U-Boot's .config"))
        .trim_matches('"')
        .to_string()
}

fn hex(s: &str) -> usize {
    usize::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `name -> (offset, size)` of an mtdparts value (`id:4m(spl),…,-(UBI)`);
/// `-` is the rest of the chip.
fn partitions(mtdparts: &str) -> Vec<(String, usize, usize)> {
    let (_, list) = mtdparts.split_once(':').expect("mtdparts has an id");
    let mut offset = 0;
    list.split(',')
        .map(|p| {
            let (size, name) = p.trim_end_matches(')').split_once('(').expect("size(name)");
            let size = match size {
                "-" => CHIP - offset,
                s if s.ends_with('m') => s[..s.len() - 1].parse::<usize>().expect("size") << 20,
                s if s.ends_with('k') => s[..s.len() - 1].parse::<usize>().expect("size") << 10,
                s => hex(s),
            };
            let part = (name.to_string(), offset, size);
            offset += size;
            part
        })
        .collect()
}

/// The environment image read back by libubootenv's fw_printenv through
/// the board's own /etc/fw_env.config (its device replaced by the image
/// file), its size U-Boot's CONFIG_ENV_SIZE, and its mtdparts putting
/// U-Boot where the SPL reads it and the environment where U-Boot keeps it.
fn check_env(t: &Tree, img: &Path) {
    let env = img.join("uboot-env.bin");
    assert_eq!(
        read(img, "uboot-env.bin").len(),
        hex(&uboot_config(t, "ENV_SIZE"))
    );
    let board =
        String::from_utf8(t.read("boards/chippro/rootfs-overlay/etc/fw_env.config")).expect("utf8");
    let line = board
        .lines()
        .find(|l| l.starts_with("/dev/"))
        .expect("a device line");
    let (_, rest) = line.split_once(' ').expect("device and fields");
    let config = t.tmp.path().join("fw_env.config");
    std::fs::write(&config, format!("{} {rest}\n", env.display())).expect("write");
    let out = Command::new("fw_printenv")
        .arg("-c")
        .arg(&config)
        .output()
        .expect("fw_printenv (libubootenv-tool): run scripts/setup");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fw_printenv: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} not in the environment:\n{text}"))
            .to_string()
    };
    let mtdparts = var("mtdparts");
    let parts = partitions(mtdparts.trim_start_matches("mtdparts="));
    let find = |name: &str| {
        parts
            .iter()
            .find(|p| p.0 == name)
            .unwrap_or_else(|| panic!("no {name} partition in {mtdparts}"))
            .clone()
    };
    let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        names,
        ["spl", "spl-backup", "uboot", "env", "UBI"],
        "{mtdparts}"
    );
    let uboot = find("uboot");
    assert_eq!(
        uboot.1,
        hex(&uboot_config(t, "SYS_NAND_U_BOOT_OFFS")),
        "U-Boot's partition is not where the SPL reads it: {mtdparts}"
    );
    assert!(read(img, "u-boot-padded.img").len() <= uboot.2);
    let envpart = find("env");
    assert_eq!(envpart.1, hex(&uboot_config(t, "ENV_OFFSET")), "{mtdparts}");
    assert_eq!(envpart.2, read(img, "uboot-env.bin").len());
    assert!(read(img, "rootfs.ubi").len() <= find("UBI").2);
    // U-Boot's own default partitions agree with its environment.
    assert_eq!(uboot_config(t, "MTDPARTS_DEFAULT"), mtdparts);
    // The kernel gets the same layout and its root from UBI.
    let bootargs = var("bootargs");
    let kernel = bootargs
        .split_whitespace()
        .find_map(|a| a.strip_prefix("mtdparts="))
        .expect("mtdparts on the kernel command line");
    assert_eq!(partitions(kernel), parts, "{bootargs}");
    assert!(bootargs.contains("root=ubi0:rootfs"), "{bootargs}");
    assert!(var("bootcmd").contains("/boot/zImage"));
}

/// A ubi_reader tool: in the venv scripts/setup makes, else on PATH.
fn ubireader(tool: &str) -> PathBuf {
    let venv = tools_dir().join("venv/bin").join(tool);
    if venv.is_file() {
        return venv;
    }
    which::which(tool).unwrap_or_else(|_| {
        panic!(
            "{tool} (ubi_reader) is neither at {} nor on PATH: run scripts/setup",
            venv.display()
        )
    })
}

fn run_ubireader(tool: &str, args: &[&str]) -> String {
    let out = Command::new(ubireader(tool))
        .args(args)
        .output()
        .expect(tool);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// rootfs.ubi read with the flash's erase block size: whole erase blocks,
/// the geometry the board asks for, one autoresize volume `rootfs`, and a
/// UBIFS inside whose /boot holds the kernel and device tree of images/.
fn check_ubi(t: &Tree, img: &Path) {
    let ubi = img.join("rootfs.ubi");
    let len = read(img, "rootfs.ubi").len();
    assert!(
        len > 0 && len.is_multiple_of(PEB),
        "rootfs.ubi is {len} bytes"
    );
    // The first erase counter header: "UBI#", VID header offset at 16,
    // data offset at 20 (big endian).
    let head = read(img, "rootfs.ubi");
    assert_eq!(&head[..4], b"UBI#");
    let be = |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    assert_eq!(be(16), 1024, "VID header not in the second sub-page");
    assert_eq!(
        be(20) as usize,
        PAGE,
        "data does not start at the second page"
    );
    let peb = PEB.to_string();
    let path = ubi.to_string_lossy().into_owned();
    let info = run_ubireader("ubireader_display_info", &["-p", &peb, &path]);
    for want in [
        "PEB Size: 262144",
        "LEB Size: 258048",
        "Volume Name:rootfs",
        "flags: 'autoresize'",
    ] {
        assert!(info.contains(want), "{want:?} not in\n{info}");
    }
    // The UBIFS inside: the page size, the LEB, room for 2048 LEBs.
    let ubifs = img.join("rootfs.ubifs").to_string_lossy().into_owned();
    let info = run_ubireader("ubireader_display_info", &["-e", "258048", &ubifs]);
    for want in ["min_io_size: 4096", "leb_size: 258048", "max_leb_cnt: 2048"] {
        assert!(info.contains(want), "{want:?} not in\n{info}");
    }
    let boot = run_ubireader("ubireader_list_files", &["-p", &peb, "-P", "/boot", &path]);
    for name in ["zImage", DTB] {
        assert!(
            boot.lines().any(|l| l.ends_with(&format!(" {name}"))),
            "/boot/{name} not in rootfs.ubi:\n{boot}"
        );
    }
    let etc = run_ubireader("ubireader_list_files", &["-p", &peb, "-P", "/etc", &path]);
    assert!(etc.contains(" fw_env.config"), "{etc}");
    let out = t.tmp.path().join("ubi-extract");
    let out_arg = out.to_string_lossy().into_owned();
    run_ubireader(
        "ubireader_extract_files",
        &["-p", &peb, "-o", &out_arg, &path],
    );
    let found: Vec<PathBuf> = walkdir::WalkDir::new(&out)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().to_path_buf())
        .filter(|p| p.ends_with("boot/zImage"))
        .collect();
    assert_eq!(found.len(), 1, "boot/zImage extracted: {found:?}");
    let boot_dir = found[0].parent().expect("boot");
    for name in ["zImage", DTB] {
        assert!(
            std::fs::read(boot_dir.join(name)).ok() == Some(read(img, name)),
            "/boot/{name} in rootfs.ubi differs from images/{name}"
        );
    }
}

/// The device tree decompiles and is the C.H.I.P. Pro's.
fn check_dtb(img: &Path) {
    let out = Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts"])
        .arg(img.join(DTB))
        .output()
        .expect("dtc (device-tree-compiler): run scripts/setup");
    let dts = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "dtc failed");
    assert!(
        dts.contains("compatible = \"nextthing,chip-pro\\0"),
        "{dts}"
    );
    assert!(dts.contains("stdout-path = \"serial0:115200n8\""));
}
