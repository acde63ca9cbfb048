//! The deliverables of a finished build: every step's `images/` part laid
//! out in `output/<board>/images/`, nothing else left there.

use crate::error::{Error, Result};
use crate::key::digest::StatCache;
use crate::plan::{self, Plan};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Write the `images/` parts of every finished step into `dest`, removing
/// files no step produces any more.
pub fn assemble_images(
    store: &Store,
    stats: &StatCache,
    plan: &Plan,
    wanted: &BTreeSet<usize>,
    outputs: &[Option<String>],
    dest: &Path,
) -> Result<()> {
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut parts = Vec::new();
    for &s in wanted {
        let Some(out) = &outputs[s] else { continue };
        let manifest = store.manifest(out)?;
        for e in manifest.subtree("images") {
            // The post-image scripts may replace any image; it comes last.
            let replaces = plan.steps[s].kind == plan::StepKind::PostImage;
            if let Some(prev) = owner.insert(e.path.clone(), plan.steps[s].name.clone())
                && !replaces
                && !matches!(e.kind, crate::store::EntryKind::Dir { .. })
            {
                return Err(Error::Other(format!(
                    "images/{} is produced by both {prev} and {}",
                    e.path, plan.steps[s].name
                )));
            }
        }
        parts.push(manifest);
    }
    for m in &parts {
        // An image already in place is not re-read: its stat entry (size,
        // mtime, inode) vouches for its content, so a no-op stays cheap
        // even with large images, and one qemu wrote to is restored.
        let stale = crate::store::Manifest {
            entries: m
                .entries
                .iter()
                .filter(|e| match &e.kind {
                    crate::store::EntryKind::File { digest, .. } => {
                        e.path.strip_prefix("images/").is_none_or(|rel| {
                            stats.file(&dest.join(rel)).ok().as_ref() != Some(digest)
                        })
                    }
                    _ => true,
                })
                .cloned()
                .collect(),
        };
        store.materialize(&stale, "images", dest)?;
    }
    if let Ok(list) = fs::read_dir(dest) {
        for entry in list.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !owner.contains_key(&name) {
                crate::exec::remove_tree(&entry.path())?;
            }
        }
    }
    Ok(())
}
