//! `forge test` through the real CLI without a kernel: the board's "qemu" is
//! a shell script that prints a boot banner and runs what is typed, so the
//! test run, its report, the console log and the clean-up are checked in
//! seconds. (tests/e2e.rs does the same with the real board in qemu.)

mod common;

use common::Tree;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Stands in for qemu: a banner, then every typed line echoed (as a
/// terminal does) and run.
const FAKE_QEMU: &str = r#"#!/bin/sh
echo "fake qemu $*"
echo "forge: system is up"
while IFS= read -r line; do
    echo "$line"
    sh -c "$line"
done
"#;

const TESTS: &str = r#"Tests(
    fail: ["Kernel panic"],
    tests: [
        Test(name: "ok", steps: [
            Expect("system is up"),
            Send("echo answer-$((6*7))"),
            Expect("^answer-42$"),
            Run("test -d /"),
        ]),
        Test(name: "status", steps: [
            Expect("system is up"),
            Run("test -e /nonexistent-forge"),
        ]),
        Test(name: "never", steps: [
            Expect("system is up"),
            Expect(pattern: "^never$", timeout: 1),
        ]),
        Test(name: "panic", steps: [
            Expect("system is up"),
            Send("printf 'Kernel %s\\n' panic"),
            Expect(pattern: "never", timeout: 60),
        ]),
    ],
)
"#;

/// A skeleton-only board whose qemu is [`FAKE_QEMU`], built.
fn board(tests: Option<&str>) -> Tree {
    let t = Tree::new();
    t.write("fake-qemu", FAKE_QEMU);
    let fake = t.root.join("fake-qemu");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut defconfig = format!(
        "PACKAGE_SKELETON=y\nQEMU_SYSTEM=\"{}\"\nQEMU_INITRD=\"rootfs.cpio.gz\"\n",
        fake.display()
    );
    if let Some(text) = tests {
        t.write("boards/fake/tests.ron", text);
        defconfig.push_str("QEMU_TESTS=\"boards/fake/tests.ron\"\n");
    }
    t.write("boards/fake_defconfig", &defconfig);
    t
}

fn pid_gone(stderr: &str) {
    let pid = stderr
        .split("started qemu (pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no pid in:\n{stderr}"));
    assert!(!Path::new("/proc").join(pid).exists(), "{pid} still runs");
}

#[test]
fn without_tests_or_images_forge_test_says_what_to_do() {
    let t = board(None);
    let err = t.fails(&["boards/fake_defconfig", "test"]);
    assert!(
        err.contains("this board declares no runtime tests (set QEMU_TESTS)"),
        "{err}"
    );

    let t = board(Some(TESTS));
    let err = t.fails(&["boards/fake_defconfig", "test"]);
    assert!(
        err.contains("has no images; build the board first: forge"),
        "{err}"
    );

    t.write(
        "boards/fake/tests.ron",
        "Tests(\n  tests: [Test(name: \"a\", steps: [Wait(\"x\")])],\n)\n",
    );
    let err = t.fails(&["test"]);
    assert!(err.contains("boards/fake/tests.ron:2:"), "{err}");
    assert!(err.contains("unknown variant `Wait`"), "{err}");
    assert!(err.contains("a tests file looks like: Tests("), "{err}");
}

#[test]
fn steps_pass_fail_and_report_with_the_console() {
    let t = board(Some(TESTS));
    t.ok(&["boards/fake_defconfig"]);
    let log_path = t.root.join("output/fake/logs/test-console.log");

    let out = t.ok(&["test", "ok"]);
    assert!(out.contains("  expect \"^answer-42$\" ... ok ("), "{out}");
    assert!(out.contains("1 test, 4 steps passed in "), "{out}");
    pid_gone(&out);
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(log.contains("fake qemu -M"), "qemu's arguments: {log}");
    assert!(log.contains("-initrd"), "{log}");
    assert!(log.contains("-snapshot"), "{log}");
    assert!(log.contains("\nanswer-42\n"), "{log}");
    assert!(
        log.contains("[forge test] run \"test -d /\" ... ok"),
        "{log}"
    );

    let err = t.fails(&["test", "status"]);
    assert!(
        err.contains("test \"status\" failed at ")
            && err.contains("tests.ron:12:13: run \"test -e /nonexistent-forge\": the command exited with status 1"),
        "{err}"
    );
    pid_gone(&err);

    let err = t.fails(&["test", "never"]);
    assert!(
        err.contains("tests.ron:16:13: expect \"^never$\": no match within 1 s"),
        "{err}"
    );
    assert!(
        err.contains("last lines of the console:\n  | fake qemu"),
        "{err}"
    );
    assert!(
        err.contains(&format!("console log: {}", log_path.display())),
        "{err}"
    );
    pid_gone(&err);
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        log.ends_with("[forge test] expect \"^never$\" ... FAILED: no match within 1 s\n"),
        "{log}"
    );

    let begin = std::time::Instant::now();
    let err = t.fails(&["test", "panic"]);
    assert!(
        begin.elapsed().as_secs() < 30,
        "the fail pattern ends it at once"
    );
    assert!(
        err.contains("the console showed the fail pattern \"Kernel panic\": \"Kernel panic\""),
        "{err}"
    );
    pid_gone(&err);

    // Every test, in file order, stops at the first failure.
    let err = t.fails(&["test"]);
    assert!(err.contains("test \"status\" failed"), "{err}");
    assert!(!err.contains("test \"never\""), "{err}");
}
