//! The remote part of `forge why STEP`: the step's key with the remote
//! cache's entries standing in for missing local ones, whether the server
//! holds it (asked even when the local cache does), and if not, how its inputs differ from those of the board's
//! last upload of the step (the server's pointer to it). Downloads no
//! content, and never fails on the server's account: what it could not
//! ask, or could not read, it says.

use super::inspect::{describe_changes, evaluate_with};
use crate::error::Result;
use crate::run::build::Build;
use crate::store::remote::{Answer, Remote};
use std::collections::BTreeMap;

/// The lines about the remote cache, for the step at `index`.
pub fn explain(build: &Build, index: usize, remote: &Remote) -> Result<String> {
    // What goes wrong is said here, not warned about.
    remote.http.hush();
    let closure = build.plan.closure(index);
    let views = evaluate_with(
        build,
        |i| closure.contains(&i),
        |key| match build.store.action(key) {
            Some(a) => Some(a.manifest),
            None => match remote.peek(key) {
                Answer::Found(out) => Some(out),
                _ => None,
            },
        },
    )?;
    let down = || {
        let why = remote.http.trouble().unwrap_or_default();
        format!(
            "remote cache: could not be asked ({}: {why})\n",
            remote.http.base()
        )
    };
    if remote.http.trouble().is_some() {
        return Ok(down());
    }
    let mut text = String::new();
    let mut at = index;
    while let Some(dep) = &views[at].waits_for {
        text.push_str(&format!(
            "remote cache: {} waits for {dep}, which neither cache holds\n",
            views[at].name
        ));
        match build.plan.index(dep) {
            Some(d) => at = d,
            None => return Ok(text),
        }
    }
    let view = &views[at];
    let (Some(key), Some(inputs)) = (&view.key, &view.inputs) else {
        return Ok(text);
    };
    let step = &view.name;
    let board = &remote.board;
    match remote.peek(key) {
        Answer::Found(_) if build.store.action(key).is_some() => {
            text.push_str("remote cache: holds this key too\n")
        }
        Answer::Found(_) => text.push_str("remote cache: hit (would be restored)\n"),
        Answer::Down => return Ok(down()),
        Answer::Unreadable(why) => text.push_str(&format!(
            "remote cache: its entry for this key is unreadable ({why}), so a build would not use it\n"
        )),
        Answer::Absent => {
            let current: BTreeMap<String, String> = inputs.pairs().into_iter().collect();
            let none = format!(
                "remote cache: no entry for this key, and no upload of {step} for board {board} is recorded there\n"
            );
            match remote.last_upload(step) {
                Answer::Found(last) => {
                    let old: BTreeMap<String, String> = last.inputs.iter().cloned().collect();
                    let changes = describe_changes(&old, &current);
                    if changes.is_empty() {
                        text.push_str(&format!(
                            "remote cache: no entry for this key, though the last upload of {step} for board {board} (at {}) had these inputs (the server no longer holds it)\n",
                            last.when()
                        ));
                    } else {
                        text.push_str(&format!(
                            "remote cache: no entry for this key; the last upload of {step} for board {board} (at {}) had different inputs:\n",
                            last.when()
                        ));
                    }
                    for c in changes {
                        text.push_str(&format!("  {c}\n"));
                    }
                }
                Answer::Absent => text.push_str(&none),
                Answer::Unreadable(why) => {
                    text.push_str(&format!(
                        "remote cache: the record of the last upload of {step} is unreadable ({why}); ignored\n"
                    ));
                    text.push_str(&none);
                }
                Answer::Down => return Ok(down()),
            }
        }
    }
    Ok(text)
}
