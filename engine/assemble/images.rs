//! The root filesystem's two ends: the selected packages' `target/` trees
//! merged in dependency order (a pure manifest operation: no file is
//! copied; the rest of the `rootfs` step is in [`crate::assemble::rootfs`]), and the
//! images each format option selects (cpio, tar, ext4, squashfs, UBIFS, and
//! UBI wrapping the UBIFS image) written from the assembled tree with
//! ownership, modes and device nodes taken from metadata (users tables,
//! device tables), never from the build user.

use crate::assemble::rootfs::{OWNERS_META, USERS_META};
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

/// `path` with every directory on the way that is a symlink in the tree
/// (`link_at` answers with its target) replaced by where it points, the
/// way a file installed through it would land: on a merged-/usr system
/// (`/lib -> usr/lib`) `target/lib/modules/…` is `target/usr/lib/modules/…`.
/// The last component is left as it is; links leaving the tree stop at
/// its root.
pub fn through_links(path: &str, link_at: &dyn Fn(&str) -> Option<String>) -> String {
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    let mut i = 1;
    let mut hops = 0;
    while i + 1 < parts.len() {
        let prefix = parts[..=i].join("/");
        match link_at(&prefix) {
            Some(target) if hops < 40 => {
                hops += 1;
                let mut new: Vec<String> = if target.starts_with('/') {
                    vec![parts[0].clone()]
                } else {
                    parts[..i].to_vec()
                };
                for c in target.split('/') {
                    match c {
                        "" | "." => {}
                        ".." => {
                            if new.len() > 1 {
                                new.pop();
                            }
                        }
                        c => new.push(c.to_string()),
                    }
                }
                new.extend(parts.drain(i + 1..));
                parts = new;
                i = 1;
            }
            _ => i += 1,
        }
    }
    parts.join("/")
}

/// Merge the `target/` parts of `parts` (step name, output digest), later
/// ones over earlier ones, into entries by path. A path two packages install
/// with different content is an error naming both, unless one `replaces`
/// the other (`replaces(a, b)`: a's files win over b's). A later part's
/// paths go through the directory symlinks the tree already has (a
/// kernel's `/lib/modules` lands in a Debian base's `/usr/lib/modules`).
pub fn merge(
    store: &dyn ContentStore,
    parts: &[(String, String)],
    replaces: &dyn Fn(&str, &str) -> bool,
) -> Result<BTreeMap<String, Entry>> {
    let mut merged: BTreeMap<String, (Entry, String)> = BTreeMap::new();
    for (name, digest) in parts {
        let manifest = store.get_manifest(digest)?;
        for mut e in manifest
            .entries
            .into_iter()
            .filter(|e| e.path == "target" || e.path.starts_with("target/"))
        {
            let link_at = |p: &str| match merged.get(p) {
                Some((
                    Entry {
                        kind: EntryKind::Symlink { target },
                        ..
                    },
                    _,
                )) => Some(target.clone()),
                _ => None,
            };
            e.path = through_links(&e.path, &link_at);
            // A directory where the tree has a link to one: the link stays.
            if matches!(e.kind, EntryKind::Dir { .. }) && link_at(&e.path).is_some() {
                continue;
            }
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
    // The packages' owners (a Debian base's, from dpkg), the home
    // directories from the users tables, then the device tables.
    for meta in [OWNERS_META, USERS_META] {
        let Some(Entry {
            kind: EntryKind::File { digest, .. },
            ..
        }) = manifest.entries.iter().find(|e| e.path == meta)
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&store.read_blob(digest)?).into_owned();
        let mut parsed = crate::assemble::devtable::parse_device_table(Path::new(meta), &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        if meta == OWNERS_META {
            // What a later package, an overlay or a script removed or
            // turned into something else keeps no owner.
            parsed.retain(|d| owned_path_present(&list, d));
        }
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

/// Whether a line of the packages' owners table still has its entry: a
/// file or directory of that kind at its path (device nodes and fifos
/// are created by the line).
fn owned_path_present(list: &[ImageEntry], d: &crate::assemble::devtable::DevTableEntry) -> bool {
    use crate::assemble::devtable::DevTableKind as K;
    let wants_dir = match d.kind {
        K::File => false,
        K::Dir | K::Recursive => true,
        _ => return true,
    };
    list.iter().any(|e| {
        e.path == d.path
            && matches!(e.kind, ImageKind::Dir) == wants_dir
            && !matches!(e.kind, ImageKind::Symlink { .. })
    })
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

#[cfg(test)]
mod tests {
    use super::through_links;

    #[test]
    fn paths_go_through_directory_links() {
        let links = |p: &str| match p {
            "target/lib" => Some("usr/lib".to_string()),
            "target/usr/lib/firmware" => Some("/opt/fw".to_string()),
            "target/loop" => Some("loop".to_string()),
            "target/up" => Some("../../..".to_string()),
            _ => None,
        };
        assert_eq!(
            through_links("target/lib/modules/6.1/x.ko", &links),
            "target/usr/lib/modules/6.1/x.ko"
        );
        assert_eq!(
            through_links("target/lib/firmware/a.bin", &links),
            "target/opt/fw/a.bin"
        );
        // The last component itself is not followed.
        assert_eq!(through_links("target/lib", &links), "target/lib");
        // A loop ends; a link leaving the tree stops at its root.
        assert_eq!(through_links("target/loop/a", &links), "target/loop/a");
        assert_eq!(through_links("target/up/etc/x", &links), "target/etc/x");
    }
}
