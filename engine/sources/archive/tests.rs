//! Tests for archive extraction: every compression format, metadata
//! preservation, hostile entries, merging into an existing directory, and
//! `.deb` packages built on the spot with `dpkg-deb --build`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use super::*;

const MTIME: u64 = 1_000_000_000;

enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a str, u32),
    Symlink(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Fifo(&'a str),
}

/// Build a tar with raw names, so hostile paths can be written too.
fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (name, kind, data, link, mode) = match e {
            E::Dir(n) => (*n, tar::EntryType::Directory, "", None, 0o755),
            E::File(n, d, m) => (*n, tar::EntryType::Regular, *d, None, *m),
            E::Symlink(n, t) => (*n, tar::EntryType::Symlink, "", Some(*t), 0o777),
            E::Hard(n, t) => (*n, tar::EntryType::Link, "", Some(*t), 0o644),
            E::Fifo(n) => (*n, tar::EntryType::Fifo, "", None, 0o644),
        };
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(MTIME);
        if let Some(t) = link {
            h.set_link_name(t).unwrap();
        }
        h.set_cksum();
        b.append(&h, data.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

fn sample() -> Vec<u8> {
    tar_of(&[
        E::Dir("./pkg-1.0/"),
        E::Dir("pkg-1.0/bin/"),
        E::File("pkg-1.0/bin/run", "#!/bin/sh\n", 0o755),
        E::File("pkg-1.0/README", "hello\n", 0o644),
        E::Symlink("pkg-1.0/link", "README"),
        E::Symlink("pkg-1.0/bin/sh", "/bin/busybox"),
        E::Hard("pkg-1.0/hard", "pkg-1.0/README"),
        E::Fifo("pkg-1.0/fifo"),
    ])
}

fn compress(suffix: &str, data: &[u8]) -> Vec<u8> {
    match suffix {
        ".tar" => data.to_vec(),
        ".tar.gz" | ".tgz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        ".tar.xz" | ".txz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        ".tar.bz2" | ".tbz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        ".tar.zst" | ".tzst" => zstd::encode_all(data, 1).unwrap(),
        other => panic!("no compressor for {other}"),
    }
}

fn check_sample(out: &Path, report: &ExtractReport) {
    assert_eq!(fs::read_to_string(out.join("README")).unwrap(), "hello\n");
    assert_eq!(fs::read_to_string(out.join("hard")).unwrap(), "hello\n");
    let run = fs::metadata(out.join("bin/run")).unwrap();
    assert_eq!(run.permissions().mode() & 0o777, 0o755);
    assert_eq!(run.mtime() as u64, MTIME);
    assert_eq!(
        fs::metadata(out.join("README")).unwrap().ino(),
        fs::metadata(out.join("hard")).unwrap().ino()
    );
    assert_eq!(
        fs::read_link(out.join("link")).unwrap(),
        Path::new("README")
    );
    assert_eq!(
        fs::read_link(out.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    assert_eq!(fs::metadata(out.join("bin")).unwrap().mtime() as u64, MTIME);
    assert!(!out.join("fifo").exists());
    assert_eq!(report.skipped_special, vec!["pkg-1.0/fifo".to_string()]);
}

#[test]
fn every_format_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = sample();
    for suffix in [
        ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".tzst",
    ] {
        let archive = tmp.path().join(format!("pkg{suffix}"));
        fs::write(&archive, compress(suffix, &tar)).unwrap();
        let out = tmp.path().join(format!("out{suffix}"));
        let report = extract(&archive, &out, 1).unwrap();
        check_sample(&out, &report);
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
}

#[test]
fn unknown_suffix_is_sniffed() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = sample();
    for suffix in [".tar", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"] {
        let archive = tmp
            .path()
            .join(format!("download{}", suffix.replace('.', "-")));
        fs::write(&archive, compress(suffix, &tar)).unwrap();
        let out = tmp.path().join(format!("out{suffix}"));
        check_sample(&out, &extract(&archive, &out, 1).unwrap());
    }
    let junk = tmp.path().join("junk.bin");
    fs::write(&junk, b"not an archive at all").unwrap();
    let err = extract(&junk, &tmp.path().join("o"), 0).unwrap_err();
    assert!(matches!(err, ArchiveError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("junk.bin"));
}

#[test]
fn strip_zero_keeps_top_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("p.tar");
    fs::write(&archive, sample()).unwrap();
    let out = tmp.path().join("out");
    extract(&archive, &out, 0).unwrap();
    assert!(out.join("pkg-1.0/bin/run").is_file());
}

/// Extract a hostile tar into `box/dest`; it must fail naming `entry` and
/// leave nothing at all in `box` apart from the archive.
fn assert_refused(entries: &[E], entry: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let jail = tmp.path().join("box");
    fs::create_dir(&jail).unwrap();
    let archive = jail.join("evil.tar.gz");
    fs::write(&archive, compress(".tar.gz", &tar_of(entries))).unwrap();
    let err = extract(&archive, &jail.join("dest"), 0).unwrap_err();
    eprintln!("MSG {err}");
    assert!(matches!(err, ArchiveError::Unsafe { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(entry) && msg.contains("evil.tar.gz"), "{msg}");
    let left: Vec<_> = fs::read_dir(&jail)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec!["evil.tar.gz"], "{msg}");
    let outside: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec!["box"], "{msg}");
}

#[test]
fn hostile_entries_are_refused() {
    assert_refused(
        &[E::File("ok", "x", 0o644), E::File("../evil", "x", 0o644)],
        "../evil",
    );
    assert_refused(&[E::File("a/../../evil", "x", 0o644)], "a/../../evil");
    assert_refused(&[E::File("/abs", "x", 0o644)], "/abs");
    assert_refused(
        &[
            E::Symlink("link", "../../x"),
            E::File("link/file", "x", 0o644),
        ],
        "link",
    );
    assert_refused(&[E::Symlink("d/link", "../../x")], "d/link");
    assert_refused(&[E::Hard("passwd", "/etc/passwd")], "passwd");
    assert_refused(&[E::Hard("up", "../outside")], "up");
    assert_refused(&[E::Hard("missing", "nowhere")], "missing");
    assert_refused(&[E::Dir("d/"), E::Hard("hd", "d")], "hd");
}

#[test]
fn nothing_is_written_through_symlinks() {
    // Absolute and in-tree symlinks are fine as symlinks, never as parents.
    assert_refused(
        &[E::Symlink("etc", "/etc"), E::File("etc/evil", "x", 0o644)],
        "etc/evil",
    );
    assert_refused(&[E::Symlink("etc", "/etc"), E::Dir("etc/")], "etc");
    assert_refused(
        &[
            E::Dir("d/"),
            E::Symlink("l", "d"),
            E::File("l/f", "x", 0o644),
        ],
        "l/f",
    );
    // A hard link must not reach its target through a symlink either.
    assert_refused(
        &[
            E::Dir("d/"),
            E::File("d/f", "x", 0o644),
            E::Symlink("l", "d"),
            E::Hard("h", "l/f"),
        ],
        "h",
    );
    // A file replacing a symlink replaces the link; it does not follow it.
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    fs::write(&victim, "safe").unwrap();
    let archive = tmp.path().join("a.tar");
    let target = victim.to_str().unwrap();
    fs::write(
        &archive,
        tar_of(&[E::Symlink("f", target), E::File("f", "new", 0o644)]),
    )
    .unwrap();
    let out = tmp.path().join("out");
    extract(&archive, &out, 0).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "safe");
    assert_eq!(fs::read_to_string(out.join("f")).unwrap(), "new");
}

#[test]
fn merges_into_non_empty_dest_without_clobbering() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("mine"), "keep").unwrap();
    let archive = tmp.path().join("p.tar");
    fs::write(&archive, tar_of(&[E::File("top/a", "1", 0o644)])).unwrap();
    extract(&archive, &out, 0).unwrap();
    assert_eq!(fs::read_to_string(out.join("top/a")).unwrap(), "1");
    assert_eq!(fs::read_to_string(out.join("mine")).unwrap(), "keep");
    let err = extract(&archive, &out, 0).unwrap_err();
    assert!(
        matches!(err, ArchiveError::AlreadyExists { ref name, .. } if name == "top"),
        "{err}"
    );
    // Nothing from the failed attempt is left behind next to `out`.
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn truncated_archive_is_reported_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let full = compress(".tar.xz", &sample());
    let archive = tmp.path().join("cut.tar.xz");
    fs::write(&archive, &full[..full.len() / 2]).unwrap();
    let err = extract(&archive, &tmp.path().join("out"), 1).unwrap_err();
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("cut.tar.xz"));
    assert!(!tmp.path().join("out").exists());
}

