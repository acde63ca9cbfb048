//! The package steps of a build: their environment, preparing their source
//! and running their build kind with a sysroot of the staging trees of
//! everything they depend on; and the same preparation for a package's
//! configuration flow (`forge linux-menuconfig`) and for `forge source`.

use super::Build;
use crate::error::{Error, Result};
use crate::exec::sandbox::{self, Sandbox};
use crate::exec::{Executor as _, Runner, StepContext, StepDirs, base_env};
use crate::kinds::{self, StepCtx};
use crate::sources::source;
use crate::spec::{PackageSpec, StepSpec};
use crate::store::ContentStore as _;
use std::borrow::Cow;
use std::path::PathBuf;

impl Build<'_> {
    /// A package's spec: the plan's, or resolved now for a package the
    /// configuration does not select.
    pub fn package_spec(&self, name: &str) -> Result<Cow<'_, PackageSpec>> {
        if let Some(i) = self.plan.index(name)
            && let StepSpec::Package(spec) = &self.specs[i]
        {
            return Ok(Cow::Borrowed(spec));
        }
        let l = self
            .project
            .recipes
            .get(name)
            .ok_or_else(|| Error::Other(format!("no package named {name}")))?;
        Ok(Cow::Owned(self.resolver().package(l)?))
    }

    /// Download a package's source into the download dir (nothing for
    /// local sources and overridden packages). Returns what was fetched.
    pub fn fetch_source(&self, name: &str) -> Result<Option<PathBuf>> {
        let spec = self.package_spec(name)?;
        match spec.source {
            crate::spec::SourceId::Local { .. } => Ok(None),
            _ => source::fetch_with(&self.executor, &spec, &self.dl_dir),
        }
    }

    /// A package's kept work tree, prepared (fetched, extracted, patched)
    /// for a configuration flow such as `forge linux-menuconfig`; commands
    /// log to `logs/<pkg>-config.log`.
    pub fn config_ctx<'s>(&'s self, spec: &'s PackageSpec) -> Result<StepCtx<'s>> {
        let name = &spec.name;
        let dirs = StepDirs::new(&self.output.join("build"), name);
        dirs.fresh_out()?;
        let log = self.output.join("logs").join(format!("{name}-config.log"));
        let mut runner = Runner::with_executor(name, &log, step_env(spec, &dirs), &self.executor)?;
        source::prepare(spec, &self.dl_dir, &dirs.src, true, &mut runner)?;
        Ok(StepCtx { spec, dirs, runner })
    }

    pub(super) fn run_package(
        &self,
        step: usize,
        spec: &PackageSpec,
        ctx: StepContext,
    ) -> Result<String> {
        let dirs = ctx.dirs;
        dirs.fresh_out()?;
        // The sysroot holds the staging trees of everything this step reads,
        // `host` their host trees (tools such as U-Boot's mkimage), on PATH.
        let sysroot = dirs.base.join("sysroot");
        let host = dirs.base.join("host");
        let store = ctx.store;
        let outputs = self.closure_outputs(step)?;
        crate::exec::remove_tree(&sysroot)?;
        for out in &outputs {
            store.materialize(&store.get_manifest(out)?, "staging", &sysroot)?;
        }
        crate::exec::host_tree(store, &outputs, &host)?;
        let mut env = step_env(spec, &dirs);
        crate::exec::prepend_host_path(&mut env, &host);
        let mut runner = Runner::with_executor(&spec.name, &ctx.log, env, ctx.exec)?;
        runner.sandbox = Some(self.step_sandbox(&dirs));
        source::prepare(
            spec,
            &self.dl_dir,
            &dirs.src,
            spec.keep_work_tree,
            &mut runner,
        )?;
        let mut kind = StepCtx {
            spec,
            dirs: dirs.clone(),
            runner,
        };
        kinds::build(&mut kind)?;
        let (digest, _) = store.put_tree(&dirs.out)?;
        Ok(digest)
    }

    /// `forge shell <package>`: a shell (or one command line) in the
    /// package step's own environment — its variables, sysroot, host tools
    /// and sandbox — in a fresh copy of its prepared source under
    /// `shell/<package>` (never the kept work tree, whose content the next
    /// build trusts), removed afterwards. `outputs` holds every step's
    /// output by name (the build just made them). Returns the exit code.
    pub fn package_shell(
        &self,
        name: &str,
        outputs: &std::collections::BTreeMap<String, String>,
        line: Option<&str>,
    ) -> Result<i32> {
        let step = self
            .plan
            .index(name)
            .ok_or_else(|| Error::Other(format!("{name} is not a step of this configuration")))?;
        let StepSpec::Package(spec) = &self.specs[step] else {
            return Err(Error::Other(format!(
                "internal: {name} is not a package step"
            )));
        };
        let dirs = StepDirs::new(&self.output.join("shell"), name);
        crate::exec::remove_tree(&dirs.base)?;
        dirs.fresh_out()?;
        let store = self.store;
        let mut deps: Vec<String> = Vec::new();
        for d in self.plan.closure(step).into_iter().filter(|d| *d != step) {
            let dep = &self.plan.steps[d].name;
            deps.push(outputs.get(dep).cloned().ok_or_else(|| {
                Error::Other(format!("internal: {dep} has no output for the shell"))
            })?);
        }
        let sysroot = dirs.base.join("sysroot");
        for out in &deps {
            store.materialize(&store.get_manifest(out)?, "staging", &sysroot)?;
        }
        let host = dirs.base.join("host");
        crate::exec::host_tree(store, &deps, &host)?;
        let mut env = step_env(spec, &dirs);
        crate::exec::prepend_host_path(&mut env, &host);
        let log = self.output.join("logs").join(format!("{name}-shell.log"));
        let mut runner = Runner::with_executor(name, &log, env.clone(), &self.executor)?;
        let sandbox = self.step_sandbox(&dirs);
        runner.sandbox = Some(sandbox.clone());
        source::prepare(spec, &self.dl_dir, &dirs.src, false, &mut runner)?;
        drop(runner);
        let cmd = match line {
            Some(l) => crate::exec::Cmd::new("sh").args(["-c", l]),
            None => crate::exec::Cmd::new("sh").arg("-i"),
        };
        let cmd = crate::exec::Cmd {
            sandbox: Some(sandbox),
            ..cmd.envs(env).env("PS1", format!("[forge shell {name}] $ "))
        }
        .cwd(&dirs.src)
        .stdin(crate::exec::Stdin::Terminal)
        .stdout(crate::exec::Sink::Terminal)
        .stderr(crate::exec::Sink::Terminal);
        let done = self.executor.run(&cmd).map_err(|e| Error::CannotStart {
            step: name.to_string(),
            what: "sh".into(),
            reason: e.into_io(),
        });
        crate::exec::remove_tree(&dirs.base)?;
        // The folder of the scratch copies, when no other shell uses it.
        let _ = std::fs::remove_dir(self.output.join("shell"));
        Ok(done?.status.code().unwrap_or(128))
    }

    /// The fixed view a package step's commands get (when namespaces can
    /// be had): its directory, the project's trees, the download dir.
    fn step_sandbox(&self, dirs: &StepDirs) -> Sandbox {
        let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let root = std::path::Path::new(sandbox::ROOT);
        let mut sb = Sandbox::default()
            .map(abs(&dirs.base), sandbox::STEP)
            .map(abs(&self.dl_dir), root.join("dl"));
        for (i, tree) in self.project.trees.iter().enumerate() {
            sb = sb.map(abs(tree), root.join("tree").join(i.to_string()));
        }
        sb
    }

    /// The outputs of every step `step` depends on, directly or not, in
    /// plan order (dependencies before dependents).
    fn closure_outputs(&self, step: usize) -> Result<Vec<String>> {
        let mut seen = vec![false; self.plan.steps.len()];
        let mut todo = self.plan.steps[step].deps.clone();
        while let Some(d) = todo.pop() {
            if !std::mem::replace(&mut seen[d], true) {
                todo.extend(self.plan.steps[d].deps.iter().copied());
            }
        }
        let done = self
            .done
            .lock()
            .map_err(|_| Error::Other("internal: build state poisoned".into()))?;
        let mut outputs = Vec::new();
        for (d, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            let out = done.outputs[d].clone().ok_or_else(|| {
                Error::Other(format!(
                    "internal: {} runs before its dependency {} is done",
                    self.plan.steps[step].name, self.plan.steps[d].name
                ))
            })?;
            outputs.push(out);
        }
        Ok(outputs)
    }
}

