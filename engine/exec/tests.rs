use super::testing::Recording;
use super::*;
use std::ffi::OsString;

fn step_env() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("TARGET_DIR".into(), "/out/target".into()),
    ]
}

fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
}

#[test]
fn a_runner_sends_every_command_through_its_executor() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/pkg.log");
    let rec = Recording::exiting(0);
    let mut runner = Runner::with_executor("pkg", &log, step_env(), &rec).unwrap();
    runner.sh(dir.path(), "make all").unwrap();
    let mut cmd = Command::new("patch");
    cmd.arg("-p1").env("EXTRA", "1");
    runner.run(dir.path(), cmd, "patch").unwrap();
    runner.capture(dir.path(), "gcc", &["--version"]).unwrap();

    let seen = rec.requests();
    assert_eq!(seen.len(), 3);
    let sh = &seen[0];
    assert_eq!(sh.argv, ["sh", "-ec", "make all"]);
    assert_eq!(
        sh.env,
        os(&[("PATH", "/usr/bin:/bin"), ("TARGET_DIR", "/out/target")])
    );
    assert_eq!(sh.cwd.as_deref(), Some(dir.path()));
    assert_eq!(sh.stdout, Sink::Append(log.clone()));
    assert_eq!(sh.stderr, Sink::Append(log.clone()));
    assert!(sh.jobserver);
    assert_eq!(seen[1].argv, ["patch", "-p1"]);
    assert_eq!(
        seen[1].env,
        os(&[
            ("PATH", "/usr/bin:/bin"),
            ("TARGET_DIR", "/out/target"),
            ("EXTRA", "1")
        ])
    );
    let cap = &seen[2];
    assert_eq!((cap.stdout.clone(), cap.jobserver), (Sink::Capture, false));
    assert_eq!(cap.stderr, Sink::Append(log.clone()));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!(">>> [{}] make all\n", dir.path().display())
    );
}

#[test]
fn failures_keep_their_wording() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("x.log");
    let rec = Recording::exiting(2);
    let mut runner = Runner::with_executor("pkg", &log, step_env(), &rec).unwrap();
    let err = runner.sh(dir.path(), "make").unwrap_err().to_string();
    assert_eq!(err, "step pkg: command failed (exit status 2): make");
    let err = runner.capture(dir.path(), "gcc", &["-v"]).unwrap_err();
    assert_eq!(err.to_string(), "step pkg: gcc -v failed");

    let client = jobserver::Client::new(1).unwrap();
    let exec = LocalExecutor::new(client);
    let mut local = Runner::with_executor("pkg", &log, step_env(), &exec).unwrap();
    let err = local
        .run(dir.path(), Command::new("forge-no-such-tool"), "tool")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("step pkg: cannot start `tool`: "), "{err}");
    // Real output and notes interleave in the log in order.
    local.note("one");
    local.sh(dir.path(), "echo two").unwrap();
    local.note("three");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.ends_with("two\n>>> three\n"), "{text}");
    assert!(text.starts_with(">>> one\n"), "{text}");
}
