//! Preparing a step's source work tree: fetching (URL, local file or tree,
//! Debian package), extraction, patches in order, source overrides, and
//! keeping a work tree across builds where that is safe (Linux after a
//! configuration-only change, overridden packages).

use crate::error::{Error, Result};
use crate::exec::{Cmd, Executor, Runner, Sink, local::PLAIN, remove_tree};
use crate::key::expand;
use crate::load::config::Value;
use crate::load::recipe::{Loaded, Source};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What a source resolves to on this machine.
pub struct SourceSpec<'a> {
    pub loaded: &'a Loaded,
    pub values: &'a BTreeMap<String, Value>,
    pub project: &'a crate::load::project::Project,
    pub dl_dir: &'a Path,
    /// A local tree replacing the recipe's source (OVERRIDE_SRCDIR).
    pub override_dir: Option<&'a Path>,
}

impl SourceSpec<'_> {
    fn expand(&self, s: &str) -> String {
        let r = &self.loaded.recipe;
        expand(
            s,
            self.values,
            &[("version", &r.version), ("name", &r.name)],
        )
    }

    /// A path from the recipe or an option: absolute, or relative to the
    /// package folder when it exists there, else to the project trees.
    pub fn local_path(&self, raw: &str) -> PathBuf {
        let p = PathBuf::from(self.expand(raw));
        if p.is_absolute() {
            return p;
        }
        let in_pkg = self.loaded.dir.join(&p);
        if in_pkg.exists() {
            in_pkg
        } else {
            self.project.resolve(&p.to_string_lossy())
        }
    }

    /// Fetch the source if needed; returns the archive or tree to unpack.
    pub fn fetch(&self) -> Result<Option<PathBuf>> {
        self.fetch_with(&PLAIN)
    }

    /// [`SourceSpec::fetch`] with apt run through `exec`.
    pub fn fetch_with(&self, exec: &dyn Executor) -> Result<Option<PathBuf>> {
        let r = &self.loaded.recipe;
        let dl = self.dl_dir.join(&r.name);
        match &r.source {
            Source::None => Ok(None),
            Source::Local { path } => {
                let p = self.local_path(path);
                if !p.exists() {
                    return Err(Error::Other(format!(
                        "{}: field `source`: {} does not exist on this machine",
                        self.loaded.locate("Local"),
                        p.display()
                    )));
                }
                Ok(Some(p))
            }
            Source::Url {
                url,
                sha256,
                file_name,
            } => {
                let url = self.expand(url);
                let name = file_name
                    .clone()
                    .unwrap_or_else(|| url.rsplit('/').next().unwrap_or(&url).to_string());
                let mut candidates = Vec::new();
                for (site, upstream) in
                    [("PRIMARY_SITE", false), ("", true), ("BACKUP_SITE", false)]
                {
                    if upstream {
                        candidates.push(url.clone());
                    } else if let Some(Value::Str(s)) =
                        self.values.get(site).filter(|v| !v.as_text().is_empty())
                    {
                        candidates.push(format!("{}/{name}", s.trim_end_matches('/')));
                    }
                }
                Ok(Some(crate::sources::fetch::fetch_url(
                    &candidates,
                    sha256,
                    &dl,
                    &name,
                )?))
            }
            Source::Deb {
                package,
                arch,
                version,
            } => {
                let arch = self.expand(arch);
                Ok(Some(crate::sources::fetch::fetch_deb_with(
                    exec,
                    &self.expand(package),
                    &arch,
                    version.as_deref(),
                    &dl,
                )?))
            }
        }
    }

    /// Leading components stripped from archives.
    fn strip(&self) -> usize {
        let r = &self.loaded.recipe;
        r.strip_components.unwrap_or(match r.source {
            Source::Deb { .. } => 0,
            _ => 1,
        })
    }
}

/// Put the source into `src`. With `keep`, a work tree already holding
/// the same source (`origin` names it) is reused so the package's own build
/// system rebuilds incrementally. Overrides are synced into the kept tree.
pub fn prepare(
    spec: &SourceSpec,
    src: &Path,
    origin: &str,
    keep: bool,
    runner: &mut Runner,
) -> Result<()> {
    let marker = src.with_file_name("source-origin");
    if let Some(dir) = spec.override_dir {
        runner.note(&format!("source overridden by {}", dir.display()));
        fs::create_dir_all(src).map_err(|e| Error::io(src, e))?;
        return sync_tree(dir, src);
    }
    if keep && src.is_dir() && fs::read_to_string(&marker).is_ok_and(|m| m == origin) {
        runner.note("reusing the kept work tree (same source and patches)");
        return Ok(());
    }
    remove_tree(src)?;
    let _ = fs::remove_file(&marker);
    fs::create_dir_all(src).map_err(|e| Error::io(src, e))?;
    if let Some(input) = spec.fetch_with(runner.executor())? {
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
                spec.strip(),
            )?;
            for skipped in report.skipped_special {
                runner.note(&format!(
                    "skipped special file {skipped} (declare device nodes in a device table)"
                ));
            }
        }
    }
    for patch in &spec.loaded.recipe.patches {
        let file = spec.loaded.dir.join(patch);
        let cmd = Cmd::new("patch")
            .args(["-p1", "--fuzz=0", "--no-backup-if-mismatch", "-i"])
            .arg(&file)
            .input(&file)
            .input(src)
            .output(src);
        runner
            .run_cmd(src, cmd, &format!("patch -p1 -i {}", file.display()))
            .map_err(|_| {
                Error::Other(format!(
                    "{}: patch {} does not apply to {} {}; see the log for the rejected hunks",
                    spec.loaded.locate(&format!("\"{patch}\"")),
                    patch,
                    spec.loaded.recipe.name,
                    spec.loaded.recipe.version
                ))
            })?;
    }
    fs::write(&marker, origin).map_err(|e| Error::io(&marker, e))
}

/// Copy a tree (files, dirs, symlinks; modes kept) with `cp -a`, which
/// sees forge's environment and writes its complaints to stderr.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let cp = Cmd::new("cp").inherit_env().stderr(Sink::Capture);
    copy_tree_as(&PLAIN, cp, from, to)
}

/// [`copy_tree`] run through `exec` as `cp` (its program, environment and
/// sinks; the arguments are added here).
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
