//! Recipes: the RON schema of `packages/<pkg>/<pkg>.ron`, loading, and
//! diagnostics that point at the file, line and column of a bad field.

use crate::load::config::OptionDecl;
use crate::location::Location;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub mod choice;
pub mod hashfile;
pub mod vars;

use choice::{is_commit_id, whole_option};

/// One package recipe, as written in RON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub license: Vec<String>,
    /// The source's license texts (paths in the unpacked source) with
    /// their sha256, like Buildroot's `.hash` lines for license files:
    /// `forge legal-info` collects them and refuses one whose text changed.
    #[serde(default)]
    pub license_files: BTreeMap<String, String>,
    #[serde(default)]
    pub source: Source,
    /// Leading path components dropped when extracting (default: 1 for
    /// tarballs, 0 for Debian packages).
    #[serde(default)]
    pub strip_components: Option<usize>,
    /// Patch files in the package folder, applied in order with `patch -p1`.
    #[serde(default)]
    pub patches: Vec<String>,
    /// Packages this one needs; they are selected with it.
    #[serde(default)]
    pub depends: Vec<String>,
    /// Packages whose files this one may replace in the root filesystem
    /// (otherwise a file two packages install differently is an error).
    #[serde(default)]
    pub replaces: Vec<String>,
    /// Options this package declares.
    #[serde(default)]
    pub options: BTreeMap<String, OptionDecl>,
    /// The bool option selecting the package (default `PACKAGE_<NAME>`).
    #[serde(default)]
    pub enabled_by: Option<String>,
    /// A makedevs-format table in the package folder (owners, modes, device nodes).
    #[serde(default)]
    pub device_table: Option<String>,
    /// A users table (Buildroot's makeusers format) in the package folder:
    /// the accounts the package needs.
    #[serde(default)]
    pub users_table: Option<String>,
    /// Debian packages this one needs in a Debian root filesystem
    /// (`DEBIAN_ROOTFS`): added to the board's `DEBIAN_PACKAGES`.
    #[serde(default)]
    pub debian_packages: Vec<String>,
    pub kind: Kind,
}

/// Where a package's source comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Source {
    /// Nothing to fetch (the package folder is the source).
    #[default]
    None,
    /// A download, checked against its sha256.
    Url {
        url: String,
        sha256: String,
        #[serde(default)]
        file_name: Option<String>,
    },
    /// A file (archive) or directory already on this machine; its content
    /// digest enters the key.
    Local { path: String },
    /// A Debian binary package for the target architecture.
    Deb {
        package: String,
        arch: String,
        #[serde(default)]
        version: Option<String>,
    },
    /// A Git repository at a commit (40 hex digits); the identity is the
    /// commit's tree. A branch or tag is allowed only as `${OPTION}`, which
    /// is then pinned (see `sources::git`).
    Git {
        url: String,
        commit: String,
        #[serde(default)]
        submodules: bool,
    },
    /// Python distributions from PyPI, pinned with their sha256 by a
    /// requirements lock (pip's hash-checking mode; package-relative or
    /// project-relative): downloaded once into `dl/<package>/`, installed
    /// by the `Python` kind without network.
    PyPI { requirements: String },
    /// Buildroot's four ways to get a source, picked by options named from
    /// `prefix` (see [`choice`]): a release `version` of the hash file
    /// `hash_file` in the package folder, downloaded from `url` (which
    /// names `${<PREFIX>_VERSION}`); a tarball; Git; a `local` path.
    Choice {
        prefix: String,
        #[serde(default)]
        menu: Option<String>,
        /// The default way: `version`, `tarball`, `git` or `local`.
        #[serde(default = "default_choice")]
        default: String,
        /// The default release version.
        version: String,
        url: String,
        hash_file: String,
        /// The default local path.
        #[serde(default)]
        local: String,
    },
}

fn default_choice() -> String {
    "version".into()
}

