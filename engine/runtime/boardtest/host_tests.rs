//! `Host` steps run for real through `sh -c`, with a made-up forward map
//! and no qemu: the environment and directory, the stdout check, failures,
//! the timeout that kills the group, retries, and the console's veto.

use super::*;
use crate::runtime::boardtest::spec::pattern;
use std::collections::BTreeMap;

fn step(run: &str, expect: Option<&str>, timeout: u64, retry_for: u64) -> HostStep {
    HostStep {
        run: run.to_string(),
        expect: expect.map(|p| pattern(p).expect("regex")),
        timeout: Duration::from_secs(timeout),
        retry_for: Duration::from_secs(retry_for),
    }
}

/// Run `step` in a fresh directory with port 22 forwarded from 40123.
fn run_in(step: &HostStep) -> (Result<usize, StepError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let forwards = Forwards {
        ports: BTreeMap::from([(22, 40123), (9999, 40124)]),
    };
    let images = dir.path().join("images");
    let ctx = HostContext {
        forwards: &forwards,
        images: &images,
        cwd: dir.path(),
    };
    (run(step, &ctx, &mut || Ok(())), dir)
}

fn failure(result: Result<usize, StepError>) -> HostFailure {
    match result {
        Err(StepError::Host(f)) => *f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_command_sees_the_forwards_the_images_and_the_tree() {
    let s = step("echo port=$FORGE_HOSTFWD_22", Some("^port=[0-9]+$"), 10, 0);
    assert_eq!(run_in(&s).0.expect("passes"), 1);
    let s = step(
        "echo \"$FORGE_HOSTFWD_22 $FORGE_HOSTFWD_9999 $FORGE_IMAGES $(pwd)\"",
        Some("^40123 40124 (.*)/images (.*)$"),
        10,
        0,
    );
    let (result, dir) = run_in(&s);
    result.expect("passes");
    // The directory is the context's: a relative name reaches its files.
    let s = step("cat marker", Some("^here$"), 10, 0);
    std::fs::write(dir.path().join("marker"), "here\n").expect("write");
    let ctx = HostContext {
        forwards: &Forwards::default(),
        images: dir.path(),
        cwd: dir.path(),
    };
    run(&s, &ctx, &mut || Ok(())).expect("cwd");
}

#[test]
fn a_failing_command_shows_its_status_and_output() {
    let s = step("echo out; echo err >&2; exit 3", None, 10, 0);
    let f = failure(run_in(&s).0);
    assert!(matches!(f.outcome, Outcome::Status(_)), "{f}");
    let shown = f.to_string();
    assert!(
        shown.starts_with("it ended with exit status: 3 (1 attempt in"),
        "{shown}"
    );
    assert!(
        shown.contains("its stdout, last lines:\n  | out"),
        "{shown}"
    );
    assert!(
        shown.contains("its stderr, last lines:\n  | err"),
        "{shown}"
    );
}

#[test]
fn an_unmatched_stdout_fails_even_with_status_0() {
    let s = step(
        "echo port=none; echo port=22 >&2",
        Some("^port=[0-9]+$"),
        10,
        0,
    );
    let f = failure(run_in(&s).0);
    assert!(matches!(f.outcome, Outcome::NoMatch(_)), "{f}");
    assert!(f.to_string().contains("\"^port=[0-9]+$\""), "{f}");
}

#[test]
fn a_timeout_kills_the_whole_group() {
    let s = step(
        "sleep 30 & echo $! > bg.pid; echo started; sleep 30",
        None,
        1,
        0,
    );
    let begin = Instant::now();
    let (result, dir) = run_in(&s);
    let f = failure(result);
    assert!(begin.elapsed() < Duration::from_secs(10));
    assert!(matches!(f.outcome, Outcome::Timeout(_)), "{f}");
    assert!(
        f.to_string().contains("killed with its process group"),
        "{f}"
    );
    assert_eq!(f.stdout, "started\n");
    let bg = std::fs::read_to_string(dir.path().join("bg.pid")).expect("pid");
    let stat = format!("/proc/{}/stat", bg.trim());
    // Gone, or a zombie until its new parent reaps it.
    let mut alive = true;
    for _ in 0..100 {
        alive = std::fs::read_to_string(&stat)
            .map(|s| !s.rsplit(')').next().unwrap_or("").starts_with(" Z"))
            .unwrap_or(false);
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive, "the background sleep was killed");
}

#[test]
fn retries_until_it_passes_or_the_time_is_up() {
    let third = "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]";
    assert_eq!(run_in(&step(third, None, 5, 20)).0.expect("passes"), 3);
    let f = failure(run_in(&step("false", None, 5, 2)).0);
    assert!((2..=3).contains(&f.attempts), "{f}");
    assert!(f.to_string().contains("attempts in"), "{f}");
}

#[test]
fn the_console_can_end_the_step_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = HostContext {
        forwards: &Forwards::default(),
        images: dir.path(),
        cwd: dir.path(),
    };
    let begin = Instant::now();
    let mut calls = 0;
    let err = run(&step("sleep 30", None, 60, 60), &ctx, &mut || {
        calls += 1;
        if calls < 5 {
            Ok(())
        } else {
            Err(StepError::Status("panic".into()))
        }
    })
    .expect_err("vetoed");
    assert!(matches!(err, StepError::Status(_)), "{err}");
    assert!(begin.elapsed() < Duration::from_secs(10));
}
