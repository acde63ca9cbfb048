//! The board's hook scripts, `POST_BUILD_SCRIPT` and `POST_IMAGE_SCRIPT`:
//! how they run (in the project root, first argument the tree they work on,
//! then `POST_SCRIPT_ARGS`), the environment they get (Buildroot's hook
//! variables under forge names, with `HOST_DIR`'s `bin`/`sbin` first on
//! `PATH`), and the `post-image` step, whose output is
//! exactly the files the scripts added or changed in `BINARIES_DIR`.

use crate::error::Result;
use crate::exec::{Runner, StepContext, base_env};
use crate::spec::HookSpec;
use crate::store::{EntryKind, Manifest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
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
fn hook_env(hook: &HookSpec, ctx: &StepContext, dirs: &HookDirs) -> Vec<(String, String)> {
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let mut env = base_env(hook.source_date_epoch);
    if let Some(target) = dirs.target {
        env.push(("TARGET_DIR".into(), text(target)));
    }
    env.extend([
        ("BINARIES_DIR".to_string(), text(dirs.binaries)),
        ("HOST_DIR".to_string(), text(dirs.host)),
        ("BUILD_DIR".to_string(), text(&ctx.output.join("build"))),
        ("BASE_DIR".to_string(), text(ctx.output)),
        (
            "FORGE_CONFIG".to_string(),
            text(&ctx.output.join(".config")),
        ),
    ]);
    crate::exec::prepend_host_path(&mut env, dirs.host);
    env
}

/// Run the hook's scripts (checked executable when the spec was made), in
/// order, with `first_arg` then `POST_SCRIPT_ARGS` as arguments, in the
/// project root. Output goes to the step's log.
pub fn run_scripts(
    hook: &HookSpec,
    ctx: &StepContext,
    first_arg: &Path,
    dirs: &HookDirs,
) -> Result<()> {
    let env = hook_env(hook, ctx, dirs);
    let mut runner = Runner::with_executor(ctx.name, &ctx.log, env, ctx.exec)?;
    // Without network, at the real paths: the scripts work on the output
    // dir's trees, which are where they are.
    runner.sandbox = Some(crate::exec::sandbox::Sandbox::default());
    for script in &hook.scripts {
        let mut cmd = Command::new(&script.path);
        cmd.arg(first_arg).args(&hook.args);
        runner.note(&format!("{}: {}", hook.option, script.path.display()));
        runner.run(&hook.cwd, cmd, &script.path.display().to_string())?;
    }
    Ok(())
}

/// The `post-image` step: every image the build produced is laid out in
/// `BINARIES_DIR`, the scripts run, and the step's output holds the files
/// they added or changed (in `images/`, where they replace the originals).
pub fn post_image_step(
    hook: &HookSpec,
    dep_outputs: &[String],
    ctx: &StepContext,
) -> Result<String> {
    let store = ctx.store;
    let dirs = &ctx.dirs;
    dirs.fresh_out()?;
    let images = dirs.out.join("images");
    let mut before: BTreeMap<String, EntryKind> = BTreeMap::new();
    for out in dep_outputs {
        let manifest = store.get_manifest(out)?;
        store.materialize(&manifest, "images", &images)?;
        before.extend(
            manifest
                .subtree("images")
                .into_iter()
                .map(|e| (e.path, e.kind)),
        );
    }
    let host = dirs.base.join("host");
    crate::exec::host_tree(store, dep_outputs, &host)?;
    let hook_dirs = HookDirs {
        target: None,
        binaries: &images,
        host: &host,
    };
    run_scripts(hook, ctx, &images, &hook_dirs)?;
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
