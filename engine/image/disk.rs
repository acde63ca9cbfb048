//! The partitioned disk image writer: a RON-described layout (MBR or GPT,
//! partitions with size, type, name and content) becomes a sparse disk
//! image. `sfdisk` writes the table from a generated script with fixed
//! disk and partition identifiers; FAT partitions come from [`super::fat`];
//! partition images are copied in at their offsets,
//! skipping zero blocks so the output stays sparse.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use super::fat::FatFile;
use super::fat::write_fat;
use super::stage::write_atomically;
use super::stage::{ImageError, find_tool, io_err, run_tool, seeded_uuid, tool_cmd};
use crate::exec::{Executor, local::PLAIN};

const SECTOR: u64 = 512;
/// Partitions start on 1 MiB boundaries; GPT keeps 1 MiB at the end too.
const ALIGN: u64 = 1 << 20;

/// A disk image description, read from RON with [`parse_layout`].
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DiskLayout {
    /// The image's file name (in `images/` when built as a step).
    #[serde(default = "default_name")]
    pub name: String,
    pub table: PartitionTable,
    /// Any string; disk and partition ids and FAT volume ids derive from it.
    pub seed: String,
    /// An MBR disk's identifier (`0x` and 8 hex digits, genimage's
    /// `disk-signature`) instead of one derived from `seed`, so a kernel
    /// command line can name a partition as `root=PARTUUID=<id>-02`.
    #[serde(default)]
    pub disk_signature: Option<String>,
    pub partitions: Vec<Partition>,
    /// Total size in bytes, a multiple of 512 (e.g. a power of two, which
    /// qemu's SD card needs); by default just large enough.
    #[serde(default)]
    pub size: Option<u64>,
}

fn default_name() -> String {
    "disk.img".into()
}

impl DiskLayout {
    /// The files the layout reads, relative to its base dir as written:
    /// partition images and FAT files' sources, in layout order.
    pub fn inputs(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        for p in &self.partitions {
            match &p.content {
                Content::Empty => {}
                Content::File(f) => out.push(f.as_path()),
                Content::Fat { files, .. } => out.extend(files.iter().map(|f| f.source.as_path())),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum PartitionTable {
    /// DOS partition table: at most 4 (primary) partitions, no names.
    Mbr,
    Gpt,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// Label of a GPT partition; for MBR only used in messages.
    pub name: String,
    /// Size in bytes, a multiple of 512.
    pub size: u64,
    /// `sfdisk` type: an MBR hex code (`c`, `83`), a GPT type GUID, or an
    /// `sfdisk` shortcut (`L` Linux, `U` EFI system, `S` swap).
    #[serde(rename = "type")]
    pub part_type: String,
    /// MBR boot flag.
    #[serde(default)]
    pub bootable: bool,
    pub content: Content,
}

/// What goes into a partition.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub enum Content {
    /// Left as zeros.
    Empty,
    /// This image file (relative paths are from the layout's base dir).
    File(PathBuf),
    /// A FAT filesystem holding these files.
    Fat { label: String, files: Vec<FatFile> },
}

/// Parses a layout from `text`, read from `file` (for messages).
pub fn parse_layout(file: &Path, text: &str) -> Result<DiskLayout, ImageError> {
    // `size: 134217728` rather than `size: Some(134217728)`.
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let layout: DiskLayout = options.from_str(text).map_err(|e| ImageError::Invalid {
        image: file.into(),
        reason: format!("{}:{}: {}", e.span.start.line, e.span.start.col, e.code),
    })?;
    if let Some(sig) = &layout.disk_signature {
        let hex = sig.strip_prefix("0x").unwrap_or_default();
        if layout.table != PartitionTable::Mbr {
            return Err(ImageError::Invalid {
                image: file.into(),
                reason: "field `disk_signature`: only an MBR (`table: Mbr`) has one; a GPT disk's id derives from `seed`".into(),
            });
        }
        if hex.len() != 8 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ImageError::Invalid {
                image: file.into(),
                reason: format!(
                    "field `disk_signature`: `{sig}` is not 0x and 8 hex digits (e.g. 0x52504934)"
                ),
            });
        }
    }
    let n = &layout.name;
    if n.is_empty() || n == "." || n == ".." || n.contains(['/', '\\', '\0']) {
        return Err(ImageError::Invalid {
            image: file.into(),
            reason: format!("field `name`: `{n}` is not a plain file name"),
        });
    }
    Ok(layout)
}

/// Where each partition goes, in sectors: (start, size).
fn place(image: &Path, layout: &DiskLayout) -> Result<(Vec<(u64, u64)>, u64), ImageError> {
    let invalid = |reason: String| ImageError::Invalid {
        image: image.into(),
        reason,
    };
    if layout.table == PartitionTable::Mbr && layout.partitions.len() > 4 {
        return Err(invalid("an MBR layout holds at most 4 partitions".into()));
    }
    let mut placed = Vec::new();
    let mut next = ALIGN;
    for p in &layout.partitions {
        if p.size == 0 || !p.size.is_multiple_of(SECTOR) {
            return Err(invalid(format!(
                "partition `{}`: size {} is not a positive multiple of 512",
                p.name, p.size
            )));
        }
        if p.part_type.is_empty()
            || !p
                .part_type
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid(format!(
                "partition `{}`: bad type `{}`",
                p.name, p.part_type
            )));
        }
        if p.name.contains(['"', '\n', '\\']) {
            return Err(invalid(format!(
                "partition name `{}` has `\"`, `\\` or a newline",
                p.name
            )));
        }
        placed.push((next / SECTOR, p.size / SECTOR));
        next = (next + p.size).div_ceil(ALIGN) * ALIGN;
    }
    if layout.table == PartitionTable::Gpt {
        next += ALIGN;
    }
    match layout.size {
        Some(size) if !size.is_multiple_of(SECTOR) => Err(invalid(format!(
            "disk size {size} is not a multiple of 512"
        ))),
        Some(size) if size < next => Err(invalid(format!(
            "disk size {size} is smaller than the {next} bytes its partitions need"
        ))),
        Some(size) => Ok((placed, size)),
        None => Ok((placed, next)),
    }
}

