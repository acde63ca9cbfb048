//! The autotools, CMake and Meson kinds on real packages from their
//! release tarballs (libogg, json-c, fribidi, served offline from the local
//! primary site `scripts/setup` fills), and the `oggjson` fixture, a CMake
//! program that links all three through pkg-config. The programs run under
//! qemu-user against the built root filesystem; the target's copies are
//! stripped, staging keeps the unstripped ones. Then the rebuilds: one
//! option of the CMake library rebuilds it and what links it, nothing
//! else; the same library rebuilt to identical bytes rebuilds nothing
//! after it; a header change in the autotools library rebuilds its
//! dependent; a dependency left out of the recipe is not found by
//! pkg-config.

mod common;

use common::offline::mirror;
use common::{Tree, sh_in, steps_with};
use std::path::Path;

const BOARD: &str = "pkgs";

fn built(t: &Tree) -> Vec<String> {
    let mut b = steps_with(&t.record(BOARD), "built");
    b.retain(|s| !s.starts_with("rootfs"));
    b.sort();
    b
}

/// Runs a target program of the unpacked root filesystem `root` under
/// qemu-user, its libraries from `root`.
fn run_target(root: &Path, program: &str, args: &str) -> String {
    sh_in(
        root,
        &format!(
            "qemu-arm -L {} {}{program} {args}",
            root.display(),
            root.display()
        ),
    )
}

fn unpack(t: &Tree) -> std::path::PathBuf {
    let root = t.tmp.path().join(format!("root-{}", rand_suffix()));
    std::fs::create_dir_all(&root).expect("mkdir");
    let tar = t.root.join(format!("output/{BOARD}/images/rootfs.tar"));
    sh_in(&root, &format!("tar xf {}", tar.display()));
    root
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn autotools_cmake_and_meson_packages_build_link_run_and_rebuild_exactly() {
    let t = Tree::new();
    t.write(
        &format!("boards/{BOARD}_defconfig"),
        &format!(
            "PACKAGE_OGGJSON=y\nROOTFS_TAR=y\nPRIMARY_SITE=\"file://{}\"\nBACKUP_SITE=\"\"\n",
            mirror().display()
        ),
    );
    t.ok(&[&format!("boards/{BOARD}_defconfig")]);
    assert_eq!(
        built(&t),
        [
            "fribidi",
            "json-c",
            "libogg",
            "oggjson",
            "toolchain-external"
        ]
    );
    let root = unpack(&t);
    let out = run_target(&root, "/usr/bin/oggjson", "");
    assert_eq!(
        out.trim(),
        r#"{"ogg":"ready","json-c":"0.16","fribidi":"1.0.8"}"#
    );
    let version = run_target(&root, "/usr/bin/fribidi", "--version");
    assert!(version.contains("1.0.8"), "{version}");
    // The target has the libraries and programs, stripped, and nothing
    // for building; staging has the headers, .pc files, unstripped.
    for lib in ["libogg.so.0", "libjson-c.so.5", "libfribidi.so.0"] {
        assert!(root.join("usr/lib").join(lib).exists(), "no {lib}");
    }
    for gone in ["usr/include", "usr/lib/pkgconfig", "usr/lib/libogg.la"] {
        assert!(!root.join(gone).exists(), "{gone} in the target");
    }
    let file = |p: &Path| sh_in(&root, &format!("file -L {}", p.display()));
    let target_bin = file(&root.join("usr/bin/oggjson"));
    assert!(
        target_bin.contains("ARM") && target_bin.contains(", stripped"),
        "{target_bin}"
    );
    let staged = t.root.join(format!(
        "output/{BOARD}/build/oggjson/out/staging/usr/bin/oggjson"
    ));
    assert!(file(&staged).contains("not stripped"));
    let staging = t
        .root
        .join(format!("output/{BOARD}/build/libogg/out/staging/usr"));
    assert!(staging.join("include/ogg/ogg.h").is_file());
    assert!(staging.join("lib/pkgconfig/ogg.pc").is_file());

    // One option of the CMake library: it and its dependent rebuild.
    t.ok(&["config", "set", "JSON_C_THREADING=y"]);
    t.ok(&[]);
    assert_eq!(built(&t), ["json-c", "oggjson"]);

    // The same library rebuilt to the same bytes (a verbose build):
    // nothing after it rebuilds.
    t.ok(&[
        "config",
        "set",
        "JSON_C_CONF_OPTS=-DCMAKE_VERBOSE_MAKEFILE=ON",
    ]);
    t.ok(&[]);
    assert_eq!(built(&t), ["json-c"]);

    // A header change in the autotools library rebuilds its dependent.
    t.write(
        "boards/pkgs/patches/libogg/0001-header-note.patch",
        "--- a/include/ogg/ogg.h\n+++ b/include/ogg/ogg.h\n@@ -15,2 +15,3 @@\n  \
         ********************************************************************/\n\
         +/* patched by forge's tests */\n #ifndef _OGG_H\n",
    );
    t.ok(&["config", "set", "GLOBAL_PATCH_DIR=boards/pkgs/patches"]);
    t.ok(&[]);
    assert_eq!(built(&t), ["libogg", "oggjson"]);

    // A dependency the recipe does not declare is not in the sysroot, so
    // pkg-config does not find it.
    let recipe = String::from_utf8(t.read("packages/oggjson/oggjson.ron")).expect("utf-8");
    t.write(
        "packages/oggjson/oggjson.ron",
        &recipe.replace(", \"fribidi\"]", "]"),
    );
    let err = t.fails(&[]);
    assert!(err.contains("oggjson"), "{err}");
    let log =
        String::from_utf8_lossy(&t.read(&format!("output/{BOARD}/logs/oggjson.log"))).into_owned();
    assert!(log.contains("fribidi"), "{log}");
    assert!(
        log.contains("not found") || log.contains("No package"),
        "{log}"
    );
}

/// A target package whose build runs a host package's program.
const BIDINOTE: &str = r#"Recipe(
    name: "bidinote",
    version: "1",
    depends: ["toolchain-external", "host-fribidi"],
    kind: Generic(build: [
        "mkdir -p $TARGET_DIR/usr/share/bidinote",
        "fribidi --version | head -n 1 > $TARGET_DIR/usr/share/bidinote/version",
        "command -v fribidi > $TARGET_DIR/usr/share/bidinote/where",
        "file -L -b $(command -v fribidi) | cut -d, -f1-2 > $TARGET_DIR/usr/share/bidinote/what",
    ]),
)
"#;

