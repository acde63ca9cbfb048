//! Turning each planned step into its [`StepSpec`]: the one place that reads
//! the option map on a step's behalf. What it reads, it puts in the spec,
//! so the key derived from the spec covers it.

use super::{Plan, StepKind};
use crate::error::{Error, Result};
use crate::key::digest::StatCache;
use crate::load::config::Value;
use crate::load::project::Project;
use crate::sources::debsource::DebResolver;
use crate::sources::gitsource::GitResolver;
use crate::spec::{FileInput, StepSpec};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What resolving specs needs: the project, the option values, the stat
/// cache for digests, the source overrides, apt's answers and
/// Git's.
pub struct Resolver<'a> {
    pub project: &'a Project,
    pub values: &'a BTreeMap<String, Value>,
    pub stats: &'a StatCache,
    /// Packages whose source is a local tree (OVERRIDE_SRCDIR).
    pub overrides: &'a BTreeMap<String, PathBuf>,
    pub debs: &'a DebResolver,
    /// Git commits and tree ids (branches pinned in the `.config`).
    pub gits: &'a GitResolver,
    /// Where package steps' commands run (fixed or real paths), as keyed.
    pub paths: &'a str,
}

impl Resolver<'_> {
    /// The spec of every step of `plan`, in plan order.
    pub fn specs(&self, plan: &Plan) -> Result<Vec<StepSpec>> {
        plan.steps
            .iter()
            .map(|s| {
                Ok(match &s.kind {
                    StepKind::Package(name) => {
                        StepSpec::Package(Box::new(self.package(&self.project.recipes[name])?))
                    }
                    StepKind::HostPackage(recipe) => StepSpec::Package(Box::new(
                        self.host_package(&self.project.recipes[recipe])?,
                    )),
                    StepKind::DebianRootfs => StepSpec::Debian(Box::new(self.debian(plan)?)),
                    StepKind::Rootfs => StepSpec::Rootfs(self.rootfs(plan, &s.deps)?),
                    StepKind::RootfsImage(format) => StepSpec::Image(self.image(plan, *format)?),
                    StepKind::DiskImage => StepSpec::Disk(self.disk()?),
                    StepKind::PostImage => StepSpec::PostImage(self.hook("POST_IMAGE_SCRIPT")?),
                })
            })
            .collect()
    }

    /// An option's value as text (empty when unset).
    pub fn value(&self, name: &str) -> String {
        self.values
            .get(name)
            .map(Value::as_text)
            .unwrap_or_default()
    }

    /// A file or tree the step reads, with its content digest.
    pub fn input(&self, name: &str, path: PathBuf) -> Result<FileInput> {
        Ok(FileInput {
            name: name.to_string(),
            digest: self.stats.path(&path)?,
            path,
        })
    }

    /// The files a space-separated `Path` option names, resolved against
    /// the trees, each of which must exist.
    pub fn option_paths(&self, name: &str) -> Result<Vec<FileInput>> {
        self.value(name)
            .split_whitespace()
            .map(|f| {
                let p = self.project.resolve(f);
                let digest = self.stats.path(&p).map_err(|_| Error::BadOption {
                    option: name.to_string(),
                    at: None,
                    message: format!(
                        "{f} does not exist (paths are relative to {} or an external tree)",
                        self.project.root.display()
                    ),
                })?;
                Ok(FileInput {
                    name: format!("{name} {f}"),
                    digest,
                    path: p,
                })
            })
            .collect()
    }
}
