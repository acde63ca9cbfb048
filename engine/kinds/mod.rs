//! Build kinds: forge's built-in procedures that turn a prepared source tree
//! into a package output tree. One file per kind; a recipe names its kind
//! and fills in fields. `kbuild` holds what Linux and U-Boot share;
//! `configured` the autotools, CMake and Meson kinds; `modtree` the
//! kernel's module build tree (exported by `linux`, read by `module`,
//! installed into the target by `LinuxHeaders`); `python` PyPI wheels.

mod configured;
mod generic;
mod kbuild;
mod kconfig;
mod linux;
mod modtree;
mod module;
mod python;
mod toolchain;
mod uboot;

pub use uboot::UBootError;

pub use crate::spec::kernel_arch;

use crate::error::{Error, Result};
use crate::exec::{Runner, StepDirs};
use crate::spec::{FileInput, KindSpec, PackageSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything a kind needs to build one package: its spec, its
/// directories and a runner for its commands.
pub struct StepCtx<'a> {
    pub spec: &'a PackageSpec,
    pub dirs: StepDirs,
    pub runner: Runner<'a>,
}

impl StepCtx<'_> {
    pub fn run(&mut self, script: &str) -> Result<()> {
        let src = self.dirs.src.clone();
        self.runner.sh(&src, script)
    }

    /// An error about the recipe's configuration, naming the recipe file.
    fn recipe_error(&self, what: &str) -> Error {
        Error::Other(format!("{}: {what}", self.spec.recipe_file.display()))
    }
}

/// The paths of resolved file inputs.
fn paths(files: &[FileInput]) -> Vec<PathBuf> {
    files.iter().map(|f| f.path.clone()).collect()
}

/// Build the package into `ctx.dirs.out`.
pub fn build(ctx: &mut StepCtx) -> Result<()> {
    match &ctx.spec.kind {
        KindSpec::Generic { build, install } => {
            let commands: Vec<String> = build.iter().chain(install).cloned().collect();
            generic::build(ctx, &commands)
        }
        KindSpec::Configured {
            system,
            conf_opts,
            autoreconf,
            make_opts,
        } => configured::build(
            ctx,
            &configured::Settings {
                system: *system,
                conf_opts,
                autoreconf: *autoreconf,
                make_opts,
            },
        ),
        KindSpec::Kconfig { .. } => kconfig::build(ctx),
        KindSpec::Linux { .. } => linux::build(ctx),
        KindSpec::UBoot { .. } => uboot::build(ctx),
        KindSpec::KernelModule { subdirs, make_opts } => module::build(ctx, subdirs, make_opts),
        KindSpec::LinuxHeaders => modtree::install_target(ctx),
        KindSpec::Python {
            python,
            platforms,
            site,
            ..
        } => {
            let (python, platforms, site) = (python.clone(), platforms.clone(), site.clone());
            python::build(ctx, &python, &platforms, &site)
        }
        KindSpec::ExternalToolchain { .. } => toolchain::build(ctx),
    }
}

/// Whether the kind is configured by Kconfig (has `<pkg>-menuconfig`).
pub fn is_kconfig(kind: &KindSpec) -> bool {
    matches!(
        kind,
        KindSpec::Kconfig { .. } | KindSpec::Linux { .. } | KindSpec::UBoot { .. }
    )
}

/// The base config files and the fragments of a Kconfig-configured kind.
pub fn config_files(kind: &KindSpec) -> (&[FileInput], &[FileInput]) {
    match kind {
        KindSpec::Linux {
            config_file,
            fragments,
            ..
        }
        | KindSpec::UBoot {
            config_file,
            fragments,
            ..
        } => (config_file, fragments),
        KindSpec::Kconfig {
            config, fragments, ..
        } => (config, fragments),
        _ => (&[], &[]),
    }
}

/// The package's own make command line.
pub fn make_command(ctx: &StepCtx) -> String {
    match &ctx.spec.kind {
        KindSpec::Linux { .. } => linux::make_command(ctx),
        KindSpec::UBoot { .. } => uboot::make_command(ctx),
        _ => kconfig::make_command(ctx),
    }
}

/// Write and resolve the work tree's `.config` from the files.
pub fn configure(ctx: &mut StepCtx) -> Result<String> {
    match &ctx.spec.kind {
        KindSpec::Linux { .. } => linux::configure(ctx),
        KindSpec::UBoot { .. } => uboot::configure(ctx),
        _ => kconfig::configure(ctx),
    }
}

/// Whether the package's kconfig has `savedefconfig` (BusyBox's has not).
pub fn has_savedefconfig(kind: &KindSpec) -> bool {
    matches!(kind, KindSpec::Linux { .. } | KindSpec::UBoot { .. })
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
