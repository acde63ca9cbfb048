//! What the tree-reading image writers (tar, ext4, squashfs, UBI) share
//! about entries: validation of an entry list, staging regular files,
//! directories and symlinks into a scratch directory, which entries the
//! staged tree cannot express (and so need the tool's own fix-ups), and how
//! staged files' ownership appears to tools (root, `unshare -r`, or the
//! build user). Errors and tool running live in [`super::tool`], re-exported
//! here.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::exec::{Cmd, Executor};

use super::entries::{EntryKind, FileData, ImageEntry, MAX_MAJOR, MAX_MINOR, MODE_MASK};
use super::entries::{parent_of, path_problem};
pub use super::tool::{
    ImageError, entry_err, find_tool, io_err, run_tool, seeded_uuid, temp_beside, tool_cmd,
    write_atomically,
};

/// Checks what every writer relies on: valid unique paths, each parent an
/// earlier directory entry, modes within 7777, device numbers in range and
/// symlink targets non-empty.
pub fn validate(image: &Path, entries: &[ImageEntry]) -> Result<(), ImageError> {
    let mut dirs: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for e in entries {
        let bad = |reason: String| Err(entry_err(image, e, reason));
        if let Some(p) = path_problem(&e.path) {
            return bad(p.into());
        }
        if !seen.insert(&e.path) {
            return bad("appears more than once".into());
        }
        if let Some(parent) = parent_of(&e.path).filter(|p| !dirs.contains(p)) {
            return bad(format!(
                "parent directory `{parent}` is not an earlier entry (add_missing_parents + sort_entries)"
            ));
        }
        if e.mode & !MODE_MASK != 0 {
            return bad(format!("mode {:o} has bits beyond 7777", e.mode));
        }
        match &e.kind {
            EntryKind::Dir => {
                dirs.insert(&e.path);
            }
            EntryKind::Symlink { target } if target.is_empty() || target.contains('\0') => {
                return bad("symlink target is empty or contains NUL".into());
            }
            EntryKind::CharDev { major, minor } | EntryKind::BlockDev { major, minor }
                if *major > MAX_MAJOR || *minor > MAX_MINOR =>
            {
                return bad(format!("device {major}:{minor} out of range"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether an entry has to be created or corrected by the image tool's own
/// metadata mechanism because the staging tree cannot hold it: device nodes
/// and fifos (never staged), owners other than the staged owner, and
/// setuid/setgid/sticky bits (staged without them).
pub fn needs_fixup(e: &ImageEntry, staged_owner: (u32, u32)) -> bool {
    !is_staged(e) || (e.uid, e.gid) != staged_owner || e.mode != staged_mode(e)
}

/// Whether [`stage_tree`] writes this entry (files, directories, symlinks).
pub fn is_staged(e: &ImageEntry) -> bool {
    matches!(
        e.kind,
        EntryKind::Dir | EntryKind::File { .. } | EntryKind::Symlink { .. }
    )
}

/// The mode an entry has in the staging tree: permission bits only, and
/// always readable (and for directories searchable and writable) by the
/// owner so tools running as the build user can read it.
pub fn staged_mode(e: &ImageEntry) -> u32 {
    match e.kind {
        EntryKind::Dir => (e.mode & 0o777) | 0o700,
        EntryKind::Symlink { .. } => 0o777,
        _ => (e.mode & 0o777) | 0o400,
    }
}

/// Writes the directories, regular files and symlinks of a validated
/// `entries` list under `root` (which must exist and be empty), with
/// [`staged_mode`] permissions and every timestamp set to `mtime`.
pub fn stage_tree(
    image: &Path,
    entries: &[ImageEntry],
    mtime: u32,
    root: &Path,
) -> Result<(), ImageError> {
    use std::os::unix::fs::PermissionsExt as _;
    let time = filetime::FileTime::from_unix_time(i64::from(mtime), 0);
    for e in entries {
        let dest = root.join(&e.path);
        let write_err = io_err(image, "staging", &dest);
        match &e.kind {
            EntryKind::Dir => fs::create_dir(&dest).map_err(&write_err)?,
            EntryKind::File {
                data: FileData::Bytes(b),
            } => fs::write(&dest, b).map_err(&write_err)?,
            EntryKind::File {
                data: FileData::Path(src),
            } => {
                if !fs::metadata(src)
                    .map_err(io_err(image, "reading", src))?
                    .is_file()
                {
                    return Err(entry_err(
                        image,
                        e,
                        format!("{} is not a regular file", src.display()),
                    ));
                }
                fs::copy(src, &dest).map_err(io_err(image, "copying", src))?;
            }
            EntryKind::Symlink { target } => {
                std::os::unix::fs::symlink(target, &dest).map_err(&write_err)?;
            }
            _ => continue,
        }
        if !matches!(e.kind, EntryKind::Symlink { .. }) {
            fs::set_permissions(&dest, fs::Permissions::from_mode(staged_mode(e)))
                .map_err(&write_err)?;
        }
    }
    // Times last, deepest first, so creating children does not touch them.
    for e in entries.iter().rev().filter(|e| is_staged(e)) {
        let dest = root.join(&e.path);
        filetime::set_symlink_file_times(&dest, time, time).map_err(io_err(
            image,
            "setting times of",
            &dest,
        ))?;
    }
    filetime::set_file_times(root, time, time).map_err(io_err(image, "setting times of", root))
}

/// How files staged by this process appear to the image tools: as root
/// (we are root, or `unshare -r` works and is used) or as the build user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staging {
    /// Running as root: staged files are already owned by 0:0.
    Root,
    /// Tools run under `unshare -r`, which maps the build user to root.
    UserNamespace,
    /// No user namespaces: staged files show this owner; every entry whose
    /// owner differs is corrected afterwards.
    AsUser(u32, u32),
}

impl Staging {
    /// Probes once per call: root, else whether `unshare -r true` works
    /// (run through `exec`).
    pub fn detect(exec: &dyn Executor) -> Staging {
        // SAFETY: geteuid/getegid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        if uid == 0 {
            return Staging::Root;
        }
        let probe = Cmd::new("unshare").args(["-r", "true"]).inherit_env();
        let works = exec.run(&probe).is_ok_and(|done| done.status.success());
        if works {
            Staging::UserNamespace
        } else {
            Staging::AsUser(uid, gid)
        }
    }

    /// The owner tools see on staged files.
    pub fn owner(self) -> (u32, u32) {
        match self {
            Staging::AsUser(u, g) => (u, g),
            _ => (0, 0),
        }
    }

    /// The request for `tool` (see [`tool_cmd`]), wrapped in `unshare -r`
    /// when that is the mode.
    pub fn command(self, tool: &Path) -> Cmd {
        if self == Staging::UserNamespace {
            tool_cmd(Path::new("unshare")).args(["-r", "--"]).arg(tool)
        } else {
            tool_cmd(tool)
        }
    }
}

/// A small root shared by the writers' tests: directories, `Bytes` and
/// `Path` files, a symlink, setuid and sticky bits, a non-root owner,
/// character and block devices and a fifo.
#[cfg(test)]
pub fn sample_entries(dir: &Path) -> Vec<ImageEntry> {
    use super::entries::{add_missing_parents, sort_entries};
    let host = dir.join("busybox-bin");
    fs::write(&host, b"\x7fELF pretend busybox").unwrap();
    let e = |path: &str, mode, uid, gid, kind| ImageEntry {
        path: path.into(),
        uid,
        gid,
        mode,
        kind,
    };
    let bytes = |b: &[u8]| EntryKind::File {
        data: FileData::Bytes(b.to_vec()),
    };
    let mut v = vec![
        e(
            "bin/busybox",
            0o4755,
            0,
            0,
            EntryKind::File {
                data: FileData::Path(host),
            },
        ),
        e(
            "bin/sh",
            0o777,
            0,
            0,
            EntryKind::Symlink {
                target: "busybox".into(),
            },
        ),
        e("etc/hostname", 0o644, 1000, 100, bytes(b"forge\n")),
        e("etc/empty", 0o600, 0, 0, bytes(b"")),
        e(
            "dev/console",
            0o600,
            0,
            5,
            EntryKind::CharDev { major: 5, minor: 1 },
        ),
        e(
            "dev/sda",
            0o660,
            0,
            6,
            EntryKind::BlockDev { major: 8, minor: 0 },
        ),
        e("dev/initctl", 0o600, 0, 0, EntryKind::Fifo),
        e("tmp", 0o1777, 0, 0, EntryKind::Dir),
        e("home/user", 0o700, 1000, 1000, EntryKind::Dir),
    ];
    add_missing_parents(&mut v);
    sort_entries(&mut v);
    v
}
