//! Buildroot board defconfigs through the real CLI. `forge import` turns
//! Buildroot's own defconfigs (tests/buildroot_import/, upstream texts with
//! their origin on the first line) into forge defconfigs: each setting is
//! translated, noted or refused, the counts and reasons are printed, the
//! file is written whatever was refused, and the written file loads.
//! Loading a Buildroot file directly still stops at any refused setting;
//! a file trimmed to what forge honours configures forge's options, and
//! `savedefconfig` writes it back in forge names.

mod common;
#[path = "buildroot_import/loading.rs"]
mod loading;

use common::Tree;

/// What one import must report: the counts over the file's settings and
/// over the Buildroot defaults it does not state (noted, refused).
struct Expect {
    name: &'static str,
    fixture: &'static str,
    translated: usize,
    noted: usize,
    refused: usize,
    default_noted: usize,
    default_refused: usize,
}

const VEXPRESS: Expect = Expect {
    name: "qemu_arm_vexpress",
    fixture: include_str!("buildroot_import/qemu_arm_vexpress_defconfig"),
    translated: 12,
    noted: 10,
    refused: 0,
    // Buildroot's own toolchain becomes the external one.
    default_noted: 1,
    default_refused: 0,
};

const AARCH64_VIRT: Expect = Expect {
    name: "qemu_aarch64_virt",
    fixture: include_str!("buildroot_import/qemu_aarch64_virt_defconfig"),
    translated: 10,
    noted: 8,
    refused: 0,
    // The toolchain, and ext4's 64bit feature Buildroot turns off.
    default_noted: 2,
    default_refused: 0,
};

// Refused until the tree has recipes for them: xz, kmod (and its tools).
// The rpi-firmware package, its variant and its config.txt translate.
const RASPBERRYPI4: Expect = Expect {
    name: "raspberrypi4",
    fixture: include_str!("buildroot_import/raspberrypi4_defconfig"),
    translated: 17,
    noted: 13,
    refused: 3,
    default_noted: 1,
    default_refused: 0,
};

const RASPBERRYPI4_64: Expect = Expect {
    name: "raspberrypi4_64",
    fixture: include_str!("buildroot_import/raspberrypi4_64_defconfig"),
    translated: 17,
    noted: 13,
    refused: 3,
    default_noted: 1,
    default_refused: 0,
};

// The seed's excerpt: kernel lines only. Refused: the kernel patch option,
// the kernel's cpupower and perf tools;
// and, since the excerpt names no architecture, Buildroot's default one.
const CHIPPRO: Expect = Expect {
    name: "chippro",
    fixture: include_str!("buildroot_import/chippro_defconfig"),
    translated: 10,
    noted: 0,
    refused: 3,
    default_noted: 1,
    default_refused: 1,
};

/// An import's report (stderr), whether it succeeded, and the file written.
struct Imported {
    report: String,
    ok: bool,
    written: String,
}

/// `forge import buildroot/<name>_defconfig --out boards/br_<name>_defconfig`.
fn import(t: &Tree, e: &Expect) -> Imported {
    let src = format!("buildroot/{}_defconfig", e.name);
    let dest = format!("boards/br_{}_defconfig", e.name);
    t.write(&src, e.fixture);
    let out = t.forge(&["import", &src, "--out", &dest]);
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let written = String::from_utf8(t.read(&dest)).expect("utf8");
    Imported {
        report,
        ok: out.status.success(),
        written,
    }
}

/// The `N translated, N noted, N refused` after `label` in the report.
fn counts(report: &str, label: &str) -> (usize, usize, usize) {
    let at = report
        .find(label)
        .unwrap_or_else(|| panic!("{label}:\n{report}"));
    let words: Vec<&str> = report[at + label.len()..].split_whitespace().collect();
    let n = |i: usize| words[i].parse().unwrap_or_else(|_| panic!("{report}"));
    assert_eq!(
        (words[1], words[3], words[5].trim_end_matches(';')),
        ("translated,", "noted,", "refused"),
        "{report}"
    );
    (n(0), n(2), n(4))
}

