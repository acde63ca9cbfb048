//! The root filesystem's two ends: the selected packages' `target/` trees
//! merged in dependency order (a pure manifest operation: no file is
//! copied; the rest of the `rootfs` step is in [`crate::assemble::rootfs`]), and the
//! images each format option selects (cpio, tar, ext4, squashfs, UBIFS, and
//! UBI wrapping the UBIFS image) written from the assembled tree with
//! ownership, modes and device nodes taken from metadata (users tables,
//! device tables), never from the build user.

use crate::assemble::rootfs::USERS_META;
use crate::error::{Error, Result};
use crate::exec::StepDirs;
use crate::image::cpio::{Compression, write_compressed_cpio};
use crate::image::entries::{self, EntryKind as ImageKind, FileData, ImageEntry};
use crate::image::ext4::{Ext4Options, ExtType, write_ext4};
use crate::image::squashfs::{SquashfsCompression, write_squashfs};
use crate::image::tar::write_tar;
use crate::plan::ImageFormat;
use crate::run::build::Build;
use crate::store::{Entry, EntryKind, Manifest, Store};
use std::collections::BTreeMap;
use std::path::Path;

/// Merge the `target/` parts of `parts` (step name, output digest), later
/// ones over earlier ones, into entries by path. A path two packages install
/// with different content is an error naming both, unless one `replaces`
/// the other (`replaces(a, b)`: a's files win over b's).
pub fn merge(
    store: &Store,
    parts: &[(String, String)],
    replaces: &dyn Fn(&str, &str) -> bool,
) -> Result<BTreeMap<String, Entry>> {
    let mut merged: BTreeMap<String, (Entry, String)> = BTreeMap::new();
    for (name, digest) in parts {
        let manifest = store.manifest(digest)?;
        for e in manifest
            .entries
            .into_iter()
            .filter(|e| e.path == "target" || e.path.starts_with("target/"))
        {
            match merged.get(&e.path) {
                Some((prev, _)) if prev.kind == e.kind => {}
                Some((prev, _))
                    if matches!(prev.kind, EntryKind::Dir { .. })
                        && matches!(e.kind, EntryKind::Dir { .. }) => {}
                Some((_, owner)) if replaces(name, owner) => {}
                // The earlier package replaces this one: its file stays.
                Some((_, owner)) if replaces(owner, name) => continue,
                Some((_, owner)) => {
                    return Err(Error::Other(format!(
                        "/{} is installed by both {owner} and {name} with different content; remove it from one of them, or let {name} replace {owner} (`replaces: [\"{owner}\"]` in its recipe)",
                        e.path.trim_start_matches("target/")
                    )));
                }
                None => {}
            }
            merged.insert(e.path.clone(), (e, name.clone()));
        }
    }
    Ok(merged.into_iter().map(|(p, (e, _))| (p, e)).collect())
}

