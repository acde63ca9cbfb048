//! The `debian-rootfs` step: the lock's `.deb`s (from `dl/`, downloaded
//! only when missing) laid out as a flat repository, mmdebstrap run from
//! it without network, the installed set checked against the lock, and
//! the tarball unpacked into `target/` with the owners table beside it.

use super::{debs, mmdebstrap, resolve::read_installed, tree};
use crate::error::{Error, Result};
use crate::exec::{Runner, StepContext};
use crate::spec::debian::DebianSpec;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Run the step; `dl` is the download folder. Returns the output digest.
pub fn debian_step(spec: &DebianSpec, dl: &Path, ctx: &StepContext) -> Result<String> {
    let lock = &spec.lock;
    let arch = crate::exec::emulation::of_debian_arch(&spec.request.architecture);
    crate::exec::emulation::ready(arch)?;
    let work = ctx.dirs.base.join("work");
    crate::exec::remove_tree(&work)?;
    fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    let env = crate::exec::base_env(spec.source_date_epoch);
    let mut runner = Runner::with_executor(ctx.name, &ctx.log, env, ctx.exec)?;
    let files = debs::ensure(
        ctx.exec,
        lock,
        &spec.lock_file.path,
        dl,
        &work.join("download"),
        &mut |line| runner.note(line),
    )?;
    drop(runner);
    // In unshare mode apt reads the repository as a subordinate id: it
    // must sit where anyone may read it, not in a private home.
    let public = if mmdebstrap::is_root() {
        None
    } else {
        let dir = tempfile::Builder::new()
            .prefix("forge-debian-repo-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(dir.path(), e))?;
        Some(dir)
    };
    let repo = match &public {
        Some(dir) => dir.path().join("repo"),
        None => work.join("repo"),
    };
    debs::flat_repo(ctx.exec, &files, &repo, &spec.request.suite)?;
    let sources_list = work.join("sources.list");
    let text: String = lock.sources.iter().map(|s| format!("{s}\n")).collect();
    fs::write(&sources_list, text).map_err(|e| Error::io(&sources_list, e))?;
    let names: Vec<String> = lock.packages.iter().map(|p| p.name.clone()).collect();
    let auto: Vec<String> = lock
        .packages
        .iter()
        .filter(|p| p.auto)
        .map(|p| p.name.clone())
        .collect();
    let tarball = work.join("rootfs.tar");
    let cmd = mmdebstrap::build_cmd(
        &spec.request,
        &names,
        &auto,
        &spec.customize,
        spec.files.as_ref().map(|f| f.path.as_path()),
        spec.source_date_epoch,
        &repo,
        &sources_list,
        &work,
        &tarball,
    );
    mmdebstrap::run(
        ctx.exec,
        cmd,
        &work,
        &ctx.log,
        ctx.name,
        spec.source_date_epoch,
    )?;
    check_installed(spec, &work.join("installed.txt"))?;
    ctx.dirs.fresh_out()?;
    let table = tree::unpack(&tarball, &ctx.dirs.out.join("target"))?;
    let meta = ctx.dirs.out.join(tree::OWNERS_META);
    if let Some(parent) = meta.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(&meta, table).map_err(|e| Error::io(&meta, e))?;
    // The tarball and the repository's links are scratch.
    crate::exec::remove_tree(&work)?;
    Ok(ctx.store.put_tree(&ctx.dirs.out)?.0)
}

/// The installed packages must be exactly the locked ones.
fn check_installed(spec: &DebianSpec, listing: &Path) -> Result<()> {
    let got: BTreeSet<(String, String, String)> = read_installed(listing)?.into_iter().collect();
    let want: BTreeSet<(String, String, String)> = spec
        .lock
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.architecture.clone()))
        .collect();
    let show = |s: Vec<&(String, String, String)>| {
        s.iter()
            .map(|(n, v, a)| format!("{n} {v} ({a})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let extra: Vec<_> = got.difference(&want).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    if extra.is_empty() && missing.is_empty() {
        return Ok(());
    }
    Err(Error::Other(format!(
        "{}: mmdebstrap installed what the lock does not say (not locked: {}; locked but not installed: {}); refresh the lock with `forge debian-lock`",
        spec.lock_file.path.display(),
        if extra.is_empty() {
            "none".into()
        } else {
            show(extra)
        },
        if missing.is_empty() {
            "none".into()
        } else {
            show(missing)
        },
    )))
}
