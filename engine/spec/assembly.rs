//! The specs of the assembly steps: the root filesystem, the image
//! formats, the disk image and the hook scripts, with every setting parsed
//! and checked and every file they read named with its digest.

use super::FileInput;
use crate::image::cpio::Compression;
use crate::image::disk::DiskLayout;
use crate::image::ext4::ExtType;
use crate::image::squashfs::SquashfsCompression;
use crate::image::ubi::UbiGeometry;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A table file (users or device table) and who contributes it: a package
/// name, or `board` for the board option's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub owner: String,
    pub file: FileInput,
}

/// A package merged into the root filesystem, with the packages whose
/// files it may replace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackagePart {
    pub step: String,
    pub replaces: Vec<String>,
}

/// The `rootfs` step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootfsSpec {
    /// In the order their `target/` trees are merged (dependency order).
    pub packages: Vec<PackagePart>,
    /// `ROOTFS_OVERLAY` directories, in order (a later one wins).
    pub overlays: Vec<FileInput>,
    /// Users tables of the selected packages, then the board's.
    pub users_tables: Vec<Table>,
    pub root_password: String,
    /// Seeds the password salts, with the users tables.
    pub hostname: String,
    pub source_date_epoch: i64,
    pub post_build: Option<HookSpec>,
}

/// Hook scripts (`POST_BUILD_SCRIPT` or `POST_IMAGE_SCRIPT`) and what they read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookSpec {
    /// The option naming the scripts, for messages.
    pub option: String,
    pub scripts: Vec<FileInput>,
    /// `POST_SCRIPT_ARGS`, split on whitespace.
    pub args: Vec<String>,
    /// The arguments that name files (a genimage.cfg, say), by content.
    pub arg_files: Vec<FileInput>,
    /// Digest of every option value: scripts may read the configuration.
    pub config: String,
    pub source_date_epoch: i64,
    /// Whether scripts run without network (in the sandbox) or not, as
    /// [`super::PackageEnv::paths`] says it.
    pub paths: String,
    /// Where scripts run (the project root). A location, not keyed.
    #[serde(skip)]
    pub cwd: PathBuf,
}

/// One `rootfs-<format>` step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageSpec {
    pub writer: ImageWriter,
    pub source_date_epoch: u32,
    /// Device tables of the selected packages, then the board's (not for
    /// UBI, which wraps the UBIFS image).
    pub device_tables: Vec<Table>,
}

/// The image format with its parsed, checked settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ImageWriter {
    Cpio {
        compression: Compression,
    },
    Tar,
    Ext4 {
        fs_type: ExtType,
        size_mb: u64,
        label: String,
        inodes: Option<u64>,
        reserved_percent: u8,
    },
    Squashfs {
        compression: SquashfsCompression,
    },
    Ubifs {
        geometry: UbiGeometry,
    },
    Ubi {
        geometry: UbiGeometry,
        volume: String,
    },
}

impl ImageSpec {
    pub fn format_name(&self) -> &'static str {
        match self.writer {
            ImageWriter::Cpio { .. } => "cpio",
            ImageWriter::Tar => "tar",
            ImageWriter::Ext4 { .. } => "ext4",
            ImageWriter::Squashfs { .. } => "squashfs",
            ImageWriter::Ubifs { .. } => "ubifs",
            ImageWriter::Ubi { .. } => "ubi",
        }
    }
}

/// The `disk-image` step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiskSpec {
    /// The `DISK_IMAGE_LAYOUT` file, by content.
    pub layout_file: FileInput,
    pub source_date_epoch: u32,
    /// The layout parsed and checked from that file. Not keyed itself: the
    /// file's digest is.
    #[serde(skip)]
    pub layout: Option<DiskLayout>,
}
