//! The package steps of a build: their canonical inputs (recipe, options,
//! source identity, host compiler), their environment, preparing their
//! source and running their build kind with a sysroot of what they read.

use super::Build;
use crate::error::{Error, Result};
use crate::exec::{Runner, StepDirs, base_env};
use crate::key::{Inputs, referenced_options};
use crate::kinds::{self, StepCtx, kernel_arch};
use crate::load::recipe::{Loaded, Source};
use crate::sources::source::{self, SourceSpec};
use std::path::PathBuf;

impl Build<'_> {
    pub(super) fn package_inputs(&self, l: &Loaded) -> Result<Inputs> {
        let r = &l.recipe;
        let mut i = Inputs::new("package");
        let recipe = serde_json::json!({
            "version": r.version, "source": r.source, "strip": r.strip_components,
            "patches": r.patches, "kind": r.kind, "device_table": r.device_table,
        });
        let text = recipe.to_string();
        i.add("recipe", text.clone());
        i.add("package-dir", self.stats.path(&l.dir)?);
        let mut names: Vec<&str> = referenced_options(&text, self.values);
        names.extend(r.options.keys().map(String::as_str));
        names.extend([
            "TARGET_ARCH",
            "TOOLCHAIN_EXTERNAL_PREFIX",
            "SOURCE_DATE_EPOCH",
        ]);
        names.sort_unstable();
        names.dedup();
        self.add_options(&mut i, &names)?;
        if let Some(dir) = self.overrides.get(&r.name) {
            i.add("source override", self.stats.path(dir)?);
        } else {
            i.add("source", self.source_identity(l)?);
        }
        if let crate::load::recipe::Kind::ExternalToolchain { prefix, .. } = &r.kind {
            let gcc = format!("{}gcc", crate::key::expand(prefix, self.values, &[]));
            let path = which::which(&gcc).map_err(|_| kinds::missing_compiler(&gcc))?;
            i.add("host compiler", self.stats.file(&path)?);
        }
        Ok(i)
    }

    /// What identifies a source's content without fetching it when possible.
    fn source_identity(&self, l: &Loaded) -> Result<String> {
        let spec = self.source_spec(l);
        Ok(match &l.recipe.source {
            Source::None => String::new(),
            Source::Url { sha256, .. } => format!("sha256:{sha256}"),
            Source::Local { path } => {
                let p = spec.local_path(path);
                self.stats.path(&p).map_err(|_| {
                    Error::Other(format!(
                        "{}: field `source`: {} does not exist on this machine",
                        l.locate("Local"),
                        p.display()
                    ))
                })?
            }
            Source::Deb {
                version: Some(_), ..
            } => format!("deb:{}", serde_json::json!(l.recipe.source)),
            // Unpinned: apt decides the version; its answer is remembered
            // until apt's package lists change.
            Source::Deb {
                package,
                arch,
                version: None,
            } => {
                let expand = |t: &str| crate::key::expand(t, self.values, &[]);
                self.debs.identity(&expand(package), &expand(arch))?
            }
        })
    }

    /// Download a package's source into the download dir (nothing for
    /// local sources and overridden packages). Returns what was fetched.
    pub fn fetch_source(&self, name: &str) -> Result<Option<PathBuf>> {
        let l = self
            .project
            .recipes
            .get(name)
            .ok_or_else(|| Error::Other(format!("no package named {name}")))?;
        if self.overrides.contains_key(name)
            || matches!(l.recipe.source, Source::Local { .. } | Source::None)
        {
            return Ok(None);
        }
        self.source_spec(l).fetch()
    }

    fn source_spec<'b>(&'b self, l: &'b Loaded) -> SourceSpec<'b> {
        SourceSpec {
            loaded: l,
            values: self.values,
            project: self.project,
            dl_dir: &self.dl_dir,
            override_dir: self.overrides.get(&l.recipe.name).map(PathBuf::as_path),
        }
    }

    fn step_env(&self, dirs: &StepDirs, l: &Loaded) -> Vec<(String, String)> {
        let epoch = self
            .values
            .get("SOURCE_DATE_EPOCH")
            .and_then(|v| v.as_text().parse().ok())
            .unwrap_or(0);
        let mut env = base_env(epoch);
        let cross = self.value("TOOLCHAIN_EXTERNAL_PREFIX");
        let out = |p: &str| dirs.out.join(p).to_string_lossy().into_owned();
        let vars = [
            ("TARGET_DIR", out("target")),
            ("STAGING_DIR", out("staging")),
            ("HOST_DIR", out("host")),
            ("IMAGES_DIR", out("images")),
            ("SRC_DIR", dirs.src.to_string_lossy().into_owned()),
            ("BUILD_DIR", dirs.base.to_string_lossy().into_owned()),
            ("PKG_DIR", l.dir.to_string_lossy().into_owned()),
            (
                "SYSROOT",
                dirs.base.join("sysroot").to_string_lossy().into_owned(),
            ),
            ("ARCH", kernel_arch(&self.value("TARGET_ARCH")).to_string()),
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
        env
    }

    /// What a kept work tree must hold to be reused: source and patches.
    fn origin(&self, l: &Loaded) -> Result<String> {
        Ok(format!(
            "{}|{}",
            self.source_identity(l)?,
            serde_json::json!(l.recipe.patches)
        ))
    }

    /// A package's kept work tree, prepared (fetched, extracted, patched)
    /// for a configuration flow such as `forge linux-menuconfig`; commands
    /// log to `logs/<pkg>-config.log`.
    pub fn config_ctx(&self, name: &str) -> Result<StepCtx<'_>> {
        let l = self
            .project
            .recipes
            .get(name)
            .ok_or_else(|| Error::Other(format!("no package named {name}")))?;
        let dirs = StepDirs::new(&self.output.join("build"), name);
        dirs.fresh_out()?;
        let log = self.output.join("logs").join(format!("{name}-config.log"));
        let mut runner = Runner::new(name, &log, self.step_env(&dirs, l), &self.jobserver)?;
        source::prepare(
            &self.source_spec(l),
            &dirs.src,
            &self.origin(l)?,
            true,
            &mut runner,
        )?;
        Ok(StepCtx {
            loaded: l,
            values: self.values,
            project: self.project,
            dirs,
            runner,
        })
    }

    pub(super) fn run_package(
        &self,
        step: usize,
        name: &str,
        dep_outputs: &[String],
    ) -> Result<String> {
        let l = &self.project.recipes[name];
        let dirs = StepDirs::new(&self.output.join("build"), name);
        dirs.fresh_out()?;
        let log = self.output.join("logs").join(format!("{name}.log"));
        let mut runner = Runner::new(name, &log, self.step_env(&dirs, l), &self.jobserver)?;
        // The sysroot holds the staging trees of everything this step reads.
        let sysroot = dirs.base.join("sysroot");
        crate::exec::remove_tree(&sysroot)?;
        for dep in self.plan.closure(step).into_iter().filter(|d| *d != step) {
            if let Some(out) = self.done_output(dep, step, dep_outputs) {
                self.store
                    .materialize(&self.store.manifest(&out)?, "staging", &sysroot)?;
            }
        }
        let origin = self.origin(l)?;
        let keep = kinds::keeps_work_tree(&l.recipe.kind) || self.overrides.contains_key(name);
        source::prepare(&self.source_spec(l), &dirs.src, &origin, keep, &mut runner)?;
        let mut ctx = StepCtx {
            loaded: l,
            values: self.values,
            project: self.project,
            dirs: dirs.clone(),
            runner,
        };
        kinds::build(&mut ctx)?;
        let (digest, _) = self.store.put_tree(&dirs.out)?;
        Ok(digest)
    }

    /// Output digest of `dep` if it is a direct or transitive dependency
    /// already done; direct ones come from `dep_outputs`, others from the
    /// cache entry recorded in this build.
    fn done_output(&self, dep: usize, step: usize, dep_outputs: &[String]) -> Option<String> {
        if let Some(pos) = self.plan.steps[step].deps.iter().position(|d| *d == dep) {
            return dep_outputs.get(pos).cloned();
        }
        let key = self.key_of(dep)?;
        self.store.action(&key).map(|a| a.manifest)
    }
}
