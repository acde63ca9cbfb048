//! The squashfs writer: stages files, directories and symlinks in a scratch
//! directory and runs `mksquashfs` with a generated pseudo file that sets
//! every entry's owner and mode (`m` lines) and creates device nodes and
//! fifos (`c`, `b`, `i` lines), so nothing depends on who owns the staged
//! files and no user namespace is needed. Timestamps are pinned with
//! `-all-time`/`-mkfs-time`; the root directory with `-root-*`.
//!
//! Why `mksquashfs` rather than the `backhand` crate: squashfs-tools is the
//! reference implementation the kernel is tested against, it is already a
//! Debian package on every build host, and its pseudo files express exactly
//! the metadata we carry; it adds no crate to the dependency tree.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::entries::{EntryKind, ImageEntry};
use super::stage::{ImageError, entry_err, find_tool, io_err, run_tool, stage_tree};
use super::stage::{tool_cmd, validate, write_atomically};
use crate::exec::{Executor, local::PLAIN};

const SQUASHFS_TOOLS: &str = "squashfs-tools";

/// The compressor `mksquashfs` uses for data and metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SquashfsCompression {
    Gzip,
    Xz,
    Zstd,
}

impl SquashfsCompression {
    fn name(self) -> &'static str {
        match self {
            SquashfsCompression::Gzip => "gzip",
            SquashfsCompression::Xz => "xz",
            SquashfsCompression::Zstd => "zstd",
        }
    }
}

/// One pseudo-file line per entry: `m` (modify) for staged entries, a
/// creating definition for device nodes and fifos.
fn pseudo_file(image: &Path, entries: &[ImageEntry]) -> Result<String, ImageError> {
    let mut s = String::new();
    for e in entries {
        if e.path
            .contains(|c: char| c.is_whitespace() || c == '"' || c == '\\')
        {
            return Err(entry_err(
                image,
                e,
                "squashfs images cannot hold whitespace, `\"` or `\\` in names (pseudo file syntax)",
            ));
        }
        let (p, m, u, g) = (&e.path, e.mode, e.uid, e.gid);
        let _ = match &e.kind {
            EntryKind::CharDev { major, minor } => {
                writeln!(s, "{p} c {m:o} {u} {g} {major} {minor}")
            }
            EntryKind::BlockDev { major, minor } => {
                writeln!(s, "{p} b {m:o} {u} {g} {major} {minor}")
            }
            EntryKind::Fifo => writeln!(s, "{p} i {m:o} {u} {g} f"),
            _ => writeln!(s, "{p} m {m:o} {u} {g}"),
        };
    }
    Ok(s)
}

/// Writes `entries` (validated: see `add_missing_parents` and
/// `sort_entries`) as a squashfs image at `path`, compressed with
/// `compression`, with every timestamp (and the superblock's) set to
/// `mtime` and the root directory 0755 root:root. Needs `mksquashfs`
/// (Debian package `squashfs-tools`, 4.5 or later).
pub fn write_squashfs(
    entries: &[ImageEntry],
    compression: SquashfsCompression,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    write_squashfs_with(&PLAIN, entries, compression, mtime, path)
}

