//! The build record: statuses from scheduler states, counts, the summary
//! line, remembered keys and durations.

use super::*;
use std::time::Instant;

fn step(name: &str, key: &str, state: State) -> StepRecord {
    StepRecord::new(name, Some(key.to_string()), &state)
}

fn sample() -> Record {
    Record::new(
        "board".into(),
        vec![
            step(
                "a",
                "ka",
                State::DoneBuilt {
                    output: "oa".into(),
                    seconds: 2.5,
                },
            ),
            step(
                "b",
                "kb",
                State::DoneCached {
                    output: "ob".into(),
                },
            ),
            step(
                "c",
                "kc",
                State::Failed {
                    error: Error::Other("broke".into()),
                    ran: true,
                },
            ),
            step("d", "kd", State::Skipped),
            step(
                "e",
                "ke",
                State::Running {
                    since: Instant::now(),
                },
            ),
        ],
    )
}

#[test]
fn statuses_and_counts_come_from_states() {
    let r = sample();
    let status: Vec<&str> = r.steps.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(status, ["built", "cached", "failed", "skipped", "skipped"]);
    assert_eq!((r.built, r.cached, r.failed), (1, 1, 1));
    assert_eq!(r.steps[0].seconds, 2.5);
    assert_eq!(r.steps[0].output.as_deref(), Some("oa"));
    assert_eq!(r.steps[2].output, None);
}

#[test]
fn summary_line() {
    let mut r = sample();
    r.seconds = 1.5;
    assert_eq!(summary(&r), "built 1 steps, 1 from cache (1.5s)");
    let mut r = Record::new(
        "board".into(),
        vec![step("b", "kb", State::DoneCached { output: "o".into() })],
    );
    r.seconds = 0.012;
    assert_eq!(summary(&r), "nothing to do: all 1 steps cached (12ms)");
}

#[test]
fn record_is_written_as_json_with_string_statuses() {
    let tmp = tempfile::tempdir().unwrap();
    write_record(tmp.path(), &sample()).unwrap();
    let text = fs::read_to_string(tmp.path().join("logs/build-record.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["steps"][0]["status"], "built");
    assert_eq!(v["steps"][3]["status"], "skipped");
    assert_eq!(v["failed"], 1);
}

#[test]
fn remembered_keys_round_trip_and_survive_partial_builds() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(remembered_keys(tmp.path()).is_empty());
    fs::create_dir_all(tmp.path().join("logs")).unwrap();
    remember_keys(tmp.path(), &sample()).unwrap();
    let keys = remembered_keys(tmp.path());
    // Only built and cached steps' keys are remembered.
    assert_eq!(
        keys.into_iter().collect::<Vec<_>>(),
        [("a".into(), "ka".into()), ("b".into(), "kb".into())]
    );
    // A later build of one step keeps the others' keys.
    let later = Record::new(
        "board".into(),
        vec![step("a", "ka2", State::DoneCached { output: "o".into() })],
    );
    remember_keys(tmp.path(), &later).unwrap();
    let keys = remembered_keys(tmp.path());
    assert_eq!(keys["a"], "ka2");
    assert_eq!(keys["b"], "kb");
}

#[test]
fn durations_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("tmp")).unwrap();
    let mut d = Durations::load(tmp.path());
    assert_eq!(d.get("linux"), 1.0, "unknown steps count one second");
    d.set("linux", 300.0);
    d.save(tmp.path());
    assert_eq!(Durations::load(tmp.path()).get("linux"), 300.0);
}