/// The build kind: which of forge's built-in procedures builds the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Kind {
    /// Shell commands, run in the source tree.
    Generic {
        #[serde(default)]
        build: Vec<String>,
        #[serde(default)]
        install: Vec<String>,
    },
    /// GNU autotools: `./configure` for the target (`--host`, `--build`,
    /// `--prefix=/usr`, `--sysconfdir=/etc`, `--localstatedir=/var`, then
    /// `conf_opts`), `make`, `make install` into staging and the target.
    Autotools {
        /// Further `configure` arguments (space-separated, shell words).
        #[serde(default)]
        conf_opts: String,
        /// `y` to run `autoreconf -fi` first (a Git snapshot without
        /// `configure`, or patches to `configure.ac`).
        #[serde(default)]
        autoreconf: String,
        #[serde(default)]
        make_opts: String,
    },
    /// CMake with a toolchain file forge writes (the cross compiler, the
    /// step's sysroot as the only find root), `CMAKE_BUILD_TYPE=Release`,
    /// built with make under the build's jobserver.
    CMake {
        /// Further `cmake` arguments (`-DNAME=VALUE` …).
        #[serde(default)]
        conf_opts: String,
    },
    /// Meson with a cross file forge writes, `meson setup`, `compile`,
    /// `install` with `DESTDIR`.
    Meson {
        /// Further `meson setup` arguments (`-Dname=value` …).
        #[serde(default)]
        conf_opts: String,
    },
    /// A make-based package configured by a Kconfig `.config` (BusyBox).
    Kconfig {
        /// make target giving the base configuration (e.g. `defconfig`),
        /// used when `config` is empty.
        #[serde(default)]
        defconfig: String,
        /// Base `.config` file (package-relative or project-relative).
        #[serde(default)]
        config: String,
        /// Space-separated fragments merged on top, in order.
        #[serde(default)]
        fragments: String,
        #[serde(default)]
        make_opts: String,
        /// make target that installs into `$TARGET_DIR`.
        #[serde(default = "default_install_target")]
        install: String,
    },
    /// The Linux kernel.
    Linux {
        /// In-tree defconfig name (e.g. `vexpress_defconfig`), used when
        /// `config_file` is empty.
        #[serde(default)]
        defconfig: String,
        /// A config file (minimal or full), used instead of `defconfig`.
        #[serde(default)]
        config_file: String,
        /// Space-separated fragments merged on top, in order.
        #[serde(default)]
        fragments: String,
        /// Kernel image target: `zImage`, `Image`, `uImage`.
        image: String,
        /// Space-separated in-tree device tree names, without `.dtb`.
        #[serde(default)]
        dts: String,
        /// `y` to install the image and device trees into `/boot` of the
        /// target (Buildroot's `BR2_LINUX_KERNEL_INSTALL_TARGET`).
        #[serde(default)]
        install_target: String,
        #[serde(default)]
        make_opts: String,
    },
    /// Das U-Boot: configured like the kernel, its binaries installed into
    /// `images/`, plus an environment image and a boot script when asked.
    UBoot {
        /// In-tree board defconfig (`qemu_arm64` or `qemu_arm64_defconfig`),
        /// used when `config_file` is empty.
        #[serde(default)]
        defconfig: String,
        /// A config file (minimal or full), used instead of `defconfig`.
        #[serde(default)]
        config_file: String,
        /// Space-separated fragments merged on top, in order.
        #[serde(default)]
        fragments: String,
        /// Output files (space-separated names relative to the build tree)
        /// → the value that enables them: installed when it is `y`.
        #[serde(default)]
        files: BTreeMap<String, String>,
        /// Environment image: `y` to make one from `env_source`.
        #[serde(default)]
        env_image: String,
        /// The environment as text, one `name=value` a line.
        #[serde(default)]
        env_source: String,
        /// Size of the environment image in bytes (decimal or 0x hex).
        #[serde(default)]
        env_size: String,
        /// `y` for a redundant environment (a flag byte per copy).
        #[serde(default)]
        env_redundant: String,
        /// Boot script: `y` to compile `boot_script_source` into `boot.scr`.
        #[serde(default)]
        boot_script: String,
        #[serde(default)]
        boot_script_source: String,
        #[serde(default)]
        make_opts: String,
    },
    /// An out-of-tree kernel module built against the `linux` step's module
    /// build tree (the recipe depends on `linux`), installed into
    /// `/lib/modules/<release>/updates`.
    KernelModule {
        /// Space-separated folders of the source holding a Kbuild file,
        /// relative to it; empty for the top.
        #[serde(default)]
        subdirs: String,
        /// Further make arguments (e.g. `CONFIG_FOO=m`).
        #[serde(default)]
        make_opts: String,
    },
    /// The kernel's module build tree installed into the target as
    /// `/usr/src/linux-headers-<release>` (with `/lib/modules/<release>/build`
    /// pointing to it), its programs rebuilt for the target, so modules
    /// build on the board itself.
    LinuxHeaders {},
    /// Python distributions (the `PyPI` source's wheels) installed into the
    /// target's Python with pip, without network and without dependency
    /// resolution: the lock names every distribution.
    Python {
        /// The target's Python version, `3.11`: which wheels fit.
        python: String,
        /// The target C library's glibc version, `2.36`: the newest
        /// `manylinux` wheels that fit.
        #[serde(default = "default_glibc")]
        glibc: String,
        /// Where the distributions go in the target.
        #[serde(default = "default_python_site")]
        site: String,
    },
    /// A prebuilt cross toolchain found on PATH.
    ExternalToolchain {
        /// Tool prefix, e.g. `arm-linux-gnueabihf-`.
        prefix: String,
        /// File name patterns of the C runtime copied into the target's /lib.
        runtime: Vec<String>,
    },
}