/// Write the merged tree as one image format into the step's `images/`:
/// `rootfs.cpio[.gz|.xz|.zst]`, `rootfs.tar`, `rootfs.ext4` (or `.ext2`, `.ext3`), `rootfs.squashfs`,
/// `rootfs.ubifs`; or, for UBI, wrap `rootfs.ubifs` of the output `rootfs`
/// (then the `rootfs-ubifs` step's) into `rootfs.ubi`.
pub fn image_step(
    build: &Build,
    format: ImageFormat,
    rootfs: &str,
    dirs: &StepDirs,
) -> Result<String> {
    let store = build.store;
    let manifest = store.manifest(rootfs)?;
    let image_err = |e: crate::image::tool::ImageError| Error::Other(e.to_string());
    if format == ImageFormat::Ubi {
        let ubifs = manifest
            .subtree("images")
            .into_iter()
            .find_map(|e| match e.kind {
                EntryKind::File { digest, .. } if e.path == "rootfs.ubifs" => Some(digest),
                _ => None,
            })
            .ok_or_else(|| Error::Other("internal: rootfs-ubifs made no rootfs.ubifs".into()))?;
        let geometry = crate::plan::imageopts::ubi_geometry(build.values)?;
        let volume = crate::plan::imageopts::ubi_volume_name(build.values)?;
        dirs.fresh_out()?;
        let path = dirs.out.join("images/rootfs.ubi");
        crate::image::ubi::write_ubi(&store.blob_path(&ubifs), &geometry, &volume, rootfs, &path)
            .map_err(image_err)?;
        return Ok(store.put_tree(&dirs.out)?.0);
    }
    let mut list = image_entries(store, &manifest);
    // Home directories from the users tables, then the device tables.
    if let Some(Entry {
        kind: EntryKind::File { digest, .. },
        ..
    }) = manifest.entries.iter().find(|e| e.path == USERS_META)
    {
        let text = std::fs::read_to_string(store.blob_path(digest))
            .map_err(|e| Error::io(store.blob_path(digest), e))?;
        let parsed = crate::assemble::devtable::parse_device_table(Path::new(USERS_META), &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        crate::assemble::devtable::apply_device_table(&mut list, &parsed)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    for (_, table) in build.device_tables() {
        let text = std::fs::read_to_string(&table).map_err(|e| Error::io(&table, e))?;
        let parsed = crate::assemble::devtable::parse_device_table(&table, &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        crate::assemble::devtable::apply_device_table(&mut list, &parsed)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    entries::add_missing_parents(&mut list);
    entries::sort_entries(&mut list);
    let value = |n: &str| build.values.get(n).map(|v| v.as_text()).unwrap_or_default();
    let int = |n: &str| value(n).parse::<u64>().unwrap_or(0);
    let epoch = u32::try_from(int("SOURCE_DATE_EPOCH")).unwrap_or(0);
    dirs.fresh_out()?;
    let images = dirs.out.join("images");
    match format {
        ImageFormat::Cpio => {
            let (compression, suffix) = match value("ROOTFS_CPIO_COMPRESSION").as_str() {
                "none" => (Compression::None, ""),
                "xz" => (Compression::Xz, ".xz"),
                "zstd" => (Compression::Zstd, ".zst"),
                _ => (Compression::Gzip, ".gz"),
            };
            let path = images.join(format!("rootfs.cpio{suffix}"));
            write_compressed_cpio(&list, epoch, compression, &path)
                .map_err(|e| Error::Other(e.to_string()))?;
        }
        ImageFormat::Tar => {
            write_tar(&list, epoch, &images.join("rootfs.tar")).map_err(image_err)?
        }
        ImageFormat::Ext4 => {
            let opts = Ext4Options {
                fs_type: ext_type(&value("ROOTFS_EXT4_TYPE")),
                size_bytes: int("ROOTFS_EXT4_SIZE_MB") * 1024 * 1024,
                label: value("ROOTFS_EXT4_LABEL"),
                inodes: Some(int("ROOTFS_EXT4_INODES")).filter(|n| *n > 0),
                reserved_percent: u8::try_from(int("ROOTFS_EXT4_RESERVED")).unwrap_or(0),
                // The filesystem's UUID and hash seed follow its content.
                uuid_seed: rootfs.to_string(),
            };
            let name = format!("rootfs.{}", opts.fs_type.name());
            write_ext4(&list, &opts, epoch, &images.join(name)).map_err(image_err)?;
        }
        ImageFormat::Squashfs => {
            let compression = match value("ROOTFS_SQUASHFS_COMPRESSION").as_str() {
                "xz" => SquashfsCompression::Xz,
                "zstd" => SquashfsCompression::Zstd,
                _ => SquashfsCompression::Gzip,
            };
            write_squashfs(&list, compression, epoch, &images.join("rootfs.squashfs"))
                .map_err(image_err)?;
        }
        ImageFormat::Ubifs => {
            let geometry = crate::plan::imageopts::ubi_geometry(build.values)?;
            crate::image::ubi::write_ubifs(
                &list,
                &geometry,
                rootfs,
                epoch,
                &images.join("rootfs.ubifs"),
            )
            .map_err(image_err)?;
        }
        ImageFormat::Ubi => {}
    }
    let (digest, _) = store.put_tree(&dirs.out)?;
    Ok(digest)
}

/// The `ROOTFS_EXT4_TYPE` choice.
fn ext_type(value: &str) -> ExtType {
    match value {
        "ext2" => ExtType::Ext2,
        "ext3" => ExtType::Ext3,
        _ => ExtType::Ext4,
    }
}

/// The merged tree as image entries, all owned by root.
fn image_entries(store: &Store, manifest: &Manifest) -> Vec<ImageEntry> {
    manifest
        .subtree("target")
        .into_iter()
        .map(|e| {
            let (mode, kind) = match e.kind {
                EntryKind::Dir { mode } => (mode, ImageKind::Dir),
                EntryKind::File { mode, digest, .. } => (
                    mode,
                    ImageKind::File {
                        data: FileData::Path(store.blob_path(&digest)),
                    },
                ),
                EntryKind::Symlink { target } => (0o777, ImageKind::Symlink { target }),
            };
            ImageEntry {
                path: e.path,
                uid: 0,
                gid: 0,
                mode,
                kind,
            }
        })
        .collect()
}
