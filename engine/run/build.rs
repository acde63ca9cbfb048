//! One build of an output dir: computes each step's canonical inputs and
//! key once its dependencies are done, answers from the cache or runs the
//! step, and stores what it produced. The scheduler drives it.

use crate::assemble::images;
use crate::error::{Error, Result};
use crate::exec::StepDirs;
use crate::key::Inputs;
use crate::key::digest::StatCache;
use crate::load::config::{OptionDecl, Value};
use crate::load::project::Project;
use crate::plan::{Plan, StepKind};
use crate::run::sched::Work;
use crate::sources::debsource::DebResolver;
use crate::store::{Action, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

mod package;

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

    /// An option's value as text (empty when unset).
    pub fn value(&self, name: &str) -> String {
        self.values
            .get(name)
            .map(Value::as_text)
            .unwrap_or_default()
    }

    /// The files a space-separated `Path` option names, resolved against
    /// the trees.
    pub fn paths_of(&self, name: &str) -> Vec<PathBuf> {
        self.value(name)
            .split_whitespace()
            .map(|f| self.project.resolve(f))
            .collect()
    }

    /// What a hook script reads besides itself: its arguments, the files
    /// among them (a genimage.cfg, say) by content, and the configuration.
    fn hook_inputs(&self, inputs: &mut Inputs) -> Result<()> {
        self.add_options(inputs, &["POST_SCRIPT_ARGS"])?;
        for arg in self.value("POST_SCRIPT_ARGS").split_whitespace() {
            let path = self.project.resolve(arg);
            if !arg.starts_with('-') && path.exists() {
                inputs.add(format!("script arg {arg}"), self.stats.path(&path)?);
            }
        }
        inputs.add("config", self.config_digest());
        Ok(())
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
                    self.hook_inputs(&mut i)?;
                }
                i
            }
            StepKind::PostImage => {
                let mut i = Inputs::new("post-image");
                self.add_options(&mut i, &["POST_IMAGE_SCRIPT"])?;
                self.hook_inputs(&mut i)?;
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
        field: impl Fn(&crate::load::recipe::Recipe) -> &Option<String>,
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
                crate::assemble::rootfs::rootfs_step(self, &parts, &dirs)?
            }
            StepKind::PostImage => {
                let dirs = StepDirs::new(&self.output.join("build"), &s.name);
                crate::assemble::hooks::post_image_step(self, dep_outputs, &dirs)?
            }
            StepKind::RootfsImage(format) => {
                let rootfs = dep_outputs.first().cloned().unwrap_or_default();
                let dirs = StepDirs::new(&self.output.join("build"), &s.name);
                images::image_step(self, *format, &rootfs, &dirs)?
            }
            StepKind::DiskImage => crate::assemble::diskimage::disk_step(self, step, dep_outputs)?,
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
