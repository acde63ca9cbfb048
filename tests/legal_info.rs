//! `forge legal-info` on the demo board plus the `hello` fixture: every
//! selected package in the manifest with its licenses and source; the
//! license texts the recipes name, checked against their sha256 (the
//! kernel's COPYING read out of linux-source-6.1's tarball, BusyBox's
//! Debian copyright out of its .deb); the sources of the copyleft packages
//! (and of all with `--all-sources`); an SPDX 2.3 SBOM that an independent
//! validator (`pyspdxtools` from PyPI's spdx-tools, in the venv
//! `scripts/setup` makes) accepts, and refuses once broken; a tampered
//! license text is an error naming the recipe's line. Nothing is built.
//!
//! On the Debian board: every package of its lock listed (name, version,
//! architecture, the .deb's sha256, a purl) with its licenses unknown and
//! one note saying a build downloads the .debs; then, with a few .debs in
//! `dl/debian/` (made here with `dpkg-deb`, holding copyright files of
//! bookworm's packages, their sha256 put in the lock: a real one takes a
//! build of the Debian step, minutes and the network), the licenses of
//! their DEP-5 copyright files as SPDX, a free-text one as NOASSERTION, a
//! package whose doc folder is a link taking its source sibling's, and a
//! .deb that is not the locked one listed as not downloaded.

mod common;

use common::Tree;
use common::offline::validate_spdx;
use std::path::Path;
use std::process::Command;

const DEFCONFIG: &str = "boards/qemu_arm_vexpress_defconfig";
const DEBIAN_DEFCONFIG: &str = "boards/qemu_arm_vexpress_debian_defconfig";
const DEBIAN_LOCK: &str = "boards/qemu_arm_vexpress_debian/debian.lock";

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
    let (valid, report) = validate_spdx(&sbom_path);
    assert!(valid, "{report}");
    // The validator is not a rubber stamp: a made-up license is refused.
    let broken = t.tmp.path().join("broken.spdx.json");
    let text = std::fs::read_to_string(&sbom_path).expect("sbom");
    std::fs::write(&broken, text.replacen("\"MIT\"", "\"Not-A-License\"", 1)).expect("write");
    let (valid, report) = validate_spdx(&broken);
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

/// The lock's `package` lines: name → (version, architecture, sha256).
fn locked(t: &Tree) -> std::collections::BTreeMap<String, (String, String, String)> {
    String::from_utf8(t.read(DEBIAN_LOCK))
        .expect("utf8")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5 && f[0] == "package")
                .then(|| (f[1].to_string(), (f[2].into(), f[3].into(), f[4].into())))
        })
        .collect()
}

/// What a test .deb's doc folder holds.
enum Doc<'a> {
    Copyright(&'a str),
    /// A link to another package's doc folder.
    Link(&'a str),
}

/// A .deb of the locked `name` in `dl/debian/` under its pool name, with
/// `control` lines added; returns its sha256.
fn deb(t: &Tree, name: &str, control: &str, doc: Doc) -> String {
    let (version, arch, _) = locked(t)[name].clone();
    let root = t.tmp.path().join("debs").join(name);
    let docs = root.join("usr/share/doc");
    std::fs::create_dir_all(root.join("DEBIAN")).expect("mkdir");
    std::fs::create_dir_all(&docs).expect("mkdir");
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\n\
             Maintainer: forge tests <tests@example.org>\n{control}Description: test\n"
        ),
    )
    .expect("control");
    match doc {
        Doc::Copyright(text) => {
            std::fs::create_dir_all(docs.join(name)).expect("mkdir");
            std::fs::write(docs.join(name).join("copyright"), text).expect("copyright");
        }
        Doc::Link(to) => std::os::unix::fs::symlink(to, docs.join(name)).expect("link"),
    }
    let pool = version.split_once(':').map_or(version.as_str(), |(_, v)| v);
    let file = t
        .dl()
        .join("debian")
        .join(format!("{name}_{pool}_{arch}.deb"));
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&root)
        .arg(&file)
        .output()
        .expect("dpkg-deb");
    assert!(out.status.success(), "{out:?}");
    common::sh_in(t.tmp.path(), &format!("sha256sum '{}'", file.display()))[..64].to_string()
}

