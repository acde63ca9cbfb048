//! Content digests of files and trees, and the stat cache that lets an
//! unchanged file's digest be reused without reading it (keyed by path,
//! size, mtime, ctime, mode and inode: a `chmod` changes the ctime, not the
//! mtime), which keeps a no-op build in milliseconds.
//!
//! A file input's or tree's digest holds every attribute the store's
//! manifest records and an image carries: entry types, relative paths,
//! the full permission bits (setuid, setgid, sticky, rwx) of files and
//! directories, symlink targets, and file contents; not owners or times.

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

/// The permission bits of a file or directory, as the store records them.
fn perm(meta: &fs::Metadata) -> u32 {
    meta.mode() & 0o7777
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    /// Changes on a chmod, a chown or a rename, where the mtime does not.
    #[serde(default)]
    ctime_ns: i128,
    #[serde(default)]
    mode: u32,
    ino: u64,
    digest: String,
}

impl Stamp {
    fn of(meta: &fs::Metadata, digest: String) -> Stamp {
        Stamp {
            size: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
            mode: meta.mode(),
            ino: meta.ino(),
            digest,
        }
    }

    /// Whether `meta` is the stat this stamp was taken from.
    fn holds(&self, meta: &fs::Metadata) -> bool {
        let now = Stamp::of(meta, String::new());
        (self.size, self.mtime_ns, self.ctime_ns, self.mode, self.ino)
            == (now.size, now.mtime_ns, now.ctime_ns, now.mode, now.ino)
    }
}

/// Remembers file digests by (path, size, mtime, ctime, mode, inode).
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

    /// The content digest of a regular file (its bytes only), from the
    /// cache when its stat is unchanged.
    pub fn file(&self, path: &Path) -> Result<String> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        self.file_with(path, &meta)
    }

    /// [`StatCache::file`] with the file's metadata already at hand.
    fn file_with(&self, path: &Path, meta: &fs::Metadata) -> Result<String> {
        if let Some(w) = &self.watch {
            w.record(path, meta);
        }
        let key = path.to_path_buf();
        if let Ok(map) = self.entries.lock()
            && let Some(s) = map.get(&key)
            && s.holds(meta)
        {
            return Ok(s.digest.clone());
        }
        let digest = file_digest(path)?;
        let stamp = Stamp::of(meta, digest.clone());
        if let (Ok(mut map), Ok(mut dirty)) = (self.entries.lock(), self.dirty.lock()) {
            map.insert(key, stamp);
            *dirty = true;
        }
        Ok(digest)
    }

    /// The digest of a file input or a whole tree: for a file, its
    /// permission bits and content; for a tree, every entry below it (type,
    /// relative path, permission bits, link target or content digest). A
    /// symlink given as `path` itself is followed.
    pub fn path(&self, path: &Path) -> Result<String> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_file() {
            let line = format!("F {:o} {}\n", perm(&meta), self.file_with(path, &meta)?);
            return Ok(blake3::hash(line.as_bytes()).to_hex().to_string());
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
            } else {
                // Not a link (those are handled above): the entry's own
                // metadata is the file's or directory's.
                let m = entry
                    .metadata()
                    .map_err(|e| Error::Other(format!("{}: {e}", entry.path().display())))?;
                let mode = perm(&m);
                if ft.is_dir() {
                    if let Some(w) = &self.watch {
                        w.probe(entry.path());
                    }
                    format!("D {rel} {mode:o}\n")
                } else if ft.is_file() {
                    format!("F {rel} {mode:o} {}\n", self.file_with(entry.path(), &m)?)
                } else {
                    // A device node, FIFO or socket is never read (a FIFO
                    // would block); its kind and number are its content.
                    if let Some(w) = &self.watch {
                        w.record(entry.path(), &m);
                    }
                    format!("S {rel} {mode:o} {:o} {}\n", m.mode() & 0o170000, m.rdev())
                }
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

    fn chmod(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn tree_digest_holds_every_mode_and_link_target() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("t");
        fs::create_dir_all(t.join("etc/private")).unwrap();
        fs::write(t.join("etc/motd"), b"hi").unwrap();
        chmod(&t.join("etc/motd"), 0o644);
        chmod(&t.join("etc/private"), 0o755);
        std::os::unix::fs::symlink("motd", t.join("etc/link")).unwrap();
        let cache = StatCache::load(&tmp.path().join("s.json"));
        let mut seen = vec![cache.path(&t).unwrap()];
        let mut differs = |what: &str| {
            let d = cache.path(&t).unwrap();
            assert!(!seen.contains(&d), "{what} left the digest unchanged");
            seen.push(d);
        };
        chmod(&t.join("etc/motd"), 0o600);
        differs("a file's read bits");
        chmod(&t.join("etc/motd"), 0o4600);
        differs("a setuid bit");
        chmod(&t.join("etc/private"), 0o700);
        differs("a directory's mode");
        chmod(&t.join("etc/private"), 0o1700);
        differs("a sticky bit");
        fs::remove_file(t.join("etc/link")).unwrap();
        std::os::unix::fs::symlink("private", t.join("etc/link")).unwrap();
        differs("a symlink's target");
        fs::remove_file(t.join("etc/link")).unwrap();
        fs::write(t.join("etc/link"), b"private").unwrap();
        chmod(&t.join("etc/link"), 0o644);
        differs("a symlink replaced by a file");
    }

    #[test]
    fn a_file_inputs_digest_holds_its_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("hook.sh");
        fs::write(&f, b"#!/bin/sh\n").unwrap();
        chmod(&f, 0o755);
        let cache = StatCache::load(&tmp.path().join("s.json"));
        let d1 = cache.path(&f).unwrap();
        chmod(&f, 0o644);
        assert_ne!(d1, cache.path(&f).unwrap());
        // The content digest alone is what the store and delivery compare.
        assert_eq!(cache.file(&f).unwrap(), file_digest(&f).unwrap());
    }

    #[test]
    fn the_stat_cache_notices_a_chmod_and_an_edit_hiding_its_mtime() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a");
        fs::write(&f, b"one").unwrap();
        let cache = StatCache::load(&tmp.path().join("s.json"));
        cache.file(&f).unwrap();
        let stamp = |c: &StatCache| c.entries.lock().unwrap().get(&f).cloned().unwrap();
        let before = fs::metadata(&f).unwrap();
        assert!(stamp(&cache).holds(&before));
        chmod(&f, 0o600);
        let after = fs::metadata(&f).unwrap();
        assert_eq!(
            before.mtime_nsec(),
            after.mtime_nsec(),
            "chmod keeps the mtime"
        );
        assert!(
            !stamp(&cache).holds(&after),
            "a chmod must invalidate the stamp"
        );
        // Same size, same inode, mtime put back: only the ctime tells.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .and_then(|mut h| std::io::Write::write_all(&mut h, b"two"))
            .unwrap();
        let mtime = filetime::FileTime::from_last_modification_time(&before);
        filetime::set_file_mtime(&f, mtime).unwrap();
        assert_eq!(cache.file(&f).unwrap(), file_digest(&f).unwrap());
    }

    #[test]
    fn special_files_are_keyed_without_being_read() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("t");
        fs::create_dir_all(&t).unwrap();
        nix::unistd::mkfifo(
            &t.join("pipe"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let cache = StatCache::load(&tmp.path().join("s.json"));
        let d1 = cache.path(&t).unwrap();
        chmod(&t.join("pipe"), 0o600);
        assert_ne!(d1, cache.path(&t).unwrap());
    }
}
