//! Faults the cache must survive: forge and its step processes killed
//! with SIGKILL at pseudo-random moments, again and again, then a clean
//! `cache verify` and images byte-identical to a clean build; a cache on a
//! full filesystem (a small tmpfs in a user and mount namespace) giving a
//! clear error and staying consistent; two builds of different boards
//! into one cache at the same time.
//!
//! The kill loop runs `FORGE_KILL_LOOP_COUNT` times (default 12; the
//! figure in the README comes from 100, `scripts/kill-loop`).

mod common;

use common::Tree;
use common::offline::assert_same_images;
use std::process::Command;
use std::time::Duration;

/// Four shell packages writing a few hundred deterministic files each
/// (`p3` reads `p0` from its sysroot), and a board selecting them with a
/// cpio and a tar image.
fn board(t: &Tree, name: &str, packages: &[&str]) {
    for p in ["p0", "p1", "p2", "p3"] {
        let depends = if p == "p3" { "depends: [\"p0\"], " } else { "" };
        let copy = if p == "p3" {
            "\"cp $SYSROOT/usr/share/p0/list $TARGET_DIR/usr/share/p3/\", "
        } else {
            ""
        };
        t.write(
            &format!("packages/{p}/{p}.ron"),
            &format!(
                "Recipe(name: {p:?}, version: \"1\", {depends}kind: Generic(build: [\
                 \"sleep 0.2\", \"mkdir -p $TARGET_DIR/usr/share/{p} $STAGING_DIR/usr/share/{p}\", \
                 \"for i in $(seq 1 300); do head -c 20000 /dev/zero | tr '\\\\000' x > $TARGET_DIR/usr/share/{p}/f$i; echo {p}-$i >> $TARGET_DIR/usr/share/{p}/f$i; done\", \
                 \"seq 1 300 > $STAGING_DIR/usr/share/{p}/list\", {copy}\"true\"]))\n"
            ),
        );
    }
    let selected: String = packages
        .iter()
        .map(|p| format!("PACKAGE_{}=y\n", p.to_uppercase()))
        .collect();
    t.write(
        &format!("boards/{name}_defconfig"),
        &format!("{selected}ROOTFS_TAR=y\n"),
    );
}

/// The next of a fixed pseudo-random sequence (an LCG), in `0..n`.
fn next(state: &mut u64, n: u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 33) % n
}

#[test]
fn kill_9_at_random_moments_leaves_a_sound_cache_and_identical_images() {
    let count: u32 = std::env::var("FORGE_KILL_LOOP_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let t = Tree::new();
    board(&t, "kills", &["p0", "p1", "p2", "p3"]);
    t.ok(&["boards/kills_defconfig", "config", "list"]);
    let mut seed = 0x5eed_u64;
    let mut finished = 0;
    for _ in 0..count {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_forge"));
        cmd.current_dir(&t.root)
            .env("FORGE_CACHE_DIR", &t.cache)
            .env("FORGE_DL_DIR", t.tmp.path().join("dl"))
            .env_remove("MAKEFLAGS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().expect("start forge");
        std::thread::sleep(Duration::from_millis(20 + next(&mut seed, 1500)));
        // forge and every process it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
        let status = child.wait().expect("wait");
        if status.success() {
            finished += 1;
            // Start again from an empty output dir and an emptied cache
            // (forge's own gc, so the cache stays one even if every later
            // kill lands before a build opens it), so kills keep landing in
            // builds that store things.
            std::fs::remove_dir_all(t.root.join("output/kills/build")).ok();
            t.ok(&["cache", "gc", "--max-size", "0"]);
        }
    }
    eprintln!("{count} kills, {finished} builds finished first");
    let verify = t.ok(&["cache", "verify"]);
    assert!(verify.contains(" 0 broken entries removed"), "{verify}");
    t.ok(&[]);
    let clean = Tree::new();
    board(&clean, "kills", &["p0", "p1", "p2", "p3"]);
    clean.ok(&["boards/kills_defconfig"]);
    assert_same_images(
        &t.root.join("output/kills/images"),
        &clean.root.join("output/kills/images"),
    );
}

#[test]
fn a_full_cache_filesystem_is_a_clear_error_and_leaves_the_cache_sound() {
    let t = Tree::new();
    board(&t, "full", &["p0", "p1", "p2", "p3"]);
    t.ok(&["boards/full_defconfig", "config", "list"]);
    let cache = t.tmp.path().join("small-cache");
    std::fs::create_dir_all(&cache).expect("mkdir");
    let forge = env!("CARGO_BIN_EXE_forge");
    // 4 × 300 × 20 kB do not fit in 8 MB; everything happens inside one
    // namespace, where the tmpfs exists.
    let script = format!(
        "mount -t tmpfs -o size=8m tmpfs '{c}' || exit 90; \
         '{forge}' > build.out 2>&1; echo \"build=$?\" > status; \
         '{forge}' cache verify > verify.out 2>&1; echo \"verify=$?\" >> status",
        c = cache.display()
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &cache)
        .env("FORGE_DL_DIR", t.tmp.path().join("dl"))
        .env_remove("MAKEFLAGS")
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "cannot mount a tmpfs in a user namespace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| String::from_utf8_lossy(&t.read(f)).into_owned();
    let status = read("status");
    assert!(status.contains("build=1"), "{status}");
    let build = read("build.out");
    assert!(build.contains("No space left on device"), "{build}");
    assert!(
        build.contains("small-cache"),
        "the error names no cache path: {build}"
    );
    assert!(
        status.contains("verify=0"),
        "{status}\n{}",
        read("verify.out")
    );
    let verify = read("verify.out");
    assert!(verify.contains(" 0 broken entries removed"), "{verify}");
}

#[test]
fn two_boards_build_into_one_cache_at_the_same_time() {
    let shared = tempfile::tempdir().expect("tmp");
    let a = Tree::with_cache(Some(shared.path()));
    let b = Tree::with_cache(Some(shared.path()));
    board(&a, "left", &["p0", "p1", "p3"]);
    board(&b, "right", &["p0", "p2", "p3"]);
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.forge(&["boards/left_defconfig"]));
        let hb = s.spawn(|| b.forge(&["boards/right_defconfig"]));
        (ha.join().expect("left"), hb.join().expect("right"))
    });
    for (name, r) in [("left", &ra), ("right", &rb)] {
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let verify = a.ok(&["cache", "verify"]);
    assert!(verify.contains(" 0 broken entries removed"), "{verify}");
    for (t, name) in [(&a, "left"), (&b, "right")] {
        let clean = Tree::new();
        board(
            &clean,
            name,
            if name == "left" {
                &["p0", "p1", "p3"]
            } else {
                &["p0", "p2", "p3"]
            },
        );
        clean.ok(&[&format!("boards/{name}_defconfig")]);
        assert_same_images(
            &t.root.join(format!("output/{name}/images")),
            &clean.root.join(format!("output/{name}/images")),
        );
    }
}
