//! The content-addressed cache: file blobs by blake3 digest, manifests that
//! describe an output tree, and the action cache mapping a step key to the
//! manifest it produced (with the step's canonical inputs beside it).
//!
//! Layout under the cache dir (`~/.cache/forge`, `FORGE_CACHE_DIR`):
//! `blobs/ab/<digest>`, `manifests/ab/<digest>.json`, `actions/ab/<key>.json`,
//! `tmp/`. Every insert is written to `tmp/` and renamed into place, so a
//! killed build never leaves a half entry; [`lifecycle`] holds the lock
//! builds share, the usage log, `stats`, `verify` and `gc`.

mod cache;
pub mod lifecycle;
pub mod remote;
pub use cache::{ActionCache, ContentStore, Tiered, blob_digests};

use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use walkdir::WalkDir;

/// One entry of an output tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative path with `/` separators, e.g. `target/bin/busybox`.
    pub path: String,
    #[serde(flatten)]
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EntryKind {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        size: u64,
        digest: String,
    },
    Symlink {
        target: String,
    },
}

/// The description of an output tree: sorted entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// Canonical bytes (sorted entries, compact JSON) and their digest.
    pub fn encode(&self) -> (Vec<u8>, String) {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let digest = blake3::hash(&bytes).to_hex().to_string();
        (bytes, digest)
    }

    /// Entries under `prefix/`, with the prefix removed.
    pub fn subtree(&self, prefix: &str) -> Vec<Entry> {
        let lead = format!("{prefix}/");
        self.entries
            .iter()
            .filter_map(|e| {
                e.path.strip_prefix(&lead).map(|rest| Entry {
                    path: rest.to_string(),
                    kind: e.kind.clone(),
                })
            })
            .collect()
    }
}

/// What the action cache records for a step key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Action {
    pub step: String,
    pub manifest: String,
    /// The canonical inputs the key was computed from (for `forge why`).
    pub inputs: Vec<(String, String)>,
}

/// Trees with fewer entries are stored and materialized on the calling thread.
const PARALLEL_FROM: usize = 64;

pub struct Store {
    root: PathBuf,
    /// Manifests read in this process, by digest (they never change).
    manifests: Mutex<HashMap<String, Manifest>>,
    /// Actions found or recorded in this process, by key: a build asks for
    /// a step's action again for each step whose sysroot holds it.
    actions: Mutex<HashMap<String, Action>>,
    /// Held shared while the store is open (see `lifecycle::lock`).
    _lock: lifecycle::CacheLock,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

impl Store {
    /// Open (creating if needed) the cache at `root`, holding it shared
    /// (waiting while `forge cache gc` or `verify` runs).
    pub fn open(root: &Path) -> Result<Store> {
        for sub in ["blobs", "manifests", "actions", "tmp"] {
            let d = root.join(sub);
            fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        Ok(Store {
            root: root.to_path_buf(),
            manifests: Mutex::new(HashMap::new()),
            actions: Mutex::new(HashMap::new()),
            _lock: lifecycle::CacheLock::shared(root)?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn sharded(&self, kind: &str, digest: &str, ext: &str) -> PathBuf {
        let shard = digest.get(..2).unwrap_or("00");
        self.root
            .join(kind)
            .join(shard)
            .join(format!("{digest}{ext}"))
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.sharded("blobs", digest, "")
    }

    /// Write `bytes` to `dest` atomically through `tmp/`.
    fn put_atomic(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let tmp_dir = self.root.join("tmp");
        let mut tmp =
            tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|e| self.insert_err(&tmp_dir, e))?;
        tmp.write_all(bytes).map_err(|e| self.insert_err(dest, e))?;
        self.persist(tmp, dest)
    }

    /// A failed insert names the cache, and what to do when it is full.
    fn insert_err(&self, what: &Path, e: io::Error) -> Error {
        let hint = if e.raw_os_error() == Some(libc::ENOSPC) {
            "; the cache's filesystem is full: free space, or shrink the cache with `forge cache gc --max-size SIZE`"
        } else {
            ""
        };
        Error::Other(format!(
            "storing {} in the cache {}: {e}{hint}",
            what.display(),
            self.root.display()
        ))
    }

    fn persist(&self, tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| self.insert_err(parent, e))?;
        }
        tmp.persist(dest)
            .map_err(|e| self.insert_err(dest, e.error))?;
        Ok(())
    }

    /// Copy a file into the blob store (if absent) and return its digest.
    fn put_file(&self, path: &Path) -> Result<(String, u64)> {
        let digest = crate::key::digest::file_digest(path)?;
        let size = fs::metadata(path).map_err(io_err(path))?.len();
        let dest = self.blob_path(&digest);
        if !dest.exists() {
            let tmp_dir = self.root.join("tmp");
            let tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
                .map_err(|e| self.insert_err(&tmp_dir, e))?;
            fs::copy(path, tmp.path()).map_err(|e| self.insert_err(path, e))?;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o444))
                .map_err(io_err(tmp.path()))?;
            self.persist(tmp, &dest)?;
        }
        Ok((digest, size))
    }

