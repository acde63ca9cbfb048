//! The ext2/3/4 writer: stages files, directories and symlinks in a scratch
//! directory, formats the image with `mke2fs -d` under forge's own
//! `mke2fs.conf` (never the host's), as root through
//! `unshare -r` when we are not root) and then applies, with a generated
//! `debugfs -w` script, what a tree owned by the build user cannot hold:
//! other owners, setuid/setgid/sticky bits, device nodes and fifos, and the
//! fixed inode change time that makes two runs produce the same bytes.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::entries::{EntryKind, ImageEntry, parent_of};
use super::stage::{ImageError, Staging, entry_err, find_tool, io_err, is_staged, needs_fixup};
use super::stage::{run_tool, seeded_uuid, stage_tree, tool_cmd, validate, write_atomically};
use crate::exec::{Cmd, Executor, local::PLAIN};

const E2FSPROGS: &str = "e2fsprogs";

/// The filesystem generation (`mke2fs -t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExtType {
    /// No journal.
    Ext2,
    /// ext2 with a journal.
    Ext3,
    /// Extents, flex_bg, checksums, 64bit.
    Ext4,
}

impl ExtType {
    pub fn name(self) -> &'static str {
        match self {
            ExtType::Ext2 => "ext2",
            ExtType::Ext3 => "ext3",
            ExtType::Ext4 => "ext4",
        }
    }
}

/// forge's mke2fs configuration: the feature sets of each type.
const MKE2FS_CONF: &str = include_str!("mke2fs.conf");

/// How to format the filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext4Options {
    /// ext2, ext3 or ext4.
    pub fs_type: ExtType,
    /// Size of the image file in bytes; a multiple of 1024.
    pub size_bytes: u64,
    /// Volume label, at most 16 bytes.
    pub label: String,
    /// Number of inodes (`mke2fs -N`); `None` lets mke2fs choose.
    pub inodes: Option<u64>,
    /// Blocks reserved for root, in percent (`mke2fs -m`).
    pub reserved_percent: u8,
    /// Any string; the filesystem UUID and directory hash seed derive from it.
    pub uuid_seed: String,
}

/// The `i_mode` file-type bits of an entry kind.
fn type_bits(kind: &EntryKind) -> u32 {
    match kind {
        EntryKind::Dir => 0o040000,
        EntryKind::File { .. } => 0o100000,
        EntryKind::Symlink { .. } => 0o120000,
        EntryKind::CharDev { .. } => 0o020000,
        EntryKind::BlockDev { .. } => 0o060000,
        EntryKind::Fifo => 0o010000,
    }
}

/// The `debugfs` script that turns the freshly formatted image into the
/// exact entry list: every listed path gets its ctime; entries
/// [`needs_fixup`] says the tree could not express get created
/// (`cd` + `mknod`) and their owner and full mode set.
fn debugfs_script(
    image: &Path,
    entries: &[ImageEntry],
    owner: (u32, u32),
    mtime: u32,
) -> Result<String, ImageError> {
    let mut s = String::new();
    let _ = writeln!(s, "sif \"/\" ctime @{mtime}");
    for e in entries {
        // debugfs takes a quoted name literally (a backslash too, as in
        // systemd's `system-systemd\x2dcryptsetup.slice`); a quote or a
        // newline cannot be written in one.
        if e.path.contains(['"', '\n']) {
            return Err(entry_err(
                image,
                e,
                "ext4 images cannot hold `\"` or newlines in names (debugfs quoting)",
            ));
        }
        let p = format!("\"/{}\"", e.path);
        if !is_staged(e) {
            let dir = parent_of(&e.path).unwrap_or("");
            let name = e.path.rsplit('/').next().unwrap_or(&e.path);
            let _ = writeln!(s, "cd \"/{dir}\"");
            let _ = match &e.kind {
                EntryKind::CharDev { major, minor } => {
                    writeln!(s, "mknod \"{name}\" c {major} {minor}")
                }
                EntryKind::BlockDev { major, minor } => {
                    writeln!(s, "mknod \"{name}\" b {major} {minor}")
                }
                _ => writeln!(s, "mknod \"{name}\" p"),
            };
        }
        if needs_fixup(e, owner) {
            let mode = type_bits(&e.kind) | e.mode;
            let _ = writeln!(s, "sif {p} uid {}", e.uid);
            let _ = writeln!(s, "sif {p} gid {}", e.gid);
            let _ = writeln!(s, "sif {p} mode 0{mode:o}");
        }
        let _ = writeln!(s, "sif {p} ctime @{mtime}");
    }
    Ok(s)
}

