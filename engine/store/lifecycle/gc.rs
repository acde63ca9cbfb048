//! `forge cache gc --max-size SIZE` and the limit checked after a build:
//! keep the most recently used actions (with their manifests and blobs)
//! that fit in SIZE, remove the rest, every manifest and blob no kept
//! action reaches, and the leftovers of interrupted inserts in `tmp/`.
//! Runs under the exclusive lock only.

use super::inventory::{self, Inventory};
use super::{CacheLock, usage};
use crate::error::Result;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq)]
pub struct GcReport {
    pub size_before: u64,
    pub size_after: u64,
    pub actions_removed: usize,
    pub manifests_removed: usize,
    pub blobs_removed: usize,
    pub tmp_removed: usize,
}

impl std::fmt::Display for GcReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cache gc: {} → {}; removed {} actions, {} manifests, {} blobs, {} temporary files",
            super::human(self.size_before),
            super::human(self.size_after),
            self.actions_removed,
            self.manifests_removed,
            self.blobs_removed,
            self.tmp_removed
        )
    }
}

/// Shrink the cache at `root` to at most `max_size` bytes of entries.
pub fn collect(root: &Path, max_size: u64, _held: &CacheLock) -> Result<GcReport> {
    let inv = inventory::read(root)?;
    let size_before = inv.total_size();
    let uses = usage::read(root);
    let last = usage::last_use(&uses);
    // Nothing inserts while the lock is held exclusively: tmp/ is garbage.
    let tmp_removed = inventory::remove_all(&inv.tmp.0)?;

    let mut blobs_of: HashMap<&str, Option<Vec<String>>> = HashMap::new();
    for (digest, (path, _)) in &inv.manifests {
        blobs_of.insert(digest, inventory::manifest_blobs(path, digest));
    }
    // Most recently used first; an action never named in the log counts
    // from its file's time.
    let mut order: Vec<usize> = (0..inv.actions.len()).collect();
    let when = |i: usize| {
        let a = &inv.actions[i];
        last.get(a.key.as_str()).copied().unwrap_or(a.mtime)
    };
    order.sort_by_key(|&i| std::cmp::Reverse(when(i)));

    let mut kept: HashSet<&str> = HashSet::new();
    let mut kept_manifests: HashSet<&str> = HashSet::new();
    let mut kept_blobs: HashSet<&str> = HashSet::new();
    let mut size = 0u64;
    for i in order {
        let a = &inv.actions[i];
        let Some(m) = a.manifest.as_deref() else {
            continue;
        };
        let (Some((_, m_size)), Some(Some(blobs))) = (inv.manifests.get(m), blobs_of.get(m)) else {
            continue;
        };
        if blobs.iter().any(|b| !inv.blobs.contains_key(b)) {
            continue;
        }
        let mut need = a.size;
        if !kept_manifests.contains(m) {
            need += m_size;
        }
        let mut new_blobs: Vec<&str> = Vec::new();
        for b in blobs {
            if !kept_blobs.contains(b.as_str()) && !new_blobs.contains(&b.as_str()) {
                need += inv.blobs[b].1;
                new_blobs.push(b);
            }
        }
        if size + need > max_size {
            break;
        }
        size += need;
        kept.insert(&a.key);
        kept_manifests.insert(m);
        kept_blobs.extend(new_blobs);
    }
    let report = remove_unkept(&inv, &kept, &kept_manifests, &kept_blobs)?;
    usage::rewrite(root, &uses, &|k| kept.contains(k))?;
    Ok(GcReport {
        size_before,
        size_after: size,
        tmp_removed,
        ..report
    })
}

/// Remove, roots first, every action, manifest and blob not kept.
fn remove_unkept(
    inv: &Inventory,
    kept: &HashSet<&str>,
    kept_manifests: &HashSet<&str>,
    kept_blobs: &HashSet<&str>,
) -> Result<GcReport> {
    let actions: Vec<&PathBuf> = inv
        .actions
        .iter()
        .filter(|a| !kept.contains(a.key.as_str()))
        .map(|a| &a.path)
        .collect();
    // Content (manifests, blobs) by digest → path: the paths not kept.
    let unkept = |by_digest: &'_ HashMap<String, (PathBuf, u64)>, keep: &HashSet<&str>| {
        by_digest
            .iter()
            .filter(|(d, _)| !keep.contains(d.as_str()))
            .map(|(_, (p, _))| p.clone())
            .collect::<Vec<PathBuf>>()
    };
    let manifests = unkept(&inv.manifests, kept_manifests);
    let blobs = unkept(&inv.blobs, kept_blobs);
    Ok(GcReport {
        actions_removed: inventory::remove_all(actions)?,
        manifests_removed: inventory::remove_all(&manifests)?,
        blobs_removed: inventory::remove_all(&blobs)?,
        ..GcReport::default()
    })
}
