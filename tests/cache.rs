//! The cache's lifecycle through the CLI: `forge cache stats` (size, hit
//! rates), `verify` (a tampered blob found, removed, rebuilt), `gc`
//! (least recently used first, leftovers of killed inserts reclaimed,
//! waiting for a running build), and the size limit after a build.

mod common;

use common::{Tree, steps_with};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A package whose output is one 1 MB file of `byte`s (after `sleep`
/// seconds), and a board selecting only it.
fn big_package(t: &Tree, name: &str, byte: u8, sleep: u32) {
    t.write(
        &format!("packages/{name}/{name}.ron"),
        &format!(
            "Recipe(name: {name:?}, version: \"1\", kind: Generic(build: [\
             \"sleep {sleep}\", \"mkdir -p $TARGET_DIR/data\", \
             \"head -c 1000000 /dev/zero | tr '\\\\000' '\\\\{byte:03o}' > $TARGET_DIR/data/{name}\"]))\n"
        ),
    );
    let option = name.to_uppercase().replace('-', "_");
    t.write(
        &format!("boards/{name}_defconfig"),
        &format!("PACKAGE_{option}=y\n# ROOTFS_CPIO is not set\n"),
    );
}

/// Blob files of exactly `size` bytes.
fn blobs_of_size(t: &Tree, size: u64) -> Vec<PathBuf> {
    common::offline::files_under(&t.cache.join("blobs"))
        .into_iter()
        .map(|p| t.cache.join("blobs").join(p))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() == size))
        .collect()
}

#[test]
fn stats_verify_and_rebuild_after_tampering() {
    let t = Tree::new();
    big_package(&t, "big-a", 1, 0);
    t.ok(&["boards/big-a_defconfig"]);
    // What a killed insert left in tmp/ goes at the end of the next build.
    std::fs::write(t.cache.join("tmp/.tmp-killed"), b"half a blob").expect("tmp");
    std::fs::remove_dir_all(t.root.join("output/big-a")).expect("rm output");
    t.ok(&["boards/big-a_defconfig"]);
    assert!(!t.cache.join("tmp/.tmp-killed").exists());
    let stats = t.ok(&["cache", "stats"]);
    assert!(stats.contains("hit rate over 2 builds"), "{stats}");
    assert!(stats.contains("0 built (100 %)"), "{stats}");

    // Tamper with the package's blob: verify finds it and what needs it.
    let blob = blobs_of_size(&t, 1_000_000);
    assert_eq!(blob.len(), 1, "{blob:?}");
    std::fs::set_permissions(
        &blob[0],
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod");
    std::fs::write(&blob[0], vec![9u8; 1_000_000]).expect("tamper");
    let report = t.ok(&["cache", "verify"]);
    assert!(
        report.contains("content does not match its digest"),
        "{report}"
    );
    assert!(report.contains("its manifest is broken"), "{report}");
    let again = t.ok(&["cache", "verify"]);
    assert!(again.contains("0 broken entries removed"), "{again}");
    // The next build rebuilds the package rather than restore bad bytes.
    std::fs::remove_dir_all(t.root.join("output/big-a")).expect("rm output");
    t.ok(&["boards/big-a_defconfig"]);
    assert!(steps_with(&t.record("big-a"), "built").contains(&"big-a".to_string()));
    let data = t.read("output/big-a/build/big-a/out/target/data/big-a");
    assert!(data.iter().all(|&b| b == 1));
}

#[test]
fn gc_removes_the_least_recently_used_and_killed_inserts() {
    let t = Tree::new();
    big_package(&t, "big-a", 1, 0);
    big_package(&t, "big-b", 2, 0);
    t.ok(&["boards/big-a_defconfig"]);
    std::thread::sleep(Duration::from_millis(1100));
    t.ok(&["boards/big-b_defconfig"]);
    std::fs::write(t.cache.join("tmp/.tmp-killed-insert"), vec![0u8; 300_000]).expect("tmp");
    // Room for one package: big-b, used last, stays.
    let out = t.ok(&["cache", "gc", "--max-size", "1.5M"]);
    assert!(out.contains("1 temporary files"), "{out}");
    assert!(!t.cache.join("tmp/.tmp-killed-insert").exists());
    assert_eq!(blobs_of_size(&t, 1_000_000).len(), 1, "{out}");
    std::fs::remove_dir_all(t.root.join("output")).expect("rm output");
    t.ok(&["boards/big-b_defconfig"]);
    assert!(steps_with(&t.record("big-b"), "cached").contains(&"big-b".to_string()));
    t.ok(&["boards/big-a_defconfig"]);
    assert!(steps_with(&t.record("big-a"), "built").contains(&"big-a".to_string()));
    let verify = t.ok(&["cache", "verify"]);
    assert!(verify.contains("0 broken entries removed"), "{verify}");
}

#[test]
fn gc_waits_for_a_running_build_and_the_limit_holds_after_a_build() {
    let t = Tree::new();
    big_package(&t, "slow", 3, 3);
    t.ok(&["boards/slow_defconfig", "config", "list"]);
    let bin = env!("CARGO_BIN_EXE_forge");
    let build = std::process::Command::new(bin)
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .env("FORGE_DL_DIR", t.tmp.path().join("dl"))
        .env_remove("MAKEFLAGS")
        .spawn()
        .expect("start build");
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let gc = t.forge(&["cache", "gc", "--max-size", "0"]);
    let waited = started.elapsed();
    let mut build = build;
    assert!(build.wait().expect("wait").success(), "the build failed");
    let stderr = String::from_utf8_lossy(&gc.stderr);
    assert!(gc.status.success(), "{stderr}");
    assert!(stderr.contains("is in use by a build; waiting"), "{stderr}");
    assert!(
        waited >= Duration::from_millis(1000),
        "gc did not wait: {waited:?}"
    );
    assert!(blobs_of_size(&t, 1_000_000).is_empty());

    // A build that leaves the cache over FORGE_CACHE_MAX_SIZE shrinks it.
    std::fs::remove_dir_all(t.root.join("output")).expect("rm output");
    let out = t.forge_env(
        &["boards/slow_defconfig"],
        &[("FORGE_CACHE_MAX_SIZE", "100K")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("the cache was over its limit"), "{stderr}");
    let stats = t.ok(&["cache", "stats"]);
    assert!(blobs_of_size(&t, 1_000_000).is_empty(), "{stats}");
}