/// The lock with `name`'s sha256 replaced.
fn relock(t: &Tree, name: &str, sha: &str) {
    let (_, _, old) = locked(t)[name].clone();
    let text = String::from_utf8(t.read(DEBIAN_LOCK)).expect("utf8");
    let line = |l: &str| l.starts_with(&format!("package {name} "));
    let new: String = text
        .lines()
        .map(|l| {
            if line(l) {
                format!("{}\n", l.replace(&old, sha))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    t.write(DEBIAN_LOCK, &new);
}

fn sbom_of(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("sbom")).expect("json")
}

#[test]
fn legal_info_lists_the_debian_packages_of_the_lock() {
    let started = std::time::Instant::now();
    let t = Tree::new();
    t.ok(&[DEBIAN_DEFCONFIG, "config", "list"]);
    let lock = locked(&t);
    let n = lock.len();
    assert!(n > 100, "{n} packages in {DEBIAN_LOCK}");

    // 1. Nothing downloaded: every package listed, its licenses unknown,
    // and one note says how to get them.
    let out = t.ok(&["legal-info"]);
    assert!(
        out.contains(&format!("{n} Debian packages of {DEBIAN_LOCK}")),
        "{out}"
    );
    assert_eq!(out.matches("not in ").count(), 1, "{out}");
    assert!(out.contains("forge debian-rootfs"), "{out}");
    let dir = t.root.join("output/qemu_arm_vexpress_debian/legal-info");
    assert!(
        !t.root
            .join("output/qemu_arm_vexpress_debian/images")
            .exists()
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.csv")).expect("manifest");
    assert_eq!(manifest.lines().count(), 1 + 3 + n, "{manifest}");
    let (version, arch, sha) = &lock["bash"];
    let bash = format!("bash,{version},NOASSERTION,,bash_{version}_{arch}.deb,{sha},,");
    assert!(manifest.contains(&bash), "{manifest}");
    let readme = std::fs::read_to_string(dir.join("README")).expect("README");
    assert!(
        readme.contains("Debian's source packages are at the"),
        "{readme}"
    );
    assert!(
        readme.contains(&format!("{n} of the {n} Debian packages are not in")),
        "{readme}"
    );

    let sbom_path = dir.join("sbom.spdx.json");
    let sbom = sbom_of(&sbom_path);
    let packages = sbom["packages"].as_array().expect("packages");
    assert_eq!(packages.len(), 3 + n);
    let bash = packages
        .iter()
        .find(|p| p["name"] == "bash")
        .expect("bash in the SBOM");
    assert_eq!(bash["checksums"][0]["checksumValue"], sha.as_str());
    assert_eq!(bash["licenseDeclared"], "NOASSERTION");
    assert_eq!(bash["downloadLocation"], "NOASSERTION");
    assert_eq!(
        bash["externalRefs"][0]["referenceLocator"],
        format!(
            "pkg:deb/debian/bash@{}?arch={arch}",
            version.replace('+', "%2B")
        )
    );
    assert!(
        sbom["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .any(|r| {
                r["spdxElementId"] == "SPDXRef-DOCUMENT"
                    && r["relationshipType"] == "DESCRIBES"
                    && r["relatedSpdxElement"] == bash["SPDXID"]
            })
    );
    let (valid, report) = validate_spdx(&sbom_path);
    assert!(valid, "{report}");

    // 2. A few .debs in dl/debian with the lock's sha256.
    let copyright = |name: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("engine/cli/legalinfo/testdata")
                .join(format!("{name}.copyright")),
        )
        .expect("copyright text")
    };
    let sed = copyright("sed");
    for (name, control, doc) in [
        ("sed", "", Doc::Copyright(&sed)),
        ("tzdata", "", Doc::Copyright(&copyright("tzdata"))),
        ("base-files", "", Doc::Copyright(&copyright("base-files"))),
        (
            "libkmod2",
            "Source: kmod\n",
            Doc::Copyright(&copyright("libkmod2")),
        ),
        (
            "kmod",
            "Depends: libc6 (>= 2.34), libkmod2\n",
            Doc::Link("libkmod2"),
        ),
    ] {
        let sha = deb(&t, name, control, doc);
        relock(&t, name, &sha);
    }
    // Not the locked dash.
    deb(&t, "dash", "", Doc::Copyright(&copyright("dash")));
    let debs = std::fs::read_dir(t.dl().join("debian"))
        .expect("dl")
        .count();

    let out = t.ok(&["legal-info"]);
    assert!(
        out.contains(&format!("{} of the {n} Debian packages are not in", n - 5)),
        "{out}"
    );
    assert!(out.contains("the .debs of dash in"), "{out}");
    assert!(
        out.contains("copyright files of base-files are not machine-readable"),
        "{out}"
    );
    // legal-info downloads nothing and leaves no scratch file there.
    assert_eq!(
        std::fs::read_dir(t.dl().join("debian"))
            .expect("dl")
            .count(),
        debs
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.csv")).expect("manifest");
    let line = |name: &str| {
        manifest
            .lines()
            .find(|l| l.starts_with(&format!("{name},{},", lock[name].0)))
            .unwrap_or_else(|| panic!("no {name} in {manifest}"))
            .to_string()
    };
    for (name, licenses) in [
        (
            "sed",
            "BSD-4-Clause-UC AND BSL-1.0 AND GFDL-1.3-no-invariants-or-later AND \
             GPL-3.0-or-later AND ISC AND LicenseRef-pcre AND X11,copyright,",
        ),
        ("tzdata", ",LicenseRef-public-domain,copyright,"),
        ("base-files", ",NOASSERTION,copyright,"),
        ("kmod", ",GPL-2.0-or-later AND LGPL-2.1-or-later,copyright,"),
        (
            "libkmod2",
            ",GPL-2.0-or-later AND LGPL-2.1-or-later,copyright,",
        ),
        ("dash", ",NOASSERTION,,"),
    ] {
        assert!(line(name).contains(licenses), "{}", line(name));
    }
    assert!(line("kmod").contains("libkmod2's"), "{}", line("kmod"));
    assert!(
        line("libkmod2").contains("Debian source package kmod"),
        "{}",
        line("libkmod2")
    );
    let (version, arch, _) = &lock["sed"];
    let pool = format!("sed_{version}_{arch}");
    assert_eq!(
        std::fs::read_to_string(dir.join("licenses/debian").join(pool).join("copyright"))
            .expect("sed's copyright"),
        sed
    );

    let sbom = sbom_of(&sbom_path);
    let (valid, report) = validate_spdx(&sbom_path);
    assert!(valid, "{report}");
    let extracted = sbom["hasExtractedLicensingInfos"]
        .as_array()
        .expect("extracted");
    let public_domain = extracted
        .iter()
        .find(|e| e["licenseId"] == "LicenseRef-public-domain")
        .expect("LicenseRef-public-domain defined");
    assert_eq!(
        public_domain["extractedText"],
        "This database is in the public domain."
    );
    assert!(
        extracted
            .iter()
            .any(|e| e["licenseId"] == "LicenseRef-pcre")
    );
    assert!(
        sbom["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .any(|r| {
                r["spdxElementId"] == "SPDXRef-Deb-kmod-armhf"
                    && r["relationshipType"] == "DEPENDS_ON"
                    && r["relatedSpdxElement"] == "SPDXRef-Deb-libkmod2-armhf"
            })
    );
    eprintln!(
        "legal-info (Debian board): {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