/// Writes `entries` (validated: see `add_missing_parents` and
/// `sort_entries`) as an ext4 image of `opts.size_bytes` at `path`. All
/// timestamps are `mtime`; the UUID and hash seed derive from
/// `opts.uuid_seed`, so the same inputs give the same bytes. Needs
/// `mke2fs` and `debugfs` (Debian package `e2fsprogs`, 1.47.0 or later).
pub fn write_ext4(
    entries: &[ImageEntry],
    opts: &Ext4Options,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    write_ext4_with(&PLAIN, entries, opts, mtime, path)
}

/// [`write_ext4`] with its tools run through `exec`.
pub fn write_ext4_with(
    exec: &dyn Executor,
    entries: &[ImageEntry],
    opts: &Ext4Options,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    write_ext4_as(exec, entries, opts, mtime, path, Staging::detect(exec))
}

/// [`write_ext4_with`] with the way staged files appear to `mke2fs` given.
fn write_ext4_as(
    exec: &dyn Executor,
    entries: &[ImageEntry],
    opts: &Ext4Options,
    mtime: u32,
    path: &Path,
    staging: Staging,
) -> Result<(), ImageError> {
    validate(path, entries)?;
    let invalid = |reason: String| ImageError::Invalid {
        image: path.into(),
        reason,
    };
    if opts.size_bytes == 0 || !opts.size_bytes.is_multiple_of(1024) {
        return Err(invalid(format!(
            "size {} is not a positive multiple of 1024",
            opts.size_bytes
        )));
    }
    if opts.label.len() > 16 {
        return Err(invalid(format!(
            "label `{}` is longer than 16 bytes",
            opts.label
        )));
    }
    if opts.reserved_percent > 50 {
        return Err(invalid(format!(
            "{}% reserved blocks is more than 50%",
            opts.reserved_percent
        )));
    }
    let mke2fs = find_tool(path, "mke2fs", E2FSPROGS)?;
    let debugfs = find_tool(path, "debugfs", E2FSPROGS)?;
    let dir =
        tempfile::tempdir().map_err(io_err(path, "creating a staging directory for", path))?;
    let root = dir.path().join("root");
    fs::create_dir(&root).map_err(io_err(path, "staging", &root))?;
    stage_tree(path, entries, mtime, &root)?;
    let script = debugfs_script(path, entries, staging.owner(), mtime)?;
    let script_path = dir.path().join("fixup.debugfs");
    fs::write(&script_path, script).map_err(io_err(path, "writing", &script_path))?;
    let uuid = seeded_uuid(&opts.uuid_seed, "ext4 uuid");
    let hash_seed = seeded_uuid(&opts.uuid_seed, "ext4 hash seed");
    let fake_time = mtime.to_string();
    let conf = dir.path().join("mke2fs.conf");
    fs::write(&conf, MKE2FS_CONF).map_err(io_err(path, "writing", &conf))?;

    write_atomically(path, |tmp| {
        let f = fs::File::create(tmp).map_err(io_err(path, "creating", tmp))?;
        f.set_len(opts.size_bytes)
            .map_err(io_err(path, "sizing", tmp))?;
        drop(f);
        let mut cmd = staging
            .command(&mke2fs)
            .args(["-q", "-F", "-t", opts.fs_type.name(), "-U", &uuid])
            .args(["-L", &opts.label])
            .arg("-E")
            .arg(format!("hash_seed={hash_seed},root_owner=0:0,nodiscard"))
            .arg("-m")
            .arg(opts.reserved_percent.to_string());
        if let Some(n) = opts.inodes {
            cmd = cmd.arg("-N").arg(n.to_string());
        }
        let cmd = cmd.arg("-d").arg(&root).arg(tmp).input(&root).output(tmp);
        run_tool(
            exec,
            path,
            "mke2fs",
            E2FSPROGS,
            fake(cmd, &fake_time, &conf),
        )?;

        let cmd = tool_cmd(&debugfs)
            .arg("-w")
            .arg("-f")
            .arg(&script_path)
            .arg(tmp)
            .input(&script_path)
            .output(tmp);
        let out = run_tool(
            exec,
            path,
            "debugfs",
            E2FSPROGS,
            fake(cmd, &fake_time, &conf),
        )?;
        // debugfs exits 0 even when a command fails; it reports on stderr.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("debugfs "))
            .collect();
        if !errors.is_empty() {
            return Err(ImageError::ToolFailed {
                image: path.into(),
                tool: "debugfs".into(),
                status: "reported errors".into(),
                stderr: errors.join("\n"),
            });
        }
        Ok(())
    })
}

/// Pins e2fsprogs' notion of "now" and its configuration (forge's, never
/// the host's).
fn fake(cmd: Cmd, time: &str, conf: &Path) -> Cmd {
    cmd.env("E2FSPROGS_FAKE_TIME", time)
        .env("SOURCE_DATE_EPOCH", time)
        .env("MKE2FS_CONFIG", conf)
        .env_remove("MKE2FS_SYNC")
        .input(conf)
}

#[cfg(test)]
#[path = "ext4_tests.rs"]
mod tests;