/// Checks the counts, that each noted or refused setting has its own
/// line with a reason, the exit status, and that the result loads;
/// returns the report and the `.config` of the imported board.
fn check(e: &Expect) -> (Imported, String) {
    let t = Tree::new();
    let got = import(&t, e);
    let r = &got.report;
    let total = e.translated + e.noted + e.refused;
    assert_eq!(
        counts(r, &format!("{total} settings: ")),
        (e.translated, e.noted, e.refused),
        "{r}"
    );
    if e.default_noted + e.default_refused > 0 {
        assert_eq!(
            counts(r, "Buildroot defaults it does not state: "),
            (0, e.default_noted, e.default_refused),
            "{r}"
        );
    }
    let listed = |tag: &str| r.lines().filter(|l| l.contains(tag)).count();
    assert_eq!(listed(": noted: "), e.noted + e.default_noted, "{r}");
    assert_eq!(listed(": refused: "), e.refused + e.default_refused, "{r}");
    assert_eq!(
        got.ok,
        e.refused + e.default_refused == 0,
        "exit status:\n{r}"
    );
    if !got.ok {
        assert!(r.contains("setting(s) refused (listed above)"), "{r}");
    }
    assert!(
        !got.written.lines().any(|l| l.starts_with("BR2_")),
        "{}",
        got.written
    );
    // The written file loads: configure from it and list the options.
    let board = format!("boards/br_{}_defconfig", e.name);
    t.ok(&[&board, "config", "list"]);
    let dot = String::from_utf8(t.read(&format!("output/br_{}/.config", e.name))).expect("utf8");
    (got, dot)
}

fn assert_has(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "missing {line}:\n{text}");
    }
}

#[test]
fn buildroots_qemu_arm_vexpress_imports() {
    let (got, dot) = check(&VEXPRESS);
    assert_has(
        &dot,
        &[
            "TARGET_ARCH=\"arm\"",
            "LINUX_SOURCE=\"version\"",
            "LINUX_VERSION=\"6.18.7\"",
            "LINUX_DEFCONFIG=\"vexpress_defconfig\"",
            // A 6.18 kernel keeps 32-bit arm device trees in vendor folders.
            "LINUX_DTS=\"arm/vexpress-v2p-ca9\"",
            "SYSTEM_GETTY_PORT=\"ttyAMA0\"",
            "ROOTFS_EXT4=y",
            "ROOTFS_EXT4_TYPE=\"ext2\"",
            "ROOTFS_EXT4_SIZE_MB=64",
            "POST_IMAGE_SCRIPT=\"board/qemu/post-image.sh\"",
            "PACKAGE_TOOLCHAIN_EXTERNAL=y",
            "TOOLCHAIN_EXTERNAL_PREFIX=\"arm-linux-gnueabihf-\"",
        ],
    );
    assert!(!dot.contains("POST_SCRIPT_ARGS=\"$"), "{dot}");
    let r = &got.report;
    for noted in [
        ":3: noted: BR2_cortex_a9=y: CPU variant",
        ":8: noted: BR2_DOWNLOAD_FORCE_CHECK_HASHES=y: forge always checks",
        ":12: noted: BR2_ROOTFS_POST_SCRIPT_ARGS=\"$(BR2_DEFCONFIG)\": `$(BR2_DEFCONFIG)`",
        "(Buildroot's default): noted: BR2_TOOLCHAIN_BUILDROOT=y: forge builds no toolchain",
        // Buildroot's patch dirs are in Buildroot's tree: copy them and set
        // forge's own option.
        ":7: noted: BR2_GLOBAL_PATCH_DIR=\"board/qemu/patches\": forge applies patch directories",
        "copy the patches into your tree and set GLOBAL_PATCH_DIR",
    ] {
        assert!(r.contains(noted), "{noted}:\n{r}");
    }
    // Noted lines stay in the written file as comments.
    assert!(
        got.written
            .contains("# noted: BR2_GLOBAL_PATCH_DIR=\"board/qemu/patches\" (forge applies"),
        "{}",
        got.written
    );
}

