//! The neutral description of a root filesystem that image writers consume:
//! [`ImageEntry`] and its kinds, path validation, the deterministic order
//! (parents before children) and the filling-in of missing parent
//! directories.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::PathBuf;

/// Largest device major number the kernel can represent (12 bits).
pub const MAX_MAJOR: u32 = (1 << 12) - 1;
/// Largest device minor number the kernel can represent (20 bits).
pub const MAX_MINOR: u32 = (1 << 20) - 1;
/// Permission bits an entry may carry: rwx for all, setuid, setgid, sticky.
pub const MODE_MASK: u32 = 0o7777;

/// One file-system object of the image, with the ownership and mode it has
/// inside the image (not on the build host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// Relative path inside the image, `/`-separated, no leading `/`,
    /// e.g. `bin/busybox`. Never empty (the root is implicit).
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setuid/setgid/sticky; no file-type bits.
    pub mode: u32,
    pub kind: EntryKind,
}

/// What kind of object an [`ImageEntry`] is, with its kind-specific data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { data: FileData },
    Symlink { target: String },
    CharDev { major: u32, minor: u32 },
    BlockDev { major: u32, minor: u32 },
    Fifo,
}

impl EntryKind {
    /// "a directory", "a symlink", ...: for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            EntryKind::Dir => "a directory",
            EntryKind::File { .. } => "a regular file",
            EntryKind::Symlink { .. } => "a symlink",
            EntryKind::CharDev { .. } => "a character device",
            EntryKind::BlockDev { .. } => "a block device",
            EntryKind::Fifo => "a fifo",
        }
    }
}

/// Where a regular file's contents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileData {
    /// Read from this file on the build host when the image is written.
    Path(PathBuf),
    /// These exact bytes.
    Bytes(Vec<u8>),
}

impl ImageEntry {
    /// A directory owned by root with the given mode.
    pub fn dir(path: impl Into<String>, mode: u32) -> Self {
        ImageEntry {
            path: path.into(),
            uid: 0,
            gid: 0,
            mode,
            kind: EntryKind::Dir,
        }
    }

    /// Whether this entry is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, EntryKind::Dir)
    }
}

/// Why `path` is not acceptable as an [`ImageEntry::path`], or `None` when
/// it is: it must be non-empty, relative, free of NUL bytes, and made of
/// normal components only (no empty, `.` or `..` components).
pub fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("the path is empty")
    } else if path.starts_with('/') {
        Some("the path must be relative (no leading `/`)")
    } else if path.contains('\0') {
        Some("the path contains a NUL byte")
    } else if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        Some("the path has an empty, `.` or `..` component")
    } else {
        None
    }
}

/// The directory containing `path`, or `None` for a top-level entry.
pub fn parent_of(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

/// Compares two paths component by component, so that a directory sorts
/// immediately before its own contents (`a`, `a/b`, `a-b`).
pub fn compare_paths(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Puts entries in the deterministic order image writers expect: by path
/// components, so every directory precedes its children. Entries with the
/// same path keep their relative order.
pub fn sort_entries(entries: &mut [ImageEntry]) {
    entries.sort_by(|a, b| compare_paths(&a.path, &b.path));
}

/// Appends a directory entry (mode 0755, root:root) for every ancestor of an
/// entry that has no entry of its own. Existing entries are left alone, even
/// if an ancestor exists but is not a directory (writers reject that). The
/// new entries are appended; call [`sort_entries`] afterwards.
pub fn add_missing_parents(entries: &mut Vec<ImageEntry>) {
    let mut present: HashSet<String> = entries.iter().map(|e| e.path.clone()).collect();
    let mut missing = Vec::new();
    for entry in entries.iter() {
        let mut cur = parent_of(&entry.path);
        while let Some(dir) = cur {
            if dir.is_empty() || !present.insert(dir.to_string()) {
                break;
            }
            missing.push(ImageEntry::dir(dir, 0o755));
            cur = parent_of(dir);
        }
    }
    entries.extend(missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> ImageEntry {
        ImageEntry {
            path: path.into(),
            uid: 0,
            gid: 0,
            mode: 0o644,
            kind: EntryKind::File {
                data: FileData::Bytes(Vec::new()),
            },
        }
    }

    #[test]
    fn parents_sort_before_children() {
        let mut v = vec![
            file("a-b"),
            file("a/b/c"),
            ImageEntry::dir("a", 0o755),
            file("a/b.x"),
        ];
        add_missing_parents(&mut v);
        sort_entries(&mut v);
        let paths: Vec<&str> = v.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "a/b", "a/b/c", "a/b.x", "a-b"]);
        assert!(v[1].is_dir());
        assert_eq!((v[1].mode, v[1].uid, v[1].gid), (0o755, 0, 0));
    }

    #[test]
    fn deep_missing_parents_are_added_once() {
        let mut v = vec![file("x/y/z/1"), file("x/y/z/2"), file("x/w")];
        add_missing_parents(&mut v);
        sort_entries(&mut v);
        let paths: Vec<&str> = v.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["x", "x/w", "x/y", "x/y/z", "x/y/z/1", "x/y/z/2"]);
    }

    #[test]
    fn path_rules() {
        assert!(path_problem("bin/busybox").is_none());
        for bad in ["", "/bin", "a//b", "a/", "./a", "a/../b", "a\0b"] {
            assert!(path_problem(bad).is_some(), "{bad:?} accepted");
        }
    }
}
