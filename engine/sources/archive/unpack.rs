//! The checked tar walker: turns a stream of tar entries into files under a
//! fresh root directory, refusing anything that could write outside it.
//!
//! Rules: entry paths must be relative and free of `..`; nothing is ever
//! written through a symlink (every parent of an entry must be a directory
//! this walker created); relative symlink targets may not climb above the
//! root (absolute ones are kept verbatim, as a rootfs needs them, and never
//! followed); hard links must name an already-extracted non-directory inside
//! the tree. Device nodes and fifos are skipped and reported.

use std::collections::HashSet;
use std::fs::{self, FileTimes, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use filetime::FileTime;
use tar::EntryType;

use super::{ArchiveError, ExtractReport};

/// Unpack every entry of the tar stream `reader` under `root` (which must be
/// a fresh, empty directory), dropping `strip` leading path components.
pub(super) fn unpack<R: Read>(
    reader: R,
    root: &Path,
    archive: &Path,
    strip: usize,
) -> Result<ExtractReport, ArchiveError> {
    let mut walker = Walker {
        root,
        archive,
        strip,
        known_dirs: HashSet::from([PathBuf::new()]),
        dirs: Vec::new(),
        buf: vec![0u8; 1 << 17],
        report: ExtractReport::default(),
    };
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries().map_err(|e| walker.corrupt(e))? {
        let entry = entry.map_err(|e| walker.corrupt(e))?;
        walker.entry(entry)?;
    }
    walker.finish_dirs()?;
    Ok(walker.report)
}

struct Walker<'a> {
    root: &'a Path,
    archive: &'a Path,
    strip: usize,
    /// Every directory (relative to root) this walker created. Since the root
    /// is fresh and directories are never replaced, a path is a real
    /// directory exactly when it is in this set.
    known_dirs: HashSet<PathBuf>,
    /// Directory entries whose mode and mtime are applied at the end, once
    /// nothing more is written into them.
    dirs: Vec<(PathBuf, u32, u64)>,
    buf: Vec<u8>,
    report: ExtractReport,
}

