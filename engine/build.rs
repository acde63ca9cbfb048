//! One build of an output dir: computes each step's canonical inputs and
//! key once its dependencies are done, answers from the cache or runs the
//! step, and stores what it produced. The scheduler drives it.

use crate::config::{OptionDecl, Value};
use crate::debsource::DebResolver;
use crate::digest::StatCache;
use crate::error::{Error, Result};
use crate::exec::{Runner, StepDirs, base_env};
use crate::key::{Inputs, referenced_options};
use crate::kinds::{self, StepCtx, kernel_arch};
use crate::plan::{Plan, StepKind};
use crate::project::Project;
use crate::recipe::{Loaded, Source};
use crate::rootfs;
use crate::sched::Work;
use crate::source::{self, SourceSpec};
use crate::store::{Action, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Everything fixed for one build.
pub struct Build<'a> {
    pub project: &'a Project,
    pub values: &'a BTreeMap<String, Value>,
    pub plan: &'a Plan,
    /// `output/<board>`.
    pub output: PathBuf,
    pub store: &'a Store,
    pub stats: &'a StatCache,
    pub dl_dir: PathBuf,
    /// Packages whose source is a local tree (OVERRIDE_SRCDIR).
    pub overrides: BTreeMap<String, PathBuf>,
    pub jobserver: jobserver::Client,
    /// Re-run these steps even when their key is cached.
    pub force: Vec<usize>,
    keys: Mutex<Vec<Option<(String, Inputs)>>>,
    debs: DebResolver,
}

