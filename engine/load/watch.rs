//! What this process read while loading and planning, by stat: every file
//! and directory the loader, the planner and the digests looked at (or
//! looked for and did not find), each with the stat it had when it was
//! read. A build that ends well remembers these stamps; the next plain
//! `forge` that finds every stamp unchanged knows that loading and planning
//! would give the same keys, and answers without doing either
//! (`run/noop`).
//!
//! A stamp is taken *before* the content is used, so an edit racing with
//! the read leaves a stamp that no longer matches, never a stale match.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The stat of a file or directory that says whether it may have changed:
/// type and mode, size, modification and change times (ns), inode. A tuple,
/// so that the thousands of them a large tree has stay compact on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp(u32, u64, i64, i64, u64);

impl FileStamp {
    pub fn of(meta: &fs::Metadata) -> FileStamp {
        FileStamp(
            meta.mode(),
            meta.len(),
            meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            meta.ino(),
        )
    }

    /// The stamp of `path` now (of what a symlink points to, as a read
    /// sees it), or `None` when nothing is there.
    pub fn now(path: &Path) -> Option<FileStamp> {
        fs::metadata(path).ok().map(|m| FileStamp::of(&m))
    }
}

/// Paths and their stamps (`None`: the path was looked for and absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stamps(BTreeMap<PathBuf, Option<FileStamp>>);

/// Stamps as stored: a list, which reads back without ordering paths.
pub type StampList = Vec<(PathBuf, Option<FileStamp>)>;

/// The first path in `list` whose stamp differs from what is there now
/// (the stats run in parallel).
pub fn first_change(list: &[(PathBuf, Option<FileStamp>)]) -> Option<&Path> {
    use rayon::prelude::*;
    list.par_iter()
        .find_first(|(p, s)| FileStamp::now(p) != *s)
        .map(|(p, _)| p.as_path())
}

impl Stamps {
    pub fn insert(&mut self, path: PathBuf, stamp: Option<FileStamp>) {
        // The first stamp of a path is the one taken before its use.
        self.0.entry(path).or_insert(stamp);
    }

    /// Stamp `path` now.
    pub fn probe(&mut self, path: &Path) {
        self.insert(path.to_path_buf(), FileStamp::now(path));
    }

    pub fn into_list(self) -> StampList {
        self.0.into_iter().collect()
    }
}

/// The recorder: stamps are collected while it is active (loading and
/// planning), and ignored after [`Watch::stop`] (running steps and
/// delivering images read and write files that are outputs, not inputs).
#[derive(Debug)]
pub struct Watch {
    active: AtomicBool,
    seen: Mutex<Stamps>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            active: AtomicBool::new(true),
            seen: Mutex::new(Stamps::default()),
        }
    }
}

impl Watch {
    /// Record `path` with the metadata it was read with.
    pub fn record(&self, path: &Path, meta: &fs::Metadata) {
        self.put(path, Some(FileStamp::of(meta)));
    }

    /// Stamp `path` now (absent allowed); returns whether it exists.
    pub fn probe(&self, path: &Path) -> bool {
        let stamp = FileStamp::now(path);
        self.put(path, stamp);
        stamp.is_some()
    }

    /// [`Watch::probe`] that says whether it is a regular file.
    pub fn is_file(&self, path: &Path) -> bool {
        let meta = fs::metadata(path).ok();
        self.put(path, meta.as_ref().map(FileStamp::of));
        meta.is_some_and(|m| m.is_file())
    }

    fn put(&self, path: &Path, stamp: Option<FileStamp>) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(path.to_path_buf(), stamp);
        }
    }

    /// Stop recording (planning is over).
    pub fn stop(&self) {
        self.active.store(false, Ordering::Relaxed);
    }

    /// Everything recorded so far.
    pub fn stamps(&self) -> Stamps {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_of_content_mode_or_presence_is_seen() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        let absent = tmp.path().join("absent");
        fs::write(&f, b"one").unwrap();
        let w = Watch::default();
        assert!(w.probe(&f));
        assert!(!w.probe(&absent));
        let stamps = w.stamps().into_list();
        assert_eq!(first_change(&stamps), None);

        fs::write(&absent, b"").unwrap();
        assert_eq!(first_change(&stamps), Some(absent.as_path()));
        fs::remove_file(&absent).unwrap();
        assert_eq!(first_change(&stamps), None);

        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(first_change(&stamps), Some(f.as_path()));
    }

    #[test]
    fn nothing_is_recorded_after_stop_and_the_first_stamp_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        fs::write(&f, b"one").unwrap();
        let w = Watch::default();
        w.probe(&f);
        fs::write(&f, b"two, longer").unwrap();
        w.probe(&f);
        assert_eq!(first_change(&w.stamps().into_list()), Some(f.as_path()));
        w.stop();
        w.probe(&tmp.path().join("later"));
        assert_eq!(w.stamps().into_list().len(), 1);
    }
}
