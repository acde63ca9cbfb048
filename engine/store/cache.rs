//! The cache as two interfaces, so a step runner never depends on where
//! the cache lives: the [`ActionCache`] (step key → [`Action`] record) and
//! the [`ContentStore`] (blobs by digest, manifests, whole trees). Today's
//! local [`Store`] implements both by delegating to its own methods;
//! [`Tiered`] layers two of them (local first, a second tier behind it).
//!
//! How the remote tier plugs in: an HTTP cache speaking the Bazel HTTP
//! cache protocol (`GET/PUT /ac/<key>`, `GET/PUT /cas/<sha256>`, as
//! bazel-remote or an nginx WebDAV server serve it) becomes a second type
//! implementing both traits, used as `Tiered<Store, HttpCache>`: lookups
//! try the local store, then the remote, and a remote hit (action,
//! manifest and every blob it names) is written into the local store
//! before it is returned, so materializing never touches the network.
//! Writes go to both tiers, content before the action that points at it.
//!
//! Digests: the traits speak blake3 hex digests only, the local store's
//! identity for blobs and manifests (and what keys and manifests already
//! carry). The wire addresses content by sha256. Rather than carrying both
//! digests through every call (and changing the manifest format), the
//! remote tier translates at the action: what it stores under `/ac/<key>`
//! is the action together with each output path's sha256 and size (the
//! shape of a REAPI `ActionResult`'s output files), and on a hit it
//! downloads by sha256, checks the sha256 on arrival and the blake3 when
//! writing into the local tier. Blob calls by blake3 alone reach the
//! remote only through the blake3 → sha256 pairs of actions it has seen.

use super::{Action, EntryKind, Manifest, Store};
use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Step key → the [`Action`] that step produced.
pub trait ActionCache: Send + Sync {
    /// The action recorded for `key`, if there is one whose manifest is
    /// present. A tier that cannot be reached answers `Ok(None)` or an
    /// error, as its own policy says; it never answers a wrong action.
    fn get_action(&self, key: &str) -> Result<Option<Action>>;
    /// Records `action` for `key`; its manifest and blobs must already be
    /// in the content store of the same tier.
    fn put_action(&self, key: &str, action: &Action) -> Result<()>;
}

/// Blobs by (blake3) digest, manifests, and trees built from both.
pub trait ContentStore: Send + Sync {
    fn has_blob(&self, digest: &str) -> Result<bool>;
    /// Stores `bytes`; returns their digest and size.
    fn put_blob(&self, bytes: &[u8]) -> Result<(String, u64)>;
    /// The content of a blob, checked against its digest.
    fn read_blob(&self, digest: &str) -> Result<Vec<u8>>;
    /// A local file holding the blob (a remote tier downloads it first).
    /// Not re-verified: use [`ContentStore::verify_blob`] or read it.
    fn local_blob(&self, digest: &str) -> Result<PathBuf>;
    /// Whether a present blob still matches its digest.
    fn verify_blob(&self, digest: &str) -> Result<bool>;
    fn get_manifest(&self, digest: &str) -> Result<Manifest>;
    /// Stores a manifest whose blobs are present; returns its digest.
    fn put_manifest(&self, manifest: &Manifest) -> Result<String>;
    /// Stores every file under `root`; returns the manifest and its digest.
    fn put_tree(&self, root: &Path) -> Result<(String, Manifest)>;
    /// Writes `manifest`'s entries under `prefix` (all if empty) to `dest`.
    fn materialize(&self, manifest: &Manifest, prefix: &str, dest: &Path) -> Result<()>;
}

/// The file digests a manifest names, each once, in order.
pub fn blob_digests(manifest: &Manifest) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    manifest
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::File { digest, .. } => Some(digest.as_str()),
            _ => None,
        })
        .filter(|d| seen.insert(*d))
        .collect()
}

fn corrupt(path: &Path) -> Error {
    Error::Other(format!(
        "cache blob {} is corrupt (its content no longer matches its digest); delete it and rebuild",
        path.display()
    ))
}

impl ActionCache for Store {
    fn get_action(&self, key: &str) -> Result<Option<Action>> {
        Ok(self.action(key))
    }

    fn put_action(&self, key: &str, action: &Action) -> Result<()> {
        Store::put_action(self, key, action)
    }
}

impl ContentStore for Store {
    fn has_blob(&self, digest: &str) -> Result<bool> {
        Ok(self.blob_path(digest).is_file())
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<(String, u64)> {
        Store::put_blob(self, bytes)
    }

    fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        if blake3::hash(&bytes).to_hex().as_str() != digest {
            return Err(corrupt(&path));
        }
        Ok(bytes)
    }

