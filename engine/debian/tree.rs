//! mmdebstrap's tar output turned into a step output without root: the
//! entries are written into `out/target` owned by the build user, with
//! their modes (setuid and sticky bits included), and what only root could
//! set on disk — an owner other than root, a device node, a fifo — goes into
//! [`OWNERS_META`], a makedevs table the root filesystem carries to the
//! image writers. Hard links become copies; paths leaving the tree are
//! refused.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// The ownership table in a Debian root filesystem's output (and, carried
/// over, in the `rootfs` step's).
pub const OWNERS_META: &str = "meta/owners.table";

/// The archive path as a relative path inside the tree; `None` for the
/// root itself. Anything absolute or with `..` is refused.
fn inside(path: &Path) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            _ => {
                return Err(Error::Other(format!(
                    "mmdebstrap's archive has an entry outside the tree: {}",
                    path.display()
                )));
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Unpack the tar at `archive` into `target`; returns the owners table.
pub fn unpack(archive: &Path, target: &Path) -> Result<String> {
    let file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
    let bad = |e: std::io::Error| Error::io(archive, e);
    // Directory modes are set last: a read-only directory must still take
    // its entries.
    let mut dirs: BTreeMap<PathBuf, u32> = BTreeMap::new();
    let mut table = String::from(
        "# owners, modes and device nodes from dpkg, read from mmdebstrap's archive\n",
    );
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().map_err(bad)? & 0o7777;
        let uid = header.uid().map_err(bad)?;
        let gid = header.gid().map_err(bad)?;
        let raw = entry.path().map_err(bad)?.into_owned();
        let Some(rel) = inside(&raw)? else {
            continue;
        };
        let name = format!("/{}", rel.display());
        if name.chars().any(char::is_whitespace) {
            return Err(Error::Other(format!(
                "mmdebstrap's archive has a path with white space, which a makedevs table cannot name: {name:?}"
            )));
        }
        let dest = target.join(&rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        // The tree on disk stays readable (and its folders enterable) by
        // the build user, who is not root; a mode that is not, like
        // `/etc/shadow-`'s 000, goes into the table, where it is exact.
        let disk_mode = match kind {
            tar::EntryType::Directory => mode | 0o500,
            _ => mode | 0o400,
        };
        let owned = uid != 0 || gid != 0 || mode & 0o7000 != 0 || disk_mode != mode;
        use tar::EntryType as T;
        match kind {
            T::Directory => {
                fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
                dirs.insert(dest, disk_mode);
                if owned {
                    let _ = writeln!(table, "{name} d {mode:o} {uid} {gid} - - - - -");
                }
            }
            T::Regular | T::Continuous | T::Link => {
                if kind == T::Link {
                    let to = entry.link_name().map_err(bad)?.ok_or_else(|| {
                        Error::Other(format!("hard link {name} without a target"))
                    })?;
                    let from = inside(&to)?.map(|r| target.join(r)).ok_or_else(|| {
                        Error::Other(format!("hard link {name} to the tree's root"))
                    })?;
                    fs::copy(&from, &dest).map_err(|e| Error::io(&from, e))?;
                } else {
                    let mut out = fs::File::create(&dest).map_err(|e| Error::io(&dest, e))?;
                    std::io::copy(&mut entry, &mut out).map_err(|e| Error::io(&dest, e))?;
                }
                set_mode(&dest, disk_mode)?;
                if owned {
                    let _ = writeln!(table, "{name} f {mode:o} {uid} {gid} - - - - -");
                }
            }
            T::Symlink => {
                let to = entry
                    .link_name()
                    .map_err(bad)?
                    .ok_or_else(|| Error::Other(format!("symlink {name} without a target")))?;
                let _ = fs::remove_file(&dest);
                std::os::unix::fs::symlink(&to, &dest).map_err(|e| Error::io(&dest, e))?;
            }
            T::Char | T::Block | T::Fifo => {
                let major = header.device_major().map_err(bad)?.unwrap_or(0);
                let minor = header.device_minor().map_err(bad)?.unwrap_or(0);
                let (t, numbers) = match kind {
                    T::Char => ('c', format!("{major} {minor}")),
                    T::Block => ('b', format!("{major} {minor}")),
                    _ => ('p', "- -".to_string()),
                };
                let _ = writeln!(table, "{name} {t} {mode:o} {uid} {gid} {numbers} - - -");
            }
            other => {
                return Err(Error::Other(format!(
                    "mmdebstrap's archive has {name} of a kind forge does not store ({other:?})"
                )));
            }
        }
    }
    for (dir, mode) in dirs.iter().rev() {
        set_mode(dir, *mode)?;
    }
    Ok(table)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: tar::EntryType, path: &str, mode: u32, uid: u64, gid: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_path(path).unwrap();
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_size(0);
        h
    }

    #[test]
    fn owners_modes_devices_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar");
        let mut b = tar::Builder::new(fs::File::create(&archive).unwrap());
        use tar::EntryType as T;
        for (kind, path, mode, uid, gid) in [
            (T::Directory, "./", 0o755, 0, 0),
            (T::Directory, "./usr/bin/", 0o755, 0, 0),
            (T::Directory, "./var/mail/", 0o2775, 0, 8),
            (T::Directory, "./dev/", 0o755, 0, 0),
        ] {
            let mut h = header(kind, path, mode, uid, gid);
            h.set_cksum();
            b.append(&h, std::io::empty()).unwrap();
        }
        let mut h = header(T::Regular, "./usr/bin/sudo", 0o4755, 0, 0);
        h.set_size(4);
        h.set_cksum();
        b.append(&h, &b"sudo"[..]).unwrap();
        let mut h = header(T::Link, "./usr/bin/sudoedit", 0o4755, 0, 0);
        h.set_link_name("./usr/bin/sudo").unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
        let mut h = header(T::Regular, "./etc/shadow-", 0o000, 0, 0);
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
        let mut h = header(T::Char, "./dev/null", 0o666, 0, 0);
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
        b.into_inner().unwrap();

        let target = dir.path().join("target");
        let table = unpack(&archive, &target).unwrap();
        assert!(
            table.contains("/var/mail d 2775 0 8 - - - - -\n"),
            "{table}"
        );
        assert!(
            table.contains("/usr/bin/sudo f 4755 0 0 - - - - -\n"),
            "{table}"
        );
        assert!(table.contains("/usr/bin/sudoedit f 4755 0 0"), "{table}");
        assert!(table.contains("/dev/null c 666 0 0 1 3 - - -\n"), "{table}");
        let mode = fs::metadata(target.join("usr/bin/sudo"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o4755);
        assert_eq!(fs::read(target.join("usr/bin/sudoedit")).unwrap(), b"sudo");
        assert!(!target.join("dev/null").exists());
        // Readable on disk, exact in the table.
        assert!(
            table.contains("/etc/shadow- f 0 0 0 - - - - -\n"),
            "{table}"
        );
        let mode = fs::metadata(target.join("etc/shadow-"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        // The table parses as a device table.
        crate::assemble::devtable::parse_device_table(Path::new(OWNERS_META), &table).unwrap();
    }

    #[test]
    fn escaping_entries_are_refused() {
        assert!(inside(Path::new("../etc/passwd")).is_err());
        assert!(inside(Path::new("/etc/passwd")).is_err());
        assert_eq!(inside(Path::new("./")).unwrap(), None);
    }
}