fn default_install_target() -> String {
    "install".into()
}

fn default_glibc() -> String {
    "2.36".into()
}

fn default_python_site() -> String {
    "/usr/lib/python3/dist-packages".into()
}

/// A recipe together with where it was loaded from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub recipe: Recipe,
    /// The `.ron` file.
    pub file: PathBuf,
    /// The package folder (patches, configs, data files).
    pub dir: PathBuf,
    /// The recipe text, for locating fields in later diagnostics.
    pub text: String,
}

impl Loaded {
    /// The bool option that selects this package.
    pub fn enabled_by(&self) -> String {
        self.recipe
            .enabled_by
            .clone()
            .unwrap_or_else(|| package_symbol(&self.recipe.name))
    }

    /// The location of the first occurrence of `needle` (e.g. a quoted
    /// dependency name) in the recipe, for diagnostics about a field's value.
    pub fn locate(&self, needle: &str) -> Location {
        locate_in(&self.file, &self.text, needle)
    }
}

/// `PACKAGE_<NAME>` with `-` and `.` turned into `_`.
pub fn package_symbol(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("PACKAGE_{upper}")
}

/// Find `needle` in `text` and return its location (line 1 col 1 if absent).
pub fn locate_in(file: &Path, text: &str, needle: &str) -> Location {
    match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = at - before.rfind('\n').map_or(0, |p| p + 1) + 1;
            Location::new(file, line, Some(col))
        }
        None => Location::new(file, 1, Some(1)),
    }
}

#[derive(Debug, Error)]
pub enum RecipeError {
    #[error("{0}: cannot read recipe: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    #[error(
        "{location}: recipe is named {found:?} but lives in the folder for {expected:?}; rename one so they match"
    )]
    NameMismatch {
        location: Location,
        found: String,
        expected: String,
    },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error(transparent)]
    Variable(#[from] vars::VarError),
    /// Boxed: it carries the versions a hash file knows.
    #[error(transparent)]
    Source(Box<choice::SourceError>),
}

impl From<choice::SourceError> for RecipeError {
    fn from(e: choice::SourceError) -> Self {
        RecipeError::Source(Box::new(e))
    }
}

/// Load one recipe file; its folder name must equal the recipe's name.
pub fn load(file: &Path) -> Result<Loaded, RecipeError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| RecipeError::Read(file.to_path_buf(), e))?;
    let recipe: Recipe = ron::Options::default().from_str(&text).map_err(|e| {
        let location = Location::new(file, e.span.start.line, Some(e.span.start.col));
        RecipeError::Syntax {
            location,
            message: describe_ron_error(&e.code),
        }
    })?;
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loaded = Loaded {
        recipe,
        file: file.to_path_buf(),
        dir,
        text,
    };
    let folder = loaded
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if folder != loaded.recipe.name {
        return Err(RecipeError::NameMismatch {
            location: loaded.locate(&format!("\"{}\"", loaded.recipe.name)),
            found: loaded.recipe.name.clone(),
            expected: folder,
        });
    }
    validate(&loaded)?;
    choice::declare(&mut loaded)?;
    Ok(loaded)
}

