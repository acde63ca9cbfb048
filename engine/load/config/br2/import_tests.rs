//! Unit tests of what `forge import` adds: the verdict on every setting
//! (translated, noted, refused), noted settings, Buildroot's download
//! helper, `$(BR2_DEFCONFIG)` arguments, the data-driven package mapping
//! and the annotated layout.

use super::*;

fn import_all_of(text: &str) -> ImportAll {
    let d = parse_defconfig_str(Path::new("b_defconfig"), text).unwrap();
    let ctx = Context {
        table: table(),
        schema: schema(),
        linux_version: Some("6.1"),
    };
    import_all(&ctx, &d, true)
}

fn verdict(all: &ImportAll, line: usize) -> &Verdict {
    let e = all.summary.entries.iter().find(|e| e.line == Some(line));
    &e.unwrap_or_else(|| panic!("no entry for line {line}: {:#?}", all.summary))
        .verdict
}

#[test]
fn every_setting_gets_one_verdict_and_refusals_do_not_stop_the_rest() {
    let text = format!(
        "{BASE}BR2_cortex_a9=y\nBR2_PACKAGE_NOSUCH=y\nBR2_TARGET_GENERIC_HOSTNAME=\"pi\"\n"
    );
    let all = import_all_of(&text);
    assert_eq!(
        all.summary.counts(),
        Counts {
            translated: 6,
            noted: 1,
            refused: 1
        }
    );
    assert!(matches!(verdict(&all, 6), Verdict::Noted(w) if w.contains("CPU variant")));
    assert!(
        matches!(verdict(&all, 7), Verdict::Refused(w) if w.contains("no package nosuch")),
        "{:#?}",
        all.summary
    );
    assert_eq!(*verdict(&all, 8), Verdict::Translated);
    let v = resolve(schema(), &all.imported.for_resolve())
        .unwrap()
        .values;
    assert_eq!(text_of(&v, "SYSTEM_HOSTNAME"), "pi");
    // The refused and noted lines stay as comments, in place.
    let comments: Vec<&str> = all
        .imported
        .layout
        .lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::Comment))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert!(comments[1].starts_with("# refused: BR2_PACKAGE_NOSUCH=y (no recipe"));
    // Loading the same file refuses, naming only the refused line.
    let e = import_with(&text, Some("6.1")).unwrap_err().to_string();
    assert!(e.contains("b_defconfig:7: BR2_PACKAGE_NOSUCH=y"), "{e}");
    assert!(!e.contains("cortex"), "{e}");
}

#[test]
fn buildroots_github_helper_and_defconfig_argument_translate() {
    let v = values(&format!(
        "{BASE}BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_TARBALL=y\n\
         BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION=\"$(call github,o,r,v1)/r-v1.tar.gz\"\n\
         BR2_ROOTFS_POST_SCRIPT_ARGS=\"-c $(BR2_DEFCONFIG) x\"\n"
    ));
    assert_eq!(
        text_of(&v, "LINUX_TARBALL_URL"),
        "https://github.com/o/r/archive/v1/r-v1.tar.gz"
    );
    assert_eq!(text_of(&v, "POST_SCRIPT_ARGS"), "-c x");
    let all = import_all_of(&format!(
        "{BASE}BR2_ROOTFS_POST_SCRIPT_ARGS=\"$(BR2_DEFCONFIG)\"\n"
    ));
    assert!(matches!(verdict(&all, 6), Verdict::Noted(w) if w.contains("BR2_DEFCONFIG")));
    let got = unsupported(&format!(
        "{BASE}BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_TARBALL=y\n\
         BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION=\"$(call github,o,r)/x.tar.gz\"\n"
    ));
    assert_eq!(got.len(), 1, "{got:?}");
}

#[test]
fn a_bootlin_toolchain_becomes_the_machines_cross_compiler() {
    for (arch, prefix) in [
        ("arm", "arm-linux-gnueabihf-"),
        ("aarch64", "aarch64-linux-gnu-"),
    ] {
        let all = import_all_of(&format!(
            "BR2_{arch}=y\nBR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_BOOTLIN=y\n"
        ));
        assert!(all.problems.is_empty(), "{:?}", all.problems);
        assert!(matches!(verdict(&all, 3), Verdict::Noted(w) if w.contains("Bootlin")));
        let v = resolve(schema(), &all.imported.for_resolve())
            .unwrap()
            .values;
        assert_eq!(text_of(&v, "TOOLCHAIN_EXTERNAL_PREFIX"), prefix);
    }
}

#[test]
fn a_downloaded_kernels_device_trees_stay_as_written() {
    let dts = |kernel: &str| {
        let v = values(&format!(
            "{BASE}BR2_LINUX_KERNEL=y\n{kernel}BR2_LINUX_KERNEL_DTS_SUPPORT=y\n\
             BR2_LINUX_KERNEL_INTREE_DTS_NAME=\"arm/vexpress-v2p-ca9\"\n"
        ));
        text_of(&v, "LINUX_DTS")
    };
    // forge's own 6.1 kernel from this machine: flat.
    assert_eq!(
        dts(KERNEL.trim_start_matches("BR2_LINUX_KERNEL=y\n")),
        "vexpress-v2p-ca9"
    );
    let custom =
        "BR2_LINUX_KERNEL_CUSTOM_VERSION=y\nBR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE=\"6.1.90\"\n";
    assert_eq!(dts(custom), "vexpress-v2p-ca9");
    let custom =
        "BR2_LINUX_KERNEL_CUSTOM_VERSION=y\nBR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE=\"6.18.7\"\n";
    assert_eq!(dts(custom), "arm/vexpress-v2p-ca9");
    let git = "BR2_LINUX_KERNEL_CUSTOM_GIT=y\nBR2_LINUX_KERNEL_CUSTOM_REPO_URL=\"https://example.org/l.git\"\n\
               BR2_LINUX_KERNEL_CUSTOM_REPO_VERSION=\"abc\"\n";
    assert_eq!(dts(git), "arm/vexpress-v2p-ca9");
}
