//! The board's hook scripts, `POST_BUILD_SCRIPT` and `POST_IMAGE_SCRIPT`:
//! how they run (in the project root, first argument the tree they work on,
//! then `POST_SCRIPT_ARGS`), the environment they get (Buildroot's hook
//! variables under forge names), and the `post-image` step, whose output is
//! exactly the files the scripts added or changed in `BINARIES_DIR`.

use crate::error::{Error, Result};
use crate::exec::{Runner, StepDirs, base_env};
use crate::run::build::Build;
use crate::store::{EntryKind, Manifest};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a hook script's trees are.
pub struct HookDirs<'a> {
    /// `TARGET_DIR`: the assembled root filesystem (post-build only).
    pub target: Option<&'a Path>,
    /// `BINARIES_DIR`: the images.
    pub binaries: &'a Path,
    /// `HOST_DIR`: every package's `host/` part.
    pub host: &'a Path,
}

/// The environment of a hook script.
fn hook_env(build: &Build, dirs: &HookDirs) -> Vec<(String, String)> {
    let epoch = build.value("SOURCE_DATE_EPOCH").parse().unwrap_or(0);
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let mut env = base_env(epoch);
    if let Some(target) = dirs.target {
        env.push(("TARGET_DIR".into(), text(target)));
    }
    env.extend([
        ("BINARIES_DIR".to_string(), text(dirs.binaries)),
        ("HOST_DIR".to_string(), text(dirs.host)),
        ("BUILD_DIR".to_string(), text(&build.output.join("build"))),
        ("BASE_DIR".to_string(), text(&build.output)),
        (
            "FORGE_CONFIG".to_string(),
            text(&build.output.join(".config")),
        ),
    ]);
    env
}

/// The scripts an option names, resolved, each checked to be an
/// executable file.
pub fn scripts(build: &Build, option: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in build.paths_of(option) {
        let meta = std::fs::metadata(&path).map_err(|_| {
            Error::Other(format!(
                "option {option}: {} does not exist (paths are relative to {} or an external tree)",
                path.display(),
                build.project.root.display()
            ))
        })?;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(Error::Other(format!(
                "option {option}: {} is not an executable file; make it one with `chmod +x {}`",
                path.display(),
                path.display()
            )));
        }
        out.push(path);
    }
    Ok(out)
}

/// Run `scripts` (as [`scripts`] gave them for `option`), in order, with
/// `first_arg` then `POST_SCRIPT_ARGS` as arguments. Output goes to `log`.
pub fn run_scripts(
    build: &Build,
    step: &str,
    (option, scripts): (&str, &[PathBuf]),
    first_arg: &Path,
    dirs: &HookDirs,
    log: &Path,
) -> Result<()> {
    let env = hook_env(build, dirs);
    let mut runner = Runner::new(step, log, env, &build.jobserver)?;
    let args = build.value("POST_SCRIPT_ARGS");
    for script in scripts {
        let mut cmd = Command::new(script);
        cmd.arg(first_arg).args(args.split_whitespace());
        runner.note(&format!("{option}: {}", script.display()));
        runner.run(&build.project.root, cmd, &script.display().to_string())?;
    }
    Ok(())
}

/// Materialize the `host/` parts of `outputs` into `dest`.
pub fn host_tree(build: &Build, outputs: &[String], dest: &Path) -> Result<()> {
    crate::exec::remove_tree(dest)?;
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    for out in outputs {
        build
            .store
            .materialize(&build.store.manifest(out)?, "host", dest)?;
    }
    Ok(())
}

/// The `post-image` step: every image the build produced is laid out in
/// `BINARIES_DIR`, the scripts run, and the step's output holds the files
/// they added or changed (in `images/`, where they replace the originals).
pub fn post_image_step(build: &Build, dep_outputs: &[String], dirs: &StepDirs) -> Result<String> {
    let store = build.store;
    let scripts = scripts(build, "POST_IMAGE_SCRIPT")?;
    dirs.fresh_out()?;
    let images = dirs.out.join("images");
    let mut before: BTreeMap<String, EntryKind> = BTreeMap::new();
    for out in dep_outputs {
        let manifest = store.manifest(out)?;
        store.materialize(&manifest, "images", &images)?;
        before.extend(
            manifest
                .subtree("images")
                .into_iter()
                .map(|e| (e.path, e.kind)),
        );
    }
    let host = dirs.base.join("host");
    host_tree(build, dep_outputs, &host)?;
    let log = build.output.join("logs").join("post-image.log");
    let hook_dirs = HookDirs {
        target: None,
        binaries: &images,
        host: &host,
    };
    run_scripts(
        build,
        "post-image",
        ("POST_IMAGE_SCRIPT", &scripts),
        &images,
        &hook_dirs,
        &log,
    )?;
    let (_, after) = store.put_tree(&dirs.out)?;
    let unchanged = |path: &str, kind: &EntryKind| match path.strip_prefix("images/") {
        Some(rel) => {
            before.get(rel) == Some(kind)
                || matches!(
                    (before.get(rel), kind),
                    (Some(EntryKind::Dir { .. }), EntryKind::Dir { .. })
                )
        }
        // Only `images/` itself may be in the output.
        None => path != "images",
    };
    // What is new or different, plus the directories leading to it.
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for e in after
        .entries
        .iter()
        .filter(|e| !unchanged(&e.path, &e.kind))
    {
        keep.extend(
            Path::new(&e.path)
                .ancestors()
                .map(|a| a.to_string_lossy().into_owned())
                .filter(|a| !a.is_empty()),
        );
    }
    let entries = after
        .entries
        .into_iter()
        .filter(|e| keep.contains(&e.path))
        .collect();
    store.put_manifest(&Manifest { entries })
}
