//! What is in a cache directory, read from disk: every action (key, the
//! manifest it names, its file's size and time), every manifest and every
//! blob (digest, size), and the leftovers of interrupted inserts in `tmp/`.
//! Unreadable entries are listed as such, for `verify` to report.

use crate::error::{Error, Result};
use crate::store::{Action, EntryKind, Manifest};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

pub struct ActionEntry {
    pub key: String,
    pub path: PathBuf,
    pub size: u64,
    /// Seconds since the epoch of the file's last change.
    pub mtime: u64,
    /// `None` when the file cannot be read or parsed.
    pub manifest: Option<String>,
}

pub struct Inventory {
    pub actions: Vec<ActionEntry>,
    /// Manifest digest → (path, size).
    pub manifests: HashMap<String, (PathBuf, u64)>,
    /// Blob digest → (path, size).
    pub blobs: HashMap<String, (PathBuf, u64)>,
    /// Files in `tmp/` and their total size.
    pub tmp: (Vec<PathBuf>, u64),
}

impl Inventory {
    pub fn total_size(&self) -> u64 {
        self.actions.iter().map(|a| a.size).sum::<u64>()
            + self.manifests.values().map(|m| m.1).sum::<u64>()
            + self.blobs.values().map(|b| b.1).sum::<u64>()
            + self.tmp.1
    }
}

/// `(name without ext, path, metadata)` of every file in `<root>/<kind>/*/`.
fn sharded(root: &Path, kind: &str, ext: &str) -> Result<Vec<(String, PathBuf, fs::Metadata)>> {
    let mut out = Vec::new();
    let dir = root.join(kind);
    let Ok(shards) = fs::read_dir(&dir) else {
        return Ok(out);
    };
    for shard in shards {
        let shard = shard.map_err(|e| Error::io(&dir, e))?.path();
        let Ok(files) = fs::read_dir(&shard) else {
            continue;
        };
        for f in files {
            let f = f.map_err(|e| Error::io(&shard, e))?;
            let path = f.path();
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(ext) else {
                continue;
            };
            if let Ok(meta) = fs::symlink_metadata(&path) {
                out.push((stem.to_string(), path, meta));
            }
        }
    }
    Ok(out)
}

fn mtime(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn read(root: &Path) -> Result<Inventory> {
    let actions = sharded(root, "actions", ".json")?
        .into_iter()
        .map(|(key, path, meta)| {
            let manifest = fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Action>(&b).ok())
                .map(|a| a.manifest);
            ActionEntry {
                key,
                size: meta.len(),
                mtime: mtime(&meta),
                path,
                manifest,
            }
        })
        .collect();
    let manifests = sharded(root, "manifests", ".json")?
        .into_iter()
        .map(|(d, p, m)| (d, (p, m.len())))
        .collect();
    let blobs = sharded(root, "blobs", "")?
        .into_iter()
        .map(|(d, p, m)| (d, (p, m.len())))
        .collect();
    let mut tmp = (Vec::new(), 0);
    if let Ok(files) = fs::read_dir(root.join("tmp")) {
        for f in files.flatten() {
            tmp.1 += f.metadata().map(|m| m.len()).unwrap_or(0);
            tmp.0.push(f.path());
        }
    }
    Ok(Inventory {
        actions,
        manifests,
        blobs,
        tmp,
    })
}

/// The blob digests a manifest file names; `None` if it is unreadable,
/// does not match its digest or does not parse.
pub fn manifest_blobs(path: &Path, digest: &str) -> Option<Vec<String>> {
    let bytes = fs::read(path).ok()?;
    if blake3::hash(&bytes).to_hex().as_str() != digest {
        return None;
    }
    let m: Manifest = serde_json::from_slice(&bytes).ok()?;
    Some(
        m.entries
            .into_iter()
            .filter_map(|e| match e.kind {
                EntryKind::File { digest, .. } => Some(digest),
                _ => None,
            })
            .collect(),
    )
}

/// Remove files, ignoring those already gone.
pub fn remove_all<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> Result<usize> {
    let mut n = 0;
    for p in paths {
        match fs::remove_file(p) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    Ok(n)
}