impl Walker<'_> {
    fn corrupt(&self, source: io::Error) -> ArchiveError {
        ArchiveError::Corrupt {
            archive: self.archive.to_path_buf(),
            source,
        }
    }

    fn refuse(&self, entry: &str, reason: impl Into<String>) -> ArchiveError {
        ArchiveError::Unsafe {
            archive: self.archive.to_path_buf(),
            entry: entry.to_string(),
            reason: reason.into(),
        }
    }

    fn write_err(&self, path: &Path, source: io::Error) -> ArchiveError {
        ArchiveError::Write {
            archive: self.archive.to_path_buf(),
            path: path.to_path_buf(),
            source,
        }
    }

    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let raw = entry.path().map_err(|e| self.corrupt(e))?.into_owned();
        let name = raw.to_string_lossy().into_owned();
        let rel = match clean(&raw, self.strip) {
            Ok(Some(rel)) => rel,
            Ok(None) => return Ok(()),
            Err(reason) => return Err(self.refuse(&name, reason)),
        };
        let mode = entry.header().mode().map_err(|e| self.corrupt(e))?;
        let mtime = entry.header().mtime().map_err(|e| self.corrupt(e))?;
        let old_style_dir = kind == EntryType::Regular && entry.path_bytes().ends_with(b"/");
        match kind {
            EntryType::Directory => self.directory(rel, &name, mode, mtime),
            _ if old_style_dir => self.directory(rel, &name, mode, mtime),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.file(&mut entry, &rel, &name, mode, mtime)
            }
            EntryType::Symlink => {
                let target = self.link_target(&entry, &name)?;
                self.symlink(&rel, &name, &target, mtime)
            }
            EntryType::Link => {
                let target = self.link_target(&entry, &name)?;
                self.hard_link(&rel, &name, &target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                self.report.skipped_special.push(name);
                Ok(())
            }
            other => Err(ArchiveError::UnsupportedEntry {
                archive: self.archive.to_path_buf(),
                entry: name,
                kind: other.as_byte(),
            }),
        }
    }

    fn link_target<R: Read>(
        &self,
        entry: &tar::Entry<'_, R>,
        name: &str,
    ) -> Result<PathBuf, ArchiveError> {
        match entry.link_name().map_err(|e| self.corrupt(e))? {
            Some(t) if !t.as_os_str().is_empty() => Ok(t.into_owned()),
            _ => Err(self.refuse(name, "link entry has no target")),
        }
    }

    /// Create `rel` and any missing parents as real directories.
    fn ensure_dir(&mut self, rel: &Path, name: &str) -> Result<(), ArchiveError> {
        let missing: Vec<PathBuf> = rel
            .ancestors()
            .take_while(|a| !self.known_dirs.contains(*a))
            .map(Path::to_path_buf)
            .collect();
        for dir in missing.into_iter().rev() {
            let full = self.root.join(&dir);
            match fs::create_dir(&full) {
                Ok(()) => {
                    self.known_dirs.insert(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let what = match fs::symlink_metadata(&full) {
                        Ok(m) if m.file_type().is_symlink() => "a symlink",
                        _ => "a non-directory",
                    };
                    return Err(self.refuse(
                        name,
                        format!(
                            "`{}` is {what} from earlier in the archive; \
                             writing through it is not allowed",
                            dir.display()
                        ),
                    ));
                }
                Err(e) => return Err(self.write_err(&full, e)),
            }
        }
        Ok(())
    }

    fn ensure_parent(&mut self, rel: &Path, name: &str) -> Result<(), ArchiveError> {
        match rel.parent() {
            Some(parent) => self.ensure_dir(parent, name),
            None => Ok(()),
        }
    }

    /// Run `op` to create `rel`, replacing an earlier non-directory entry of
    /// the same name (never a directory, never following a symlink).
    fn create_replacing<T>(
        &self,
        rel: &Path,
        name: &str,
        mut op: impl FnMut(&Path) -> io::Result<T>,
    ) -> Result<T, ArchiveError> {
        let full = self.root.join(rel);
        match op(&full) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if self.known_dirs.contains(rel) {
                    return Err(self.refuse(name, "it would replace a directory"));
                }
                fs::remove_file(&full).map_err(|e| self.write_err(&full, e))?;
                op(&full).map_err(|e| self.write_err(&full, e))
            }
            Err(e) => Err(self.write_err(&full, e)),
        }
    }

    fn directory(
        &mut self,
        rel: PathBuf,
        name: &str,
        mode: u32,
        mtime: u64,
    ) -> Result<(), ArchiveError> {
        self.ensure_dir(&rel, name)?;
        self.dirs.push((rel, mode, mtime));
        Ok(())
    }

    fn file(
        &mut self,
        data: &mut impl Read,
        rel: &Path,
        name: &str,
        mode: u32,
        mtime: u64,
    ) -> Result<(), ArchiveError> {
        self.ensure_parent(rel, name)?;
        // create_new (O_EXCL) never follows a symlink at the final component.
        let mut file = self.create_replacing(rel, name, |p| {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(p)
        })?;
        let full = self.root.join(rel);
        let mut buf = std::mem::take(&mut self.buf);
        let copied = loop {
            match data.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if let Err(e) = file.write_all(&buf[..n]) {
                        break Err(self.write_err(&full, e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(self.corrupt(e)),
            }
        };
        self.buf = buf;
        copied?;
        file.set_permissions(fs::Permissions::from_mode(mode & 0o777))
            .and_then(|()| file.set_times(FileTimes::new().set_modified(system_time(mtime))))
            .map_err(|e| self.write_err(&full, e))
    }

    fn symlink(
        &mut self,
        rel: &Path,
        name: &str,
        target: &Path,
        mtime: u64,
    ) -> Result<(), ArchiveError> {
        if let Err(reason) = check_symlink_target(rel, target) {
            return Err(self.refuse(name, reason));
        }
        self.ensure_parent(rel, name)?;
        self.create_replacing(rel, name, |p| std::os::unix::fs::symlink(target, p))?;
        let full = self.root.join(rel);
        let t = file_time(mtime);
        filetime::set_symlink_file_times(&full, t, t).map_err(|e| self.write_err(&full, e))
    }

    fn hard_link(&mut self, rel: &Path, name: &str, raw_target: &Path) -> Result<(), ArchiveError> {
        let shown = raw_target.display();
        let target = match clean(raw_target, self.strip) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(self.refuse(
                    name,
                    format!("hard link target `{shown}` is removed by strip-components"),
                ));
            }
            Err(reason) => {
                return Err(self.refuse(name, format!("hard link target `{shown}`: {reason}")));
            }
        };
        if target == rel {
            return Ok(());
        }
        let target_dir_ok = target.parent().is_some_and(|p| self.known_dirs.contains(p));
        let target_full = self.root.join(&target);
        match fs::symlink_metadata(&target_full) {
            Ok(m) if target_dir_ok && !m.is_dir() => {}
            Ok(m) if m.is_dir() => {
                return Err(self.refuse(name, format!("hard link to directory `{shown}`")));
            }
            _ => {
                return Err(self.refuse(
                    name,
                    format!(
                        "hard link target `{shown}` was not extracted before the link \
                         (or is reached through a symlink)"
                    ),
                ));
            }
        }
        self.ensure_parent(rel, name)?;
        // std's hard_link uses linkat without AT_SYMLINK_FOLLOW: a symlink
        // target is linked as the symlink itself, never followed.
        self.create_replacing(rel, name, |p| fs::hard_link(&target_full, p))
    }

    /// Apply directory modes and mtimes now that nothing more is written.
    /// Directories always keep owner rwx so the tree stays removable.
    fn finish_dirs(&mut self) -> Result<(), ArchiveError> {
        for (rel, mode, mtime) in self.dirs.iter().rev() {
            let full = self.root.join(rel);
            fs::set_permissions(&full, fs::Permissions::from_mode((mode & 0o1777) | 0o700))
                .and_then(|()| filetime::set_file_mtime(&full, file_time(*mtime)))
                .map_err(|e| self.write_err(&full, e))?;
        }
        Ok(())
    }
}

/// The tree-relative path of an archive path: `.` components dropped, the
/// first `strip` components removed. `None` when nothing is left.
fn clean(raw: &Path, strip: usize) -> Result<Option<PathBuf>, &'static str> {
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
            Component::ParentDir => return Err("path contains `..`"),
        }
    }
    if parts.len() <= strip {
        return Ok(None);
    }
    Ok(Some(parts[strip..].iter().collect()))
}

/// Absolute targets are allowed (kept, never followed); relative ones may
/// not climb above the extraction root.
fn check_symlink_target(rel: &Path, target: &Path) -> Result<(), String> {
    if target.has_root() {
        return Ok(());
    }
    let mut depth = rel.components().count().saturating_sub(1);
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => {
                return Err(format!(
                    "symlink target `{}` points outside the extracted tree",
                    target.display()
                ));
            }
        }
    }
    Ok(())
}

fn system_time(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn file_time(secs: u64) -> FileTime {
    FileTime::from_unix_time(i64::try_from(secs).unwrap_or(0), 0)
}
