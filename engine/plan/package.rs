//! Resolving a package step's spec from its recipe and the option values:
//! `${…}` expanded, the files its fields and `Path` options name found and
//! digested, its patches (the recipe's, then `GLOBAL_PATCH_DIR`'s for it),
//! the source's identity established (in `source`), and the cross compiler
//! of a toolchain found on PATH.

use super::Resolver;
use crate::error::{Error, Result};
use crate::key::{expand, referenced_options};
use crate::load::config::OptionDecl;
use crate::load::project::sorted_entries;
use crate::load::recipe::{Kind, Loaded, Source};
use crate::spec::{
    BuildSystem, EnvImage, FileInput, KindSpec, PackageEnv, PackageSpec, SourceId,
    UBootSettingError, kernel_arch, parse_env_size,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The option naming directories of patches for any package.
pub const GLOBAL_PATCH_DIR: &str = "GLOBAL_PATCH_DIR";

impl Resolver<'_> {
    /// The spec of `host-<l>`: the package built for the build machine,
    /// with the host compiler, into `host/`. Nothing of the target (its
    /// architecture, its cross toolchain) is in it, so one build serves
    /// every board.
    pub fn host_package(&self, l: &Loaded) -> Result<PackageSpec> {
        let mut spec = self.package(l)?;
        spec.name = format!("host-{}", l.recipe.name);
        spec.env = PackageEnv {
            arch: String::new(),
            cross_compile: String::new(),
            host: true,
            ..spec.env
        };
        Ok(spec)
    }

    /// The spec of the package `l`.
    pub fn package(&self, l: &Loaded) -> Result<PackageSpec> {
        let r = &l.recipe;
        // A source choice's options enter the key through the identity
        // they give (a hash, a tree id), not one by one.
        let by_identity = r.source.choice_options();
        let source_field = match r.source {
            Source::Choice { .. } => serde_json::Value::Null,
            _ => serde_json::json!(r.source),
        };
        let fields = serde_json::json!({
            "source": source_field, "patches": r.patches, "kind": r.kind,
        })
        .to_string();
        let mut names: Vec<&str> = referenced_options(&fields, self.values);
        names.extend(
            r.options
                .keys()
                .map(String::as_str)
                .filter(|n| !by_identity.iter().any(|b| b == n)),
        );
        names.sort_unstable();
        names.dedup();
        let options: BTreeMap<String, String> = names
            .iter()
            .map(|n| (n.to_string(), self.value(n)))
            .collect();
        let mut option_files = Vec::new();
        for name in &names {
            if let Some(d) = self.project.schema.options.get(*name)
                && matches!(d.decl, OptionDecl::Path { .. })
            {
                option_files.extend(self.option_paths(name)?);
            }
        }
        let override_dir = self.overrides.get(&r.name);
        let (source, release) = match override_dir {
            Some(dir) => (
                SourceId::Override {
                    dir: self.input("OVERRIDE_SRCDIR", dir.clone())?,
                },
                None,
            ),
            None => self.source(l)?,
        };
        let version = release.unwrap_or_else(|| r.version.clone());
        let mut patches = r
            .patches
            .iter()
            .map(|p| self.input(p, l.dir.join(p)))
            .collect::<Result<Vec<_>>>()?;
        patches.extend(self.global_patches(&r.name, &version)?);
        let kind = self.kind(l)?;
        let keep_work_tree = kind.keeps_work_tree() || override_dir.is_some();
        Ok(PackageSpec {
            name: r.name.clone(),
            version,
            strip_components: r.strip_components.unwrap_or(match r.source {
                Source::Deb { .. } => 0,
                _ => 1,
            }),
            source,
            patches,
            options,
            option_files,
            package_dir: self.input("package folder", l.dir.clone())?,
            env: PackageEnv {
                arch: kernel_arch(&self.value("TARGET_ARCH")).to_string(),
                cross_compile: self.value("TOOLCHAIN_EXTERNAL_PREFIX"),
                source_date_epoch: self.value("SOURCE_DATE_EPOCH").parse().unwrap_or(0),
                paths: self.paths.to_string(),
                host: false,
            },
            kind,
            keep_work_tree,
            recipe_file: l.file.clone(),
        })
    }

    /// The patches `GLOBAL_PATCH_DIR` holds for the package `name` at
    /// `version`: for each directory in order, its `<name>/*.patch`, then
    /// its `<name>/<version>/*.patch` when that folder exists, each sorted
    /// by file name. A directory of the option that does not exist is an
    /// error (located at the line that set it by the caller). Each file
    /// input is named `GLOBAL_PATCH_DIR <dir>/<name>/…` as the option
    /// spells the directory, so moving the tree keeps the key.
    fn global_patches(&self, name: &str, version: &str) -> Result<Vec<FileInput>> {
        let mut found = Vec::new();
        for dir in self.value(GLOBAL_PATCH_DIR).split_whitespace() {
            let root = self.project.resolve(dir);
            let problem = if !self.project.watch.probe(&root) {
                "does not exist"
            } else if !root.is_dir() {
                "is not a directory"
            } else {
                ""
            };
            if !problem.is_empty() {
                return Err(Error::BadOption {
                    option: GLOBAL_PATCH_DIR.to_string(),
                    at: None,
                    message: format!(
                        "{dir} {problem} (paths are relative to {} or an external tree)",
                        self.project.root.display()
                    ),
                });
            }
            for sub in [PathBuf::from(name), Path::new(name).join(version)] {
                let is_patch =
                    |p: &Path| p.extension().is_some_and(|e| e == "patch") && p.is_file();
                for file in sorted_entries(&self.project.watch, &root.join(&sub), is_patch)? {
                    let file_name = file.file_name().unwrap_or_default().to_string_lossy();
                    let label = format!(
                        "{GLOBAL_PATCH_DIR} {}/{}/{file_name}",
                        dir.trim_end_matches('/'),
                        sub.display()
                    );
                    found.push(self.input(&label, file)?);
                }
            }
        }
        Ok(found)
    }

    /// `${OPTION}`, `${version}` and `${name}` expanded in a recipe string.
    pub(super) fn expand_in(&self, l: &Loaded, text: &str) -> String {
        expand(text, self.values, &l.variables())
    }

    fn kind(&self, l: &Loaded) -> Result<KindSpec> {
        let expand = |t: &str| self.expand_in(l, t);
        let expand_all = |v: &[String]| v.iter().map(|c| expand(c)).collect::<Vec<_>>();
        Ok(match &l.recipe.kind {
            Kind::Generic { build, install } => KindSpec::Generic {
                build: expand_all(build),
                install: expand_all(install),
            },
            Kind::Autotools {
                conf_opts,
                autoreconf,
                make_opts,
            } => KindSpec::Configured {
                system: BuildSystem::Autotools,
                conf_opts: expand(conf_opts).trim().to_string(),
                autoreconf: expand(autoreconf).trim() == "y",
                make_opts: expand(make_opts).trim().to_string(),
            },
            Kind::CMake { conf_opts } => KindSpec::Configured {
                system: BuildSystem::CMake,
                conf_opts: expand(conf_opts).trim().to_string(),
                autoreconf: false,
                make_opts: String::new(),
            },
            Kind::Meson { conf_opts } => KindSpec::Configured {
                system: BuildSystem::Meson,
                conf_opts: expand(conf_opts).trim().to_string(),
                autoreconf: false,
                make_opts: String::new(),
            },
            Kind::Kconfig {
                defconfig,
                config,
                fragments,
                make_opts,
                install,
            } => KindSpec::Kconfig {
                defconfig: expand(defconfig).trim().to_string(),
                config: self.recipe_files(l, &expand(config))?,
                fragments: self.recipe_files(l, &expand(fragments))?,
                make_opts: expand(make_opts),
                install: install.clone(),
            },
            Kind::Linux {
                defconfig,
                config_file,
                fragments,
                image,
                dts,
                install_target,
                make_opts,
            } => KindSpec::Linux {
                defconfig: expand(defconfig).trim().to_string(),
                config_file: self.recipe_files(l, &expand(config_file))?,
                fragments: self.recipe_files(l, &expand(fragments))?,
                image: expand(image).trim().to_string(),
                dts: expand(dts).split_whitespace().map(str::to_string).collect(),
                install_target: expand(install_target).trim() == "y",
                make_opts: expand(make_opts),
            },
            Kind::UBoot {
                defconfig,
                config_file,
                fragments,
                files,
                env_image,
                env_source,
                env_size,
                env_redundant,
                boot_script,
                boot_script_source,
                make_opts,
            } => {
                let recipe = l.file.display().to_string();
                let mut wanted: Vec<String> = files
                    .iter()
                    .filter(|(_, on)| expand(on).trim() == "y")
                    .flat_map(|(names, _)| {
                        expand(names)
                            .split_whitespace()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                wanted.sort();
                wanted.dedup();
                let env_image = if expand(env_image).trim() == "y" {
                    let mut sources = self.recipe_files(l, &expand(env_source))?;
                    match sources.len() {
                        0 => Err(UBootSettingError::EnvSourceMissing {
                            recipe: recipe.clone(),
                        })?,
                        1 => {}
                        count => Err(UBootSettingError::EnvSourceCount {
                            recipe: recipe.clone(),
                            count,
                        })?,
                    }
                    let size_text = expand(env_size);
                    let size =
                        parse_env_size(&size_text).ok_or_else(|| UBootSettingError::EnvSize {
                            recipe: recipe.clone(),
                            value: size_text.clone(),
                        })?;
                    Some(EnvImage {
                        source: sources.remove(0),
                        size,
                        redundant: expand(env_redundant).trim() == "y",
                    })
                } else {
                    None
                };
                let boot_script = if expand(boot_script).trim() == "y" {
                    let mut sources = self.recipe_files(l, &expand(boot_script_source))?;
                    match sources.len() {
                        0 => Err(UBootSettingError::BootScriptMissing {
                            recipe: recipe.clone(),
                        })?,
                        1 => {}
                        count => Err(UBootSettingError::BootScriptCount { recipe, count })?,
                    }
                    Some(sources.remove(0))
                } else {
                    None
                };
                let defconfig = expand(defconfig).trim().to_string();
                KindSpec::UBoot {
                    defconfig: if defconfig.is_empty() || defconfig.ends_with("_defconfig") {
                        defconfig
                    } else {
                        format!("{defconfig}_defconfig")
                    },
                    config_file: self.recipe_files(l, &expand(config_file))?,
                    fragments: self.recipe_files(l, &expand(fragments))?,
                    files: wanted,
                    env_image,
                    boot_script,
                    make_opts: expand(make_opts),
                }
            }
            Kind::KernelModule { subdirs, make_opts } => KindSpec::KernelModule {
                subdirs: expand(subdirs)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                make_opts: expand(make_opts).trim().to_string(),
            },
            Kind::LinuxHeaders {} => KindSpec::LinuxHeaders,
            Kind::Python {
                python,
                glibc,
                site,
            } => {
                let python = expand(python).trim().to_string();
                let located = |msg: String| Error::Other(format!("{}: {msg}", l.locate("Python(")));
                if python.split('.').count() != 2
                    || !python
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(located(format!(
                        "python `{python}` is not a version such as \"3.11\""
                    )));
                }
                let arch = self
                    .values
                    .get("TARGET_ARCH")
                    .map(|v| v.as_text())
                    .unwrap_or_default();
                let platforms = crate::sources::pypi::platform_tags(&arch, expand(glibc).trim())
                    .map_err(located)?;
                let site = expand(site).trim().to_string();
                if !site.starts_with('/') || site.split('/').any(|c| c == "..") {
                    return Err(located(format!(
                        "site `{site}` is not an absolute path in the target"
                    )));
                }
                if !matches!(l.recipe.source, crate::load::recipe::Source::PyPI { .. }) {
                    return Err(located("the Python kind installs a PyPI source: set `source: PyPI(requirements: \"…\")`".into()));
                }
                let pip = std::path::PathBuf::from(crate::sources::pypi::PIP_VERSION_FILE);
                if !self.project.watch.is_file(&pip) {
                    return Err(Error::ToolMissing {
                        tool: "Debian's pip (/usr/bin/python3 -m pip)".into(),
                        hint: "install it: apt-get install python3-pip".into(),
                    });
                }
                KindSpec::Python {
                    python,
                    platforms,
                    site,
                    pip: self.input("pip", pip)?,
                }
            }
            Kind::ExternalToolchain { prefix, runtime } => {
                let prefix = expand(prefix);
                let gcc = format!("{prefix}gcc");
                // The directories of PATH are stamped by the caller
                // (`run/noop`), so a compiler appearing earlier is seen.
                let path = which::which(&gcc).map_err(|_| missing_compiler(&gcc))?;
                KindSpec::ExternalToolchain {
                    prefix,
                    runtime: runtime.clone(),
                    compiler: FileInput {
                        digest: self.stats.path(&path)?,
                        name: gcc,
                        path,
                    },
                }
            }
        })
    }

    /// Files named (space-separated) by a recipe field: each relative to
    /// the package folder if it exists there, else to the project trees.
    pub(super) fn recipe_files(&self, l: &Loaded, field: &str) -> Result<Vec<FileInput>> {
        field
            .split_whitespace()
            .map(|f| {
                let in_pkg = l.dir.join(f);
                let p = if self.project.watch.is_file(&in_pkg) {
                    in_pkg
                } else {
                    self.project.resolve(f)
                };
                if !p.is_file() {
                    return Err(Error::Other(format!(
                        "{}: {f} does not exist (looked in {} and the project trees)",
                        l.file.display(),
                        l.dir.display()
                    )));
                }
                self.input(f, p)
            })
            .collect()
    }
}

/// The error for a cross compiler that is not on PATH.
pub fn missing_compiler(gcc: &str) -> Error {
    Error::ToolMissing {
        tool: format!("cross compiler {gcc}"),
        hint: format!(
            "install it (on Debian: apt-get install gcc-{}) or set TOOLCHAIN_EXTERNAL_PREFIX",
            gcc.trim_end_matches("-gcc").replace('_', "-")
        ),
    }
}
