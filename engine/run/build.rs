//! One build of an output dir: every step's spec resolved once at the
//! start, each step's key derived from its spec and its dependencies'
//! outputs once they are done, answered from the cache or run through the
//! step's runner with a [`StepContext`], and what it produced stored. The
//! scheduler drives it through [`Work`].

use crate::error::{Error, Result};
use crate::exec::{LocalExecutor, StepContext, StepDirs};
use crate::key::Inputs;
use crate::key::digest::StatCache;
use crate::load::config::Value;
use crate::load::project::Project;
use crate::plan::{Plan, Resolver, StepKind};
use crate::run::sched::Work;
use crate::sources::debsource::DebResolver;
use crate::sources::gitsource::GitResolver;
use crate::spec::StepSpec;
use crate::store::{Action, ActionCache, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

mod package;

/// Everything fixed for one build.
pub struct Build<'a> {
    pub project: &'a Project,
    pub values: &'a BTreeMap<String, Value>,
    pub plan: &'a Plan,
    /// Each plan step's spec, in plan order.
    pub specs: Vec<StepSpec>,
    /// `output/<board>`.
    pub output: PathBuf,
    pub store: &'a Store,
    pub stats: &'a StatCache,
    pub dl_dir: PathBuf,
    /// Packages whose source is a local tree (OVERRIDE_SRCDIR).
    pub overrides: BTreeMap<String, PathBuf>,
    /// The one door every step's processes go through.
    pub executor: LocalExecutor,
    /// Re-run these steps even when their key is cached.
    pub force: Vec<usize>,
    /// The shared cache asked when the local one misses.
    remote: Option<crate::store::remote::Remote>,
    /// Steps answered by the remote cache.
    from_remote: Mutex<Vec<bool>>,
    keys: Mutex<Vec<Option<(String, Inputs)>>>,
    done: Mutex<Done>,
    debs: DebResolver,
    gits: GitResolver,
}

/// What is known of the steps done in this build.
#[derive(Default)]
struct Done {
    /// Output digest of each done step.
    outputs: Vec<Option<String>>,
    /// For packages: a digest over the step's output and its package
    /// dependencies' sysroot digests, i.e. over everything a dependent's
    /// sysroot holds through it.
    sysroots: Vec<Option<String>>,
}

