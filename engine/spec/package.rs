//! The spec of a package step: the recipe's fields with `${…}` expanded,
//! the source's identity, the option values it reads, the files those
//! options and fields name (with digests), and the environment's keyed
//! part (architecture, cross prefix, SOURCE_DATE_EPOCH, fixed or real paths).

use super::FileInput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageSpec {
    pub name: String,
    pub version: String,
    pub kind: KindSpec,
    pub source: SourceId,
    /// Leading path components dropped when extracting.
    pub strip_components: usize,
    /// Patch files applied in order: the recipe's (in the package folder),
    /// then those `GLOBAL_PATCH_DIR` holds for this package and version.
    pub patches: Vec<FileInput>,
    /// Values of the options the recipe reads: its `${…}` references and
    /// its own options.
    pub options: BTreeMap<String, String>,
    /// Files the `Path` options among them name.
    pub option_files: Vec<FileInput>,
    /// The package folder: data files the commands read through `$PKG_DIR`.
    pub package_dir: FileInput,
    pub env: PackageEnv,
    /// Whether the work tree is kept between builds (incremental rebuilds).
    pub keep_work_tree: bool,
    /// The recipe file, for diagnostics. Not keyed: its fields are.
    #[serde(skip)]
    pub recipe_file: PathBuf,
}

/// The keyed part of a package step's environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackageEnv {
    /// Kernel-style architecture (`ARCH`).
    pub arch: String,
    /// Cross tool prefix (`CROSS_COMPILE`, `CC`, …).
    pub cross_compile: String,
    pub source_date_epoch: i64,
    /// Where the step's commands run ([`crate::exec::sandbox::Paths::key`]):
    /// at fixed paths without network, or at their real paths.
    pub paths: String,
    /// Built for the build machine (`host-<pkg>`): the host compiler,
    /// installed into `host/`; `arch` and `cross_compile` are empty.
    pub host: bool,
}

/// Where the source comes from, as its identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SourceId {
    None,
    /// A download checked against its sha256. Where it is downloaded from
    /// (the URL and the mirrors) is not keyed: the hash names the content.
    Url {
        sha256: String,
        file_name: String,
        #[serde(skip)]
        urls: Vec<String>,
        /// PRIMARY_SITE and BACKUP_SITE as set, for the message when
        /// every URL failed.
        #[serde(skip)]
        sites: Sites,
    },
    /// A file or tree on this machine, by content.
    Local {
        file: FileInput,
    },
    /// A Debian package; `identity` is what apt resolves it to (version and
    /// published sha256), or the pinned version.
    Deb {
        package: String,
        arch: String,
        version: Option<String>,
        identity: String,
    },
    /// A Git repository at a commit. The identity is the commit's tree id
    /// (git's content hash of the tree, submodule commits included), so
    /// the same tree from another repository, commit or clone has the same
    /// key; where it is fetched from and which commit names it are
    /// locations.
    Git {
        tree: String,
        submodules: bool,
        #[serde(skip)]
        url: String,
        #[serde(skip)]
        commit: String,
    },
    /// Python distributions from PyPI: the requirements lock by content
    /// (every distribution's version and sha256 are in it).
    PyPI {
        requirements: FileInput,
    },
    /// A local tree replacing the recipe's source (OVERRIDE_SRCDIR).
    Override {
        dir: FileInput,
    },
}

/// The mirrors a download may come from (Buildroot's BR2_PRIMARY_SITE and
/// BR2_BACKUP_SITE); empty when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sites {
    pub primary: String,
    pub backup: String,
}

/// The build systems whose cross conventions forge knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuildSystem {
    Autotools,
    CMake,
    Meson,
}

/// The build kind with its fields expanded and its files resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KindSpec {
    Generic {
        build: Vec<String>,
        install: Vec<String>,
    },
    /// A package built by its own build system (`kinds/configured`).
    Configured {
        system: BuildSystem,
        conf_opts: String,
        /// Autotools only: `autoreconf -fi` first.
        autoreconf: bool,
        make_opts: String,
    },
    Kconfig {
        /// make target giving the base configuration, when `config` is empty.
        defconfig: String,
        config: Vec<FileInput>,
        fragments: Vec<FileInput>,
        make_opts: String,
        install: String,
    },
    Linux {
        defconfig: String,
        config_file: Vec<FileInput>,
        fragments: Vec<FileInput>,
        image: String,
        dts: Vec<String>,
        /// Install the image and device trees into the target's `/boot`.
        install_target: bool,
        make_opts: String,
    },
    UBoot {
        /// In-tree board defconfig target (with `_defconfig`), when
        /// `config_file` is empty.
        defconfig: String,
        config_file: Vec<FileInput>,
        fragments: Vec<FileInput>,
        /// Files of the build tree installed into `images/` (their paths
        /// there, e.g. `u-boot.bin`, `spl/sunxi-spl.bin`).
        files: Vec<String>,
        env_image: Option<super::EnvImage>,
        /// `boot.cmd` compiled into `images/boot.scr`.
        boot_script: Option<FileInput>,
        make_opts: String,
    },
    /// An out-of-tree kernel module (`kinds/module`).
    KernelModule {
        /// Folders of the source with a Kbuild file; empty: the top.
        subdirs: Vec<String>,
        make_opts: String,
    },
    /// The module build tree for the target (`kinds/modtree`).
    LinuxHeaders,
    /// Wheels installed with pip for the target's Python (`kinds/python`).
    Python {
        /// `--python-version`, e.g. `3.11`.
        python: String,
        /// `--platform` tags, most specific first (`manylinux_2_36_x86_64`
        /// … `manylinux1_x86_64`), from the target and its glibc.
        platforms: Vec<String>,
        /// Where the distributions go in the target.
        site: String,
        /// The pip that installs them (its version file): it writes the
        /// installed metadata.
        pip: FileInput,
    },
    ExternalToolchain {
        prefix: String,
        runtime: Vec<String>,
        /// `<prefix>gcc` as found on PATH.
        compiler: FileInput,
    },
}

impl KindSpec {
    /// Whether the kind keeps its work tree between builds of changed keys.
    pub fn keeps_work_tree(&self) -> bool {
        matches!(self, KindSpec::Linux { .. } | KindSpec::UBoot { .. })
    }
}

/// Kernel-style architecture name for a `TARGET_ARCH` value.
pub fn kernel_arch(target_arch: &str) -> &str {
    match target_arch {
        "aarch64" => "arm64",
        "x86_64" => "x86",
        other => other,
    }
}
