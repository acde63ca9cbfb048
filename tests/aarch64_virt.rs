//! The qemu_aarch64_virt board end to end, offline, from an empty cache:
//! built the way a user with an offline mirror would (Debian's copies of
//! the upstream sources: a local primary site serving BusyBox's release
//! tarball, Debian's repacked U-Boot tarball as a local source, and an
//! external tree pinning the BusyBox version that mirror has), booted by
//! `forge test` through U-Boot with no `-kernel`, then rebuilt as a no-op.
//! Then U-Boot's configuration flows: `uboot-menuconfig` driven in tmux,
//! `uboot-update-defconfig` writing the change into the board's U-Boot
//! fragment, and a no-change flow that leaves every file byte-identical.
//! Byte-identical images across two clean builds are checked by hand
//! (`scripts/check-reproducible boards/qemu_aarch64_virt_defconfig`): a
//! second cold build costs CI more than its 60-minute budget has left.
//!
//! Needs what `scripts/setup` installs and fetches (the aarch64 cross gcc,
//! linux-source-6.12, qemu, tmux, and `${FORGE_TOOLS_DIR}/mirror` and
//! `debian-sources`).

mod common;

use common::offline::{configure_offline, source_settings};
use common::tmux::Tmux;
use common::{Tree, sh_in, steps_with};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BOARD: &str = "qemu_aarch64_virt";
const FRAGMENT: &str = "boards/qemu_aarch64_virt/uboot.fragment";
const DEFCONFIG: &str = "boards/qemu_aarch64_virt_defconfig";
fn images(t: &Tree) -> PathBuf {
    t.root.join("output").join(BOARD).join("images")
}

#[test]
fn aarch64_virt_offline_build_boot_noop_and_uboot_config_flows() {
    let t = Tree::new();
    configure(&t);
    // Cold build from an empty cache and an empty dl/.
    let start = Instant::now();
    t.ok(&[]);
    let cold = start.elapsed();
    eprintln!("cold build: {cold:?}");
    let record = t.record(BOARD);
    assert!(steps_with(&record, "cached").is_empty(), "{record}");
    for step in ["uboot", "linux", "busybox", "disk-image"] {
        assert!(
            steps_with(&record, "built").iter().any(|s| s == step),
            "{step} was not built: {record}"
        );
    }
    // BusyBox came from the primary site, checked against its sha256.
    assert!(t.dl().join("busybox/busybox-1.35.0.tar.bz2").is_file());
    let img = images(&t);
    for f in ["u-boot.bin", "boot.scr", "Image", "rootfs.ext4", "disk.img"] {
        assert!(img.join(f).is_file(), "images/{f} is missing");
    }
    check_env_image(&std::fs::read(img.join("uboot-env.bin")).expect("uboot-env.bin"));
    assert!(
        t.root
            .join("output")
            .join(BOARD)
            .join("build/uboot/out/host/bin/mkimage")
            .is_file()
    );
    // boot.scr is a legacy script image for arm64.
    let scr = sh_in(&img, "dumpimage -l boot.scr || mkimage -l boot.scr");
    assert!(scr.contains("Script"), "{scr}");
    // The root filesystem's /bin/busybox is the one built from 1.35.0.
    let bb = sh_in(
        &img,
        "debugfs -R 'dump /bin/busybox busybox.bin' rootfs.ext4 >/dev/null 2>&1; \
         grep -c 'BusyBox v1.35.0' busybox.bin; rm -f busybox.bin",
    );
    assert!(bb.trim() != "0", "no BusyBox v1.35.0 in /bin/busybox: {bb}");

    // Boot: qemu runs u-boot.bin as firmware, U-Boot runs boot.scr.
    let start = Instant::now();
    let out = t.ok(&["test"]);
    eprintln!("forge test: {:?}\n{out}", start.elapsed());
    let console =
        String::from_utf8_lossy(&t.read(&format!("output/{BOARD}/logs/test-console.log")))
            .into_owned();
    assert!(console.contains("U-Boot 2023.01"), "{console}");

    // Nothing changed: nothing runs.
    let start = Instant::now();
    t.ok(&[]);
    let noop = start.elapsed();
    eprintln!("no-op build: {noop:?}");
    let record = t.record(BOARD);
    assert!(steps_with(&record, "built").is_empty(), "{record}");

    uboot_flows(&t);
}

/// The board configured offline from Debian's copies, with an environment
/// image too (qemu_arm64 keeps its environment in flash, CONFIG_ENV_SIZE
/// 0x40000; the boot does not read this file).
fn configure(t: &Tree) {
    configure_offline(t, DEFCONFIG, &[]);
    t.write(
        "boards/env-test.txt",
        "# comment\nbootdelay=3\n\nforge=virt\n",
    );
    t.ok(&[
        "config",
        "set",
        "UBOOT_ENVIMAGE=y",
        "UBOOT_ENVIMAGE_SOURCE=boards/env-test.txt",
        "UBOOT_ENVIMAGE_SIZE=0x40000",
    ]);
}

