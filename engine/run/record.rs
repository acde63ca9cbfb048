//! What a build leaves behind for later ones and for tools: the build
//! record (`logs/build-record.json`), the key each step last had
//! (`logs/step-keys.json`, for `forge why`), step durations remembered in the
//! cache (for scheduling priority), and the one-line summary.

use crate::error::{Error, Result};
use crate::run::sched::State;
use crate::run::ui::fmt_dur;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The machine-readable record of one build (`logs/build-record.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub board: String,
    pub seconds: f64,
    pub built: usize,
    pub cached: usize,
    pub failed: usize,
    /// forge's own peak resident memory (KiB), not its children's.
    pub peak_rss_kib: i64,
    /// Answered from the remembered build (`run/noop`): nothing was loaded
    /// or planned, every stamp still held.
    #[serde(default)]
    pub remembered: bool,
    /// Where the steps' commands ran: at fixed paths in the sandbox, or
    /// at their real paths and why ([`crate::exec::sandbox::Paths`]).
    #[serde(default)]
    pub sandbox: String,
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub key: Option<String>,
    pub output: Option<String>,
    /// `built`, `cached`, `failed` or `skipped`.
    pub status: String,
    /// For a cached step: `local` or `remote`, the cache that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub seconds: f64,
}

impl StepRecord {
    /// A wanted step's entry, from its final scheduler state.
    pub fn new(name: &str, key: Option<String>, state: &State) -> StepRecord {
        let (status, seconds) = match state {
            State::DoneBuilt { seconds, .. } => ("built", *seconds),
            State::DoneCached { .. } => ("cached", 0.0),
            State::Failed { .. } => ("failed", 0.0),
            _ => ("skipped", 0.0),
        };
        StepRecord {
            name: name.to_string(),
            key,
            output: state.output().map(str::to_string),
            from: (status == "cached").then(|| "local".to_string()),
            status: status.into(),
            seconds,
        }
    }
}

impl Record {
    /// A record of `steps`, counted by status.
    pub fn new(board: String, steps: Vec<StepRecord>) -> Record {
        let count = |status: &str| steps.iter().filter(|s| s.status == status).count();
        Record {
            board,
            seconds: 0.0,
            built: count("built"),
            cached: count("cached"),
            failed: count("failed"),
            peak_rss_kib: 0,
            remembered: false,
            sandbox: String::new(),
            steps,
        }
    }
}

pub fn write_record(output: &Path, record: &Record) -> Result<()> {
    let logs = output.join("logs");
    fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let path = logs.join("build-record.json");
    let text = serde_json::to_string_pretty(record).map_err(|e| Error::Other(e.to_string()))?;
    fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// Step durations remembered from earlier builds, for scheduling priority.
pub struct Durations(BTreeMap<String, f64>);

impl Durations {
    pub fn load(cache: &Path) -> Durations {
        let map = fs::read(cache.join("durations.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Durations(map.unwrap_or_default())
    }
    pub fn get(&self, step: &str) -> f64 {
        self.0.get(step).copied().unwrap_or(1.0)
    }
    pub fn set(&mut self, step: &str, secs: f64) {
        self.0.insert(step.to_string(), secs);
    }
    pub fn save(&self, cache: &Path) {
        if let Ok(bytes) = serde_json::to_vec_pretty(&self.0) {
            let tmp = cache.join(format!("tmp/durations.{}", std::process::id()));
            if fs::write(&tmp, bytes).is_ok() {
                let _ = fs::rename(&tmp, cache.join("durations.json"));
            }
        }
    }
}

/// A one-line summary of a finished build.
pub fn summary(record: &Record) -> String {
    let took = fmt_dur(std::time::Duration::from_secs_f64(record.seconds));
    if record.built == 0 {
        format!("nothing to do: all {} steps cached ({took})", record.cached)
    } else {
        format!(
            "built {} steps, {} from cache ({took})",
            record.built, record.cached
        )
    }
}

/// `logs/step-keys.json`: the key each step had when it was last built or
/// found cached in this output dir, kept across partial builds so `forge
/// why` can compare against it.
pub fn remembered_keys(output: &Path) -> BTreeMap<String, String> {
    fs::read(output.join("logs/step-keys.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn remember_keys(output: &Path, record: &Record) -> Result<()> {
    let mut keys = remembered_keys(output);
    for s in record
        .steps
        .iter()
        .filter(|s| s.status == "built" || s.status == "cached")
    {
        if let Some(k) = &s.key {
            keys.insert(s.name.clone(), k.clone());
        }
    }
    let path = output.join("logs/step-keys.json");
    let text = serde_json::to_string_pretty(&keys).map_err(|e| Error::Other(e.to_string()))?;
    fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

#[cfg(test)]
mod tests;
