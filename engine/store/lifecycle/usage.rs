//! What each build used, appended to `<cache>/usage.jsonl` at its end: the
//! time, the output dir, how many steps were restored and built, and the
//! keys of every step it used. `gc` takes an action's last use from here
//! (an action no build has named since the log began counts from its
//! file's time); `stats` shows the hit rates of the last builds. Lines
//! are appended with one write each; `gc` rewrites the log, under the
//! exclusive lock, keeping only what names surviving actions.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Use {
    /// Seconds since the epoch.
    pub time: u64,
    pub output: String,
    pub cached: usize,
    pub built: usize,
    pub keys: Vec<String>,
}

pub fn log_path(root: &Path) -> PathBuf {
    root.join("usage.jsonl")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Append one build's use.
pub fn append(root: &Path, entry: &Use) -> Result<()> {
    let path = log_path(root);
    let mut line = serde_json::to_vec(entry).map_err(|e| Error::Other(e.to_string()))?;
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    f.write_all(&line).map_err(|e| Error::io(&path, e))
}

/// Every readable line (a torn last line of a killed build is skipped).
pub fn read(root: &Path) -> Vec<Use> {
    let text = fs::read_to_string(log_path(root)).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The last time each key was used.
pub fn last_use(uses: &[Use]) -> HashMap<&str, u64> {
    let mut last = HashMap::new();
    for u in uses {
        for k in &u.keys {
            let t = last.entry(k.as_str()).or_insert(u.time);
            *t = (*t).max(u.time);
        }
    }
    last
}

/// Rewrite the log keeping, per line, only keys `keep` accepts (lines
/// left with no key keep their counts for the hit-rate history).
pub fn rewrite(root: &Path, uses: &[Use], keep: &dyn Fn(&str) -> bool) -> Result<()> {
    let mut text = String::new();
    for u in uses {
        let mut u = u.clone();
        u.keys.retain(|k| keep(k));
        text.push_str(&serde_json::to_string(&u).map_err(|e| Error::Other(e.to_string()))?);
        text.push('\n');
    }
    let path = log_path(root);
    let tmp = root.join("tmp").join("usage.jsonl.new");
    fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
}
