//! What the user sees while a build runs: on a terminal, one live line with
//! done/total and the running steps with their elapsed time; otherwise one
//! line per event. Also the failure report (log tail and path).

use crate::run::sched::{Event, State};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Progress {
    names: Vec<String>,
    total: usize,
    done: usize,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    pub fn new(names: Vec<String>, total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            names,
            total,
            done: 0,
            bar,
            started: Instant::now(),
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Show a scheduler event; `states` are every step's states after it.
    pub fn event(&mut self, e: Event, states: &[State]) {
        let (done, total) = (self.done, self.total);
        match e {
            Event::Changed(s) => match &states[s] {
                State::DoneCached { .. } => self.done += 1,
                State::Running { .. } => {
                    self.line(format!("[{done}/{total}] building {}", self.names[s]));
                }
                State::DoneBuilt { seconds, .. } => {
                    self.done += 1;
                    self.line(format!(
                        "[{}/{total}] built {} in {}",
                        self.done,
                        self.names[s],
                        fmt_dur(Duration::from_secs_f64(*seconds))
                    ));
                }
                State::Failed { error, .. } => {
                    self.line(format!(
                        "[{done}/{total}] FAILED {}: {error}",
                        self.names[s]
                    ));
                }
                _ => {}
            },
            Event::Tick => {
                if let Some(bar) = &self.bar {
                    let list: Vec<String> = states
                        .iter()
                        .enumerate()
                        .filter_map(|(s, st)| match st {
                            State::Running { since } => {
                                Some(format!("{} {}", self.names[s], fmt_dur(since.elapsed())))
                            }
                            _ => None,
                        })
                        .collect();
                    bar.set_message(format!(
                        "[{done}/{total}] {}  ({} elapsed)",
                        list.join(", "),
                        fmt_dur(self.started.elapsed())
                    ));
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A failed step for the report: what went wrong and, when the step's
/// commands ran in this build, its log.
#[derive(Debug, Clone)]
pub struct Failure {
    pub step: Option<String>,
    pub error: String,
    pub log: Option<PathBuf>,
}

/// The error text of a failed build: each failure with the last lines of
/// its fresh log; a single failure is reported on its own.
pub fn failure_report(failures: &[Failure]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .map(|f| {
            let tail = f
                .log
                .as_deref()
                .filter(|l| l.is_file())
                .map(|l| (l, crate::exec::log_tail(l, 40)))
                .filter(|(_, tail)| !tail.is_empty());
            match tail {
                Some((log, tail)) => format!(
                    "{}\n--- last lines of {} ---\n{tail}\n--- full log: {} ---",
                    f.error,
                    log.display(),
                    log.display()
                ),
                None => f.error.clone(),
            }
        })
        .collect();
    if parts.len() <= 1 {
        return parts.concat();
    }
    let names: Vec<&str> = failures
        .iter()
        .map(|f| f.step.as_deref().unwrap_or("(scheduler)"))
        .collect();
    let sections: Vec<String> = names
        .iter()
        .zip(&parts)
        .map(|(name, part)| format!("FAILED {name}: {part}"))
        .collect();
    format!(
        "{} failures: {}\n\n{}",
        parts.len(),
        names.join(", "),
        sections.join("\n\n")
    )
}

pub fn fmt_dur(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s >= 1 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_report_keeps_the_single_wording_and_lists_every_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("a.log");
        std::fs::write(&log, "compiling\nboom\n").unwrap();
        let a = Failure {
            step: Some("a".into()),
            error: "a: command failed".into(),
            log: Some(log.clone()),
        };
        let single = failure_report(std::slice::from_ref(&a));
        assert!(single.starts_with("a: command failed\n--- last lines of "));
        assert!(single.contains("boom"), "{single}");
        assert!(single.ends_with(&format!("--- full log: {} ---", log.display())));
        let b = Failure {
            step: Some("b".into()),
            error: "b: no such file".into(),
            log: Some(tmp.path().join("missing.log")),
        };
        let both = failure_report(&[a, b]);
        assert!(both.starts_with("2 failures: a, b\n\n"), "{both}");
        assert!(both.contains("boom"), "{both}");
        assert!(both.contains("\n\nFAILED a: a: command failed\n--- last lines of "));
        assert!(both.ends_with("\n\nFAILED b: b: no such file"), "{both}");
    }
}
