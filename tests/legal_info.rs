//! `forge legal-info` on the demo board plus the `hello` fixture: every
//! selected package in the manifest with its licenses and source; the
//! license texts the recipes name, checked against their sha256 (the
//! kernel's COPYING read out of linux-source-6.1's tarball, BusyBox's
//! Debian copyright out of its .deb); the sources of the copyleft packages
//! (and of all with `--all-sources`); an SPDX 2.3 SBOM that an independent
//! validator (`pyspdxtools` from PyPI's spdx-tools, in the venv
//! `scripts/setup` makes) accepts, and refuses once broken; a tampered
//! license text is an error naming the recipe's line. Nothing is built.

mod common;

use common::Tree;
use common::offline::tools_dir;
use std::path::Path;
use std::process::Command;

const DEFCONFIG: &str = "boards/qemu_arm_vexpress_defconfig";

fn validate(sbom: &Path) -> (bool, String) {
    let tool = tools_dir().join("venv/bin/pyspdxtools");
    assert!(
        tool.is_file(),
        "{} is missing: run scripts/setup",
        tool.display()
    );
    common::status_and_text(
        Command::new(&tool)
            .arg("-i")
            .arg(sbom)
            .output()
            .expect("pyspdxtools"),
    )
}

#[test]
fn legal_info_lists_licenses_sources_and_a_valid_sbom() {
    let t = Tree::new();
    t.ok(&[DEFCONFIG, "config", "set", "PACKAGE_HELLO=y"]);
    let out = t.ok(&["legal-info"]);
    assert!(out.contains("5 packages"), "{out}");
    let dir = t.root.join("output/qemu_arm_vexpress/legal-info");
    assert!(!t.root.join("output/qemu_arm_vexpress/images").exists());

    let manifest = std::fs::read_to_string(dir.join("manifest.csv")).expect("manifest");
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), 6, "{manifest}");
    for (package, license) in [
        (
            "toolchain-external,",
            "GPL-3.0-or-later AND LGPL-2.1-or-later",
        ),
        ("skeleton,", "GPL-2.0-only"),
        ("busybox-static,", "GPL-2.0-only"),
        ("linux,6.1,", "GPL-2.0-only,COPYING,"),
        ("hello,1.0,", "MIT,LICENSE,"),
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(package))
            .unwrap_or_else(|| panic!("no {package} in {manifest}"));
        assert!(line.contains(license), "{line}");
    }
    assert!(
        manifest.contains("apt-get source busybox-static="),
        "{manifest}"
    );

    // License texts, as the recipes' hashes say.
    let copying = std::fs::read_to_string(dir.join("licenses/linux-6.1/COPYING")).expect("COPYING");
    assert!(copying.contains("GPL-2.0"), "{copying}");
    assert!(dir.join("licenses/hello-1.0/LICENSE").is_file());
    assert!(
        dir.join("licenses/busybox-static-debian/usr/share/doc/busybox-static/copyright")
            .is_file()
    );
    // Sources of the copyleft packages forge holds; not MIT's, not a
    // Debian binary package's (its source package is named instead).
    assert!(
        dir.join("sources/linux-6.1/linux-source-6.1.tar.xz")
            .is_file()
    );
    assert!(dir.join("sources/skeleton-1/skeleton").is_dir());
    assert!(!dir.join("sources/hello-1.0").exists());
    assert!(!dir.join("sources/busybox-static-debian").exists());

    // The SBOM: every package, and an independent validator agrees.
    let sbom_path = dir.join("sbom.spdx.json");
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sbom_path).expect("sbom")).expect("json");
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    assert_eq!(sbom["packages"].as_array().map(Vec::len), Some(5));
    let (valid, report) = validate(&sbom_path);
    assert!(valid, "{report}");
    // The validator is not a rubber stamp: a made-up license is refused.
    let broken = t.tmp.path().join("broken.spdx.json");
    let text = std::fs::read_to_string(&sbom_path).expect("sbom");
    std::fs::write(&broken, text.replacen("\"MIT\"", "\"Not-A-License\"", 1)).expect("write");
    let (valid, report) = validate(&broken);
    assert!(!valid, "{report}");

    // The same configuration writes the same SBOM.
    t.ok(&["legal-info"]);
    assert!(std::fs::read_to_string(&sbom_path).expect("sbom") == text);

    // --all-sources: the MIT fixture's source too.
    t.ok(&["legal-info", "--all-sources"]);
    assert!(dir.join("sources/hello-1.0/src/hello.c").is_file());

    // A license text that changed is refused at the recipe's line.
    let license = "packages/hello/src/LICENSE";
    let original = String::from_utf8(t.read(license)).expect("utf8");
    t.write(
        license,
        &original.replace("MIT License", "MIT License (amended)"),
    );
    let err = t.fails(&["legal-info"]);
    assert!(err.contains("packages/hello/hello.ron:"), "{err}");
    assert!(
        err.contains("license file LICENSE of hello changed"),
        "{err}"
    );
}
