//! The root filesystem's two ends: the selected packages' `target/` trees
//! merged in dependency order (a pure manifest operation: no file is
//! copied; the rest of the `rootfs` step is in [`crate::assemble::rootfs`]), and the
//! images each format option selects (cpio, tar, ext4, squashfs, UBIFS, and
//! UBI wrapping the UBIFS image) written from the assembled tree with
//! ownership, modes and device nodes taken from metadata (users tables,
//! device tables), never from the build user.

use crate::assemble::rootfs::USERS_META;
use crate::error::{Error, Result};
use crate::exec::StepContext;
use crate::image::cpio::{Compression, write_compressed_cpio};
use crate::image::entries::{self, EntryKind as ImageKind, FileData, ImageEntry};
use crate::image::ext4::Ext4Options;
use crate::image::tar::write_tar;
use crate::spec::{ImageSpec, ImageWriter};
use crate::store::{ContentStore, Entry, EntryKind, Manifest};
use std::collections::BTreeMap;
use std::path::Path;

/// Merge the `target/` parts of `parts` (step name, output digest), later
/// ones over earlier ones, into entries by path. A path two packages install
/// with different content is an error naming both, unless one `replaces`
/// the other (`replaces(a, b)`: a's files win over b's).
pub fn merge(
    store: &dyn ContentStore,
    parts: &[(String, String)],
    replaces: &dyn Fn(&str, &str) -> bool,
) -> Result<BTreeMap<String, Entry>> {
    let mut merged: BTreeMap<String, (Entry, String)> = BTreeMap::new();
    for (name, digest) in parts {
        let manifest = store.get_manifest(digest)?;
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
pub fn image_step(spec: &ImageSpec, rootfs: &str, ctx: &StepContext) -> Result<String> {
    let store = ctx.store;
    let dirs = &ctx.dirs;
    let manifest = store.get_manifest(rootfs)?;
    let image_err = |e: crate::image::tool::ImageError| Error::Other(e.to_string());
    if let ImageWriter::Ubi { geometry, volume } = &spec.writer {
        let ubifs = manifest
            .subtree("images")
            .into_iter()
            .find_map(|e| match e.kind {
                EntryKind::File { digest, .. } if e.path == "rootfs.ubifs" => Some(digest),
                _ => None,
            })
            .ok_or_else(|| Error::Other("internal: rootfs-ubifs made no rootfs.ubifs".into()))?;
        dirs.fresh_out()?;
        let path = dirs.out.join("images/rootfs.ubi");
        crate::image::ubi::write_ubi_with(
            ctx.exec,
            &store.local_blob(&ubifs)?,
            geometry,
            volume,
            rootfs,
            &path,
        )
        .map_err(image_err)?;
        return Ok(store.put_tree(&dirs.out)?.0);
    }
    let mut list = image_entries(store, &manifest)?;
    // Home directories from the users tables, then the device tables.
    if let Some(Entry {
        kind: EntryKind::File { digest, .. },
        ..
    }) = manifest.entries.iter().find(|e| e.path == USERS_META)
    {
        let text = String::from_utf8_lossy(&store.read_blob(digest)?).into_owned();
        let parsed = crate::assemble::devtable::parse_device_table(Path::new(USERS_META), &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        crate::assemble::devtable::apply_device_table(&mut list, &parsed)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    for table in &spec.device_tables {
        let path = &table.file.path;
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let parsed = crate::assemble::devtable::parse_device_table(path, &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        crate::assemble::devtable::apply_device_table(&mut list, &parsed)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    entries::add_missing_parents(&mut list);
    entries::sort_entries(&mut list);
    let epoch = spec.source_date_epoch;
    dirs.fresh_out()?;
    let images = dirs.out.join("images");
    match &spec.writer {
        ImageWriter::Cpio { compression } => {
            let suffix = match compression {
                Compression::None => "",
                Compression::Xz => ".xz",
                Compression::Zstd => ".zst",
                Compression::Gzip => ".gz",
            };
            let path = images.join(format!("rootfs.cpio{suffix}"));
            write_compressed_cpio(&list, epoch, *compression, &path)
                .map_err(|e| Error::Other(e.to_string()))?;
        }
        ImageWriter::Tar => {
            write_tar(&list, epoch, &images.join("rootfs.tar")).map_err(image_err)?
        }
        ImageWriter::Ext4 {
            fs_type,
            size_mb,
            label,
            inodes,
            reserved_percent,
        } => {
            let opts = Ext4Options {
                fs_type: *fs_type,
                size_bytes: size_mb * 1024 * 1024,
                label: label.clone(),
                inodes: *inodes,
                reserved_percent: *reserved_percent,
                // The filesystem's UUID and hash seed follow its content.
                uuid_seed: rootfs.to_string(),
            };
            let name = format!("rootfs.{}", opts.fs_type.name());
            crate::image::ext4::write_ext4_with(ctx.exec, &list, &opts, epoch, &images.join(name))
                .map_err(image_err)?;
        }
        ImageWriter::Squashfs { compression } => {
            crate::image::squashfs::write_squashfs_with(
                ctx.exec,
                &list,
                *compression,
                epoch,
                &images.join("rootfs.squashfs"),
            )
            .map_err(image_err)?;
        }
        ImageWriter::Ubifs { geometry } => {
            crate::image::ubi::write_ubifs_with(
                ctx.exec,
                &list,
                geometry,
                rootfs,
                epoch,
                &images.join("rootfs.ubifs"),
            )
            .map_err(image_err)?;
        }
        ImageWriter::Ubi { .. } => {}
    }
    let (digest, _) = store.put_tree(&dirs.out)?;
    Ok(digest)
}

/// The merged tree as image entries, all owned by root.
fn image_entries(store: &dyn ContentStore, manifest: &Manifest) -> Result<Vec<ImageEntry>> {
    manifest
        .subtree("target")
        .into_iter()
        .map(|e| {
            let (mode, kind) = match e.kind {
                EntryKind::Dir { mode } => (mode, ImageKind::Dir),
                EntryKind::File { mode, digest, .. } => (
                    mode,
                    ImageKind::File {
                        data: FileData::Path(store.local_blob(&digest)?),
                    },
                ),
                EntryKind::Symlink { target } => (0o777, ImageKind::Symlink { target }),
            };
            Ok(ImageEntry {
                path: e.path,
                uid: 0,
                gid: 0,
                mode,
                kind,
            })
        })
        .collect()
}