/// [`write_squashfs`] with `mksquashfs` run through `exec`.
pub fn write_squashfs_with(
    exec: &dyn Executor,
    entries: &[ImageEntry],
    compression: SquashfsCompression,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    validate(path, entries)?;
    let mksquashfs = find_tool(path, "mksquashfs", SQUASHFS_TOOLS)?;
    let dir =
        tempfile::tempdir().map_err(io_err(path, "creating a staging directory for", path))?;
    let root = dir.path().join("root");
    fs::create_dir(&root).map_err(io_err(path, "staging", &root))?;
    stage_tree(path, entries, mtime, &root)?;
    let pseudo = dir.path().join("pseudo");
    fs::write(&pseudo, pseudo_file(path, entries)?).map_err(io_err(path, "writing", &pseudo))?;
    let time = mtime.to_string();
    write_atomically(path, |tmp| {
        let cmd = tool_cmd(&mksquashfs)
            .arg(&root)
            .arg(tmp)
            .args(["-noappend", "-quiet", "-no-progress", "-no-xattrs"])
            .args(["-reproducible", "-processors", "1"])
            .args(["-comp", compression.name()])
            .args(["-all-time", &time, "-mkfs-time", &time, "-root-time", &time])
            .args(["-root-mode", "755", "-root-uid", "0", "-root-gid", "0"])
            .arg("-pf")
            .arg(&pseudo)
            .env_remove("SOURCE_DATE_EPOCH")
            .input(&root)
            .input(&pseudo)
            .output(tmp);
        let out = run_tool(exec, path, "mksquashfs", SQUASHFS_TOOLS, cmd)?;
        // mksquashfs only warns about pseudo lines it cannot apply.
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("Ignoring") || stderr.contains("not found") {
            return Err(ImageError::ToolFailed {
                image: path.into(),
                tool: "mksquashfs".into(),
                status: "ignored pseudo definitions".into(),
                stderr: stderr.trim().to_string(),
            });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::stage::sample_entries;
    use std::process::Command;

    #[test]
    fn unsquashfs_lists_owners_modes_devices_and_output_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        for c in [
            SquashfsCompression::Gzip,
            SquashfsCompression::Xz,
            SquashfsCompression::Zstd,
        ] {
            let (a, b) = (dir.path().join("a.sqfs"), dir.path().join("b.sqfs"));
            write_squashfs(&entries, c, 1_700_000_000, &a).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            write_squashfs(&entries, c, 1_700_000_000, &b).unwrap();
            assert!(fs::read(&a).unwrap() == fs::read(&b).unwrap(), "{c:?}");
            let out = Command::new("unsquashfs")
                .arg("-lln")
                .arg(&a)
                .output()
                .unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            let rows: Vec<String> = text
                .lines()
                .filter(|l| l.contains("squashfs-root"))
                .map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let rest = f[2..].join(" ").replace(", ", ",");
                    format!("{} {} {}", f[0], f[1], rest)
                })
                .collect();
            let want = [
                "drwxr-xr-x 0/0 X 2023-11-14 22:13 squashfs-root",
                "drwxr-xr-x 0/0 X 2023-11-14 22:13 squashfs-root/bin",
                "-rwsr-xr-x 0/0 20 2023-11-14 22:13 squashfs-root/bin/busybox",
                "lrwxrwxrwx 0/0 7 2023-11-14 22:13 squashfs-root/bin/sh -> busybox",
                "drwxr-xr-x 0/0 X 2023-11-14 22:13 squashfs-root/dev",
                "crw------- 0/5 5,1 2023-11-14 22:13 squashfs-root/dev/console",
                "prw------- 0/0 0 2023-11-14 22:13 squashfs-root/dev/initctl",
                "brw-rw---- 0/6 8,0 2023-11-14 22:13 squashfs-root/dev/sda",
                "drwxr-xr-x 0/0 X 2023-11-14 22:13 squashfs-root/etc",
                "-rw------- 0/0 0 2023-11-14 22:13 squashfs-root/etc/empty",
                "-rw-r--r-- 1000/100 6 2023-11-14 22:13 squashfs-root/etc/hostname",
                "drwxr-xr-x 0/0 X 2023-11-14 22:13 squashfs-root/home",
                "drwx------ 1000/1000 X 2023-11-14 22:13 squashfs-root/home/user",
                "drwxrwxrwt 0/0 X 2023-11-14 22:13 squashfs-root/tmp",
            ];
            // Directory sizes are squashfs-internal; mask them.
            let rows: Vec<String> = rows
                .iter()
                .map(|r| {
                    if r.starts_with('d') {
                        let f: Vec<&str> = r.split(' ').collect();
                        format!("{} {} X {}", f[0], f[1], f[3..].join(" "))
                    } else {
                        r.clone()
                    }
                })
                .collect();
            assert_eq!(rows, want, "{c:?}\n{text}");
            let sb = Command::new("unsquashfs")
                .arg("-s")
                .arg(&a)
                .output()
                .unwrap();
            let sb = String::from_utf8_lossy(&sb.stdout);
            assert!(sb.contains(&format!("Compression {}", c.name())), "{sb}");
        }
    }

    #[test]
    fn names_the_pseudo_file_cannot_express_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.sqfs");
        let v = vec![ImageEntry::dir("a b", 0o755)];
        let err = write_squashfs(&v, SquashfsCompression::Gzip, 0, &p)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.sqfs: image entry `a b`: squashfs images cannot hold"),
            "{err}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