#[test]
fn buildroots_qemu_aarch64_virt_imports() {
    let (got, dot) = check(&AARCH64_VIRT);
    assert_has(
        &dot,
        &[
            "TARGET_ARCH=\"aarch64\"",
            "LINUX_VERSION=\"6.18.7\"",
            "LINUX_IMAGE=\"Image\"",
            "LINUX_CONFIG_FILE=\"board/qemu/aarch64-virt/linux.config\"",
            "ROOTFS_EXT4_TYPE=\"ext4\"",
            "TOOLCHAIN_EXTERNAL_PREFIX=\"aarch64-linux-gnu-\"",
        ],
    );
    let r = &got.report;
    assert!(
        r.contains(":14: noted: BR2_LINUX_KERNEL_NEEDS_HOST_OPENSSL=y"),
        "{r}"
    );
    assert!(
        r.contains("noted: BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS=\"-O ^64bit\""),
        "{r}"
    );
}

/// What both Raspberry Pi 4 imports translate and refuse alike.
fn check_raspberrypi4(e: &Expect, arch: &str, prefix: &str) {
    let (got, dot) = check(e);
    let sha = "21b410140c47ffab5668399f6f143c7d7b935c8b";
    let url = format!(
        "LINUX_TARBALL_URL=\"https://github.com/raspberrypi/linux/archive/{sha}/linux-{sha}.tar.gz\""
    );
    assert_has(
        &dot,
        &[
            &format!("TARGET_ARCH=\"{arch}\""),
            &format!("TOOLCHAIN_EXTERNAL_PREFIX=\"{prefix}\""),
            "LINUX_SOURCE=\"tarball\"",
            &url,
            "LINUX_DEFCONFIG=\"bcm2711_defconfig\"",
            // A downloaded kernel's device tree names stay as Buildroot wrote them.
            "LINUX_DTS=\"broadcom/bcm2711-rpi-4-b broadcom/bcm2711-rpi-400 broadcom/bcm2711-rpi-cm4 broadcom/bcm2711-rpi-cm4s\"",
            "ROOTFS_EXT4_TYPE=\"ext4\"",
            "ROOTFS_EXT4_SIZE_MB=120",
            "PACKAGE_RPI_FIRMWARE=y",
            "RPI_FIRMWARE_VARIANT=\"pi4\"",
        ],
    );
    assert!(
        dot.contains("RPI_FIRMWARE_CONFIG_FILE=\"board/raspberrypi4"),
        "{dot}"
    );
    let r = &got.report;
    for refused in [
        ":21: refused: BR2_PACKAGE_XZ=y: no recipe: forge has no package xz",
        ":25: refused: BR2_PACKAGE_KMOD=y: no recipe: forge has no package kmod",
        ":26: refused: BR2_PACKAGE_KMOD_TOOLS=y: no recipe: an option of package kmod",
    ] {
        assert!(r.contains(refused), "{refused}:\n{r}");
    }
    for noted in [
        ":6: noted: BR2_TOOLCHAIN_EXTERNAL_BOOTLIN=y: forge downloads no toolchain",
        ":32: noted: BR2_PACKAGE_HOST_GENIMAGE=y: genimage's job is forge's disk image",
    ] {
        assert!(r.contains(noted), "{noted}:\n{r}");
    }
    // Refused lines stay in the written file as comments saying why.
    assert!(
        got.written
            .contains("# refused: BR2_PACKAGE_KMOD=y (no recipe: forge has no package kmod"),
        "{}",
        got.written
    );
}

#[test]
fn buildroots_raspberrypi4_imports_with_packages_refused() {
    check_raspberrypi4(&RASPBERRYPI4, "arm", "arm-linux-gnueabihf-");
}

#[test]
fn buildroots_raspberrypi4_64_imports_with_packages_refused() {
    check_raspberrypi4(&RASPBERRYPI4_64, "aarch64", "aarch64-linux-gnu-");
}

