//! What the tool-driven image writers (tar, ext4, squashfs, UBI, disk) share:
//! the [`ImageError`] they report, entry-list validation, the write-to-temp
//! then rename of output files, running host tools (with the Debian package
//! to install when one is missing), and staging regular files, directories
//! and symlinks into a scratch directory for tools that read a tree.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::entries::{EntryKind, FileData, ImageEntry, MAX_MAJOR, MAX_MINOR, MODE_MASK};
use super::entries::{parent_of, path_problem};

/// How many trailing lines of a failed tool's stderr an error keeps.
const STDERR_TAIL_LINES: usize = 15;

/// Why an image could not be written. `image` is the output file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: image entry `{path}`: {reason}", image.display())]
    Entry {
        image: PathBuf,
        path: String,
        reason: String,
    },
    #[error("{}: {action} {}: {source}", image.display(), file.display())]
    Io {
        image: PathBuf,
        action: &'static str,
        file: PathBuf,
        source: io::Error,
    },
    #[error("{}: `{tool}` is not installed (install the Debian package `{package}`)", image.display())]
    ToolMissing {
        image: PathBuf,
        tool: String,
        package: &'static str,
    },
    #[error("{}: `{tool}` failed ({status}):\n{stderr}", image.display())]
    ToolFailed {
        image: PathBuf,
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("{}: {reason}", image.display())]
    Invalid { image: PathBuf, reason: String },
}

/// Builds an [`ImageError::Entry`] for `e` of image `image`.
pub fn entry_err(image: &Path, e: &ImageEntry, reason: impl Into<String>) -> ImageError {
    ImageError::Entry {
        image: image.into(),
        path: e.path.clone(),
        reason: reason.into(),
    }
}

/// Maps an I/O failure on `file` while writing `image` to an [`ImageError`].
pub fn io_err<'a>(
    image: &'a Path,
    action: &'static str,
    file: &'a Path,
) -> impl Fn(io::Error) -> ImageError + 'a {
    move |source| ImageError::Io {
        image: image.into(),
        action,
        file: file.into(),
        source,
    }
}

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

/// A hidden temporary path beside `path`, for write-then-rename.
pub fn temp_beside(image: &Path, suffix: &str) -> Result<PathBuf, ImageError> {
    let name = image.file_name().ok_or_else(|| ImageError::Invalid {
        image: image.into(),
        reason: "the output path has no file name".into(),
    })?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{suffix}-{}", std::process::id()));
    Ok(image.with_file_name(tmp))
}

/// Runs `fill(tmp)` to produce the image at a temporary path beside `image`
/// and renames it over `image` on success; removes it on failure.
pub fn write_atomically(
    image: &Path,
    fill: impl FnOnce(&Path) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    let tmp = temp_beside(image, "tmp")?;
    let result = fill(&tmp)
        .and_then(|()| fs::rename(&tmp, image).map_err(io_err(image, "renaming into place", &tmp)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The last [`STDERR_TAIL_LINES`] lines of a tool's stderr.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[from..].join("\n")
}

/// Finds host tool `tool` on `PATH` or in `/usr/sbin` and `/sbin` (where
/// e2fsprogs and friends live but a build user's `PATH` may not reach).
pub fn find_tool(image: &Path, tool: &str, package: &'static str) -> Result<PathBuf, ImageError> {
    if let Ok(p) = which::which(tool) {
        return Ok(p);
    }
    ["/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
        .ok_or_else(|| ImageError::ToolMissing {
            image: image.into(),
            tool: tool.into(),
            package,
        })
}

/// Runs `cmd` (whose program is `tool`, from Debian package `package`) to
/// completion with stdout and stderr captured; a missing program or a
/// non-zero exit becomes an error naming the image and the tool.
pub fn run_tool(
    image: &Path,
    tool: &str,
    package: &'static str,
    cmd: &mut Command,
) -> Result<Output, ImageError> {
    // `output()` gives the child an empty stdin unless the caller set one.
    let out = cmd.output();
    let out = match out {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(ImageError::ToolMissing {
                image: image.into(),
                tool: tool.into(),
                package,
            });
        }
        Err(err) => return Err(io_err(image, "running", Path::new(tool))(err)),
        Ok(out) => out,
    };
    if out.status.success() {
        Ok(out)
    } else {
        Err(ImageError::ToolFailed {
            image: image.into(),
            tool: tool.into(),
            status: out.status.to_string(),
            stderr: tail(&out.stderr),
        })
    }
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

/// A 16-byte value derived from `seed` and `purpose`, formatted as a UUID
/// (version 4 / variant bits set) for `mke2fs -U`, hash seeds and FAT ids.
pub fn seeded_uuid(seed: &str, purpose: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"forge image uuid\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.finalize().as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
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
    /// Probes once per call: root, else whether `unshare -r true` works.
    pub fn detect() -> Staging {
        // SAFETY: geteuid/getegid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        if uid == 0 {
            return Staging::Root;
        }
        let works = Command::new("unshare")
            .args(["-r", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
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

    /// A command for `tool`, wrapped in `unshare -r` when that is the mode.
    pub fn command(self, tool: &Path) -> Command {
        if self == Staging::UserNamespace {
            let mut c = Command::new("unshare");
            c.args(["-r", "--"]).arg(tool);
            c
        } else {
            Command::new(tool)
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
