//! Root filesystem assembly: the selected packages' `target/` trees merged
//! in dependency order into one tree (a pure manifest operation: no file is
//! copied), and the cpio initramfs written from it with ownership, modes and
//! device nodes taken from metadata, never from the build user.

use crate::build::Build;
use crate::error::{Error, Result};
use crate::exec::StepDirs;
use crate::image::cpio::{Compression, write_compressed_cpio};
use crate::image::entries::{self, EntryKind as ImageKind, FileData, ImageEntry};
use crate::store::{Entry, EntryKind, Manifest, Store};
use std::collections::BTreeMap;

/// Merge the `target/` parts of `parts` (step name, output digest), later
/// ones over earlier ones. A path two packages install with different
/// content is an error naming both.
pub fn merge(store: &Store, parts: &[(String, String)]) -> Result<String> {
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
                Some((_, owner)) => {
                    return Err(Error::Other(format!(
                        "/{} is installed by both {owner} and {name} with different content; remove it from one of them",
                        e.path.trim_start_matches("target/")
                    )));
                }
                None => {}
            }
            merged.insert(e.path.clone(), (e, name.clone()));
        }
    }
    let manifest = Manifest {
        entries: merged.into_values().map(|(e, _)| e).collect(),
    };
    store.put_manifest(&manifest)
}

/// Write `images/rootfs.cpio[.gz|.xz|.zst]` from the merged tree.
pub fn cpio_step(build: &Build, rootfs: &str, dirs: &StepDirs) -> Result<String> {
    let store = build.store;
    let manifest = store.manifest(rootfs)?;
    let mut list = image_entries(store, &manifest);
    for (_, table) in build.device_tables() {
        let text = std::fs::read_to_string(&table).map_err(|e| Error::io(&table, e))?;
        let parsed = crate::devtable::parse_device_table(&table, &text)
            .map_err(|e| Error::Other(e.to_string()))?;
        crate::devtable::apply_device_table(&mut list, &parsed)
            .map_err(|e| Error::Other(e.to_string()))?;
    }
    entries::add_missing_parents(&mut list);
    entries::sort_entries(&mut list);
    let value = |n: &str| build.values.get(n).map(|v| v.as_text()).unwrap_or_default();
    let (compression, suffix) = match value("ROOTFS_CPIO_COMPRESSION").as_str() {
        "none" => (Compression::None, ""),
        "xz" => (Compression::Xz, ".xz"),
        "zstd" => (Compression::Zstd, ".zst"),
        _ => (Compression::Gzip, ".gz"),
    };
    let epoch: u32 = value("SOURCE_DATE_EPOCH").parse().unwrap_or(0);
    dirs.fresh_out()?;
    let path = dirs.out.join("images").join(format!("rootfs.cpio{suffix}"));
    write_compressed_cpio(&list, epoch, compression, &path)
        .map_err(|e| Error::Other(e.to_string()))?;
    let (digest, _) = store.put_tree(&dirs.out)?;
    Ok(digest)
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