    /// Store `bytes` as a blob (if absent) and return its digest and size.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<(String, u64)> {
        let digest = blake3::hash(bytes).to_hex().to_string();
        let dest = self.blob_path(&digest);
        if !dest.exists() {
            let tmp_dir = self.root.join("tmp");
            let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
                .map_err(|e| self.insert_err(&tmp_dir, e))?;
            tmp.write_all(bytes)
                .map_err(|e| self.insert_err(&tmp_dir, e))?;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o444))
                .map_err(io_err(tmp.path()))?;
            self.persist(tmp, &dest)?;
        }
        Ok((digest, bytes.len() as u64))
    }

    /// Store every file under `root` and return the tree's manifest digest.
    pub fn put_tree(&self, root: &Path) -> Result<(String, Manifest)> {
        let mut paths = Vec::new();
        for entry in WalkDir::new(root).min_depth(1).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Other(format!("{}: {e}", root.display())))?;
            paths.push(entry.into_path());
        }
        let entry = |p: &PathBuf| -> Result<Entry> {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(p).map_err(io_err(p))?;
            let kind = if meta.file_type().is_symlink() {
                let t = fs::read_link(p).map_err(io_err(p))?;
                EntryKind::Symlink {
                    target: t.to_string_lossy().into_owned(),
                }
            } else if meta.is_dir() {
                EntryKind::Dir {
                    mode: meta.permissions().mode() & 0o7777,
                }
            } else if meta.is_file() {
                let (digest, size) = self.put_file(p)?;
                EntryKind::File {
                    mode: meta.permissions().mode() & 0o7777,
                    size,
                    digest,
                }
            } else {
                return Err(Error::Other(format!(
                    "{}: special files cannot be stored; declare device nodes in a device table instead",
                    p.display()
                )));
            };
            Ok(Entry { path: rel, kind })
        };
        // Most trees are small: handing them to the thread pool costs more
        // than it saves.
        let entries: Result<Vec<Entry>> = if paths.len() < PARALLEL_FROM {
            paths.iter().map(entry).collect()
        } else {
            paths.par_iter().map(entry).collect()
        };
        let manifest = Manifest { entries: entries? };
        let digest = self.put_manifest(&manifest)?;
        Ok((digest, manifest))
    }

    /// Store a manifest whose blobs are already present.
    pub fn put_manifest(&self, manifest: &Manifest) -> Result<String> {
        let (bytes, digest) = manifest.encode();
        let dest = self.sharded("manifests", &digest, ".json");
        if !dest.exists() {
            self.put_atomic(&dest, &bytes)?;
        }
        Ok(digest)
    }

    pub fn manifest(&self, digest: &str) -> Result<Manifest> {
        if let Some(m) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(m);
        }
        let m = self.read_manifest(digest)?;
        if let Ok(mut known) = self.manifests.lock() {
            known.insert(digest.to_string(), m.clone());
        }
        Ok(m)
    }

    fn read_manifest(&self, digest: &str) -> Result<Manifest> {
        let path = self.sharded("manifests", digest, ".json");
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        if blake3::hash(&bytes).to_hex().as_str() != digest {
            return Err(Error::Other(format!(
                "cache entry {} is corrupt (digest mismatch); delete it and rebuild",
                path.display()
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Other(format!("{}: {e}", path.display())))
    }

    /// The action recorded for `key`, if its manifest is still present.
    /// Where the action cache entry of `key` lives.
    pub fn action_path(&self, key: &str) -> PathBuf {
        self.sharded("actions", key, ".json")
    }

    pub fn action(&self, key: &str) -> Option<Action> {
        if let Some(a) = self.actions.lock().ok().and_then(|a| a.get(key).cloned()) {
            return Some(a);
        }
        let path = self.sharded("actions", key, ".json");
        let bytes = fs::read(path).ok()?;
        let action: Action = serde_json::from_slice(&bytes).ok()?;
        let present = self
            .sharded("manifests", &action.manifest, ".json")
            .exists();
        if present && let Ok(mut known) = self.actions.lock() {
            known.insert(key.to_string(), action.clone());
        }
        present.then_some(action)
    }

    pub fn put_action(&self, key: &str, action: &Action) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(action).map_err(|e| Error::Other(e.to_string()))?;
        self.put_atomic(&self.sharded("actions", key, ".json"), &bytes)?;
        if let Ok(mut known) = self.actions.lock() {
            known.insert(key.to_string(), action.clone());
        }
        Ok(())
    }

    /// Write the entries of `manifest` under `prefix` (or all, if empty)
    /// into `dest`, verifying every blob as it is copied. Files already
    /// present with the right content are left alone.
    pub fn materialize(&self, manifest: &Manifest, prefix: &str, dest: &Path) -> Result<()> {
        let entries = if prefix.is_empty() {
            manifest.entries.clone()
        } else {
            manifest.subtree(prefix)
        };
        fs::create_dir_all(dest).map_err(io_err(dest))?;
        for e in entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::Dir { .. }))
        {
            let p = dest.join(&e.path);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        let write = |e: &Entry| self.write_entry(e, &dest.join(&e.path));
        if entries.len() < PARALLEL_FROM {
            entries.iter().try_for_each(write)?;
        } else {
            entries.par_iter().try_for_each(write)?;
        }
        for e in &entries {
            if let EntryKind::Dir { mode } = e.kind {
                let p = dest.join(&e.path);
                fs::set_permissions(&p, fs::Permissions::from_mode(mode | 0o700))
                    .map_err(io_err(&p))?;
            }
        }
        Ok(())
    }

    fn write_entry(&self, e: &Entry, path: &Path) -> Result<()> {
        match &e.kind {
            EntryKind::Dir { .. } => Ok(()),
            EntryKind::Symlink { target } => {
                if fs::read_link(path).is_ok_and(|t| t == Path::new(target)) {
                    return Ok(());
                }
                remove_any(path)?;
                symlink(target, path).map_err(io_err(path))
            }
            EntryKind::File { mode, digest, .. } => {
                if fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
                    && crate::key::digest::file_digest(path).is_ok_and(|d| &d == digest)
                {
                    return fs::set_permissions(path, fs::Permissions::from_mode(*mode))
                        .map_err(io_err(path));
                }
                remove_any(path)?;
                self.copy_verified(digest, path)?;
                fs::set_permissions(path, fs::Permissions::from_mode(*mode)).map_err(io_err(path))
            }
        }
    }

    /// Copy a blob to `dest`, failing if its content no longer matches.
    fn copy_verified(&self, digest: &str, dest: &Path) -> Result<()> {
        let src = self.blob_path(digest);
        let mut input = fs::File::open(&src).map_err(io_err(&src))?;
        let mut out = fs::File::create(dest).map_err(io_err(dest))?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = input.read(&mut buf).map_err(io_err(&src))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(dest))?;
        }
        if hasher.finalize().to_hex().as_str() != digest {
            drop(out);
            let _ = fs::remove_file(dest);
            return Err(Error::Other(format!(
                "cache blob {} is corrupt (its content no longer matches its digest); delete it and rebuild",
                src.display()
            )));
        }
        Ok(())
    }
}

fn remove_any(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path).map_err(io_err(path)),
        Ok(_) => fs::remove_file(path).map_err(io_err(path)),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