impl<'a> Build<'a> {
    /// Resolve every step's spec; a setting that cannot work (a missing
    /// file, a bad UBI geometry, a missing compiler) fails here, before
    /// anything runs.
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
    ) -> Result<Self> {
        let debs = DebResolver::load(store.root());
        let gits = GitResolver::new(
            dl_dir.clone(),
            Some(output.join(".config")),
            project.watch.clone(),
        );
        let specs = Resolver {
            project,
            values,
            stats,
            overrides: &overrides,
            debs: &debs,
            gits: &gits,
            paths: crate::exec::sandbox::mode().key(),
        }
        .specs(plan)?;
        let n = plan.steps.len();
        Ok(Build {
            project,
            values,
            plan,
            specs,
            output,
            store,
            stats,
            dl_dir,
            overrides,
            executor: LocalExecutor::new(jobserver),
            force: Vec::new(),
            remote: None,
            from_remote: Mutex::new(vec![false; n]),
            keys: Mutex::new(vec![None; n]),
            done: Mutex::new(Done {
                outputs: vec![None; n],
                sysroots: vec![None; n],
            }),
            debs,
            gits,
        })
    }

    /// Ask `remote` when the local cache misses (and upload to it, if
    /// its settings say so).
    pub fn with_remote(mut self, remote: Option<crate::store::remote::Remote>) -> Self {
        self.remote = remote;
        self
    }

    /// The shared cache behind the local one, if this build has one.
    pub fn remote(&self) -> Option<&crate::store::remote::Remote> {
        self.remote.as_ref()
    }

    /// Whether the step's result came from the remote cache.
    pub fn came_from_remote(&self, step: usize) -> bool {
        self.from_remote
            .lock()
            .ok()
            .is_some_and(|r| r.get(step).copied().unwrap_or(false))
    }

    /// A resolver for specs outside the plan (a package that is not
    /// selected, for its configuration flow or its source).
    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            project: self.project,
            values: self.values,
            stats: self.stats,
            overrides: &self.overrides,
            debs: &self.debs,
            gits: &self.gits,
            paths: crate::exec::sandbox::mode().key(),
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

    fn is_package(&self, step: usize) -> bool {
        matches!(
            self.plan.steps[step].kind,
            StepKind::Package(_) | StepKind::HostPackage(_)
        )
    }

    /// Note that `step` is done with output `out` (called in dependency
    /// order: a step's dependencies are noted before it).
    pub fn note_done(&self, step: usize, out: &str) {
        let Ok(mut done) = self.done.lock() else {
            return;
        };
        done.outputs[step] = Some(out.to_string());
        if self.is_package(step) {
            let mut h = blake3::Hasher::new();
            h.update(out.as_bytes());
            for d in &self.plan.steps[step].deps {
                if let Some(s) = &done.sysroots[*d] {
                    h.update(s.as_bytes());
                }
            }
            done.sysroots[step] = Some(h.finalize().to_hex().to_string());
        }
    }

    /// The canonical inputs of a step: its spec, and for each dependency its
    /// output digest, or for a package reading another package's staging
    /// tree the sysroot digest (so a change deep in the sysroot reaches
    /// every package that sees it, even through an unchanged one).
    pub fn inputs(&self, step: usize, dep_outputs: &[String]) -> Result<Inputs> {
        let s = &self.plan.steps[step];
        let done = self
            .done
            .lock()
            .map_err(|_| Error::Other("internal: build state poisoned".into()))?;
        let mut deps: Vec<(&str, String)> = Vec::with_capacity(s.deps.len());
        for (d, out) in s.deps.iter().zip(dep_outputs) {
            let digest = if self.is_package(step) && self.is_package(*d) {
                done.sysroots[*d].clone().unwrap_or_else(|| out.clone())
            } else {
                out.clone()
            };
            deps.push((self.plan.steps[*d].name.as_str(), digest));
        }
        let deps: Vec<(&str, &str)> = deps.iter().map(|(n, d)| (*n, d.as_str())).collect();
        Ok(self.specs[step].inputs(&deps))
    }

    /// The `(step name, output)` pairs of a step's dependencies.
    fn parts(&self, step: usize, dep_outputs: &[String]) -> Vec<(String, String)> {
        self.plan.steps[step]
            .deps
            .iter()
            .zip(dep_outputs)
            .map(|(d, out)| (self.plan.steps[*d].name.clone(), out.clone()))
            .collect()
    }

    /// Fails when a file `step`'s key was computed from no longer has the
    /// digest it had (it changed while the step ran): the result is then
    /// not stored under that key. Unchanged files cost a stat each.
    fn inputs_unchanged(&self, step: usize) -> Result<()> {
        let files = self.specs[step]
            .file_inputs()
            .map_err(|e| Error::Other(format!("internal: spec of a step: {e}")))?;
        for (path, digest) in files {
            if self.stats.path(&path).ok().as_ref() != Some(&digest) {
                return Err(Error::Other(format!(
                    "{} changed while the step ran, so its result is not stored \
                     (its key was computed from the earlier content); run forge again \
                     once it no longer changes",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    fn context(&self, step: usize) -> StepContext<'_> {
        let name = self.plan.steps[step].name.as_str();
        StepContext {
            name,
            store: self.store,
            dirs: StepDirs::new(&self.output.join("build"), name),
            log: self.output.join("logs").join(format!("{name}.log")),
            output: &self.output,
            exec: &self.executor,
        }
    }
}

impl Build<'_> {
    /// The local cache, then the remote one (whose hit is copied into the
    /// local cache whole before it counts). A local hit is uploaded when
    /// the remote cache is writable and lacks it.
    fn lookup_tiers(&self, step: usize, key: &str) -> Result<Option<String>> {
        if let Some(action) = self.store.get_action(key)? {
            if let Some(remote) = &self.remote {
                remote.upload(key, &action, self.store);
            }
            return Ok(Some(action.manifest));
        }
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        match remote.fetch(key, self.store) {
            crate::store::remote::Fetched::Hit(action) => {
                if let Ok(mut r) = self.from_remote.lock() {
                    r[step] = true;
                }
                Ok(Some(action.manifest))
            }
            _ => Ok(None),
        }
    }
}

impl Work for Build<'_> {
    fn lookup(&self, step: usize, dep_outputs: &[String]) -> Result<Option<String>> {
        let inputs = self.inputs(step, dep_outputs)?;
        let key = inputs.key();
        let hit = if self.force.contains(&step) {
            None
        } else {
            self.lookup_tiers(step, &key)?
        };
        if let Ok(mut keys) = self.keys.lock() {
            keys[step] = Some((key, inputs));
        }
        if let Some(out) = &hit {
            self.note_done(step, out);
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
        let ctx = self.context(step);
        // A failure before the step's first command must not show the log
        // of an earlier run.
        let _ = std::fs::remove_file(&ctx.log);
        use crate::assemble::{diskimage, hooks, images, rootfs};
        let digest = match &self.specs[step] {
            StepSpec::Package(spec) => self.run_package(step, spec, ctx)?,
            StepSpec::Debian(spec) => crate::debian::step::debian_step(spec, &self.dl_dir, &ctx)?,
            StepSpec::Rootfs(spec) => {
                rootfs::rootfs_step(spec, &self.parts(step, dep_outputs), &ctx)?
            }
            StepSpec::PostImage(spec) => hooks::post_image_step(spec, dep_outputs, &ctx)?,
            StepSpec::Image(spec) => {
                let rootfs = dep_outputs.first().cloned().unwrap_or_default();
                images::image_step(spec, &rootfs, &ctx)?
            }
            StepSpec::Disk(spec) => {
                diskimage::disk_step(spec, &self.parts(step, dep_outputs), &ctx)?
            }
        };
        self.inputs_unchanged(step)?;
        let action = Action {
            step: s.name.clone(),
            manifest: digest.clone(),
            inputs: inputs.pairs(),
        };
        ActionCache::put_action(self.store, &key, &action)?;
        if let Some(remote) = &self.remote {
            remote.upload(&key, &action, self.store);
        }
        self.note_done(step, &digest);
        Ok(digest)
    }
}
