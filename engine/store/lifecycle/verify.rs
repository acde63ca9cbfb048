//! `forge cache verify`: every blob re-hashed against its name, every
//! manifest checked against its digest and for the blobs it names, every
//! action for a readable record naming a sound manifest. What is broken is
//! reported and removed (actions, then manifests, then blobs), with the
//! leftovers of interrupted inserts. Runs under the exclusive lock only.

use super::CacheLock;
use super::inventory;
use crate::error::Result;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub blobs: usize,
    pub manifests: usize,
    pub actions: usize,
    /// What was broken and removed, with why.
    pub removed: Vec<(PathBuf, &'static str)>,
    pub tmp_removed: usize,
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (path, why) in &self.removed {
            writeln!(f, "removed {}: {why}", path.display())?;
        }
        write!(
            f,
            "cache verify: {} blobs, {} manifests, {} actions checked; {} broken entries removed, {} temporary files removed",
            self.blobs,
            self.manifests,
            self.actions,
            self.removed.len(),
            self.tmp_removed
        )
    }
}

fn blob_ok(path: &Path, digest: &str) -> bool {
    crate::key::digest::file_digest(path).is_ok_and(|d| d == digest)
}

pub fn verify(root: &Path, _held: &CacheLock) -> Result<VerifyReport> {
    let inv = inventory::read(root)?;
    let tmp_removed = inventory::remove_all(&inv.tmp.0)?;
    let bad_blobs: HashSet<&str> = inv
        .blobs
        .par_iter()
        .filter(|(d, (p, _))| !blob_ok(p, d))
        .map(|(d, _)| d.as_str())
        .collect();
    let mut removed: Vec<(PathBuf, &'static str)> = Vec::new();
    let mut bad_manifests: HashSet<&str> = HashSet::new();
    for (digest, (path, _)) in &inv.manifests {
        match inventory::manifest_blobs(path, digest) {
            None => {
                bad_manifests.insert(digest);
                removed.push((path.clone(), "unreadable or not matching its digest"));
            }
            Some(blobs) => {
                let sound =
                    |b: &String| inv.blobs.contains_key(b) && !bad_blobs.contains(b.as_str());
                if !blobs.iter().all(sound) {
                    bad_manifests.insert(digest);
                    removed.push((path.clone(), "names a missing or corrupt blob"));
                }
            }
        }
    }
    for a in &inv.actions {
        let why = match &a.manifest {
            None => Some("unreadable action record"),
            Some(m) if !inv.manifests.contains_key(m) => Some("its manifest is missing"),
            Some(m) if bad_manifests.contains(m.as_str()) => Some("its manifest is broken"),
            Some(_) => None,
        };
        if let Some(why) = why {
            removed.push((a.path.clone(), why));
        }
    }
    // Roots first: actions, then manifests, then blobs.
    removed.sort_by_key(|(p, _)| {
        let s = p.to_string_lossy();
        (!s.contains("/actions/"), !s.contains("/manifests/"))
    });
    for (d, (p, _)) in &inv.blobs {
        if bad_blobs.contains(d.as_str()) {
            removed.push((p.clone(), "content does not match its digest"));
        }
    }
    inventory::remove_all(removed.iter().map(|(p, _)| p))?;
    Ok(VerifyReport {
        blobs: inv.blobs.len(),
        manifests: inv.manifests.len(),
        actions: inv.actions.len(),
        removed,
        tmp_removed,
    })
}