/// A package step's environment: the host basics, the step's directories,
/// the cross toolchain from its spec, and each `Path` option the recipe
/// reads as a variable of its name holding the files' absolute paths,
/// space-separated (its value names them relative to the project or an
/// external tree; their content is keyed through `option_files`). The
/// build adds its dependencies' host tools to PATH.
fn step_env(spec: &PackageSpec, dirs: &StepDirs) -> Vec<(String, String)> {
    let mut env = base_env(spec.env.source_date_epoch);
    let cross = &spec.env.cross_compile;
    let out = |p: &str| dirs.out.join(p).to_string_lossy().into_owned();
    let vars = [
        ("TARGET_DIR", out("target")),
        ("STAGING_DIR", out("staging")),
        ("HOST_DIR", out("host")),
        ("IMAGES_DIR", out("images")),
        ("SRC_DIR", dirs.src.to_string_lossy().into_owned()),
        ("BUILD_DIR", dirs.base.to_string_lossy().into_owned()),
        (
            "PKG_DIR",
            spec.package_dir.path.to_string_lossy().into_owned(),
        ),
        (
            "SYSROOT",
            dirs.base.join("sysroot").to_string_lossy().into_owned(),
        ),
        (
            "HOST_DEPS_DIR",
            dirs.base.join("host").to_string_lossy().into_owned(),
        ),
        ("ARCH", spec.env.arch.clone()),
        ("CROSS_COMPILE", cross.clone()),
        ("CC", format!("{cross}gcc")),
        ("CXX", format!("{cross}g++")),
        ("LD", format!("{cross}ld")),
        ("AR", format!("{cross}ar")),
        ("STRIP", format!("{cross}strip")),
        ("OBJCOPY", format!("{cross}objcopy")),
        ("RANLIB", format!("{cross}ranlib")),
    ];
    env.extend(vars.into_iter().map(|(k, v)| (k.to_string(), v)));
    let mut paths: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for f in &spec.option_files {
        let option = f.name.split_once(' ').map_or(f.name.as_str(), |(o, _)| o);
        paths
            .entry(option)
            .or_default()
            .push(f.path.to_string_lossy().into_owned());
    }
    env.extend(paths.into_iter().map(|(k, v)| (k.to_string(), v.join(" "))));
    env
}
