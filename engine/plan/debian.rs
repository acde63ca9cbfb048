//! Resolving the `debian-rootfs` step: the request (suite, architecture,
//! variant, components, the board's and the selected recipes' packages),
//! the lock that must answer it, the customization scripts and their
//! files. A missing or stale lock is an error naming the fix; a build
//! resolves it before planning ([`crate::debian::resolve`]).

use super::{Plan, Resolver, StepKind};
use crate::error::{Error, Result};
use crate::load::config::Value;
use crate::load::project::Project;
use crate::spec::debian::{Customize, DebianSpec, Lock, Place, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What the board asks of its Debian root filesystem, before any lock.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub request: Request,
    /// The lines of `DEBIAN_SOURCES`, when set.
    pub sources: Option<Vec<String>>,
    /// The lock file's path, and how the option named it.
    pub lock_path: PathBuf,
    pub lock_name: String,
}

fn bad(option: &str, message: String) -> Error {
    Error::BadOption {
        option: option.to_string(),
        at: None,
        message,
    }
}

/// The board's request, when `DEBIAN_ROOTFS` is set; `plan` gives the
/// selected recipes whose `debian_packages` join it.
pub fn wanted(
    project: &Project,
    values: &BTreeMap<String, Value>,
    plan: &Plan,
) -> Result<Option<Wanted>> {
    let value = |n: &str| values.get(n).map(Value::as_text).unwrap_or_default();
    if !values.get("DEBIAN_ROOTFS").is_some_and(Value::is_true) {
        return Ok(None);
    }
    let mut include: BTreeSet<String> = value("DEBIAN_PACKAGES")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for s in &plan.steps {
        if let StepKind::Package(name) = &s.kind {
            include.extend(project.recipes[name].recipe.debian_packages.iter().cloned());
        }
    }
    let architecture = value("TARGET_DEB_ARCH");
    if architecture.trim().is_empty() {
        return Err(bad(
            "TARGET_DEB_ARCH",
            "a Debian root filesystem needs the target's Debian architecture (armhf, arm64, amd64…)"
                .into(),
        ));
    }
    let request = Request {
        suite: value("DEBIAN_SUITE").trim().to_string(),
        architecture: architecture.trim().to_string(),
        variant: value("DEBIAN_VARIANT"),
        components: value("DEBIAN_COMPONENTS")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        include: include.into_iter().collect(),
    };
    let sources = match value("DEBIAN_SOURCES").trim() {
        "" => None,
        f => {
            let path = project.resolve(f);
            let lines = crate::debian::sources::from_file(&path).map_err(|e| {
                bad(
                    "DEBIAN_SOURCES",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            if lines.is_empty() {
                return Err(bad(
                    "DEBIAN_SOURCES",
                    format!("{} has no `deb` entry", path.display()),
                ));
            }
            Some(lines)
        }
    };
    let lock_name = value("DEBIAN_LOCK").trim().to_string();
    if lock_name.is_empty() {
        return Err(bad(
            "DEBIAN_LOCK",
            "a Debian root filesystem needs its lock file's path beside the board, e.g. DEBIAN_LOCK=\"boards/<board>/debian.lock\" (it is written by the first build or `forge debian-lock`)".into(),
        ));
    }
    Ok(Some(Wanted {
        request,
        sources,
        lock_path: project.resolve(&lock_name),
        lock_name,
    }))
}

/// Why the lock cannot be used as it is, if it cannot: missing, broken,
/// or answering another request.
pub fn lock_problem(wanted: &Wanted) -> Option<String> {
    if !wanted.lock_path.is_file() {
        return Some(format!("{} does not exist", wanted.lock_path.display()));
    }
    match Lock::read(&wanted.lock_path) {
        Err(e) => Some(e.to_string()),
        Ok(lock) => lock
            .stale(&wanted.request, wanted.sources.as_deref())
            .map(|why| format!("{} locks {why}", wanted.lock_path.display())),
    }
}

impl Resolver<'_> {
    pub(super) fn debian(&self, plan: &Plan) -> Result<DebianSpec> {
        let wanted = wanted(self.project, self.values, plan)?.ok_or_else(|| {
            Error::Other("internal: debian-rootfs step without DEBIAN_ROOTFS".into())
        })?;
        // Stamped first, so a later edit of these files is seen.
        if !self.value("DEBIAN_SOURCES").trim().is_empty() {
            self.option_paths("DEBIAN_SOURCES")?;
        }
        let lock_file = self
            .input(&wanted.lock_name, wanted.lock_path.clone())
            .map_err(|_| {
                bad(
                    "DEBIAN_LOCK",
                    format!(
                        "{} does not exist; `forge debian-lock` (or a build) writes it",
                        wanted.lock_path.display()
                    ),
                )
            })?;
        if let Some(why) = lock_problem(&wanted) {
            return Err(bad(
                "DEBIAN_LOCK",
                format!("{why}; refresh it with `forge debian-lock`"),
            ));
        }
        let lock = Lock::read(&wanted.lock_path).map_err(|e| bad("DEBIAN_LOCK", e.to_string()))?;
        let files = match self.value("DEBIAN_CUSTOMIZE_FILES").trim() {
            "" => None,
            _ => self
                .option_paths("DEBIAN_CUSTOMIZE_FILES")?
                .into_iter()
                .next(),
        };
        Ok(DebianSpec {
            request: wanted.request,
            lock_file,
            lock,
            customize: self.customize_scripts()?,
            files,
            source_date_epoch: self.value("SOURCE_DATE_EPOCH").trim().parse().unwrap_or(0),
        })
    }

    fn customize_scripts(&self) -> Result<Vec<Customize>> {
        customize_scripts(self.project, self.values)?
            .into_iter()
            .map(|(place, name, path)| {
                Ok(Customize {
                    place,
                    script: self.input(&name, path)?,
                })
            })
            .collect()
    }
}

/// `DEBIAN_CUSTOMIZE_SCRIPTS`: its `target:PATH` and `host:PATH` entries,
/// each an existing file, as (place, name as written, path).
pub fn customize_scripts(
    project: &Project,
    values: &BTreeMap<String, Value>,
) -> Result<Vec<(Place, String, PathBuf)>> {
    const OPTION: &str = "DEBIAN_CUSTOMIZE_SCRIPTS";
    let text = values.get(OPTION).map(Value::as_text).unwrap_or_default();
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let (place, file) = match word.split_once(':') {
            Some(("target", f)) => (Place::Target, f),
            Some(("host", f)) => (Place::Host, f),
            _ => {
                return Err(bad(
                    OPTION,
                    format!(
                        "`{word}`: write `target:PATH` for a script run inside the root filesystem or `host:PATH` for one run on the build machine"
                    ),
                ));
            }
        };
        let path = project.resolve(file);
        if !path.is_file() {
            return Err(bad(
                OPTION,
                format!(
                    "{} is not a file (paths are relative to {} or an external tree)",
                    path.display(),
                    project.root.display()
                ),
            ));
        }
        out.push((place, file.to_string(), path));
    }
    Ok(out)
}
