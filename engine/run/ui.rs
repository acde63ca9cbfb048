//! What the user sees while a build runs: on a terminal, one live line with
//! done/total and the running steps with their elapsed time; otherwise one
//! line per event. Also the failure report (log tail and path).

use crate::run::sched::Event;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Per-step facts collected for the build record.
#[derive(Debug, Clone, Default)]
pub struct StepStatus {
    pub cached: bool,
    /// The step's commands were started in this build (its log is fresh).
    pub started: bool,
    pub built: bool,
    pub failed: bool,
    pub seconds: f64,
}

pub struct Progress {
    names: Vec<String>,
    total: usize,
    done: usize,
    bar: Option<ProgressBar>,
    pub status: Vec<StepStatus>,
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
        let status = vec![StepStatus::default(); names.len()];
        Progress {
            names,
            total,
            done: 0,
            bar,
            status,
            started: Instant::now(),
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn event(&mut self, e: Event) {
        match e {
            Event::Cached(s) => {
                self.done += 1;
                self.status[s].cached = true;
            }
            Event::Started(s) => {
                self.status[s].started = true;
                self.line(format!(
                    "[{}/{}] building {}",
                    self.done, self.total, self.names[s]
                ));
            }
            Event::Finished(s, took) => {
                self.done += 1;
                self.status[s].built = true;
                self.status[s].seconds = took.as_secs_f64();
                self.line(format!(
                    "[{}/{}] built {} in {}",
                    self.done,
                    self.total,
                    self.names[s],
                    fmt_dur(took)
                ));
            }
            Event::Failed(s, err) => {
                self.status[s].failed = true;
                self.line(format!(
                    "[{}/{}] FAILED {}: {err}",
                    self.done, self.total, self.names[s]
                ));
            }
            Event::Tick(running) => {
                if let Some(bar) = &self.bar {
                    let list: Vec<String> = running
                        .iter()
                        .map(|(s, t)| format!("{} {}", self.names[*s], fmt_dur(t.elapsed())))
                        .collect();
                    bar.set_message(format!(
                        "[{}/{}] {}  ({} elapsed)",
                        self.done,
                        self.total,
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
