//! The identity of an unpinned Debian package source without asking apt on
//! every build: apt's answer (version and published sha256) is remembered
//! together with the modification time of apt's package lists, and asked
//! again only after those lists changed (`apt-get update`).

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const APT_LISTS: &str = "/var/lib/apt/lists";

pub struct DebResolver {
    file: PathBuf,
    memo: Mutex<BTreeMap<String, (i64, String)>>,
}

impl DebResolver {
    pub fn load(cache_root: &Path) -> DebResolver {
        let file = cache_root.join("deb-resolved.json");
        let memo = fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        DebResolver {
            file,
            memo: Mutex::new(memo),
        }
    }

    /// `package:arch=version sha256` as apt would fetch it now.
    pub fn identity(&self, package: &str, arch: &str) -> Result<String> {
        let lists = fs::metadata(APT_LISTS)
            .map(|m| m.mtime() * 1_000_000_000 + m.mtime_nsec())
            .unwrap_or(0);
        let query = format!("{package}:{arch}");
        if let Some((stamp, id)) = self.memo.lock().ok().and_then(|m| m.get(&query).cloned())
            && stamp == lists
        {
            return Ok(id);
        }
        let published =
            crate::sources::fetch::resolve_deb(package, arch, None).map_err(Error::from)?;
        let id = format!("{query}={} sha256:{}", published.version, published.sha256);
        if let Ok(mut memo) = self.memo.lock() {
            memo.insert(query, (lists, id.clone()));
            if let Ok(bytes) = serde_json::to_vec_pretty(&*memo) {
                let tmp = self
                    .file
                    .with_extension(format!("tmp{}", std::process::id()));
                if fs::write(&tmp, bytes).is_ok() {
                    let _ = fs::rename(&tmp, &self.file);
                }
            }
        }
        Ok(id)
    }
}