/// U-Boot's environment layout: CRC-32 (little endian) of the data, then
/// `name=value\0` entries, `\0`-padded to the size.
fn check_env_image(image: &[u8]) {
    assert_eq!(image.len(), 0x40000);
    let (crc, data) = image.split_at(4);
    assert_eq!(crc, crc32(data).to_le_bytes(), "bad environment CRC");
    assert!(data.starts_with(b"bootdelay=3\0forge=virt\0\0"));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A U-Boot setting that cannot work fails at plan time, naming the option.
#[test]
fn uboot_settings_are_checked_before_anything_runs() {
    let t = Tree::new();
    let settings = source_settings();
    let mut args = vec![DEFCONFIG, "config", "set", "UBOOT_ENVIMAGE=y"];
    args.extend(settings.iter().map(String::as_str));
    t.ok(&args);
    let err = t.fails(&["uboot"]);
    assert!(err.contains("UBOOT_ENVIMAGE_SOURCE is empty"), "{err}");
    t.write("boards/env.txt", "a=b\n");
    t.ok(&[
        "config",
        "set",
        "UBOOT_ENVIMAGE_SOURCE=boards/env.txt",
        "UBOOT_ENVIMAGE_SIZE=128k",
    ]);
    let err = t.fails(&["uboot"]);
    assert!(err.contains("UBOOT_ENVIMAGE_SIZE is \"128k\""), "{err}");
    assert!(
        !t.root
            .join("output")
            .join(BOARD)
            .join("build/uboot/src")
            .exists(),
        "a step ran"
    );
}

fn snapshot(t: &Tree) -> Vec<Vec<u8>> {
    [FRAGMENT, DEFCONFIG, "boards/qemu_aarch64_virt/boot.cmd"]
        .iter()
        .map(|f| t.read(f))
        .collect()
}

fn uboot_key(t: &Tree) -> String {
    let info: serde_json::Value = serde_json::from_str(&t.ok(&["show-info"])).expect("json");
    info.as_array()
        .expect("array")
        .iter()
        .find(|p| p["name"] == "uboot")
        .map(|p| p["key"].as_str().unwrap_or_default().to_string())
        .expect("uboot in show-info")
}

/// A no-change flow writes nothing; menuconfig in tmux, then
/// update-defconfig writes exactly the change into the board's fragment.
fn uboot_flows(t: &Tree) {
    let before = snapshot(t);
    let key_before = uboot_key(t);
    let diff = t.ok(&["uboot-diff-config"]);
    assert!(
        diff.lines().all(|l| !l.starts_with("CONFIG_")),
        "a fresh tree differs from its files: {diff}"
    );
    t.ok(&["uboot-update-defconfig"]);
    assert_eq!(snapshot(t), before, "a no-change flow rewrote a file");
    let saved = t.ok(&["uboot-savedefconfig"]);
    assert!(saved.contains("defconfig"), "{saved}");
    assert_eq!(snapshot(t), before, "savedefconfig rewrote a board file");

    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed; run scripts/setup");
    }
    let tmux = Tmux::forge(t, "uboot-menuconfig");
    tmux.wait_for("U-Boot 2023.01 Configuration", Duration::from_secs(300));
    tmux.keys(&["/"]);
    tmux.wait_for("Search Configuration Parameter", Duration::from_secs(10));
    tmux.keys(&["CMD_GETTIME", "Enter"]);
    tmux.wait_for("Symbol: CMD_GETTIME", Duration::from_secs(10));
    tmux.keys(&["1"]);
    tmux.wait_for("gettime", Duration::from_secs(10));
    tmux.keys(&["y"]);
    for _ in 0..6 {
        tmux.keys(&["Escape", "Escape"]);
        std::thread::sleep(Duration::from_millis(300));
        if tmux.screen().contains("Do you wish to save") {
            break;
        }
    }
    tmux.wait_for("Do you wish to save", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("MENUCONFIG-EXIT-0", Duration::from_secs(60));

    let diff = t.ok(&["uboot-diff-config"]);
    assert!(diff.contains("CONFIG_CMD_GETTIME"), "{diff}");
    t.ok(&["uboot-update-defconfig"]);
    let after = snapshot(t);
    let fragment = String::from_utf8(after[0].clone()).expect("utf8");
    let original = String::from_utf8(before[0].clone()).expect("utf8");
    // Minimal: the original fragment plus exactly the one symbol.
    assert_eq!(
        fragment,
        format!("{original}CONFIG_CMD_GETTIME=y\n"),
        "the fragment is not the original plus the change"
    );
    assert_eq!(
        after[1..],
        before[1..],
        "a file besides the fragment changed"
    );
    assert_ne!(
        uboot_key(t),
        key_before,
        "uboot's key did not follow the fragment"
    );
    // Saving again changes nothing, and the files reproduce the edit.
    t.ok(&["uboot-update-defconfig"]);
    assert_eq!(snapshot(t), after);
    let diff = t.ok(&["uboot-diff-config"]);
    assert!(diff.lines().all(|l| !l.starts_with("CONFIG_")), "{diff}");
}
