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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        if e.path.contains(['"', '\n', '\\']) {
            return Err(entry_err(
                image,
                e,
                "ext4 images cannot hold `\"`, `\\` or newlines in names (debugfs quoting)",
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
mod tests {
    use super::*;
    use crate::image::stage::sample_entries;
    use std::process::Command;

    /// e2fsprogs' tools, found even when `PATH` lacks `/usr/sbin`.
    fn sbin(tool: &str) -> std::path::PathBuf {
        find_tool(Path::new("test"), tool, E2FSPROGS).unwrap()
    }

    fn opts(seed: &str) -> Ext4Options {
        Ext4Options {
            fs_type: ExtType::Ext4,
            size_bytes: 8 << 20,
            label: "rootfs".into(),
            inodes: Some(256),
            reserved_percent: 0,
            uuid_seed: seed.into(),
        }
    }

    fn stat(img: &Path, p: &str) -> String {
        let out = Command::new(sbin("debugfs"))
            .arg("-R")
            .arg(format!("stat {p}"))
            .arg(img)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    fn assert_fsck_clean(img: &Path) {
        let fsck = Command::new(sbin("e2fsck"))
            .arg("-fn")
            .arg(img)
            .output()
            .unwrap();
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stdout)
        );
    }

    #[test]
    fn ext2_and_ext3_have_their_features_and_the_hosts_config_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let features = |img: &Path| {
            let out = Command::new(sbin("dumpe2fs"))
                .arg("-h")
                .arg(img)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix("Filesystem features:"))
                .unwrap_or_default()
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        for (fs_type, journal, extents) in [
            (ExtType::Ext2, false, false),
            (ExtType::Ext3, true, false),
            (ExtType::Ext4, true, true),
        ] {
            let img = dir.path().join(fs_type.name());
            let o = Ext4Options {
                fs_type,
                ..opts("seed")
            };
            write_ext4(&entries, &o, 1_700_000_000, &img).unwrap();
            let f = features(&img);
            assert_eq!(
                f.contains(&"has_journal".to_string()),
                journal,
                "{fs_type:?}: {f:?}"
            );
            assert_eq!(
                f.contains(&"extent".to_string()),
                extents,
                "{fs_type:?}: {f:?}"
            );
            assert_fsck_clean(&img);
        }
        // Every e2fsprogs command runs with forge's configuration, whatever
        // the environment says.
        let cmd = Cmd::new("true").env("MKE2FS_CONFIG", "/etc/hostile.conf");
        let conf = dir.path().join("forge.conf");
        let cmd = fake(cmd, "0", &conf);
        let pinned: Vec<_> = cmd
            .env
            .iter()
            .filter(|(k, _)| k == "MKE2FS_CONFIG")
            .collect();
        assert_eq!(pinned, [&("MKE2FS_CONFIG".into(), conf.clone().into())]);
    }

    #[test]
    fn e2fsck_clean_metadata_exact_and_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let (a, b) = (dir.path().join("a.ext4"), dir.path().join("b.ext4"));
        write_ext4(&entries, &opts("seed"), 1_700_000_000, &a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_ext4(&entries, &opts("seed"), 1_700_000_000, &b).unwrap();
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "not reproducible"
        );
        assert_fsck_clean(&a);

        let checks = [
            (
                "/bin/busybox",
                vec![
                    "Type: regular    Mode:  04755",
                    "User:     0   Group:     0",
                    "Size: 20",
                ],
            ),
            (
                "/etc/hostname",
                vec!["Mode:  0644", "User:  1000   Group:   100", "Size: 6"],
            ),
            (
                "/home/user",
                vec![
                    "Type: directory    Mode:  0700",
                    "User:  1000   Group:  1000",
                ],
            ),
            ("/tmp", vec!["Type: directory    Mode:  01777"]),
            (
                "/dev/console",
                vec![
                    "Type: character special    Mode:  0600",
                    "Group:     5",
                    "Device major/minor number: 05:01",
                ],
            ),
            (
                "/dev/sda",
                vec![
                    "Type: block special    Mode:  0660",
                    "Group:     6",
                    "Device major/minor number: 08:00",
                ],
            ),
            ("/dev/initctl", vec!["Type: FIFO    Mode:  0600"]),
            (
                "/bin/sh",
                vec!["Type: symlink", "Fast link dest: \"busybox\""],
            ),
        ];
        for (p, wants) in checks {
            let s = stat(&a, p);
            for w in wants {
                assert!(s.contains(w), "{p}: want {w:?} in\n{s}");
            }
            for t in ["ctime", "atime", "mtime"] {
                assert!(s.contains(&format!(" {t}: 0x6553f100")), "{p} {t}:\n{s}");
            }
        }
        let sb = Command::new(sbin("dumpe2fs"))
            .arg("-h")
            .arg(&a)
            .output()
            .unwrap();
        let sb = String::from_utf8_lossy(&sb.stdout);
        assert!(sb.contains(&seeded_uuid("seed", "ext4 uuid")), "{sb}");
        assert!(sb.contains("Filesystem volume name:   rootfs"), "{sb}");

        let c = dir.path().join("c.ext4");
        write_ext4(&entries, &opts("other"), 1_700_000_000, &c).unwrap();
        assert!(std::fs::read(&a).unwrap() != std::fs::read(&c).unwrap());
    }

    /// Without user namespaces staged files show the build user as owner;
    /// the debugfs script must then correct every entry. (As root this is
    /// the same as [`Staging::Root`]; run the tests as another user to
    /// exercise it fully.)
    #[test]
    fn fallback_without_user_namespace_sets_every_owner() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        // SAFETY: plain id queries.
        let me = unsafe { (libc::geteuid(), libc::getegid()) };
        let p = dir.path().join("u.ext4");
        let staging = Staging::AsUser(me.0, me.1);
        write_ext4_as(&PLAIN, &entries, &opts("s"), 7, &p, staging).unwrap();
        assert!(stat(&p, "/etc/empty").contains("User:     0   Group:     0"));
        assert!(stat(&p, "/bin/sh").contains("User:     0   Group:     0"));
        assert!(stat(&p, "/etc/hostname").contains("User:  1000   Group:   100"));
        let script = debugfs_script(&p, &entries, (1000, 1000), 7).unwrap();
        let owners = script.lines().filter(|l| l.contains(" uid ")).count();
        // All but `home/user`, which the build user 1000:1000 already owns.
        assert_eq!(owners, entries.len() - 1, "{script}");
        assert!(!script.contains("\"/home/user\" uid"), "{script}");
    }

    #[test]
    fn the_tools_run_through_the_given_executor() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let rec = crate::exec::testing::Recording::exiting(0);
        let p = dir.path().join("r.ext4");
        write_ext4_with(&rec, &entries, &opts("s"), 7, &p).unwrap();
        let seen = rec.requests();
        let tools: Vec<String> = seen
            .iter()
            .filter(|c| {
                c.argv
                    .iter()
                    .any(|a| a.to_string_lossy().contains("debugfs"))
            })
            .chain(seen.iter().filter(|c| {
                c.argv
                    .iter()
                    .any(|a| a.to_string_lossy().ends_with("mke2fs"))
            }))
            .map(|c| c.program())
            .collect();
        assert_eq!(tools.len(), 2, "{seen:?}");
        for c in seen.iter().filter(|c| c.argv.len() > 3) {
            assert!(c.env.iter().any(|(k, _)| k == "MKE2FS_CONFIG"), "{c:?}");
            assert!(c.outputs.iter().all(|o| o.parent() == p.parent()), "{c:?}");
        }
    }

    #[test]
    fn bad_options_and_tool_failures_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let p = dir.path().join("x.ext4");
        let mut o = opts("s");
        o.label = "a-label-longer-than-16".into();
        let err = write_ext4(&entries, &o, 0, &p).unwrap_err().to_string();
        assert!(err.contains("longer than 16 bytes"), "{err}");
        let mut o = opts("s");
        o.size_bytes = 64 << 10; // far too small for the journal
        let err = write_ext4(&entries, &o, 0, &p).unwrap_err().to_string();
        assert!(err.contains("x.ext4: `mke2fs` failed"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["busybox-bin"]);
    }
}