#[test]
fn a_host_package_runs_in_its_dependents_and_serves_every_target() {
    let t = Tree::new();
    t.write("packages/bidinote/bidinote.ron", BIDINOTE);
    let sites = format!(
        "PRIMARY_SITE=\"file://{}\"\nBACKUP_SITE=\"\"\nPACKAGE_BIDINOTE=y\n",
        mirror().display()
    );
    t.write("boards/bidi_arm_defconfig", &sites);
    t.write(
        "boards/bidi_arm64_defconfig",
        &format!(
            "{sites}TARGET_ARCH=\"aarch64\"\nTOOLCHAIN_EXTERNAL_PREFIX=\"aarch64-linux-gnu-\"\n"
        ),
    );
    t.ok(&["boards/bidi_arm_defconfig"]);
    let rec = t.record("bidi_arm");
    let mut built = steps_with(&rec, "built");
    built.retain(|s| !s.starts_with("rootfs"));
    built.sort();
    assert_eq!(built, ["bidinote", "host-fribidi", "toolchain-external"]);
    let note = |f: &str| {
        String::from_utf8(t.read(&format!(
            "output/bidi_arm/build/bidinote/out/target/usr/share/bidinote/{f}"
        )))
        .expect("utf-8")
    };
    assert!(note("version").contains("1.0.8"), "{}", note("version"));
    assert_eq!(note("where").trim(), "/forge/step/host/bin/fribidi");
    let what = note("what");
    let machine = std::env::consts::ARCH.replace('_', "-");
    assert!(what.contains("ELF") && what.contains(&machine), "{what}");
    // The host package is in no image: its tree is host/ only.
    let host_out = t.root.join("output/bidi_arm/build/host-fribidi/out");
    assert!(host_out.join("host/bin/fribidi").is_file());
    assert!(host_out.join("host/lib/pkgconfig/fribidi.pc").is_file());
    assert_eq!(
        std::fs::read_dir(host_out.join("target"))
            .expect("target")
            .count(),
        0
    );

    // Another target architecture in the same cache: the host package is
    // the same step, restored, never rebuilt.
    t.ok(&["-O", "output/bidi_arm64", "boards/bidi_arm64_defconfig"]);
    let rec = t.record("bidi_arm64");
    assert!(
        steps_with(&rec, "cached").contains(&"host-fribidi".to_string()),
        "{rec}"
    );
    assert!(
        steps_with(&rec, "built").contains(&"bidinote".to_string()),
        "{rec}"
    );
}
