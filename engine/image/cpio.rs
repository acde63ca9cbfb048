//! The initramfs writer: SVR4 "newc" cpio archives (see the kernel's
//! `Documentation/driver-api/early-userspace/buffer-format.rst`) built from
//! [`ImageEntry`] lists without touching the host's ownership, and their
//! reproducible gzip / xz (CRC32) / zstd compressed variants.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::entries::{EntryKind, FileData, ImageEntry, MAX_MAJOR, MAX_MINOR, MODE_MASK};
use super::entries::{parent_of, path_problem};

const MAGIC: &[u8] = b"070701";
const TRAILER: &str = "TRAILER!!!";
const HEADER_LEN: u64 = 110;
/// Largest dictionary the xz encoder uses (that of `xz -9`); smaller
/// archives get a dictionary no bigger than themselves, because the kernel
/// allocates the full declared dictionary when unpacking.
const XZ_MAX_DICT: u64 = 64 << 20;
const XZ_MIN_DICT: u64 = 4 << 10;
const ZSTD_LEVEL: i32 = 19;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CpioError {
    #[error("image entry `{path}`: {reason}")]
    Entry { path: String, reason: String },
    #[error("{}: reading contents of image entry `{entry}`: {source}", file.display())]
    Read {
        file: PathBuf,
        entry: String,
        source: io::Error,
    },
    #[error("{}: changed size while image entry `{entry}` was being archived", file.display())]
    Changed { file: PathBuf, entry: String },
    #[error("writing cpio archive: {0}")]
    Write(#[source] io::Error),
    #[error("{}: {action}: {source}", path.display())]
    Output {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
}

/// How the archive written by [`write_compressed_cpio`] is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    None,
    /// Best compression, header without file name and with mtime 0.
    Gzip,
    /// `.xz` with a CRC32 check (the kernel rejects CRC64), preset 9.
    Xz,
    /// Level 19, single-threaded, with content checksum.
    Zstd,
}

fn entry_err(e: &ImageEntry, reason: impl Into<String>) -> CpioError {
    CpioError::Entry {
        path: e.path.clone(),
        reason: reason.into(),
    }
}

/// Checks what the writer relies on: valid unique paths, each parent an
/// earlier directory entry, sane modes and device numbers.
fn validate(entries: &[ImageEntry]) -> Result<(), CpioError> {
    let mut dirs: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for e in entries {
        if let Some(p) = path_problem(&e.path) {
            return Err(entry_err(e, p));
        }
        if !seen.insert(&e.path) {
            return Err(entry_err(e, "appears more than once"));
        }
        if let Some(parent) = parent_of(&e.path).filter(|p| !dirs.contains(p)) {
            return Err(entry_err(
                e,
                format!(
                    "parent directory `{parent}` is not an earlier entry (add_missing_parents + sort_entries)"
                ),
            ));
        }
        if e.mode & !MODE_MASK != 0 {
            return Err(entry_err(
                e,
                format!("mode {:o} has bits beyond 7777", e.mode),
            ));
        }
        match &e.kind {
            EntryKind::Dir => {
                dirs.insert(&e.path);
            }
            EntryKind::Symlink { target } if target.is_empty() || target.contains('\0') => {
                return Err(entry_err(e, "symlink target is empty or contains NUL"));
            }
            EntryKind::CharDev { major, minor } | EntryKind::BlockDev { major, minor }
                if *major > MAX_MAJOR || *minor > MAX_MINOR =>
            {
                return Err(entry_err(e, format!("device {major}:{minor} out of range")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Output with a byte count, for the 4-byte alignment newc requires.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Counting<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), CpioError> {
        self.inner.write_all(bytes).map_err(CpioError::Write)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> Result<(), CpioError> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }

    /// One header plus NUL-terminated, padded name. `fields` are ino, mode,
    /// uid, gid, nlink, mtime, filesize, rdevmajor, rdevminor.
    fn header(&mut self, name: &str, fields: [u32; 9]) -> Result<(), CpioError> {
        let [ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin] = fields;
        let namesize = u32::try_from(name.len() + 1).map_err(|_| CpioError::Entry {
            path: name.to_string(),
            reason: "name too long".into(),
        })?;
        let all = [
            ino, mode, uid, gid, nlink, mtime, size, 0, 0, rmaj, rmin, namesize, 0,
        ];
        let mut h = Vec::with_capacity(HEADER_LEN as usize + name.len() + 1);
        h.extend_from_slice(MAGIC);
        for f in all {
            h.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        h.extend_from_slice(name.as_bytes());
        h.push(0);
        self.put(&h)?;
        self.pad()
    }
}

/// Maps a read failure of `file` (contents of `e`) to an error naming both.
fn read_err<'a>(file: &'a Path, e: &'a ImageEntry) -> impl Fn(io::Error) -> CpioError + 'a {
    move |source| CpioError::Read {
        file: file.into(),
        entry: e.path.clone(),
        source,
    }
}

/// Opens a `FileData::Path` file and returns it with its length, which must
/// fit the 32-bit newc size field.
fn open_data(e: &ImageEntry, file: &Path) -> Result<(File, u32), CpioError> {
    let f = File::open(file).map_err(read_err(file, e))?;
    let meta = f.metadata().map_err(read_err(file, e))?;
    if !meta.is_file() {
        return Err(entry_err(
            e,
            format!("{} is not a regular file", file.display()),
        ));
    }
    let len = u32::try_from(meta.len())
        .map_err(|_| entry_err(e, format!("{} is 4 GiB or larger", file.display())))?;
    Ok((f, len))
}

/// What follows a header: nothing, literal bytes, or a host file's contents.
enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// Type bits, nlink, rdev major, rdev minor and body of an entry.
fn layout(e: &ImageEntry) -> (u32, u32, u32, u32, Body<'_>) {
    match &e.kind {
        EntryKind::Dir => (0o040000, 2, 0, 0, Body::Empty),
        EntryKind::Fifo => (0o010000, 1, 0, 0, Body::Empty),
        EntryKind::CharDev { major, minor } => (0o020000, 1, *major, *minor, Body::Empty),
        EntryKind::BlockDev { major, minor } => (0o060000, 1, *major, *minor, Body::Empty),
        EntryKind::Symlink { target } => (0o120000, 1, 0, 0, Body::Bytes(target.as_bytes())),
        EntryKind::File {
            data: FileData::Bytes(b),
        } => (0o100000, 1, 0, 0, Body::Bytes(b)),
        EntryKind::File {
            data: FileData::Path(p),
        } => (0o100000, 1, 0, 0, Body::File(p)),
    }
}

/// Copies exactly `size` bytes of `f` to `out`, failing if the file turns
/// out shorter or longer than when it was measured.
fn copy_exact<W: Write>(
    e: &ImageEntry,
    file: &Path,
    f: File,
    size: u32,
    out: &mut Counting<W>,
) -> Result<(), CpioError> {
    let mut limited = f.take(u64::from(size) + 1);
    let mut buf = vec![0u8; 64 << 10];
    let mut copied = 0u64;
    while copied <= u64::from(size) {
        let n = match limited.read(&mut buf) {
            Ok(0) if copied == u64::from(size) => return Ok(()),
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(read_err(file, e)(err)),
        };
        copied += n as u64;
        if copied <= u64::from(size) {
            out.put(&buf[..n])?;
        }
    }
    Err(CpioError::Changed {
        file: file.into(),
        entry: e.path.clone(),
    })
}

/// Writes `entries`, in the given order, as a newc archive to `out` and
/// returns `out`. Inode numbers are 1.. in order, every mtime is `mtime`,
/// nlink is 2 for directories and 1 otherwise. The list must be valid: see
/// `add_missing_parents` and `sort_entries` in [`super::entries`].
pub fn write_cpio<W: Write>(entries: &[ImageEntry], mtime: u32, out: W) -> Result<W, CpioError> {
    validate(entries)?;
    let mut out = Counting {
        inner: out,
        written: 0,
    };
    for (i, e) in entries.iter().enumerate() {
        let ino = u32::try_from(i + 1).map_err(|_| entry_err(e, "too many entries"))?;
        let (bits, nlink, rmaj, rmin, body) = layout(e);
        let mut head = [
            ino,
            bits | e.mode,
            e.uid,
            e.gid,
            nlink,
            mtime,
            0,
            rmaj,
            rmin,
        ];
        match body {
            Body::Empty => out.header(&e.path, head)?,
            Body::Bytes(data) => {
                head[6] = u32::try_from(data.len()).map_err(|_| entry_err(e, "4 GiB or larger"))?;
                out.header(&e.path, head)?;
                out.put(data)?;
                out.pad()?;
            }
            Body::File(file) => {
                let (f, size) = open_data(e, file)?;
                head[6] = size;
                out.header(&e.path, head)?;
                copy_exact(e, file, f, size, &mut out)?;
                out.pad()?;
            }
        }
    }
    out.header(TRAILER, [0, 0, 0, 0, 1, 0, 0, 0, 0])?;
    out.inner.flush().map_err(CpioError::Write)?;
    Ok(out.inner)
}

fn padded(n: u64) -> u64 {
    n.div_ceil(4) * 4
}

/// The exact size [`write_cpio`] will produce, host files measured now.
fn archive_len(entries: &[ImageEntry]) -> Result<u64, CpioError> {
    let mut total = padded(HEADER_LEN + TRAILER.len() as u64 + 1);
    for e in entries {
        let data = match layout(e).4 {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File(file) => fs::metadata(file).map_err(read_err(file, e))?.len(),
        };
        total += padded(HEADER_LEN + e.path.len() as u64 + 1) + padded(data);
    }
    Ok(total)
}

/// Writes the archive of `entries` to `path`, compressed as asked. The data
/// goes to a temporary file beside `path` that is renamed over it only once
/// complete, so `path` never holds a partial image.
pub fn write_compressed_cpio(
    entries: &[ImageEntry],
    mtime: u32,
    compression: Compression,
    path: &Path,
) -> Result<(), CpioError> {
    let output = |action, source| CpioError::Output {
        path: path.into(),
        action,
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        output(
            "creating image",
            io::Error::new(io::ErrorKind::InvalidInput, "no file name"),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|source| CpioError::Output {
            path: tmp.clone(),
            action: "creating",
            source,
        })?;
    let result = encode(entries, mtime, compression, BufWriter::new(file))
        .map_err(|err| match err {
            CpioError::Write(source) => CpioError::Output {
                path: tmp.clone(),
                action: "writing",
                source,
            },
            other => other,
        })
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|source| output("renaming into place", source))
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Streams the archive through the chosen compressor into `out`, flushing
/// and syncing it; I/O failures come back as [`CpioError::Write`].
fn encode(
    entries: &[ImageEntry],
    mtime: u32,
    compression: Compression,
    out: BufWriter<File>,
) -> Result<(), CpioError> {
    let out = match compression {
        Compression::None => write_cpio(entries, mtime, out)?,
        Compression::Gzip => {
            let gz = flate2::GzBuilder::new().mtime(0).operating_system(3);
            let enc = write_cpio(entries, mtime, gz.write(out, flate2::Compression::best()))?;
            enc.finish().map_err(CpioError::Write)?
        }
        Compression::Xz => {
            use liblzma::stream::{Check, Filters, LzmaOptions, Stream};
            let dict = archive_len(entries)?.clamp(XZ_MIN_DICT, XZ_MAX_DICT) as u32;
            let lzma_err = |e: liblzma::stream::Error| CpioError::Write(io::Error::other(e));
            let mut opts = LzmaOptions::new_preset(9).map_err(lzma_err)?;
            opts.dict_size(dict);
            let mut filters = Filters::new();
            filters.lzma2(&opts);
            let stream = Stream::new_stream_encoder(&filters, Check::Crc32).map_err(lzma_err)?;
            let enc = liblzma::write::XzEncoder::new_stream(out, stream);
            write_cpio(entries, mtime, enc)?
                .finish()
                .map_err(CpioError::Write)?
        }
        Compression::Zstd => {
            let len = archive_len(entries)?;
            let mut enc = zstd::Encoder::new(out, ZSTD_LEVEL).map_err(CpioError::Write)?;
            enc.include_checksum(true).map_err(CpioError::Write)?;
            enc.set_pledged_src_size(Some(len))
                .map_err(CpioError::Write)?;
            write_cpio(entries, mtime, enc)?
                .finish()
                .map_err(CpioError::Write)?
        }
    };
    let file = out
        .into_inner()
        .map_err(|e| CpioError::Write(e.into_error()))?;
    file.sync_all().map_err(CpioError::Write)
}