impl<'a> Build<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        project: &'a Project,
        values: &'a BTreeMap<String, Value>,
        plan: &'a Plan,
        output: PathBuf,
        store: &'a Store,
        stats: &'a StatCache,
        dl_dir: PathBuf,
        overrides: BTreeMap<String, PathBuf>,
        jobserver: jobserver::Client,
    ) -> Self {
        let keys = Mutex::new(vec![None; plan.steps.len()]);
        Build {
            project,
            values,
            plan,
            output,
            store,
            stats,
            dl_dir,
            overrides,
            jobserver,
            force: Vec::new(),
            keys,
            debs: DebResolver::load(store.root()),
        }
    }

    /// The key computed for a step in this build, if it got that far.
    pub fn key_of(&self, step: usize) -> Option<String> {
        self.keys
            .lock()
            .ok()?
            .get(step)?
            .as_ref()
            .map(|(k, _)| k.clone())
    }

    fn value(&self, name: &str) -> String {
        self.values
            .get(name)
            .map(Value::as_text)
            .unwrap_or_default()
    }

    /// An option's value as text (empty when unset).
    pub fn text(&self, name: &str) -> String {
        self.value(name)
    }

    /// The files a space-separated `Path` option names, resolved against
    /// the trees.
    pub fn paths_of(&self, name: &str) -> Vec<PathBuf> {
        self.value(name)
            .split_whitespace()
            .map(|f| self.project.resolve(f))
            .collect()
    }

    /// Digest of every option value: what a hook script reading the
    /// configuration file depends on.
    fn config_digest(&self) -> String {
        let mut h = blake3::Hasher::new();
        for (name, v) in self.values {
            h.update(format!("{name}={}\n", v.as_text()).as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// Digests of the files a `Path` option names.
    fn path_option(&self, inputs: &mut Inputs, name: &str) -> Result<()> {
        for (i, f) in self.value(name).split_whitespace().enumerate() {
            let p = self.project.resolve(f);
            let digest = self.stats.path(&p).map_err(|_| {
                Error::Other(format!(
                    "option {name}: {f} does not exist (paths are relative to {} or an external tree)",
                    self.project.root.display()
                ))
            })?;
            inputs.add(format!("file {name}[{i}] {f}"), digest);
        }
        Ok(())
    }

    fn add_options(&self, inputs: &mut Inputs, names: &[&str]) -> Result<()> {
        for name in names {
            if let Some(v) = self.values.get(*name) {
                inputs.option(name, v);
                if let Some(d) = self.project.schema.options.get(*name)
                    && matches!(d.decl, OptionDecl::Path { .. })
                {
                    self.path_option(inputs, name)?;
                }
            }
        }
        Ok(())
    }

    /// The canonical inputs of a step.
    pub fn inputs(&self, step: usize, dep_outputs: &[String]) -> Result<Inputs> {
        let s = &self.plan.steps[step];
        let mut inputs = match &s.kind {
            StepKind::Package(name) => self.package_inputs(&self.project.recipes[name])?,
            StepKind::Rootfs => {
                let mut i = Inputs::new("rootfs");
                self.add_options(
                    &mut i,
                    &[
                        "ROOTFS_OVERLAY",
                        "ROOTFS_USERS_TABLES",
                        "ROOT_PASSWORD",
                        "SYSTEM_HOSTNAME",
                        "SOURCE_DATE_EPOCH",
                        "POST_BUILD_SCRIPT",
                    ],
                )?;
                for s in &self.plan.steps {
                    if let StepKind::Package(name) = &s.kind
                        && let r = &self.project.recipes[name].recipe
                        && !r.replaces.is_empty()
                    {
                        i.add(format!("replaces {name}"), r.replaces.join(" "));
                    }
                }
                for (name, table) in self.users_tables() {
                    i.add(format!("users-table {name}"), self.stats.file(&table)?);
                }
                if !self.value("POST_BUILD_SCRIPT").is_empty() {
                    self.add_options(&mut i, &["POST_SCRIPT_ARGS"])?;
                    i.add("config", self.config_digest());
                }
                i
            }
            StepKind::PostImage => {
                let mut i = Inputs::new("post-image");
                self.add_options(&mut i, &["POST_IMAGE_SCRIPT", "POST_SCRIPT_ARGS"])?;
                i.add("config", self.config_digest());
                i
            }
            StepKind::RootfsImage(format) => {
                let mut i = Inputs::new(&format!("rootfs-{}", format.name()));
                self.add_options(&mut i, format.settings())?;
                if format.from_rootfs() {
                    self.add_options(&mut i, &["SOURCE_DATE_EPOCH", "ROOTFS_DEVICE_TABLE"])?;
                    for (name, table) in self.device_tables() {
                        i.add(format!("device-table {name}"), self.stats.file(&table)?);
                    }
                }
                i
            }
            StepKind::DiskImage => {
                let mut i = Inputs::new("disk-image");
                self.add_options(&mut i, &["DISK_IMAGE_LAYOUT", "SOURCE_DATE_EPOCH"])?;
                i
            }
        };
        for (d, out) in s.deps.iter().zip(dep_outputs) {
            inputs.add(format!("dep {}", self.plan.steps[*d].name), out.clone());
        }
        Ok(inputs)
    }

    fn package_inputs(&self, l: &Loaded) -> Result<Inputs> {
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
        if let crate::recipe::Kind::ExternalToolchain { prefix, .. } = &r.kind {
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

    /// Device tables of selected packages and the board, in order.
    pub fn device_tables(&self) -> Vec<(String, PathBuf)> {
        self.tables(|r| &r.device_table, "ROOTFS_DEVICE_TABLE")
    }

    /// Users tables of selected packages and the board, in order.
    pub fn users_tables(&self) -> Vec<(String, PathBuf)> {
        self.tables(|r| &r.users_table, "ROOTFS_USERS_TABLES")
    }

    /// The table files a recipe field names in the selected packages (with
    /// the package name), then those the board option names ("board").
    fn tables(
        &self,
        field: impl Fn(&crate::recipe::Recipe) -> &Option<String>,
        option: &str,
    ) -> Vec<(String, PathBuf)> {
        let mut tables = Vec::new();
        for s in &self.plan.steps {
            if let StepKind::Package(name) = &s.kind {
                let l = &self.project.recipes[name];
                if let Some(t) = field(&l.recipe) {
                    tables.push((name.clone(), l.dir.join(t)));
                }
            }
        }
        for f in self.paths_of(option) {
            tables.push(("board".into(), f));
        }
        tables
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

    fn run_package(&self, step: usize, name: &str, dep_outputs: &[String]) -> Result<String> {
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

impl Work for Build<'_> {
    fn lookup(&self, step: usize, dep_outputs: &[String]) -> Result<Option<String>> {
        let inputs = self.inputs(step, dep_outputs)?;
        let key = inputs.key();
        let hit = if self.force.contains(&step) {
            None
        } else {
            self.store.action(&key).map(|a| a.manifest)
        };
        if let Ok(mut keys) = self.keys.lock() {
            keys[step] = Some((key, inputs));
        }
        Ok(hit)
    }

    fn run(&self, step: usize, dep_outputs: &[String]) -> Result<String> {
        let (key, inputs) = self
            .keys
            .lock()
            .ok()
            .and_then(|k| k[step].clone())
            .ok_or_else(|| Error::Other("internal: step run before its key was computed".into()))?;
        let s = &self.plan.steps[step];
        // A failure before the step's first command must not show the log
        // of an earlier run.
        let _ = std::fs::remove_file(self.output.join("logs").join(format!("{}.log", s.name)));
        let digest = match &s.kind {
            StepKind::Package(name) => self.run_package(step, name, dep_outputs)?,
            StepKind::Rootfs => {
                let parts: Vec<(String, String)> = s
                    .deps
                    .iter()
                    .zip(dep_outputs)
                    .map(|(d, out)| (self.plan.steps[*d].name.clone(), out.clone()))
                    .collect();
                let dirs = StepDirs::new(&self.output.join("build"), &s.name);
                crate::assembly::rootfs_step(self, &parts, &dirs)?
            }
            StepKind::PostImage => {
                let dirs = StepDirs::new(&self.output.join("build"), &s.name);
                crate::hooks::post_image_step(self, dep_outputs, &dirs)?
            }
            StepKind::RootfsImage(format) => {
                let rootfs = dep_outputs.first().cloned().unwrap_or_default();
                let dirs = StepDirs::new(&self.output.join("build"), &s.name);
                rootfs::image_step(self, *format, &rootfs, &dirs)?
            }
            StepKind::DiskImage => crate::diskimage::disk_step(self, step, dep_outputs)?,
        };
        self.store.put_action(
            &key,
            &Action {
                step: s.name.clone(),
                manifest: digest.clone(),
                inputs: inputs.pairs(),
            },
        )?;
        Ok(digest)
    }
}
