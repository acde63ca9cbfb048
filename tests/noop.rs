//! The remembered build (`run/noop`): a plain `forge` after a complete
//! build answers from the remembered stamps without loading anything, and
//! every kind of change a user can make falls through to the full build,
//! which rebuilds exactly what changed.

mod common;

use common::{Tree, steps_with};
use std::fs;
use std::time::Duration;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n\
                     ROOTFS_OVERLAY=\"boards/fix/overlay\"\n";

fn remembered(t: &Tree) -> bool {
    t.record("fix")["remembered"] == true
}

/// A plain `forge`; returns the steps it built and whether it was answered
/// from the remembered build.
fn rebuild(t: &Tree) -> (Vec<String>, bool) {
    t.ok(&[]);
    let rec = t.record("fix");
    (steps_with(&rec, "built"), remembered(t))
}

/// Stamps include nanosecond times; make sure an edit is a later one.
fn tick() {
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn plain_forge_after_a_build_is_answered_from_the_remembered_build() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.write("boards/fix/overlay/etc/motd", "hello\n");
    t.ok(&["boards/fix_defconfig"]);
    assert!(!remembered(&t));

    let (built, answered) = rebuild(&t);
    assert!(answered && built.is_empty(), "{built:?}");
    let rec = t.record("fix");
    assert_eq!(rec["built"], 0);
    assert_eq!(
        steps_with(&rec, "cached").len(),
        rec["steps"].as_array().unwrap().len()
    );

    // A recipe edited: only that package (and what reads it) rebuilds.
    tick();
    let recipe = t.root.join("packages/hello/hello.ron");
    let text = fs::read_to_string(&recipe).unwrap();
    fs::write(&recipe, text.replace("hello from forge", "hello again")).unwrap();
    let (built, answered) = rebuild(&t);
    assert!(!answered);
    assert!(built.contains(&"hello".to_string()), "{built:?}");
    assert!(!built.contains(&"skeleton".to_string()), "{built:?}");
    assert!(rebuild(&t).1, "the next plain forge is answered again");

    // A file added to a package folder.
    tick();
    t.write("packages/hello/src/NOTES", "new file\n");
    let (built, answered) = rebuild(&t);
    assert!(
        !answered && built.contains(&"hello".to_string()),
        "{built:?}"
    );

    // An overlay file's content, then its mode.
    tick();
    t.write("boards/fix/overlay/etc/motd", "changed\n");
    let (built, answered) = rebuild(&t);
    assert!(
        !answered && built.contains(&"rootfs".to_string()),
        "{built:?}"
    );
    assert!(rebuild(&t).1);
    use std::os::unix::fs::PermissionsExt;
    let motd = t.root.join("boards/fix/overlay/etc/motd");
    fs::set_permissions(&motd, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(!rebuild(&t).1, "a mode change is a change");

    // The configuration changed through forge.
    t.ok(&["config", "set", "HELLO_GREETING=bonjour"]);
    let (built, answered) = rebuild(&t);
    assert!(
        !answered && built.contains(&"hello".to_string()),
        "{built:?}"
    );

    // A delivered image deleted: put back from the cache, nothing built.
    let delivered = t.root.join("output/fix/images/rootfs.cpio.gz");
    fs::remove_file(&delivered).unwrap();
    let (built, answered) = rebuild(&t);
    assert!(!answered && built.is_empty(), "{built:?}");
    assert!(delivered.is_file());

    // A partial build forgets the remembered build.
    assert!(rebuild(&t).1);
    t.ok(&["hello-rebuild"]);
    assert!(!rebuild(&t).1);

    // An emptied cache means a build, as it would without the shortcut.
    assert!(rebuild(&t).1);
    fs::remove_dir_all(&t.cache).unwrap();
    let (built, answered) = rebuild(&t);
    assert!(
        !answered && built.contains(&"hello".to_string()),
        "{built:?}"
    );

    // Another cache dir is another invocation.
    let other = t.tmp.path().join("other-cache");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_forge"))
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &other)
        .env("FORGE_DL_DIR", t.dl())
        .env_remove("MAKEFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!remembered(&t));
}

#[test]
fn a_failed_build_leaves_nothing_remembered() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.write("boards/fix/overlay/etc/motd", "hello\n");
    t.ok(&["boards/fix_defconfig"]);
    assert!(rebuild(&t).1);

    tick();
    let recipe = t.root.join("packages/hello/hello.ron");
    let text = fs::read_to_string(&recipe).unwrap();
    fs::write(
        &recipe,
        text.replace("make install", "false && make install"),
    )
    .unwrap();
    t.fails(&[]);
    assert!(!t.root.join("output/fix/.remembered-build.json").exists());
    t.fails(&[]);

    fs::write(&recipe, text).unwrap();
    let (built, answered) = rebuild(&t);
    assert!(!answered, "{built:?}");
    assert!(rebuild(&t).1);
}
