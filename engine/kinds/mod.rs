//! Build kinds: forge's built-in procedures that turn a prepared source tree
//! into a package output tree. One file per kind; a recipe names its kind
//! and fills in fields.

mod generic;
mod kconfig;
mod linux;
mod toolchain;

pub use toolchain::missing_compiler;

use crate::config::Value;
use crate::error::{Error, Result};
use crate::exec::{Runner, StepDirs};
use crate::key::expand;
use crate::recipe::{Kind, Loaded};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything a kind needs to build one package.
pub struct StepCtx<'a> {
    pub loaded: &'a Loaded,
    pub values: &'a BTreeMap<String, Value>,
    pub project: &'a crate::project::Project,
    pub dirs: StepDirs,
    pub runner: Runner<'a>,
}

impl StepCtx<'_> {
    /// Expand `${OPTION}`, `${version}` and `${name}` in a recipe string.
    pub fn expand(&self, s: &str) -> String {
        expand(s, self.values, &self.loaded.variables())
    }

    /// Files named (space-separated) by a recipe field: each relative to the
    /// package folder if it exists there, else to the project trees.
    pub fn files(&self, field: &str) -> Result<Vec<PathBuf>> {
        self.expand(field)
            .split_whitespace()
            .map(|f| {
                let in_pkg = self.loaded.dir.join(f);
                let p = if in_pkg.is_file() {
                    in_pkg
                } else {
                    self.project.resolve(f)
                };
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(Error::Other(format!(
                        "{}: {f} does not exist (looked in {} and the project trees)",
                        self.loaded.file.display(),
                        self.loaded.dir.display()
                    )))
                }
            })
            .collect()
    }

    pub fn run(&mut self, script: &str) -> Result<()> {
        let src = self.dirs.src.clone();
        self.runner.sh(&src, script)
    }
}

/// Whether a kind keeps its work tree between builds of changed keys.
pub fn keeps_work_tree(kind: &Kind) -> bool {
    matches!(kind, Kind::Linux { .. })
}

/// Build the package into `ctx.dirs.out`.
pub fn build(ctx: &mut StepCtx) -> Result<()> {
    match ctx.loaded.recipe.kind.clone() {
        Kind::Generic { build, install } => generic::build(ctx, &build, &install),
        Kind::Kconfig { .. } | Kind::Linux { .. } => match kconfig_spec(&ctx.loaded.recipe.kind) {
            Some(KconfigSpec::Kconfig(spec)) => kconfig::build(ctx, &spec),
            Some(KconfigSpec::Linux(spec)) => linux::build(ctx, &spec),
            None => Ok(()),
        },
        Kind::ExternalToolchain { prefix, runtime } => toolchain::build(ctx, &prefix, &runtime),
    }
}

/// A kind configured by Kconfig, with its fields.
pub enum KconfigSpec {
    Linux(linux::Spec),
    Kconfig(kconfig::Spec),
}

pub fn kconfig_spec(kind: &Kind) -> Option<KconfigSpec> {
    match kind.clone() {
        Kind::Linux {
            defconfig,
            config_file,
            fragments,
            image,
            dts,
            make_opts,
        } => Some(KconfigSpec::Linux(linux::Spec {
            defconfig,
            config_file,
            fragments,
            image,
            dts,
            make_opts,
        })),
        Kind::Kconfig {
            defconfig,
            config,
            fragments,
            make_opts,
            install,
        } => Some(KconfigSpec::Kconfig(kconfig::Spec {
            defconfig,
            config,
            fragments,
            make_opts,
            install,
        })),
        _ => None,
    }
}

impl KconfigSpec {
    /// The base config file and the fragments, as written in the recipe.
    pub fn files(&self) -> (&str, &str) {
        match self {
            KconfigSpec::Linux(s) => (&s.config_file, &s.fragments),
            KconfigSpec::Kconfig(s) => (&s.config, &s.fragments),
        }
    }

    /// The package's own make command line.
    pub fn make_command(&self, ctx: &StepCtx) -> String {
        match self {
            KconfigSpec::Linux(s) => linux::make_command(ctx, s),
            KconfigSpec::Kconfig(s) => kconfig::make_command(ctx, s),
        }
    }

    /// Write and resolve the work tree's `.config` from the files.
    pub fn configure(&self, ctx: &mut StepCtx) -> Result<String> {
        match self {
            KconfigSpec::Linux(s) => linux::configure(ctx, s),
            KconfigSpec::Kconfig(s) => kconfig::configure(ctx, s),
        }
    }

    /// Whether the package's kconfig has `savedefconfig` (BusyBox's has not).
    pub fn has_savedefconfig(&self) -> bool {
        matches!(self, KconfigSpec::Linux(_))
    }
}

/// Kernel-style architecture name for a target arch option value.
pub fn kernel_arch(target_arch: &str) -> &str {
    match target_arch {
        "aarch64" => "arm64",
        "x86_64" => "x86",
        other => other,
    }
}

/// Concatenate a base config and fragments into `dest` (later lines win).
pub fn merge_config(base: &[PathBuf], fragments: &[PathBuf], dest: &Path) -> Result<String> {
    let mut text = String::new();
    for f in base.iter().chain(fragments) {
        let part = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        text.push_str(&part);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    std::fs::write(dest, &text).map_err(|e| Error::io(dest, e))?;
    Ok(text)
}

/// Symbols a merged config asked for that the resolved `.config` does not
/// have (Kconfig drops symbols whose dependencies are off).
pub fn dropped_symbols(requested: &str, resolved: &str) -> Vec<String> {
    let have: std::collections::HashSet<&str> = resolved.lines().map(str::trim).collect();
    let mut wanted: BTreeMap<&str, &str> = BTreeMap::new();
    for line in requested.lines().map(str::trim) {
        if let Some(sym) = line
            .strip_prefix("# ")
            .and_then(|l| l.strip_suffix(" is not set"))
        {
            wanted.insert(sym, line);
        } else if line.starts_with("CONFIG_")
            && let Some((sym, _)) = line.split_once('=')
        {
            wanted.insert(sym, line);
        }
    }
    wanted
        .into_iter()
        .filter(|(sym, line)| {
            let kept = if line.starts_with('#') {
                // "is not set" also holds when the symbol is absent.
                !resolved.lines().any(|l| l.starts_with(&format!("{sym}=")))
            } else {
                have.contains(line)
            };
            !kept
        })
        .map(|(_, line)| line.to_string())
        .collect()
}
