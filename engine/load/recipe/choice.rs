//! A recipe's source choice (Buildroot's "Kernel version" choice): one
//! `Source::Choice` stands for four ways to get the source — a release
//! version checked against the package folder's hash file, a custom
//! tarball URL with its sha256, a Git repository at a commit, or a path on
//! this machine — and declares the options that pick one, named from its
//! prefix. Owns those options (names, types, defaults, help texts) and the
//! load-time checks of the choice.

use super::hashfile::HashFile;
use super::{Loaded, RecipeError, Source};
use crate::load::config::{Common, OptionDecl};
use std::collections::BTreeMap;
use std::path::PathBuf;
use thiserror::Error;

/// Why the options of a package's source do not give a source.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error(
        "{option}={version:?}: {} knows no such release of {package} ({file} is not listed); \
         known versions: {}. Add its sha256 line there, or pick a listed version",
        hash_file.display(),
        known.join(", ")
    )]
    UnknownRelease {
        package: String,
        option: String,
        version: String,
        file: String,
        hash_file: PathBuf,
        known: Vec<String>,
    },
    #[error("{package}: {needs} is empty; set it ({why})")]
    Missing {
        package: String,
        needs: String,
        why: String,
    },
    #[error("{package}: {option}: {message}")]
    BadValue {
        package: String,
        option: String,
        message: String,
    },
    #[error("{package}: source ({what}): {} does not exist on this machine", path.display())]
    NoSuchPath {
        package: String,
        what: String,
        path: PathBuf,
    },
}

/// The values `<PREFIX>_SOURCE` may take, in menu order.
pub const KINDS: [&str; 4] = ["version", "tarball", "git", "local"];

/// The option names of a choice with prefix `p`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceNames {
    pub source: String,
    pub version: String,
    pub tarball_url: String,
    pub tarball_sha256: String,
    pub git_url: String,
    pub git_commit: String,
    pub git_submodules: String,
    pub path: String,
}

impl ChoiceNames {
    pub fn new(p: &str) -> ChoiceNames {
        ChoiceNames {
            source: format!("{p}_SOURCE"),
            version: format!("{p}_VERSION"),
            tarball_url: format!("{p}_TARBALL_URL"),
            tarball_sha256: format!("{p}_TARBALL_SHA256"),
            git_url: format!("{p}_GIT_URL"),
            git_commit: format!("{p}_GIT_COMMIT"),
            git_submodules: format!("{p}_GIT_SUBMODULES"),
            path: format!("{p}_SOURCE_PATH"),
        }
    }

    pub fn all(&self) -> [&str; 8] {
        [
            &self.source,
            &self.version,
            &self.tarball_url,
            &self.tarball_sha256,
            &self.git_url,
            &self.git_commit,
            &self.git_submodules,
            &self.path,
        ]
    }
}

