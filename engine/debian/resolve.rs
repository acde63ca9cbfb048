//! Resolving a board's Debian request into a lock: mmdebstrap runs once
//! against the mirror (the customization scripts included, so what they
//! install is locked too), and every package dpkg installed is recorded
//! with its version, architecture, the sha256 of its `.deb` and whether
//! apt installed it automatically. The `.deb`s go into `dl/debian/`, so the
//! build that follows needs no network.

use super::debs::dl_folder;
use super::mmdebstrap::resolve_cmd;
use crate::error::{Error, Result};
use crate::exec::Executor;
use crate::sources::fetch::sha256_file;
use crate::spec::debian::{Customize, Lock, Locked, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What a resolution needs.
pub struct Resolution<'a> {
    pub request: &'a Request,
    pub sources: &'a [String],
    pub scripts: &'a [Customize],
    pub files: Option<&'a Path>,
    pub source_date_epoch: i64,
    /// Scratch space (emptied first).
    pub work: &'a Path,
    pub dl: &'a Path,
    /// mmdebstrap's output goes here.
    pub log: &'a Path,
}

/// Run mmdebstrap against the mirror and return the lock it answers with.
pub fn resolve(exec: &dyn Executor, r: &Resolution) -> Result<Lock> {
    let arch = crate::exec::emulation::of_debian_arch(&r.request.architecture);
    crate::exec::emulation::ready(arch)?;
    crate::exec::remove_tree(r.work)?;
    let debs = r.work.join("debs");
    fs::create_dir_all(&debs).map_err(|e| Error::io(&debs, e))?;
    if let Some(parent) = r.log.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(r.log, "").map_err(|e| Error::io(r.log, e))?;
    let cmd = resolve_cmd(
        r.request,
        r.sources,
        r.scripts,
        r.files,
        r.source_date_epoch,
        r.work,
    );
    super::mmdebstrap::run(exec, cmd, r.work, r.log, "debian-lock", r.source_date_epoch)?;
    let installed = read_installed(&r.work.join("installed.txt"))?;
    let auto = read_auto(&r.work.join("extended_states"))?;
    let files = deb_files(&debs)?;
    let folder = dl_folder(r.dl);
    fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let mut packages = Vec::new();
    for (name, version, architecture) in installed {
        let key = (name.clone(), version.clone(), architecture.clone());
        let file = files.get(&key).ok_or_else(|| {
            Error::Other(format!(
                "mmdebstrap installed {name} {version} ({architecture}) but left no .deb of it in {}",
                debs.display()
            ))
        })?;
        let sha256 = sha256_file(file)?;
        let p = Locked {
            auto: auto.contains(&(name.clone(), architecture.clone())),
            name,
            version,
            architecture,
            sha256,
            line: 0,
        };
        let dest = folder.join(p.file_name());
        if fs::rename(file, &dest).is_err() {
            fs::copy(file, &dest).map_err(|e| Error::io(&dest, e))?;
        }
        packages.push(p);
    }
    packages.sort_by(|a, b| (&a.name, &a.architecture).cmp(&(&b.name, &b.architecture)));
    crate::exec::remove_tree(r.work)?;
    Ok(Lock {
        request: r.request.clone(),
        sources: r.sources.to_vec(),
        packages,
    })
}

/// `installed.txt`: the `ii` packages as (name, version, architecture).
pub fn read_installed(path: &Path) -> Result<Vec<(String, String, String)>> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let status = f.next()?;
            let name = f.next()?;
            let version = f.next()?;
            let arch = f.next()?;
            status
                .starts_with("ii")
                .then(|| (name.to_string(), version.to_string(), arch.to_string()))
        })
        .collect())
}

/// apt's `extended_states`: the packages marked automatically installed.
fn read_auto(path: &Path) -> Result<BTreeSet<(String, String)>> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut auto = BTreeSet::new();
    for stanza in text.split("\n\n") {
        let field = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
        };
        if field("Auto-Installed:").as_deref() == Some("1")
            && let (Some(p), Some(a)) = (field("Package:"), field("Architecture:"))
        {
            auto.insert((p, a));
        }
    }
    Ok(auto)
}

/// The `.deb`s apt left in its archive folder, by (name, version,
/// architecture) read from their names (`name_version_arch.deb`, an epoch's
/// colon written `%3a`).
fn deb_files(dir: &Path) -> Result<BTreeMap<(String, String, String), PathBuf>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".deb"))
        else {
            continue;
        };
        let parts: Vec<&str> = stem.split('_').collect();
        if let [name, version, arch] = parts.as_slice() {
            let version = version.replace("%3a", ":");
            out.insert((name.to_string(), version, arch.to_string()), path.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_auto_and_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let inst = dir.path().join("installed.txt");
        fs::write(
            &inst,
            "ii \tsudo\t1.9\tarmhf\nrc \told\t1\tarmhf\nii \tbase-files\t12.4\tarmhf\n",
        )
        .unwrap();
        assert_eq!(
            read_installed(&inst).unwrap(),
            [
                ("sudo".into(), "1.9".into(), "armhf".into()),
                ("base-files".into(), "12.4".into(), "armhf".into())
            ]
        );
        let st = dir.path().join("es");
        fs::write(
            &st,
            "Package: libc6\nArchitecture: armhf\nAuto-Installed: 1\n\nPackage: sudo\nArchitecture: armhf\nAuto-Installed: 0\n",
        )
        .unwrap();
        let auto = read_auto(&st).unwrap();
        assert!(auto.contains(&("libc6".into(), "armhf".into())));
        assert_eq!(auto.len(), 1);
        let debs = dir.path().join("debs");
        fs::create_dir(&debs).unwrap();
        fs::write(debs.join("sudo_1%3a1.9_armhf.deb"), "x").unwrap();
        fs::write(debs.join("lock"), "").unwrap();
        let files = deb_files(&debs).unwrap();
        assert!(files.contains_key(&("sudo".into(), "1:1.9".into(), "armhf".into())));
        assert_eq!(files.len(), 1);
    }
}
