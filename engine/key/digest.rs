//! Content digests of files and trees, and the stat cache that lets an
//! unchanged file's digest be reused without reading it (keyed by path,
//! size, mtime and inode), which keeps a no-op build in milliseconds.

use crate::error::{Error, Result};
use crate::load::watch::Watch;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use walkdir::WalkDir;

/// blake3 of a file's bytes, hex.
pub fn file_digest(path: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_mmap(path).map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize().to_hex().to_string())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ino: u64,
    digest: String,
}

/// Remembers file digests by (path, size, mtime, inode).
pub struct StatCache {
    file: PathBuf,
    entries: Mutex<HashMap<PathBuf, Stamp>>,
    dirty: Mutex<bool>,
    /// Where every file and directory digested is recorded, if anywhere.
    watch: Option<Arc<Watch>>,
}

impl StatCache {
    /// Load the cache kept in `file` (missing or unreadable → empty).
    pub fn load(file: &Path) -> StatCache {
        let entries = fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        StatCache {
            file: file.to_path_buf(),
            entries: Mutex::new(entries),
            dirty: Mutex::new(false),
            watch: None,
        }
    }

    /// Record every file and directory digested from now on in `watch`.
    pub fn watching(mut self, watch: Arc<Watch>) -> StatCache {
        self.watch = Some(watch);
        self
    }

    /// The digest of a regular file, from the cache when its stat is unchanged.
    pub fn file(&self, path: &Path) -> Result<String> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        self.file_with(path, &meta)
    }

    /// [`StatCache::file`] with the file's metadata already at hand.
    fn file_with(&self, path: &Path, meta: &fs::Metadata) -> Result<String> {
        if let Some(w) = &self.watch {
            w.record(path, meta);
        }
        let mtime_ns = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
        let key = path.to_path_buf();
        if let Ok(map) = self.entries.lock()
            && let Some(s) = map.get(&key)
            && s.size == meta.len()
            && s.mtime_ns == mtime_ns
            && s.ino == meta.ino()
        {
            return Ok(s.digest.clone());
        }
        let digest = file_digest(path)?;
        let stamp = Stamp {
            size: meta.len(),
            mtime_ns,
            ino: meta.ino(),
            digest: digest.clone(),
        };
        if let (Ok(mut map), Ok(mut dirty)) = (self.entries.lock(), self.dirty.lock()) {
            map.insert(key, stamp);
            *dirty = true;
        }
        Ok(digest)
    }

    /// The digest of a file or a whole tree (relative paths, types, exec
    /// bits, link targets and file digests; not owners or times).
    pub fn path(&self, path: &Path) -> Result<String> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_file() {
            return self.file_with(path, &meta);
        }
        if let Some(w) = &self.watch {
            w.probe(path);
        }
        let mut hasher = blake3::Hasher::new();
        for entry in WalkDir::new(path).min_depth(1).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
            let rel = entry
                .path()
                .strip_prefix(path)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .into_owned();
            let ft = entry.file_type();
            let line = if ft.is_symlink() {
                let t = fs::read_link(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                format!("L {rel} {}\n", t.display())
            } else if ft.is_dir() {
                if let Some(w) = &self.watch {
                    w.probe(entry.path());
                }
                format!("D {rel}\n")
            } else {
                let m = entry
                    .metadata()
                    .map_err(|e| Error::Other(format!("{}: {e}", entry.path().display())))?;
                let exec = m.mode() & 0o111 != 0;
                // Not a link (those are handled above): the entry's own
                // metadata is the file's.
                format!("F {rel} {exec} {}\n", self.file_with(entry.path(), &m)?)
            };
            hasher.update(line.as_bytes());
        }
        Ok(hasher.finalize().to_hex().to_string())
    }

    /// Write the cache back if it changed (best effort; atomic rename).
    pub fn save(&self) {
        let dirty = self.dirty.lock().map(|d| *d).unwrap_or(false);
        if !dirty {
            return;
        }
        let Ok(map) = self.entries.lock() else { return };
        let Ok(bytes) = serde_json::to_vec(&*map) else {
            return;
        };
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        if fs::write(&tmp, bytes).is_ok() {
            let _ = fs::rename(&tmp, &self.file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_digest_follows_content() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a");
        fs::write(&f, b"one").unwrap();
        let cache = StatCache::load(&tmp.path().join("stat.json"));
        let d1 = cache.file(&f).unwrap();
        assert_eq!(d1, cache.file(&f).unwrap());
        fs::write(&f, b"two!").unwrap();
        assert_ne!(d1, cache.file(&f).unwrap());
        cache.save();
        let again = StatCache::load(&tmp.path().join("stat.json"));
        assert_eq!(again.file(&f).unwrap(), cache.file(&f).unwrap());
    }

    #[test]
    fn tree_digest_sees_content_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("t/sub")).unwrap();
        fs::write(tmp.path().join("t/sub/x"), b"1").unwrap();
        let cache = StatCache::load(&tmp.path().join("s.json"));
        let d1 = cache.path(&tmp.path().join("t")).unwrap();
        fs::rename(tmp.path().join("t/sub/x"), tmp.path().join("t/sub/y")).unwrap();
        assert_ne!(d1, cache.path(&tmp.path().join("t")).unwrap());
    }
}
