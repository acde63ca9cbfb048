//! Unpacking source archives and Debian binary packages into a directory.
//!
//! This module owns format detection (file-name suffix, then magic bytes),
//! in-process decompression (gzip, xz, bzip2, zstd), `.deb` handling through
//! Debian's own `dpkg-deb` (run through an executor), and the all-or-nothing install of the result:
//! everything is unpacked into a fresh temporary directory next to `dest`
//! and only moved into place when the whole archive was accepted. The
//! entry-by-entry safety rules live in [`unpack`].

pub mod members;
#[cfg(test)]
mod tests;
mod unpack;

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use thiserror::Error;

use crate::exec::{Cmd, Executor, Sink, local::PLAIN};

/// What an extraction did besides writing files, for the caller to report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtractReport {
    /// Device nodes and fifos found in the archive (paths as written in the
    /// archive). They are not created: that needs root. Callers should warn.
    pub skipped_special: Vec<String>,
}

/// Why an archive could not be extracted. Nothing is left in `dest` when
/// any of these is returned.
#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("cannot open archive {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },

    #[error(
        "{}: unrecognised archive format; expected .tar, .tar.gz/.tgz, .tar.xz/.txz, \
         .tar.bz2/.tbz2, .tar.zst/.tzst or .deb (check the download, or name the file \
         with the right suffix)",
        path.display()
    )]
    UnknownFormat { path: PathBuf },

    #[error(
        "{}: cannot read archive (corrupt or truncated?): {source}; delete it and \
         download it again",
        archive.display()
    )]
    Corrupt { archive: PathBuf, source: io::Error },

    #[error(
        "{}: refusing entry `{entry}`: {reason}; the archive is malformed or hostile, \
         nothing was extracted",
        archive.display()
    )]
    Unsafe {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    #[error(
        "{}: entry `{entry}` has unsupported tar type {kind:?}; nothing was extracted",
        archive.display()
    )]
    UnsupportedEntry {
        archive: PathBuf,
        entry: String,
        kind: u8,
    },

    #[error("while extracting {}: cannot write {}: {source}", archive.display(), path.display())]
    Write {
        archive: PathBuf,
        path: PathBuf,
        source: io::Error,
    },

    #[error(
        "cannot extract {} into {}: `{name}` already exists there; remove it or \
         extract into an empty directory",
        archive.display(),
        dest.display()
    )]
    AlreadyExists {
        archive: PathBuf,
        dest: PathBuf,
        name: String,
    },

    #[error("cannot extract into {}: it exists and is not a directory", dest.display())]
    DestNotDir { dest: PathBuf },

    #[error("cannot run `dpkg-deb` to unpack {}: {source}; install Debian's dpkg package", archive.display())]
    DpkgDebSpawn { archive: PathBuf, source: io::Error },

    #[error("`dpkg-deb --fsys-tarfile {}` failed ({status}): {stderr}", archive.display())]
    DpkgDeb {
        archive: PathBuf,
        status: String,
        stderr: String,
    },
}

/// Container/compression formats `extract` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Tar,
    Gzip,
    Xz,
    Bzip2,
    Zstd,
    Deb,
}

/// Extract `archive` into `dest`, dropping the first `strip_components`
/// path components of every entry (after any leading `./`), like
/// `tar --strip-components`. Entries with no components left are skipped.
///
/// `dest` may be missing, an empty directory (both replaced atomically), or
/// a non-empty directory, in which case the archive's top-level names are
/// moved into it and must not already exist there. A refused archive leaves
/// `dest` untouched. Modes (without setuid/setgid), symlinks, hard links and
/// mtimes are preserved; ownership is not.
pub fn extract(
    archive: &Path,
    dest: &Path,
    strip_components: usize,
) -> Result<ExtractReport, ArchiveError> {
    extract_with(&PLAIN, archive, dest, strip_components)
}

/// [`extract`] with `dpkg-deb` (for `.deb` archives) run through `exec`.
pub fn extract_with(
    exec: &dyn Executor,
    archive: &Path,
    dest: &Path,
    strip_components: usize,
) -> Result<ExtractReport, ArchiveError> {
    let format = detect_format(archive)?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let write_err = |path: &Path, source| ArchiveError::Write {
        archive: archive.to_path_buf(),
        path: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(&parent).map_err(|e| write_err(&parent, e))?;
    let leaf = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{leaf}.extract-"))
        .tempdir_in(&parent)
        .map_err(|e| write_err(&parent, e))?;
    let report = match format {
        Format::Deb => extract_deb(exec, archive, tmp.path(), strip_components)?,
        _ => {
            let file = File::open(archive).map_err(|e| ArchiveError::Open {
                path: archive.to_path_buf(),
                source: e,
            })?;
            let reader = PipelinedReader::spawn(decoder(format, file));
            unpack::unpack(reader, tmp.path(), archive, strip_components)?
        }
    };
    install(tmp, dest, archive)?;
    Ok(report)
}

/// Pick the format from the file name, else from the first bytes.
fn detect_format(archive: &Path) -> Result<Format, ArchiveError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let by_suffix: &[(&str, Format)] = &[
        (".tar.gz", Format::Gzip),
        (".tgz", Format::Gzip),
        (".tar.xz", Format::Xz),
        (".txz", Format::Xz),
        (".tar.bz2", Format::Bzip2),
        (".tbz2", Format::Bzip2),
        (".tar.zst", Format::Zstd),
        (".tzst", Format::Zstd),
        (".tar", Format::Tar),
        (".deb", Format::Deb),
    ];
    if let Some((_, f)) = by_suffix.iter().find(|(s, _)| name.ends_with(s)) {
        return Ok(*f);
    }
    let mut head = Vec::with_capacity(512);
    File::open(archive)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|e| ArchiveError::Open {
            path: archive.to_path_buf(),
            source: e,
        })?;
    sniff(&head).ok_or_else(|| ArchiveError::UnknownFormat {
        path: archive.to_path_buf(),
    })
}