    fn local_blob(&self, digest: &str) -> Result<PathBuf> {
        let path = self.blob_path(digest);
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(path),
            Ok(_) => Err(corrupt(&path)),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn verify_blob(&self, digest: &str) -> Result<bool> {
        let path = self.local_blob(digest)?;
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_reader(fs::File::open(&path).map_err(|e| Error::io(&path, e))?)
            .map_err(|e| Error::io(&path, e))?;
        Ok(hasher.finalize().to_hex().as_str() == digest)
    }

    fn get_manifest(&self, digest: &str) -> Result<Manifest> {
        self.manifest(digest)
    }

    fn put_manifest(&self, manifest: &Manifest) -> Result<String> {
        Store::put_manifest(self, manifest)
    }

    fn put_tree(&self, root: &Path) -> Result<(String, Manifest)> {
        Store::put_tree(self, root)
    }

    fn materialize(&self, manifest: &Manifest, prefix: &str, dest: &Path) -> Result<()> {
        Store::materialize(self, manifest, prefix, dest)
    }
}

/// Two tiers: `first` (local) is asked first and gets a copy of every hit
/// in `second` (a shared cache); writes go to both, content before the
/// action that names it.
pub struct Tiered<A, B> {
    pub first: A,
    pub second: B,
}

impl<A: ActionCache + ContentStore, B: ActionCache + ContentStore> Tiered<A, B> {
    pub fn new(first: A, second: B) -> Self {
        Tiered { first, second }
    }

    /// Copies a blob from `from` into `to` unless present, checking that
    /// it arrives under the same digest.
    fn copy_blob(from: &dyn ContentStore, to: &dyn ContentStore, digest: &str) -> Result<()> {
        if to.has_blob(digest)? {
            return Ok(());
        }
        let (got, _) = to.put_blob(&from.read_blob(digest)?)?;
        if got != digest {
            return Err(Error::Other(format!(
                "cache blob {digest} arrived with digest {got}; the shared cache is corrupt"
            )));
        }
        Ok(())
    }

    /// Copies a manifest and every blob it names from `from` into `to`.
    fn copy_content(
        from: &dyn ContentStore,
        to: &dyn ContentStore,
        manifest: &Manifest,
    ) -> Result<String> {
        for digest in blob_digests(manifest) {
            Self::copy_blob(from, to, digest)?;
        }
        to.put_manifest(manifest)
    }

    /// The manifest `digest`, from `first`, else from `second` with its
    /// blobs copied into `first`.
    fn promote_manifest(&self, digest: &str) -> Result<Manifest> {
        if let Ok(m) = self.first.get_manifest(digest) {
            return Ok(m);
        }
        let m = self.second.get_manifest(digest)?;
        Self::copy_content(&self.second, &self.first, &m)?;
        Ok(m)
    }
}

impl<A, B> ActionCache for Tiered<A, B>
where
    A: ActionCache + ContentStore,
    B: ActionCache + ContentStore,
{
    fn get_action(&self, key: &str) -> Result<Option<Action>> {
        if let Some(action) = self.first.get_action(key)? {
            return Ok(Some(action));
        }
        let Some(action) = self.second.get_action(key)? else {
            return Ok(None);
        };
        self.promote_manifest(&action.manifest)?;
        self.first.put_action(key, &action)?;
        Ok(Some(action))
    }

    fn put_action(&self, key: &str, action: &Action) -> Result<()> {
        self.first.put_action(key, action)?;
        let manifest = self.first.get_manifest(&action.manifest)?;
        Self::copy_content(&self.first, &self.second, &manifest)?;
        self.second.put_action(key, action)
    }
}

impl<A, B> ContentStore for Tiered<A, B>
where
    A: ActionCache + ContentStore,
    B: ActionCache + ContentStore,
{
    fn has_blob(&self, digest: &str) -> Result<bool> {
        Ok(self.first.has_blob(digest)? || self.second.has_blob(digest)?)
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<(String, u64)> {
        self.second.put_blob(bytes)?;
        self.first.put_blob(bytes)
    }

    fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        if self.first.has_blob(digest)? {
            return self.first.read_blob(digest);
        }
        let bytes = self.second.read_blob(digest)?;
        self.first.put_blob(&bytes)?;
        Ok(bytes)
    }

    fn local_blob(&self, digest: &str) -> Result<PathBuf> {
        Self::copy_blob(&self.second, &self.first, digest)?;
        self.first.local_blob(digest)
    }

    fn verify_blob(&self, digest: &str) -> Result<bool> {
        self.first.verify_blob(digest)
    }

    fn get_manifest(&self, digest: &str) -> Result<Manifest> {
        self.promote_manifest(digest)
    }

    fn put_manifest(&self, manifest: &Manifest) -> Result<String> {
        let digest = self.first.put_manifest(manifest)?;
        Self::copy_content(&self.first, &self.second, manifest)?;
        Ok(digest)
    }

    fn put_tree(&self, root: &Path) -> Result<(String, Manifest)> {
        let (digest, manifest) = self.first.put_tree(root)?;
        Self::copy_content(&self.first, &self.second, &manifest)?;
        Ok((digest, manifest))
    }

    fn materialize(&self, manifest: &Manifest, prefix: &str, dest: &Path) -> Result<()> {
        let part = match prefix {
            "" => None,
            p => Some(Manifest {
                entries: manifest.subtree(p),
            }),
        };
        for digest in blob_digests(part.as_ref().unwrap_or(manifest)) {
            Self::copy_blob(&self.second, &self.first, digest)?;
        }
        self.first.materialize(manifest, prefix, dest)
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
