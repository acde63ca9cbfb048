//! The Raspberry Pi 4 boards (`boards/raspberrypi4_64_defconfig` and
//! `boards/raspberrypi4_64_rt_defconfig`) built offline from Debian's
//! copies of their upstream sources (linux-source-6.12, BusyBox's release
//! tarball from the local primary site, Debian's raspi-firmware package
//! for the GPU firmware), from an empty cache and an empty `dl/`. The SD
//! card is checked with tools that are not forge's (sfdisk, mtools,
//! fdtget): its size, disk signature, the FAT partition's boot files, the
//! device trees. Both boards boot in qemu's raspi4b machine to a login
//! (`forge test`), which checks that the RT board's kernel is PREEMPT_RT
//! and the other's is not. A PREEMPT_RT fragment without EXPERT fails the
//! kernel step, naming the dropped symbol. The RT board shares the first
//! board's cache, so only what differs is built. A second clean build (by
//! another user, in another checkout) is `scripts/check-reproducible`'s,
//! run by hand: CI's minutes go to the C.H.I.P. Pro's and the demo
//! board's.
//!
//! Needs what `scripts/setup` installs and fetches (the aarch64 cross gcc,
//! linux-source-6.12, qemu 9.0 or newer, mtools, device-tree-compiler, and
//! `${FORGE_TOOLS_DIR}/mirror` and `debian-sources`).

mod common;

use common::offline::configure_offline;
use common::{Tree, sh_in, steps_with};
use std::path::{Path, PathBuf};
use std::time::Instant;

const BOARD: &str = "raspberrypi4_64";
const RT_BOARD: &str = "raspberrypi4_64_rt";
const DTB: &str = "bcm2711-rpi-4-b.dtb";
const QEMU_DTB: &str = "bcm2711-rpi-4-b-qemu.dtb";

fn images(t: &Tree, board: &str) -> PathBuf {
    t.root.join("output").join(board).join("images")
}

/// Configure `board` offline in `t` and build it; returns the build record
/// and prints the build's duration.
fn build(t: &Tree, board: &str) -> serde_json::Value {
    configure_offline(t, &format!("boards/{board}_defconfig"), &[]);
    let start = Instant::now();
    t.ok(&[]);
    eprintln!("{board} build: {:?}", start.elapsed());
    t.record(board)
}

/// The SD card: 128 MiB (qemu wants a power of two), the fixed disk
/// signature cmdline.txt's PARTUUID names, a FAT partition holding what
/// the firmware loads, the ext4 root second.
fn check_sdcard(dir: &Path) {
    let card = dir.join("sdcard.img");
    assert_eq!(
        std::fs::metadata(&card).expect("sdcard.img").len(),
        128 << 20
    );
    let table = sh_in(dir, "sfdisk -d sdcard.img");
    assert!(table.contains("label: dos"), "{table}");
    assert!(table.contains("label-id: 0x52504934"), "{table}");
    assert!(
        table.contains("sdcard.img1 : start=        2048"),
        "{table}"
    );
    assert!(table.contains("type=c, bootable"), "{table}");
    assert!(
        table.contains("sdcard.img2 :") && table.contains("type=83"),
        "{table}"
    );
    let fat = sh_in(dir, "mdir -b -i sdcard.img@@1048576 ::/");
    for file in [
        "start4.elf",
        "fixup4.dat",
        "config.txt",
        "cmdline.txt",
        "Image",
        DTB,
    ] {
        assert!(
            fat.lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("::/{file}"))),
            "{file} is not on the boot partition: {fat}"
        );
        let copy = sh_in(
            dir,
            &format!("mtype -i sdcard.img@@1048576 ::/{file} | sha256sum"),
        );
        let source = match file {
            "Image" | DTB => file.to_string(),
            _ => format!("rpi-firmware/{file}"),
        };
        let want = sh_in(dir, &format!("sha256sum < {source}"));
        assert_eq!(
            copy, want,
            "{file} on the card differs from images/{source}"
        );
    }
    let cmdline = std::fs::read_to_string(dir.join("rpi-firmware/cmdline.txt")).expect("cmdline");
    assert!(cmdline.contains("root=PARTUUID=52504934-02"), "{cmdline}");
    assert!(cmdline.contains("console=ttyS1,115200"), "{cmdline}");
    // The mainline device tree; the qemu copy differs only by the SD
    // controller's power sequence.
    let model = sh_in(dir, &format!("fdtget {DTB} / compatible"));
    assert!(model.contains("raspberrypi,4-model-b"), "{model}");
    let real = sh_in(dir, &format!("fdtget -p {DTB} /soc/mmc@7e300000"));
    assert!(real.contains("mmc-pwrseq"), "{real}");
    let qemu = sh_in(dir, &format!("fdtget -p {QEMU_DTB} /soc/mmc@7e300000"));
    assert!(!qemu.contains("mmc-pwrseq"), "{qemu}");
}

#[test]
fn raspberrypi4_boards_offline_boot_and_rt() {
    let test = Instant::now();
    let a = Tree::new();
    let record = build(&a, BOARD);
    assert!(steps_with(&record, "cached").is_empty(), "{record}");
    for step in [
        "linux",
        "busybox",
        "rpi-firmware",
        "disk-image",
        "post-image",
    ] {
        assert!(
            steps_with(&record, "built").iter().any(|s| s == step),
            "{step} was not built: {record}"
        );
    }
    check_sdcard(&images(&a, BOARD));
    a.ok(&["test"]);
    let start = Instant::now();
    a.ok(&[]);
    eprintln!("{BOARD} no-op: {:?}", start.elapsed());
    assert!(steps_with(&a.record(BOARD), "built").is_empty());

    // PREEMPT_RT needs EXPERT: without it olddefconfig drops PREEMPT_RT,
    // and the kernel step says so instead of building a non-RT kernel.
    a.write(
        "boards/no-expert.fragment",
        "# CONFIG_EXPERT is not set\nCONFIG_PREEMPT_RT=y\n",
    );
    configure_offline(
        &a,
        &format!("boards/{RT_BOARD}_defconfig"),
        &[
            "LINUX_CONFIG_FRAGMENTS=boards/raspberrypi4_64/linux-rpi4.fragment boards/no-expert.fragment",
        ],
    );
    let err = a.fails(&["linux"]);
    assert!(err.contains("dropped symbols"), "{err}");
    assert!(err.contains("CONFIG_PREEMPT_RT=y"), "{err}");

    // The RT board, in the same tree and cache: the kernel and what holds
    // it are built, the rest comes from the cache.
    let record = build(&a, RT_BOARD);
    let cached = steps_with(&record, "cached");
    for step in ["busybox", "rpi-firmware", "toolchain-external"] {
        assert!(
            cached.iter().any(|s| s == step),
            "{step} not cached: {record}"
        );
    }
    assert!(
        steps_with(&record, "built").iter().any(|s| s == "linux"),
        "{record}"
    );
    let config =
        String::from_utf8_lossy(&a.read(&format!("output/{RT_BOARD}/build/linux/src/.config")))
            .into_owned();
    assert!(
        config.contains("\nCONFIG_PREEMPT_RT=y\n"),
        "RT kernel without PREEMPT_RT"
    );
    a.ok(&["test"]);
    eprintln!("raspberrypi4 test: {:?}", test.elapsed());
}
