//! Preparing a step's source work tree: fetching (URL, local file or tree,
//! Debian package), extraction, patches in order (the recipe's, then
//! `GLOBAL_PATCH_DIR`'s, as the spec lists them), source overrides, and
//! keeping a work tree across builds where that is safe (Linux after a
//! configuration-only change, overridden packages).

use crate::error::{Error, Result};
use crate::exec::{Cmd, Executor, Runner, Sink, remove_tree};
use crate::load::recipe::locate_in;
use crate::spec::{KindSpec, PackageSpec, SourceId};
use std::fs;
use std::path::{Path, PathBuf};

/// Fetch the package's source into `dl_dir/<name>/` if needed, with apt
/// and git run through `exec`; returns the archive or tree to unpack
/// (nothing for `None` and overridden sources). A Git source becomes its
/// reproducible archive there.
pub fn fetch_with(
    exec: &dyn Executor,
    spec: &PackageSpec,
    dl_dir: &Path,
) -> Result<Option<PathBuf>> {
    let dl = dl_dir.join(&spec.name);
    match &spec.source {
        SourceId::None | SourceId::Override { .. } => Ok(None),
        SourceId::PyPI { .. } => {
            wheels(exec, spec, dl_dir)?;
            Ok(None)
        }
        SourceId::Local { file } => Ok(Some(file.path.clone())),
        SourceId::Url {
            sha256,
            file_name,
            urls,
            sites,
        } => Ok(Some(crate::sources::fetch::fetch_for(
            &spec.name, urls, sites, sha256, dl_dir, file_name,
        )?)),
        SourceId::Git {
            url,
            commit,
            submodules,
            ..
        } => {
            let req = crate::sources::git::ArchiveRequest {
                package: &spec.name,
                url,
                commit,
                submodules: *submodules,
                option: "the commit",
            };
            fs::create_dir_all(&dl).map_err(|e| Error::io(&dl, e))?;
            let archive = crate::sources::git::archive(exec, &req, &dl)
                .map_err(crate::sources::fetch::FetchError::from)?;
            Ok(Some(archive))
        }
        SourceId::Deb {
            package,
            arch,
            version,
            ..
        } => Ok(Some(crate::sources::fetch::fetch_deb_with(
            exec,
            package,
            arch,
            version.as_deref(),
            &dl,
        )?)),
    }
}

/// The locked wheels of a `PyPI` source in `dl_dir/<name>/`, downloaded
/// when missing, in the lock's order.
pub fn wheels(exec: &dyn Executor, spec: &PackageSpec, dl_dir: &Path) -> Result<Vec<PathBuf>> {
    let (
        SourceId::PyPI { requirements },
        KindSpec::Python {
            python, platforms, ..
        },
    ) = (&spec.source, &spec.kind)
    else {
        return Err(Error::Other(format!(
            "{}: a PyPI source is installed by the Python kind",
            spec.recipe_file.display()
        )));
    };
    let lock = &requirements.path;
    let text = fs::read_to_string(lock).map_err(|e| Error::io(lock, e))?;
    let reqs = crate::sources::pypi::parse(lock, &text).map_err(|e| Error::Other(e.to_string()))?;
    let target = crate::sources::pypi::WheelTarget { python, platforms };
    crate::sources::pypi::ensure(exec, lock, &reqs, &target, &dl_dir.join(&spec.name))
        .map_err(|e| Error::Other(e.to_string()))
}

/// What a kept work tree must hold to be reused: the source and patches.
pub fn origin(spec: &PackageSpec) -> String {
    let patches: Vec<&str> = spec.patches.iter().map(|p| p.digest.as_str()).collect();
    format!("{}|{}", serde_json::json!(spec.source), patches.join(" "))
}

