//! End to end: the demo board built from an empty cache out of Debian's
//! packages and checked by `forge test` (qemu-system-arm driven over the
//! serial console: login, users, setuid bit, device nodes); failing runtime
//! tests and what they report; a second checkout at another path, built
//! by another user from its own cache, agreeing on every step's key and
//! output; then the no-op, kernel-config and
//! cache-restore rebuilds; a drive that `forge test` must not write to; last,
//! the SD-card twin of the board, booted from its disk image, passing the
//! same runtime tests.
//!
//! Slow (a kernel build); run with the rest by `cargo test`. Needs the host
//! packages `.ci/run` installs.

mod common;

use common::{Tree, keys_and_outputs, other_user, steps_with};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BOARD: &str = "qemu_arm_vexpress";
const DEFCONFIG: &str = "boards/qemu_arm_vexpress_defconfig";
const FRAGMENT: &str = "boards/qemu_arm_vexpress/linux-local.fragment";
const SD_BOARD: &str = "qemu_arm_vexpress_sd";
const SD_DEFCONFIG: &str = "boards/qemu_arm_vexpress_sd_defconfig";

/// This test's own runtime tests, beside the board's; they run with a root
/// shell on the console (SYSTEM_GETTY_PORT="") instead of the board's login.
const E2E_TESTS: &str = "e2e-tests.ron";
const E2E_TESTS_RON: &str = r#"// Runtime tests of tests/e2e.rs.
Tests(
    fail: ["Kernel panic"],
    tests: [
        Test(name: "never", steps: [
            Expect(pattern: "forge: system is up", timeout: 180),
            Send("echo e2e-$((6*7))"),
            Expect("^e2e-42$"),
            Expect(pattern: "^this never appears$", timeout: 3),
        ]),
        Test(name: "panic", steps: [
            Expect(pattern: "forge: system is up", timeout: 180),
            Send("printf 'Kernel %s\n' panic"),
            Expect(pattern: "this never appears either", timeout: 120),
        ]),
        Test(name: "localversion", steps: [
            Expect(pattern: "forge: system is up", timeout: 180),
            Send("uname -r"),
            Expect("-forge-test$"),
        ]),
        Test(name: "drive", steps: [
            Expect(pattern: "forge: system is up", timeout: 180),
            Run("test -b /dev/mmcblk0"),
            Run(command: "echo e2e-drive-marker | dd of=/dev/mmcblk0 conv=fsync", timeout: 60),
            Run("head -c 16 /dev/mmcblk0 | grep -q e2e-drive-marker"),
        ]),
    ],
)
"#;

/// `E2E_TESTS:line:col` of the first occurrence of `needle`.
fn e2e_location(needle: &str) -> String {
    let at = E2E_TESTS_RON.find(needle).expect("needle");
    let before = &E2E_TESTS_RON[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{E2E_TESTS}:{line}:{col}")
}

fn console_log(t: &Tree) -> String {
    String::from_utf8(t.read(&format!("output/{BOARD}/logs/test-console.log"))).expect("utf8")
}

/// The qemu `forge test` reported starting is gone, and no qemu of this
/// tree's images runs.
fn assert_no_qemu_left(t: &Tree, stderr: &str) {
    let pid = stderr
        .split("started qemu (pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no qemu pid in:\n{stderr}"));
    assert!(
        !Path::new("/proc").join(pid).exists(),
        "qemu {pid} is still there"
    );
    let images = t.root.join("output").join(BOARD).join("images");
    let pgrep = Command::new("pgrep")
        .arg("-f")
        .arg(&images)
        .output()
        .expect("pgrep");
    assert!(
        pgrep.stdout.is_empty(),
        "left running: {}",
        String::from_utf8_lossy(&pgrep.stdout)
    );
}

/// A second checkout at another path, built from its own empty cache by
/// another user (when the tests run as root), computes the same key and
/// the same output digest for every step of the demo board as `first`.
fn second_checkout_agrees(first: &serde_json::Value) {
    let b = Tree::new().moved_to("another/place/forge");
    let b = match other_user() {
        Some(user) => b.owned_by(user),
        None => b,
    };
    b.ok(&[DEFCONFIG]);
    let rec = b.record(BOARD);
    assert_eq!(rec["cached"], 0, "{rec}");
    let mode = rec["sandbox"].as_str().unwrap_or_default();
    assert!(mode.starts_with("steps at fixed paths"), "{mode}");
    let (a, b) = (keys_and_outputs(first), keys_and_outputs(&rec));
    assert_eq!(a.len(), b.len());
    for (step, (key, output)) in &a {
        assert_eq!(
            b.get(step),
            Some(&(key.clone(), output.clone())),
            "step {step}"
        );
    }
}

