//! Inputs frozen for the length of a build, through the real CLI with a
//! small real package whose build sleeps: a second invocation on the same
//! output dir writes nothing (not even `.config`) until the first is done,
//! and a file a step's key was computed from that changes while the step
//! runs fails the step, naming the file, with nothing stored under the old
//! key.

mod common;

use common::{Tree, steps_with};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BOARD: &str = "PACKAGE_SKELETON=y\nPACKAGE_SLEEPY=y\nROOTFS_TAR=y\n";

/// A package that sleeps, then installs its folder's `data` file.
const RECIPE: &str = "Recipe(name: \"sleepy\", version: \"1\",\n\
    kind: Generic(build: [\"sleep 3\"],\n\
    install: [\"mkdir -p $TARGET_DIR/etc && cp $PKG_DIR/data $TARGET_DIR/etc/sleepy\"]))\n";

fn board(t: &Tree) {
    t.write("boards/s_defconfig", BOARD);
    t.write("packages/sleepy/sleepy.ron", RECIPE);
    t.write("packages/sleepy/data", "first\n");
}

fn spawn(t: &Tree, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(args)
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .env("FORGE_DL_DIR", t.dl())
        .env_remove("FORGE_OUTPUT")
        .env_remove("MAKEFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn forge")
}

/// Wait until the sleepy step's command runs.
fn wait_for_sleepy(t: &Tree, build: &mut Child) {
    let log = t.root.join("output/s/logs/sleepy.log");
    let start = Instant::now();
    while !log.exists() {
        assert!(
            build.try_wait().expect("try_wait").is_none(),
            "the build ended before the sleepy step ran"
        );
        assert!(start.elapsed() < Duration::from_secs(120), "no sleepy step");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The log is opened just before the step's first command.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        build.try_wait().expect("try_wait").is_none(),
        "sleepy ran too fast"
    );
}

fn finish(child: Child) -> (bool, String) {
    common::status_and_text(child.wait_with_output().expect("wait"))
}

#[test]
fn a_second_invocation_writes_nothing_until_the_build_is_done() {
    let t = Tree::new();
    board(&t);
    t.ok(&["boards/s_defconfig", "config", "list"]);
    let dot = t.root.join("output/s/.config");
    let before = std::fs::read(&dot).expect(".config");

    let mut build = spawn(&t, &[]);
    wait_for_sleepy(&t, &mut build);
    let set = spawn(&t, &["config", "set", "SYSTEM_HOSTNAME=second"]);
    t.write(
        "boards/s_defconfig",
        &format!("{BOARD}SYSTEM_BANNER=\"again\"\n"),
    );
    let configure = spawn(&t, &["boards/s_defconfig"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        build.try_wait().expect("try_wait").is_none(),
        "build still runs"
    );
    assert_eq!(
        std::fs::read(&dot).expect(".config"),
        before,
        ".config was written while a build held the output dir"
    );
    let (ok, text) = finish(build);
    assert!(ok, "{text}");
    let (ok, text) = finish(set);
    assert!(ok && text.contains("in use by another build"), "{text}");
    let (ok, text) = finish(configure);
    assert!(ok && text.contains("in use by another build"), "{text}");
    let after = String::from_utf8(std::fs::read(&dot).expect(".config")).expect("utf8");
    assert!(after.contains("SYSTEM_BANNER=\"again\""), "{after}");
}

#[test]
fn a_file_changed_while_its_step_runs_is_named_and_not_stored() {
    let t = Tree::new();
    board(&t);
    t.ok(&["boards/s_defconfig", "config", "list"]);

    let mut build = spawn(&t, &[]);
    wait_for_sleepy(&t, &mut build);
    t.write("packages/sleepy/data", "edited mid-build\n");
    let (ok, text) = finish(build);
    assert!(!ok, "the build must fail:\n{text}");
    assert!(
        text.contains("packages/sleepy changed while the step ran"),
        "{text}"
    );

    // Back to the content the key was computed from: nothing was stored
    // under that key, so the step runs again and installs that content.
    t.write("packages/sleepy/data", "first\n");
    t.ok(&[]);
    let built = steps_with(&t.record("s"), "built");
    assert!(built.contains(&"sleepy".to_string()), "{built:?}");
    let images = t.root.join("output/s/images");
    assert_eq!(
        common::sh_in(&images, "tar -xOf rootfs.tar etc/sleepy"),
        "first\n"
    );
}