/// Build a tiny .deb with Debian's own tool; `None` when dpkg-deb is absent.
fn build_deb(dir: &Path) -> Option<std::path::PathBuf> {
    let root = dir.join("pkgroot");
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        "Package: forge-test\nVersion: 1.0\nArchitecture: all\n\
         Maintainer: Forge <forge@invalid>\nDescription: test\n",
    )
    .unwrap();
    fs::write(root.join("usr/bin/hello"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        root.join("usr/bin/hello"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("/usr/bin/hello", root.join("bin/hello")).unwrap();
    let deb = dir.join("forge-test_1.0_all.deb");
    let status = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Some(deb),
        _ => None,
    }
}

#[test]
fn deb_is_unpacked_with_dpkg_deb() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(deb) = build_deb(tmp.path()) else {
        eprintln!("dpkg-deb not available: skipping");
        return;
    };
    let out = tmp.path().join("rootfs");
    let report = extract(&deb, &out, 0).unwrap();
    assert!(report.skipped_special.is_empty());
    let hello = fs::metadata(out.join("usr/bin/hello")).unwrap();
    assert_eq!(hello.permissions().mode() & 0o777, 0o755);
    assert_eq!(
        fs::read_link(out.join("bin/hello")).unwrap(),
        Path::new("/usr/bin/hello")
    );
    let stripped = tmp.path().join("stripped");
    extract(&deb, &stripped, 1).unwrap();
    assert!(stripped.join("bin/hello").is_file());

    let fake = tmp.path().join("fake.deb");
    fs::write(&fake, "garbage").unwrap();
    let err = extract(&fake, &tmp.path().join("x"), 0).unwrap_err();
    assert!(matches!(err, ArchiveError::DpkgDeb { .. }), "{err}");
    assert!(err.to_string().contains("fake.deb"));
}
