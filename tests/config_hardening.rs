//! Defconfig and option hardening through the real CLI: a NUL byte, an
//! invalid UTF-8 byte or an oversized value in a defconfig or in `forge
//! config set` is refused at its `file:line` with a short excerpt; a symbol
//! set twice is a warning naming both lines; an option naming a missing
//! file is reported at the defconfig line that set it.

mod common;

use common::Tree;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

const BOARD: &str = "PACKAGE_SKELETON=y\nROOTFS_TAR=y\n";

/// Stderr of a forge run that must fail, checked to quote no long text.
fn refused(t: &Tree, args: &[&str]) -> String {
    let err = t.fails(args);
    assert!(
        err.lines().all(|l| l.len() < 300),
        "a message quotes the whole line:\n{err}"
    );
    err
}

fn write_bytes(t: &Tree, rel: &str, bytes: &[u8]) {
    std::fs::write(t.root.join(rel), bytes).expect("write");
}

#[test]
fn a_nul_an_invalid_byte_or_a_huge_value_in_a_defconfig_is_refused_at_its_line() {
    let t = Tree::new();
    write_bytes(
        &t,
        "boards/bad_defconfig",
        b"PACKAGE_SKELETON=y\nSYSTEM_HOSTNAME=\"a\0b\"\n",
    );
    let err = refused(&t, &["boards/bad_defconfig"]);
    assert!(
        err.contains("boards/bad_defconfig:2:19: a NUL byte after `SYSTEM_HOSTNAME=\"a`"),
        "{err}"
    );

    write_bytes(
        &t,
        "boards/bad_defconfig",
        b"# board\nSYSTEM_BANNER=\"caf\xe9\"\n",
    );
    let err = refused(&t, &["boards/bad_defconfig"]);
    assert!(
        err.contains(
            "boards/bad_defconfig:2:19: invalid UTF-8 byte 0xe9 after `SYSTEM_BANNER=\"caf`"
        ),
        "{err}"
    );

    let huge = "x".repeat(100_000);
    t.write(
        "boards/bad_defconfig",
        &format!("{BOARD}SYSTEM_BANNER=\"{huge}\"\n"),
    );
    let err = refused(&t, &["boards/bad_defconfig"]);
    assert!(
        err.contains("boards/bad_defconfig:3: the line is 100016 bytes long; at most 8384"),
        "{err}"
    );
    let big = "x".repeat(5000);
    t.write(
        "boards/bad_defconfig",
        &format!("{BOARD}SYSTEM_BANNER=\"{big}\"\n"),
    );
    let err = refused(&t, &["boards/bad_defconfig"]);
    assert!(
        err.contains(
            "boards/bad_defconfig:3:15: the value of SYSTEM_BANNER is 5000 bytes long; at most 4096"
        ),
        "{err}"
    );
    // Nothing was configured from any of them.
    assert!(!t.root.join("output/bad/.config").exists());
}

#[test]
fn config_set_refuses_the_same_at_its_argument() {
    let t = Tree::new();
    t.write("boards/cfg_defconfig", BOARD);
    t.ok(&["boards/cfg_defconfig", "config", "list"]);
    let before = t.read("output/cfg/.config");

    let big = format!("SYSTEM_BANNER={}", "x".repeat(5000));
    let err = refused(&t, &["config", "set", "SYSTEM_HOSTNAME=ok", &big]);
    assert!(
        err.contains("config set:2:15: the value of SYSTEM_BANNER is 5000 bytes long"),
        "{err}"
    );
    let err = refused(&t, &["config", "set", "SYSTEM_BANNER=\"a\x1bb\""]);
    assert!(
        err.contains("config set:1:17: the control character U+001B"),
        "{err}"
    );
    // A byte that is not UTF-8 cannot even become an argument string.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_forge"))
        .args([OsStr::new("config"), OsStr::new("set")])
        .arg(OsStr::from_bytes(b"SYSTEM_BANNER=caf\xe9"))
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .output()
        .expect("forge");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("command line argument 3: invalid UTF-8 byte 0xe9 after `SYSTEM_BANNER=caf`"),
        "{err}"
    );
    assert_eq!(t.read("output/cfg/.config"), before, "nothing was written");
}

#[test]
fn a_symbol_set_twice_is_a_warning_naming_both_lines() {
    let t = Tree::new();
    t.write(
        "boards/dup_defconfig",
        &format!("{BOARD}SYSTEM_HOSTNAME=\"one\"\nSYSTEM_HOSTNAME=\"two\"\n"),
    );
    let out = t.ok(&["boards/dup_defconfig", "config", "get", "SYSTEM_HOSTNAME"]);
    let warning = out
        .lines()
        .find(|l| l.starts_with("forge: warning: "))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(
        warning.contains("boards/dup_defconfig:4: SYSTEM_HOSTNAME is assigned again")
            && warning.contains("the earlier assignment at ")
            && warning.contains("boards/dup_defconfig:3 is ignored"),
        "{out}"
    );
    assert!(out.contains("\"two\""), "the later line wins: {out}");
}

#[test]
fn a_missing_file_is_reported_at_the_defconfig_line_that_named_it() {
    let t = Tree::new();
    t.write(
        "boards/miss_defconfig",
        &format!("{BOARD}\nROOTFS_OVERLAY=\"boards/miss/overlay\"\n"),
    );
    let err = t.fails(&["boards/miss_defconfig"]);
    assert!(
        err.contains(
            "boards/miss_defconfig:4: option ROOTFS_OVERLAY: boards/miss/overlay does not exist"
        ),
        "{err}"
    );
    // Changed since by `config set`: the `.config` line is the one to fix.
    t.ok(&["config", "set", "ROOTFS_OVERLAY=boards/elsewhere"]);
    let err = t.fails(&[]);
    assert!(
        err.contains(".config:")
            && err.contains("option ROOTFS_OVERLAY: boards/elsewhere does not exist"),
        "{err}"
    );
}