/// Put the source into `src`. With `keep`, a work tree already holding
/// the same source ([`origin`]) is reused so the package's own build
/// system rebuilds incrementally. Overrides are synced into the kept tree.
pub fn prepare(
    spec: &PackageSpec,
    dl_dir: &Path,
    src: &Path,
    keep: bool,
    runner: &mut Runner,
) -> Result<()> {
    let marker = src.with_file_name("source-origin");
    if let SourceId::Override { dir } = &spec.source {
        runner.note(&format!("source overridden by {}", dir.path.display()));
        fs::create_dir_all(src).map_err(|e| Error::io(src, e))?;
        return sync_tree(&dir.path, src);
    }
    let origin = origin(spec);
    if keep && src.is_dir() && fs::read_to_string(&marker).is_ok_and(|m| m == origin) {
        runner.note("reusing the kept work tree (same source and patches)");
        return Ok(());
    }
    remove_tree(src)?;
    let _ = fs::remove_file(&marker);
    fs::create_dir_all(src).map_err(|e| Error::io(src, e))?;
    if let SourceId::PyPI { requirements } = &spec.source {
        // The lock and its wheels, which the `Python` kind installs.
        let wheels_dir = src.join("wheels");
        fs::create_dir_all(&wheels_dir).map_err(|e| Error::io(&wheels_dir, e))?;
        for wheel in wheels(runner.executor(), spec, dl_dir)? {
            let to = wheels_dir.join(wheel.file_name().unwrap_or_default());
            fs::copy(&wheel, &to).map_err(|e| Error::io(&to, e))?;
        }
        let lock = src.join("requirements.txt");
        fs::copy(&requirements.path, &lock).map_err(|e| Error::io(&lock, e))?;
    } else if let Some(input) = fetch_with(runner.executor(), spec, dl_dir)? {
        if input.is_dir() {
            let log = Sink::Append(runner.log_path.clone());
            let cp = Cmd::new("cp").envs(runner.env.iter().map(|(k, v)| (k, v)));
            copy_tree_as(runner.executor(), cp.stderr(log), &input, src)?;
        } else {
            runner.note(&format!("extracting {}", input.display()));
            let report = crate::sources::archive::extract_with(
                runner.executor(),
                &input,
                src,
                spec.strip_components,
            )?;
            for skipped in report.skipped_special {
                runner.note(&format!(
                    "skipped special file {skipped} (declare device nodes in a device table)"
                ));
            }
        }
    }
    for patch in &spec.patches {
        let cmd = Cmd::new("patch")
            .args(["-p1", "--fuzz=0", "--no-backup-if-mismatch", "-i"])
            .arg(&patch.path)
            .input(&patch.path)
            .input(src)
            .output(src);
        runner
            .run_cmd(src, cmd, &format!("patch -p1 -i {}", patch.path.display()))
            .map_err(|_| {
                // A recipe's patch is located at its line in the recipe; a
                // GLOBAL_PATCH_DIR one is not in the recipe: its own path.
                let text = fs::read_to_string(&spec.recipe_file).unwrap_or_default();
                let quoted = format!("\"{}\"", patch.name);
                let location = if text.contains(&quoted) {
                    locate_in(&spec.recipe_file, &text, &quoted).to_string()
                } else {
                    patch.path.display().to_string()
                };
                Error::Other(format!(
                    "{location}: patch {} does not apply to {} {}; see the log for the rejected hunks",
                    patch.name, spec.name, spec.version
                ))
            })?;
    }
    fs::write(&marker, origin).map_err(|e| Error::io(&marker, e))
}

/// Copy a tree (files, dirs, symlinks; modes kept) with `cp -a` run
/// through `exec` as `cp` (its program, environment and sinks; the
/// arguments are added here).
pub fn copy_tree_as(exec: &dyn Executor, cp: Cmd, from: &Path, to: &Path) -> Result<()> {
    let cmd = cp
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .input(from)
        .output(to);
    let done = exec
        .run(&cmd)
        .map_err(|e| Error::Other(format!("cannot run cp: {}", e.into_io())))?;
    if done.status.success() {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "copying {} to {} failed",
            from.display(),
            to.display()
        )))
    }
}

/// Bring `to` up to date with `from`: copy files whose size or mtime
/// differ, keeping mtimes so the package's build system sees exactly what
/// changed. Files only in `to` (build products) are left alone.
fn sync_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.map_err(|e| Error::Other(format!("{}: {e}", from.display())))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
        } else if ft.is_symlink() {
            let target = fs::read_link(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            if fs::read_link(&dest).ok() != Some(target.clone()) {
                let _ = fs::remove_file(&dest);
                std::os::unix::fs::symlink(&target, &dest).map_err(|e| Error::io(&dest, e))?;
            }
        } else {
            let src_meta = entry
                .metadata()
                .map_err(|e| Error::Other(format!("{}: {e}", entry.path().display())))?;
            let same = fs::metadata(&dest).is_ok_and(|d| {
                d.len() == src_meta.len()
                    && filetime::FileTime::from_last_modification_time(&d)
                        == filetime::FileTime::from_last_modification_time(&src_meta)
            });
            if !same {
                fs::copy(entry.path(), &dest).map_err(|e| Error::io(&dest, e))?;
                let mtime = filetime::FileTime::from_last_modification_time(&src_meta);
                filetime::set_file_mtime(&dest, mtime).map_err(|e| Error::io(&dest, e))?;
            }
        }
    }
    Ok(())
}