impl Source {
    /// The names of the options a source choice declares (none for the
    /// other sources). Their values enter a step's key through the source
    /// identity they give, not one by one.
    pub fn choice_options(&self) -> Vec<String> {
        match self {
            Source::Choice { prefix, .. } => ChoiceNames::new(prefix)
                .all()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The last path segment of a URL template: the file name of a release.
pub fn url_file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Declare the choice's options in the recipe's `options`, after checking
/// the choice (the hash file parses and lists the default version; the
/// release URL names `${<PREFIX>_VERSION}`).
pub(super) fn declare(l: &mut Loaded) -> Result<(), RecipeError> {
    let Source::Choice {
        prefix,
        menu,
        default,
        version,
        url,
        hash_file,
        local,
    } = &l.recipe.source
    else {
        return Ok(());
    };
    let invalid = |needle: &str, message: String| RecipeError::Invalid {
        location: l.locate(needle),
        message,
    };
    let n = ChoiceNames::new(prefix);
    if !KINDS.contains(&default.as_str()) {
        return Err(invalid(
            &format!("\"{default}\""),
            format!(
                "field `default`: {default:?} is not one of {}",
                KINDS.join(", ")
            ),
        ));
    }
    let placeholder = format!("${{{}}}", n.version);
    if !url_file_name(url).contains(&placeholder) {
        return Err(invalid(
            url,
            format!("field `url`: the file name must contain {placeholder}, the release version"),
        ));
    }
    let hashes = HashFile::load(&l.dir.join(hash_file)).map_err(|e| {
        invalid(
            &format!("\"{hash_file}\""),
            format!("field `hash_file`: {e}"),
        )
    })?;
    let (pre, post) = url_file_name(url)
        .split_once(&placeholder)
        .unwrap_or_default();
    let known = hashes.versions(pre, post);
    if !known.contains(&version.as_str()) {
        return Err(invalid(
            &format!("\"{version}\""),
            format!(
                "field `version`: {version} is not listed in {} (it lists {})",
                hashes.path.display(),
                known.join(", ")
            ),
        ));
    }
    let menu = menu.clone().or_else(|| Some("Packages".into()));
    let common = |help: String, depends: &[&str]| Common {
        help,
        prompt: None,
        menu: menu.clone(),
        depends: depends.iter().map(|d| d.to_string()).collect(),
    };
    let on = |kind: &str| format!("{}={kind}", n.source);
    let str_opt = |default: &str, help: String, kind: &str| OptionDecl::Str {
        default: default.to_string(),
        common: common(help, &[&on(kind)]),
    };
    let hash_path = l.dir.join(hash_file);
    let name = &l.recipe.name;
    let decls: BTreeMap<String, OptionDecl> = [
        (
            n.source.clone(),
            OptionDecl::Choice {
                choices: KINDS.iter().map(|k| k.to_string()).collect(),
                default: default.clone(),
                common: common(
                    format!(
                        "Where the {name} source comes from: version, a release listed in {} \
                         ({}); tarball, a URL with its sha256 ({}, {}); git, a repository at a \
                         commit ({}, {}); local, a tarball or directory on this machine ({}).",
                        hash_path.display(),
                        n.version,
                        n.tarball_url,
                        n.tarball_sha256,
                        n.git_url,
                        n.git_commit,
                        n.path
                    ),
                    &[],
                ),
            },
        ),
        (
            n.version.clone(),
            str_opt(
                version,
                format!(
                    "Release of {name} to build, one of those listed in {}: {}. It is \
                     downloaded from {url} (mirrors first) and checked against that sha256.",
                    hash_path.display(),
                    known.join(", ")
                ),
                "version",
            ),
        ),
        (
            n.tarball_url.clone(),
            str_opt(
                "",
                format!(
                    "URL of a {name} source tarball (http, https or file). A file:// URL \
                     with no {} is used like a local path.",
                    n.tarball_sha256
                ),
                "tarball",
            ),
        ),
        (
            n.tarball_sha256.clone(),
            str_opt(
                "",
                format!("sha256 of the tarball {} names.", n.tarball_url),
                "tarball",
            ),
        ),
        (
            n.git_url.clone(),
            str_opt("", format!("Git repository of the {name} source."), "git"),
        ),
        (
            n.git_commit.clone(),
            str_opt(
                "",
                "Full commit id (40 hex digits) to build. A branch or tag is resolved \
                 once, with a warning, and replaced by its commit in the output \
                 directory's .config; forge savedefconfig writes it to the board file."
                    .to_string(),
                "git",
            ),
        ),
        (
            n.git_submodules.clone(),
            OptionDecl::Bool {
                default: false,
                select: Vec::new(),
                common: common(
                    "Also fetch the repository's submodules (recursively).".into(),
                    &[&on("git")],
                ),
            },
        ),
        (
            n.path.clone(),
            str_opt(
                local,
                format!("A {name} source tarball or directory on this machine."),
                "local",
            ),
        ),
    ]
    .into_iter()
    .collect();
    if let Some(opt) = decls.keys().find(|o| l.recipe.options.contains_key(*o)) {
        return Err(invalid(
            &format!("\"{opt}\""),
            format!(
                "option {opt} is declared by the source choice `{prefix}`; remove this declaration"
            ),
        ));
    }
    l.recipe.options.extend(decls);
    Ok(())
}

/// Whether `s` is a full Git commit id (40 hex digits).
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `NAME` when `s` is exactly `${NAME}`.
pub fn whole_option(s: &str) -> Option<&str> {
    let name = s.strip_prefix("${")?.strip_suffix('}')?;
    (!name.is_empty() && !name.contains(['$', '{', '}'])).then_some(name)
}