#[test]
fn demo_board_builds_boots_and_rebuilds_exactly() {
    let t = Tree::new();

    // 1. From an empty cache to a booted shell.
    t.ok(&[DEFCONFIG]);
    let rec = t.record(BOARD);
    assert_eq!(rec["failed"], 0, "{rec}");
    assert_eq!(rec["cached"], 0, "{rec}");
    let images = t.root.join("output").join(BOARD).join("images");
    for f in ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"] {
        assert!(images.join(f).is_file(), "missing images/{f}");
    }
    second_checkout_agrees(&rec);
    // The board's runtime tests (boards/qemu_arm_vexpress/tests.ron).
    let out = t.ok(&["test"]);
    assert!(out.contains("1 test, 27 steps passed"), "{out}");
    let log = console_log(&t);
    assert!(log.contains("\narmv7l\n"), "{log}");
    assert!(
        log.contains("[forge test] expect \"^armv7l$\" ... ok"),
        "{log}"
    );
    assert_no_qemu_left(&t, &out);

    // 2. Failing runtime tests report the step and the console, and leave
    // no qemu behind. Choosing other tests changes no build input; a root
    // shell instead of the login changes the skeleton and what follows it.
    t.write(E2E_TESTS, E2E_TESTS_RON);
    t.ok(&[
        "config",
        "set",
        &format!("QEMU_TESTS={E2E_TESTS}"),
        "SYSTEM_GETTY_PORT=",
    ]);
    t.ok(&[]);
    assert_eq!(
        steps_with(&t.record(BOARD), "built"),
        ["skeleton", "rootfs", "rootfs-cpio"]
    );
    failing_tests_report_and_clean_up(&t);

    // Again right after: no build command runs.
    let msg = t.ok(&[]);
    assert!(msg.contains("nothing to do"), "{msg}");
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());

    // 3. A kernel config fragment change rebuilds linux, not the packages.
    let original = String::from_utf8(t.read(FRAGMENT)).expect("utf8");
    t.write(
        FRAGMENT,
        &format!("{original}CONFIG_LOCALVERSION=\"-forge-test\"\n"),
    );
    t.ok(&[]);
    let rec = t.record(BOARD);
    let built = steps_with(&rec, "built");
    assert!(built.contains(&"linux".to_string()), "{rec}");
    for untouched in ["toolchain-external", "busybox-static", "skeleton"] {
        assert!(
            steps_with(&rec, "cached").contains(&untouched.to_string()),
            "{untouched} rebuilt: {rec}"
        );
    }
    t.ok(&["test", "localversion"]);

    // 4. Changing it back runs no build command.
    t.write(FRAGMENT, &original);
    t.ok(&[]);
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());

    // 5. An empty output dir is restored from the cache, byte for byte.
    // Back to the board's own configuration first (the login, from step 1's
    // cache entries).
    t.ok(&[DEFCONFIG]);
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());
    let before: Vec<Vec<u8>> = ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"]
        .iter()
        .map(|f| std::fs::read(images.join(f)).expect("image"))
        .collect();
    std::fs::remove_dir_all(t.root.join("output").join(BOARD)).expect("rm output");
    t.ok(&[DEFCONFIG]);
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());
    let after: Vec<Vec<u8>> = ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"]
        .iter()
        .map(|f| std::fs::read(images.join(f)).expect("image"))
        .collect();
    assert!(before == after, "restored images differ");

    // 6. A drive: forge test runs it as a snapshot, the image stays as built.
    t.ok(&[
        "config",
        "set",
        "ROOTFS_EXT4=y",
        "QEMU_DRIVE=rootfs.ext4",
        &format!("QEMU_TESTS={E2E_TESTS}"),
        "SYSTEM_GETTY_PORT=",
    ]);
    t.ok(&[]);
    let ext4 = std::fs::read(images.join("rootfs.ext4")).expect("rootfs.ext4");
    let out = t.ok(&["test", "drive"]);
    assert!(out.contains("-drive file="), "{out}");
    assert!(out.contains(",snapshot=on"), "{out}");
    assert!(
        std::fs::read(images.join("rootfs.ext4")).expect("rootfs.ext4") == ext4,
        "forge test wrote to the image"
    );

    // 7. The SD-card board shares the kernel and root filesystem through
    // the cache; only its images are new. It boots from sdcard.img.
    t.ok(&[SD_DEFCONFIG]);
    let mut built = steps_with(&t.record(SD_BOARD), "built");
    built.sort();
    assert_eq!(built, ["disk-image", "rootfs-ext4"]);
    let sd = t.root.join("output").join(SD_BOARD);
    let out = t.ok(&["-O", &sd.to_string_lossy(), "test"]);
    assert!(out.contains("sdcard.img,if=sd"), "{out}");
    assert!(out.contains("1 test, 27 steps passed"), "{out}");
}

fn failing_tests_report_and_clean_up(t: &Tree) {
    // An expectation that never matches: its step, the console, the log.
    let err = t.fails(&["test", "never"]);
    let at = e2e_location("Expect(pattern: \"^this never appears$\"");
    assert!(
        err.contains(&format!(
            "test \"never\" failed at {at}: expect \"^this never appears$\": no match within 3 s"
        )),
        "{err}"
    );
    assert!(err.contains("  | e2e-42\n"), "the console tail: {err}");
    let log_path = t.root.join(format!("output/{BOARD}/logs/test-console.log"));
    assert!(
        err.contains(&format!("console log: {}", log_path.display())),
        "{err}"
    );
    let log = console_log(t);
    assert!(log.contains("forge: system is up"), "{log}");
    assert!(log.contains("\ne2e-42\n"), "{log}");
    assert!(
        log.contains("[forge test] expect \"^this never appears$\" ... FAILED"),
        "{log}"
    );
    assert_no_qemu_left(t, &err);

    // A fail pattern ends the test at once, not after the step's timeout.
    let begin = Instant::now();
    let err = t.fails(&["test", "panic"]);
    assert!(begin.elapsed() < Duration::from_secs(100), "{err}");
    assert!(
        err.contains("the console showed the fail pattern \"Kernel panic\""),
        "{err}"
    );
    assert!(
        err.contains(&e2e_location("Expect(pattern: \"this never")),
        "{err}"
    );
    assert_no_qemu_left(t, &err);

    let err = t.fails(&["test", "nosuch"]);
    assert!(
        err.contains("has no test \"nosuch\"; its tests: never, panic, localversion, drive"),
        "{err}"
    );
}
