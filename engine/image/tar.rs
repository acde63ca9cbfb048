//! The tar writer: GNU-format archives built from [`ImageEntry`] lists with
//! numeric owners only (no user or group names), one fixed mtime, device
//! nodes and fifos as their own entry types, written to a temporary file
//! and renamed into place.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;

use tar::{EntryType, Header};

use super::entries::{EntryKind, FileData, ImageEntry};
use super::stage::{ImageError, entry_err, io_err, validate, write_atomically};

/// Writes `entries` (validated: see `add_missing_parents` and
/// `sort_entries`), in order, as a GNU tar archive at `path`. Every entry
/// has mtime `mtime` and its own numeric uid/gid and mode; directories are
/// named with a trailing `/`; long names use GNU long-name records.
pub fn write_tar(entries: &[ImageEntry], mtime: u32, path: &Path) -> Result<(), ImageError> {
    validate(path, entries)?;
    write_atomically(path, |tmp| {
        let out = File::create(tmp).map_err(io_err(path, "creating", tmp))?;
        let mut builder = tar::Builder::new(BufWriter::new(out));
        for e in entries {
            append(path, &mut builder, e, mtime)?;
        }
        let werr = io_err(path, "writing", tmp);
        let mut buf = builder.into_inner().map_err(&werr)?;
        buf.flush().map_err(&werr)?;
        let file = buf.into_inner().map_err(|e| werr(e.into_error()))?;
        file.sync_all().map_err(&werr)
    })
}

/// Appends one entry's header (and data) to the archive.
fn append<W: std::io::Write>(
    image: &Path,
    b: &mut tar::Builder<W>,
    e: &ImageEntry,
    mtime: u32,
) -> Result<(), ImageError> {
    let mut h = Header::new_gnu();
    h.set_mode(e.mode);
    h.set_uid(u64::from(e.uid));
    h.set_gid(u64::from(e.gid));
    h.set_mtime(u64::from(mtime));
    h.set_size(0);
    let werr = |err: std::io::Error| entry_err(image, e, format!("writing tar entry: {err}"));
    let name = if e.is_dir() {
        format!("{}/", e.path)
    } else {
        e.path.clone()
    };
    let set_dev = |h: &mut Header, major: u32, minor: u32| -> Result<(), ImageError> {
        h.set_device_major(major).map_err(werr)?;
        h.set_device_minor(minor).map_err(werr)
    };
    match &e.kind {
        EntryKind::Dir => h.set_entry_type(EntryType::Directory),
        EntryKind::Fifo => h.set_entry_type(EntryType::Fifo),
        EntryKind::CharDev { major, minor } => {
            h.set_entry_type(EntryType::Char);
            set_dev(&mut h, *major, *minor)?;
        }
        EntryKind::BlockDev { major, minor } => {
            h.set_entry_type(EntryType::Block);
            set_dev(&mut h, *major, *minor)?;
        }
        EntryKind::Symlink { target } => {
            h.set_entry_type(EntryType::Symlink);
            return b.append_link(&mut h, &name, target).map_err(werr);
        }
        EntryKind::File { data } => {
            h.set_entry_type(EntryType::Regular);
            return match data {
                FileData::Bytes(bytes) => {
                    h.set_size(bytes.len() as u64);
                    b.append_data(&mut h, &name, bytes.as_slice()).map_err(werr)
                }
                FileData::Path(src) => {
                    let f = File::open(src).map_err(io_err(image, "reading", src))?;
                    let meta = f.metadata().map_err(io_err(image, "reading", src))?;
                    if !meta.is_file() {
                        return Err(entry_err(
                            image,
                            e,
                            format!("{} is not a regular file", src.display()),
                        ));
                    }
                    h.set_size(meta.len());
                    // `take` guards against a file that grows meanwhile; the
                    // builder reports one that shrinks.
                    b.append_data(&mut h, &name, std::io::Read::take(f, meta.len()))
                        .map_err(werr)
                }
            };
        }
    }
    b.append_data(&mut h, &name, std::io::empty()).map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::stage::sample_entries;
    use std::process::Command;

    #[test]
    fn system_tar_lists_owners_modes_devices_and_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let (a, b) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
        write_tar(&entries, 1_700_000_000, &a).unwrap();
        write_tar(&entries, 1_700_000_000, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let out = Command::new("tar")
            .args(["--numeric-owner", "--utc", "-tvf"])
            .arg(&a)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let rows: Vec<String> = text
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[4..].join(" "))
            })
            .collect();
        let want = [
            "drwxr-xr-x 0/0 0 2023-11-14 22:13 bin/",
            "-rwsr-xr-x 0/0 20 2023-11-14 22:13 bin/busybox",
            "lrwxrwxrwx 0/0 0 2023-11-14 22:13 bin/sh -> busybox",
            "drwxr-xr-x 0/0 0 2023-11-14 22:13 dev/",
            "crw------- 0/5 5,1 2023-11-14 22:13 dev/console",
            "prw------- 0/0 0 2023-11-14 22:13 dev/initctl",
            "brw-rw---- 0/6 8,0 2023-11-14 22:13 dev/sda",
            "drwxr-xr-x 0/0 0 2023-11-14 22:13 etc/",
            "-rw------- 0/0 0 2023-11-14 22:13 etc/empty",
            "-rw-r--r-- 1000/100 6 2023-11-14 22:13 etc/hostname",
            "drwxr-xr-x 0/0 0 2023-11-14 22:13 home/",
            "drwx------ 1000/1000 0 2023-11-14 22:13 home/user/",
            "drwxrwxrwt 0/0 0 2023-11-14 22:13 tmp/",
        ];
        assert_eq!(rows, want, "{text}");
        // No user/group names anywhere in the headers.
        let raw = std::fs::read(&a).unwrap();
        assert!(
            raw.chunks(512)
                .all(|blk| blk[265..329].iter().all(|&c| c == 0) || &blk[257..263] != b"ustar ")
        );
    }

    #[test]
    fn long_names_and_contents_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("d/{}", "x".repeat(150));
        let v = vec![
            ImageEntry::dir("d", 0o755),
            ImageEntry {
                path: long.clone(),
                uid: 0,
                gid: 0,
                mode: 0o644,
                kind: EntryKind::File {
                    data: FileData::Bytes(b"hello".to_vec()),
                },
            },
        ];
        let p = dir.path().join("l.tar");
        write_tar(&v, 5, &p).unwrap();
        let mut ar = tar::Archive::new(File::open(&p).unwrap());
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["d/", long.as_str()]);
    }

    #[test]
    fn errors_leave_no_output() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.tar");
        let v = vec![ImageEntry {
            path: "m".into(),
            uid: 0,
            gid: 0,
            mode: 0o644,
            kind: EntryKind::File {
                data: FileData::Path("/nonexistent/m".into()),
            },
        }];
        let err = write_tar(&v, 0, &p).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/m"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let dup = vec![ImageEntry::dir("a", 0o755), ImageEntry::dir("a", 0o755)];
        let err = write_tar(&dup, 0, &p).unwrap_err().to_string();
        assert!(
            err.contains("bad.tar: image entry `a`: appears more than once"),
            "{err}"
        );
    }
}