#[test]
fn the_seeds_chippro_lines_import() {
    let (got, dot) = check(&CHIPPRO);
    assert_has(
        &dot,
        &[
            "LINUX_SOURCE=\"git\"",
            "LINUX_GIT_URL=\"https://github.com/NextThingCo/CHIP-linux\"",
            "LINUX_GIT_COMMIT=\"nextthing/4.4/chip\"",
            "LINUX_CONFIG_FILE=\"board/nextthing/chippro/linux.config\"",
            "LINUX_IMAGE=\"zImage\"",
            "LINUX_DTS=\"ntc-gr8-crumb\"",
            "LINUX_INSTALL_TARGET=y",
        ],
    );
    let r = &got.report;
    for refused in [
        ":6: refused: BR2_LINUX_KERNEL_PATCH=\"wext_priv.patch\": forge has no per-board kernel patch option",
        ":13: refused: BR2_LINUX_KERNEL_TOOL_CPUPOWER=y: forge does not build the kernel's tools",
        "(Buildroot's default): refused: BR2_i386=y",
    ] {
        assert!(r.contains(refused), "{refused}:\n{r}");
    }
}

#[test]
fn a_package_translates_once_a_recipe_declares_it() {
    // A recipe of that name in the tree is all it takes: no table entry.
    // Its options follow only when it declares them (this bare recipe
    // declares none, so the firmware variant and config.txt stay refused).
    // The counts are compared with the same tree without the recipe, so this
    // holds whether or not the project has an rpi-firmware recipe.
    let t = Tree::new();
    let recipe = t.root.join("packages/rpi-firmware");
    if recipe.exists() {
        std::fs::remove_dir_all(&recipe).expect("remove the recipe");
    }
    let (translated, noted, refused) = counts(&import(&t, &RASPBERRYPI4).report, "33 settings: ");
    t.write(
        "packages/rpi-firmware/rpi-firmware.ron",
        "Recipe(name: \"rpi-firmware\", version: \"1\", description: \"test\", \
         license: [\"BSD-3-Clause\"], kind: Generic(install: [\"true\"]))\n",
    );
    let got = import(&t, &RASPBERRYPI4);
    let r = &got.report;
    assert_eq!(
        counts(r, "33 settings: "),
        (translated + 1, noted, refused - 1),
        "{r}"
    );
    assert!(
        r.contains(":23: refused: BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4=y: it means forge option RPI_FIRMWARE_VARIANT, which this tree does not declare"),
        "{r}"
    );
    t.ok(&["boards/br_raspberrypi4_defconfig", "config", "list"]);
    let dot = String::from_utf8(t.read("output/br_raspberrypi4/.config")).expect("utf8");
    assert_has(&dot, &["PACKAGE_RPI_FIRMWARE=y"]);
}

#[test]
fn import_never_overwrites_unasked_and_loading_still_refuses() {
    let t = Tree::new();
    t.write("buildroot/qemu_arm_vexpress_defconfig", VEXPRESS.fixture);
    // boards/qemu_arm_vexpress_defconfig is forge's own board.
    let before = t.read("boards/qemu_arm_vexpress_defconfig");
    let err = t.fails(&["import", "buildroot/qemu_arm_vexpress_defconfig"]);
    assert!(
        err.contains("exists; name the file to write with --out"),
        "{err}"
    );
    assert_eq!(t.read("boards/qemu_arm_vexpress_defconfig"), before);

    // Loaded directly, a Buildroot file with refused settings configures
    // nothing and names each refused line; noted ones do not stop it.
    t.write("boards/rpi_defconfig", RASPBERRYPI4.fixture);
    let err = t.fails(&["boards/rpi_defconfig", "skeleton"]);
    assert_eq!(err.matches("forge does not honour").count(), 1, "{err}");
    assert!(err.contains("rpi_defconfig:21: BR2_PACKAGE_XZ=y"), "{err}");
    assert!(
        !err.contains("BR2_cortex_a72"),
        "noted settings are accepted:\n{err}"
    );
    assert!(!t.root.join("output/rpi/.config").exists());
}