/// The `sfdisk` script for the layout.
fn sfdisk_script(layout: &DiskLayout, placed: &[(u64, u64)]) -> String {
    let mut s = String::new();
    let disk_uuid = seeded_uuid(&layout.seed, "disk id");
    match layout.table {
        PartitionTable::Gpt => {
            let _ = writeln!(s, "label: gpt\nlabel-id: {disk_uuid}");
        }
        PartitionTable::Mbr => {
            let id = match &layout.disk_signature {
                Some(sig) => sig.to_ascii_lowercase(),
                None => format!("0x{}", &disk_uuid[..8]),
            };
            let _ = writeln!(s, "label: dos\nlabel-id: {id}");
        }
    }
    let _ = writeln!(s, "unit: sectors\nsector-size: 512\n");
    for (i, (p, (start, size))) in layout.partitions.iter().zip(placed).enumerate() {
        let _ = write!(s, "start={start}, size={size}, type={}", p.part_type);
        if layout.table == PartitionTable::Gpt {
            let uuid = seeded_uuid(&layout.seed, &format!("partition {i}"));
            let _ = write!(s, ", uuid={uuid}, name=\"{}\"", p.name);
        } else if p.bootable {
            s.push_str(", bootable");
        }
        s.push('\n');
    }
    s
}

/// Copies `src` into `out` at byte `offset`, at most `limit` bytes,
/// seeking over all-zero blocks so holes stay holes.
fn copy_sparse(
    image: &Path,
    src: &Path,
    out: &mut File,
    offset: u64,
    limit: u64,
) -> Result<(), ImageError> {
    let mut f = File::open(src).map_err(io_err(image, "reading", src))?;
    let len = f.metadata().map_err(io_err(image, "reading", src))?.len();
    if len > limit {
        return Err(ImageError::Invalid {
            image: image.into(),
            reason: format!(
                "{} ({len} bytes) does not fit its {limit}-byte partition",
                src.display()
            ),
        });
    }
    let werr = io_err(image, "writing", image);
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = offset;
    loop {
        let n = f.read(&mut buf).map_err(io_err(image, "reading", src))?;
        if n == 0 {
            return Ok(());
        }
        if buf[..n].iter().any(|&b| b != 0) {
            out.seek(SeekFrom::Start(pos)).map_err(&werr)?;
            out.write_all(&buf[..n]).map_err(&werr)?;
        }
        pos += n as u64;
    }
}

/// Writes the disk image described by `layout` to `out`. Relative file
/// paths in the layout are taken from `base`; FAT timestamps are `mtime`.
/// Needs `sfdisk` (`fdisk`), and for FAT partitions `mkfs.vfat`
/// (`dosfstools`) and `mmd`/`mcopy` (`mtools`).
pub fn write_disk(
    layout: &DiskLayout,
    base: &Path,
    mtime: u32,
    out: &Path,
) -> Result<(), ImageError> {
    write_disk_with(&PLAIN, layout, base, mtime, out)
}

/// [`write_disk`] with the tools run through `exec`.
pub fn write_disk_with(
    exec: &dyn Executor,
    layout: &DiskLayout,
    base: &Path,
    mtime: u32,
    out: &Path,
) -> Result<(), ImageError> {
    let (placed, total) = place(out, layout)?;
    let sfdisk = find_tool(out, "sfdisk", "fdisk")?;
    let dir = tempfile::tempdir().map_err(io_err(out, "creating a scratch directory for", out))?;
    let script = sfdisk_script(layout, &placed);
    write_atomically(out, |tmp| {
        let f = File::create(tmp).map_err(io_err(out, "creating", tmp))?;
        f.set_len(total).map_err(io_err(out, "sizing", tmp))?;
        drop(f);
        let cmd = tool_cmd(&sfdisk)
            .args(["--no-reread", "--no-tell-kernel", "--wipe", "never", "-q"])
            .arg(tmp)
            .stdin_bytes(script.into_bytes())
            .output(tmp);
        run_tool(exec, out, "sfdisk", "fdisk", cmd)?;
        let mut disk = OpenOptions::new()
            .write(true)
            .open(tmp)
            .map_err(io_err(out, "opening", tmp))?;
        for (i, (p, (start, size))) in layout.partitions.iter().zip(&placed).enumerate() {
            let (offset, limit) = (start * SECTOR, size * SECTOR);
            match &p.content {
                Content::Empty => {}
                Content::File(file) => {
                    copy_sparse(out, &base.join(file), &mut disk, offset, limit)?
                }
                Content::Fat { label, files } => {
                    let img = dir.path().join(format!("part{i}.fat"));
                    let volume_id = seeded_uuid(&layout.seed, &format!("fat {i}"));
                    let volid = &volume_id[..8];
                    write_fat(exec, files, base, label, volid, limit, mtime, &img)?;
                    copy_sparse(out, &img, &mut disk, offset, limit)?;
                }
            }
        }
        disk.sync_all().map_err(io_err(out, "writing", tmp))
    })
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