/// Checks that need the whole recipe: hashes, patch files, kind fields.
fn validate(l: &Loaded) -> Result<(), RecipeError> {
    let invalid = |needle: &str, message: String| RecipeError::Invalid {
        location: l.locate(needle),
        message,
    };
    if let Source::Url { sha256, .. } = &l.recipe.source
        && (sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(invalid(
            sha256,
            format!(
                "field `sha256`: {sha256:?} is not a sha256 (64 hex digits); copy the checksum the upstream project publishes"
            ),
        ));
    }
    if let Source::Git { commit, .. } = &l.recipe.source
        && !is_commit_id(commit)
        && whole_option(commit).is_none()
    {
        return Err(invalid(
            commit,
            format!(
                "field `commit`: {commit:?} is not a full commit id (40 hex digits); a branch \
                 or tag can only come from an option (`${{NAME}}`), where it is pinned"
            ),
        ));
    }
    for patch in &l.recipe.patches {
        if !l.dir.join(patch).is_file() {
            return Err(invalid(
                &format!("\"{patch}\""),
                format!(
                    "field `patches`: {patch} does not exist in {}",
                    l.dir.display()
                ),
            ));
        }
    }
    for (field, table) in [
        ("device_table", &l.recipe.device_table),
        ("users_table", &l.recipe.users_table),
    ] {
        if let Some(table) = table
            && !l.dir.join(table).is_file()
        {
            return Err(invalid(
                &format!("\"{table}\""),
                format!(
                    "field `{field}`: {table} does not exist in {}",
                    l.dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Turn ron's error codes into sentences that name the field at fault.
pub(crate) fn describe_ron_error(code: &ron::error::Error) -> String {
    use ron::error::Error as E;
    match code {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}; expected one of: {}",
            outer
                .as_deref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default(),
            expected.join(", ")
        ),
        E::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}",
            outer
                .as_deref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default()
        ),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown variant `{found}`{}; expected one of: {}",
            outer
                .as_deref()
                .map(|o| format!(" for {o}"))
                .unwrap_or_default(),
            expected.join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let pkg = dir.join(name);
        std::fs::create_dir_all(&pkg).unwrap();
        let file = pkg.join(format!("{name}.ron"));
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn loads_a_generic_recipe() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(
            tmp.path(),
            "hello",
            r#"Recipe(name: "hello", version: "1.0", license: ["MIT"], depends: ["toolchain-external"],
                kind: Generic(build: ["make"], install: ["make install DESTDIR=$TARGET_DIR"]))"#,
        );
        let l = load(&f).unwrap();
        assert_eq!(l.recipe.depends, vec!["toolchain-external"]);
        assert_eq!(l.enabled_by(), "PACKAGE_HELLO");
    }

    #[test]
    fn unknown_field_names_line_and_column() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(
            tmp.path(),
            "bad",
            "Recipe(\n  name: \"bad\",\n  version: \"1\",\n  dependz: [],\n  kind: Generic())\n",
        );
        let e = load(&f).unwrap_err().to_string();
        assert!(e.contains("bad.ron:4:"), "{e}");
        assert!(e.contains("unknown field `dependz`"), "{e}");
    }

    #[test]
    fn wrong_type_is_reported_with_position() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(
            tmp.path(),
            "bad",
            "Recipe(\n  name: \"bad\",\n  version: 3,\n  kind: Generic())\n",
        );
        let e = load(&f).unwrap_err().to_string();
        assert!(e.contains("bad.ron:3:"), "{e}");
    }

    #[test]
    fn bad_sha256_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(
            tmp.path(),
            "x",
            "Recipe(name: \"x\", version: \"1\",\n source: Url(url: \"file:///x.tar.gz\", sha256: \"abc\"),\n kind: Generic())",
        );
        let e = load(&f).unwrap_err().to_string();
        assert!(e.contains("x.ron:2:"), "{e}");
        assert!(e.contains("sha256"), "{e}");
    }

    const CHOICE: &str = "Recipe(name: \"k\", version: \"1\",\n source: Choice(prefix: \"K\", version: \"1.2\",\n url: \"https://x/k-${K_VERSION}.tar.xz\", hash_file: \"k.hash\"),\n kind: Generic())";

    fn hash_line(file: &str) -> String {
        format!("sha256  {}  {file}\n", "a".repeat(64))
    }

    #[test]
    fn a_source_choice_declares_its_options() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "k", CHOICE);
        std::fs::write(tmp.path().join("k/k.hash"), hash_line("k-1.2.tar.xz")).unwrap();
        let l = load(&f).unwrap();
        for opt in [
            "K_SOURCE",
            "K_VERSION",
            "K_TARBALL_URL",
            "K_TARBALL_SHA256",
            "K_GIT_URL",
            "K_GIT_COMMIT",
            "K_GIT_SUBMODULES",
            "K_SOURCE_PATH",
        ] {
            assert!(l.recipe.options.contains_key(opt), "{opt}");
        }
        assert_eq!(l.recipe.source.choice_options().len(), 8);
    }

    #[test]
    fn a_default_version_missing_from_the_hash_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "k", CHOICE);
        std::fs::write(tmp.path().join("k/k.hash"), hash_line("k-1.1.tar.xz")).unwrap();
        let e = load(&f).unwrap_err().to_string();
        assert!(e.contains("k.ron:2:"), "{e}");
        assert!(
            e.contains("1.2 is not listed") && e.contains("(it lists 1.1)"),
            "{e}"
        );
    }

    #[test]
    fn a_git_branch_written_in_a_recipe_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(
            tmp.path(),
            "g",
            "Recipe(name: \"g\", version: \"1\",\n source: Git(url: \"file:///r\", commit: \"main\"),\n kind: Generic())",
        );
        let e = load(&f).unwrap_err().to_string();
        assert!(
            e.contains("g.ron:2:") && e.contains("not a full commit id"),
            "{e}"
        );
    }
}
