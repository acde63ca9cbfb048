//! The identity of a Git source at plan time, like `debsource` for apt:
//! a branch or tag is resolved once to its commit (`git ls-remote`), pinned
//! in the output directory's `.config` in place of the branch, with a
//! warning naming both; the commit's tree id (the identity that enters the
//! key) is read from the bare cache, fetching the commit if needed, and
//! remembered beside the archive as `dl/<pkg>/<pkg>-<commit>.tree`, so a
//! build from `dl/` alone needs no repository. Git runs as a plain process
//! here (through the plain executor), as apt does for `debsource`.

use crate::error::{Error, Result};
use crate::exec::local::PLAIN;
use crate::load::recipe::choice::is_commit_id;
use crate::load::watch::Watch;
use crate::sources::git::{self, GitError};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A Git source as the recipe and options give it.
pub struct GitRequest<'a> {
    pub package: &'a str,
    pub url: &'a str,
    /// A full commit id, or a branch or tag.
    pub rev: &'a str,
    /// The option `rev` came from: where a branch is pinned.
    pub option: &'a str,
}

pub struct GitResolver {
    dl: PathBuf,
    /// The output directory's `.config`, where branches are pinned.
    config: Option<PathBuf>,
    /// (url, branch) → commit, so a branch is resolved once per process.
    resolved: Mutex<BTreeMap<(String, String), String>>,
    /// Planning's reads, stamped (the remembered tree ids are read here).
    watch: Arc<Watch>,
}

impl GitResolver {
    pub fn new(dl: PathBuf, config: Option<PathBuf>, watch: Arc<Watch>) -> GitResolver {
        GitResolver {
            dl,
            config,
            resolved: Mutex::new(BTreeMap::new()),
            watch,
        }
    }

    /// `(commit, tree id)` of the request.
    pub fn identity(&self, req: &GitRequest) -> Result<(String, String)> {
        if req.url.is_empty() {
            return Err(fetch_err(GitError::NoUrl {
                package: req.package.to_string(),
                option: req.option.to_string(),
            }));
        }
        let commit = if is_commit_id(req.rev) {
            req.rev.to_ascii_lowercase()
        } else {
            self.pin(req)?
        };
        let dir = self.dl.join(req.package);
        let memo = dir.join(format!("{}-{commit}.tree", req.package));
        self.watch.probe(&memo);
        if let Ok(tree) = fs::read_to_string(&memo)
            && is_commit_id(tree.trim())
        {
            return Ok((commit, tree.trim().to_string()));
        }
        let cache = dir.join("git");
        git::ensure_commit(&PLAIN, &cache, req.url, &commit, req.option).map_err(fetch_err)?;
        let tree = git::tree_of(&PLAIN, &cache, &commit).map_err(fetch_err)?;
        fs::write(&memo, format!("{tree}\n")).map_err(|e| Error::io(&memo, e))?;
        Ok((commit, tree))
    }

    /// Resolve the branch or tag of `req` and pin its commit.
    fn pin(&self, req: &GitRequest) -> Result<String> {
        let key = (req.url.to_string(), req.rev.to_string());
        if let Some(c) = self.resolved.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(c);
        }
        let commit = git::resolve_rev(&PLAIN, req.url, req.rev, req.option).map_err(fetch_err)?;
        let pinned = match &self.config {
            Some(dot) if pin_in(dot, req.option, req.rev, &commit)? => {
                format!(
                    "pinned in {} (forge savedefconfig writes it to the board file)",
                    dot.display()
                )
            }
            _ => format!("set {}=\"{commit}\" to pin it", req.option),
        };
        eprintln!(
            "forge: warning: {}: {}={:?} is a branch or tag of {}; building its commit {commit}, {pinned}",
            req.package, req.option, req.rev, req.url
        );
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(key, commit.clone());
        }
        Ok(commit)
    }
}

fn fetch_err(e: GitError) -> Error {
    Error::Fetch(e.into())
}

/// Replace `option="rev"` by `option="commit"` in the `.config` at `dot`;
/// false when the file does not hold that line.
fn pin_in(dot: &Path, option: &str, rev: &str, commit: &str) -> Result<bool> {
    let Ok(text) = fs::read_to_string(dot) else {
        return Ok(false);
    };
    let from = format!("{option}={}", crate::load::config::defconfig::quote(rev));
    if !text.lines().any(|l| l == from) {
        return Ok(false);
    }
    let to = format!("{option}=\"{commit}\"");
    let new: String = text
        .lines()
        .map(|l| if l == from { to.as_str() } else { l })
        .flat_map(|l| [l, "\n"])
        .collect();
    let tmp = dot.with_extension(format!("pin{}", std::process::id()));
    fs::write(&tmp, new).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, dot).map_err(|e| Error::io(dot, e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_replaces_only_the_branch_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dot = tmp.path().join(".config");
        fs::write(&dot, "# h\n\nA_GIT_COMMIT=\"main\"\nB=\"main\"\n").unwrap();
        let sha = "a".repeat(40);
        assert!(pin_in(&dot, "A_GIT_COMMIT", "main", &sha).unwrap());
        assert_eq!(
            fs::read_to_string(&dot).unwrap(),
            format!("# h\n\nA_GIT_COMMIT=\"{sha}\"\nB=\"main\"\n")
        );
        assert!(!pin_in(&dot, "A_GIT_COMMIT", "main", &sha).unwrap());
    }
}