/// Recognise a format from its magic bytes.
fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::Gzip)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Format::Xz)
    } else if head.starts_with(b"BZh") {
        Some(Format::Bzip2)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else if head.starts_with(b"!<arch>\ndebian-binary") {
        Some(Format::Deb)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Format::Tar)
    } else {
        None
    }
}

/// The decompressing reader for a (non-.deb) format.
fn decoder(format: Format, file: File) -> Box<dyn Read + Send> {
    let buffered = BufReader::with_capacity(1 << 16, file);
    match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Format::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(buffered)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
        Format::Zstd => match zstd::stream::read::Decoder::with_buffer(buffered) {
            Ok(d) => Box::new(d),
            Err(e) => Box::new(FailingReader(Some(e))),
        },
        Format::Tar | Format::Deb => Box::new(buffered),
    }
}

/// A reader whose first read reports a decoder setup failure.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("decoder unavailable")))
    }
}

/// Runs decompression on its own thread so it overlaps with file writing.
struct PipelinedReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl PipelinedReader {
    const CHUNK: usize = 1 << 20;

    fn spawn(mut inner: Box<dyn Read + Send>) -> Self {
        let (tx, rx) = mpsc::sync_channel(8);
        thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; Self::CHUNK];
                let mut filled = 0;
                while filled < buf.len() {
                    match inner.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                buf.truncate(filled);
                let done = filled == 0;
                // A send error means the consumer stopped reading: just quit.
                if tx.send(Ok(buf)).is_err() || done {
                    return;
                }
            }
        });
        PipelinedReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for PipelinedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(next) => self.chunk = next?,
                Err(_) => return Ok(0),
            }
            self.pos = 0;
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Unpack a `.deb`'s data through the checked tar unpacker: `dpkg-deb
/// --fsys-tarfile` writes the tar to a scratch file beside `root` (an
/// output the executor can hand back, where a pipe could not cross a
/// sandbox or a remote executor), then the file is unpacked.
fn extract_deb(
    exec: &dyn Executor,
    archive: &Path,
    root: &Path,
    strip: usize,
) -> Result<ExtractReport, ArchiveError> {
    let parent = root.parent().unwrap_or(Path::new("."));
    let scratch = deb_data(exec, archive, parent)?;
    let file = File::open(scratch.path()).map_err(|e| ArchiveError::Open {
        path: scratch.path().to_path_buf(),
        source: e,
    })?;
    unpack::unpack(BufReader::new(file), root, archive, strip)
}

/// A `.deb`'s data as a plain tar in a scratch file in `parent`, written by
/// `dpkg-deb --fsys-tarfile` through `exec`.
fn deb_data(
    exec: &dyn Executor,
    archive: &Path,
    parent: &Path,
) -> Result<tempfile::NamedTempFile, ArchiveError> {
    let scratch = tempfile::Builder::new()
        .prefix(".deb-data-")
        .tempfile_in(parent)
        .map_err(|source| ArchiveError::Write {
            archive: archive.to_path_buf(),
            path: parent.to_path_buf(),
            source,
        })?;
    let tar = scratch.path().to_path_buf();
    let cmd = Cmd::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(archive)
        .inherit_env()
        .env("LC_ALL", "C")
        .input(archive)
        .output(&tar)
        .stdout(Sink::File(tar.clone()))
        .stderr(Sink::Capture);
    let done = exec.run(&cmd).map_err(|e| ArchiveError::DpkgDebSpawn {
        archive: archive.to_path_buf(),
        source: e.into_io(),
    })?;
    if !done.status.success() {
        return Err(ArchiveError::DpkgDeb {
            archive: archive.to_path_buf(),
            status: done.status.to_string(),
            stderr: String::from_utf8_lossy(&done.stderr).trim().to_string(),
        });
    }
    Ok(scratch)
}

/// Move the fully extracted temporary tree into `dest`.
fn install(tmp: tempfile::TempDir, dest: &Path, archive: &Path) -> Result<(), ArchiveError> {
    use std::os::unix::fs::PermissionsExt;
    let write_err = |path: &Path, source| ArchiveError::Write {
        archive: archive.to_path_buf(),
        path: path.to_path_buf(),
        source,
    };
    let root = tmp.path();
    let root_mode = fs::Permissions::from_mode(0o755);
    fs::set_permissions(root, root_mode).map_err(|e| write_err(root, e))?;
    let replace_whole = match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(write_err(dest, e)),
        Ok(m) if m.is_dir() => {
            let mut entries = fs::read_dir(dest).map_err(|e| write_err(dest, e))?;
            entries.next().is_none()
        }
        Ok(_) if fs::metadata(dest).is_ok_and(|m| m.is_dir()) => false,
        Ok(_) => {
            return Err(ArchiveError::DestNotDir {
                dest: dest.to_path_buf(),
            });
        }
    };
    if replace_whole {
        fs::rename(root, dest).map_err(|e| write_err(dest, e))?;
        let _ = tmp.keep();
        return Ok(());
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(root).map_err(|e| write_err(root, e))? {
        let name = entry.map_err(|e| write_err(root, e))?.file_name();
        if fs::symlink_metadata(dest.join(&name)).is_ok() {
            return Err(ArchiveError::AlreadyExists {
                archive: archive.to_path_buf(),
                dest: dest.to_path_buf(),
                name: name.to_string_lossy().into_owned(),
            });
        }
        names.push(name);
    }
    for name in names {
        let to = dest.join(&name);
        fs::rename(root.join(&name), &to).map_err(|e| write_err(&to, e))?;
    }
    Ok(())
}
