//! The `disk-image` step: the `images/` parts of every step before it
//! gathered into one staging directory (two steps writing the same file is
//! an error), the files the `DISK_IMAGE_LAYOUT` layout names checked
//! against them (one no step produced is an error listing those that
//! exist), and the partitioned image written from there by
//! [`crate::image::disk`] into the step's `images/`.

use crate::error::{Error, Result};
use crate::exec::{StepContext, remove_tree};
use crate::spec::DiskSpec;
use crate::store::EntryKind;
use std::collections::BTreeMap;
use std::fs;

/// Run the step over its dependencies' outputs `parts` (step name, output
/// digest) and return the digest of its own.
pub fn disk_step(spec: &DiskSpec, parts: &[(String, String)], ctx: &StepContext) -> Result<String> {
    let layout = spec
        .layout
        .as_ref()
        .ok_or_else(|| Error::Other("internal: disk-image step without a parsed layout".into()))?;
    let written = &spec.layout_file.name;
    let dirs = &ctx.dirs;
    let store = ctx.store;
    let staging = dirs.base.join("images");
    remove_tree(&staging)?;
    fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for (name, digest) in parts {
        let manifest = store.get_manifest(digest)?;
        for e in manifest.subtree("images") {
            if matches!(e.kind, EntryKind::Dir { .. }) {
                continue;
            }
            if let Some(prev) = owner.insert(e.path.clone(), name.as_str()) {
                return Err(Error::Other(format!(
                    "images/{} is produced by both {prev} and {name}",
                    e.path
                )));
            }
        }
        store.materialize(&manifest, "images", &staging)?;
    }
    let root = fs::canonicalize(&staging).map_err(|e| Error::io(&staging, e))?;
    for input in layout.inputs() {
        let inside = fs::canonicalize(staging.join(input))
            .is_ok_and(|p| p.starts_with(&root) && p.is_file());
        if !inside {
            let have: Vec<&str> = owner.keys().map(String::as_str).collect();
            let have = if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            };
            return Err(Error::Other(format!(
                "{written}: {} is not an image any step produced; images/ holds: {have}",
                input.display()
            )));
        }
    }
    let epoch = spec.source_date_epoch;
    dirs.fresh_out()?;
    let out = dirs.out.join("images").join(&layout.name);
    crate::image::disk::write_disk_with(ctx.exec, layout, &staging, epoch, &out)
        .map_err(|e| Error::Other(e.to_string()))?;
    let (digest, _) = store.put_tree(&dirs.out)?;
    Ok(digest)
}
