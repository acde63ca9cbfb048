//! The console matcher driven by small shell scripts standing in for qemu.

use super::*;
use crate::runtime::boardtest::spec::pattern;

fn start(script: &str, fail: &[&str]) -> (Console, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = File::create(dir.path().join("console.log")).expect("log");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script);
    let fail = fail.iter().map(|p| pattern(p).expect("regex")).collect();
    (Console::spawn(cmd, fail, log).expect("spawn"), dir)
}

fn re(p: &str) -> Regex {
    pattern(p).expect("regex").regex
}

const SECOND: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(20);

#[test]
fn expectations_match_in_order_after_the_previous_match() {
    let (mut c, _dir) = start("printf 'one\\r\\ntwo\\none\\nlogin: '; exec sleep 30", &[]);
    assert_eq!(c.expect(&re("one"), LONG).expect("one"), "one");
    assert_eq!(c.expect(&re("^two$"), LONG).expect("two"), "two");
    c.expect(&re("one"), LONG).expect("one again");
    // A prompt without a newline matches; `$` is also the end of the text.
    c.expect(&re("^login: $"), LONG).expect("prompt");
    // "two" came before the last match: not seen again.
    let err = c.expect(&re("two"), SECOND / 5).expect_err("timeout");
    assert!(matches!(err, StepError::Timeout(_)), "{err}");
}

#[test]
fn send_types_a_line() {
    let (mut c, _dir) = start("read line; echo \"got-$line\"; exec sleep 30", &[]);
    c.send("hello").expect("send");
    c.expect(&re("got-hello"), LONG).expect("reply");
}

#[test]
fn an_ended_program_fails_at_once_with_its_status() {
    let (mut c, _dir) = start("echo bye; exit 3", &[]);
    let begin = Instant::now();
    let err = c.expect(&re("never"), LONG).expect_err("ended");
    assert!(begin.elapsed() < LONG / 2);
    assert!(
        err.to_string().starts_with("sh ended (exit status: 3)"),
        "{err}"
    );
}

#[test]
fn a_fail_pattern_aborts_at_once_and_names_the_line() {
    let (mut c, _dir) = start(
        "echo booting; echo 'Kernel panic - not syncing: VFS'; exec sleep 30",
        &["Kernel panic"],
    );
    let begin = Instant::now();
    let err = c.expect(&re("never"), LONG).expect_err("fail");
    assert!(begin.elapsed() < LONG / 2);
    match err {
        StepError::Fail { pattern, line } => {
            assert_eq!(pattern, "Kernel panic");
            assert_eq!(line, "Kernel panic - not syncing: VFS");
        }
        other => panic!("{other}"),
    }
    assert_eq!(c.tail(1), ["Kernel panic - not syncing: VFS"]);
}

#[test]
fn the_log_holds_the_transcript_and_notes_and_drop_reaps() {
    let script = "printf 'a\\r\\nb'; sleep 0.3; echo oops >&2; exec sleep 30";
    let (mut c, dir) = start(script, &[]);
    c.expect(&re("a\nb"), LONG).expect("stdout");
    c.expect(&re("oops"), LONG)
        .expect("stderr is on the console too");
    c.note("expect \"oops\" ... ok").expect("note");
    let pid = c.pid();
    drop(c);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the program is gone"
    );
    let log = std::fs::read_to_string(dir.path().join("console.log")).expect("log");
    assert!(log.contains("a\n"), "{log:?}");
    assert!(log.contains("oops\n"), "{log:?}");
    assert!(
        log.ends_with("\n[forge test] expect \"oops\" ... ok\n"),
        "{log:?}"
    );
    assert!(!log.contains('\r'), "{log:?}");
}

#[test]
fn a_character_split_across_chunks_is_kept_whole() {
    let (mut c, _dir) = start("exec sleep 30", &["é!"]);
    let bytes = "é!".as_bytes();
    c.ingest((0, bytes[..1].to_vec())).expect("first half");
    let err = c
        .ingest((0, bytes[1..].to_vec()))
        .expect_err("fail pattern");
    assert!(matches!(err, StepError::Fail { .. }), "{err}");
}

use std::path::Path;
