//! A package's source identity at plan time: a local file's content, a
//! download's sha256 with the URLs to try (primary site, upstream, backup
//! site), what apt resolves a Debian package to, a Git commit's tree id,
//! and for a source choice (`Source::Choice`) whichever of those its
//! options pick — a release version looked up in the hash file, a tarball,
//! Git or a local path.

use super::Resolver;
use crate::error::{Error, Result};
use crate::load::recipe::choice::{ChoiceNames, SourceError, url_file_name, whole_option};
use crate::load::recipe::hashfile::HashFile;
use crate::load::recipe::{Loaded, RecipeError, Source};
use crate::sources::fetch::{candidates, parse_sha256};
use crate::sources::gitsource::GitRequest;
use crate::spec::{FileInput, Sites, SourceId};
use std::path::PathBuf;

impl Resolver<'_> {
    /// The source identity of `l`, and the release version when a source
    /// choice picked one.
    pub(super) fn source(&self, l: &Loaded) -> Result<(SourceId, Option<String>)> {
        let expand = |t: &str| self.expand_in(l, t);
        let id = match &l.recipe.source {
            Source::None => SourceId::None,
            Source::Url {
                url,
                sha256,
                file_name,
            } => {
                let url = expand(url);
                let name = file_name
                    .clone()
                    .unwrap_or_else(|| url_file_name(&url).to_string());
                self.download(l, &url, sha256.clone(), name)
            }
            Source::Local { path } => self.local(l, &expand(path), "Local")?,
            Source::Deb {
                package,
                arch,
                version,
            } => {
                let (package, arch) = (expand(package), expand(arch));
                // Unpinned: apt decides the version; its answer is
                // remembered until apt's package lists change.
                let identity = match version {
                    Some(v) => format!("{package}:{arch}={v}"),
                    None => {
                        let lists = std::path::Path::new(crate::sources::debsource::APT_LISTS);
                        self.project.watch.probe(lists);
                        self.debs.identity(&package, &arch)?
                    }
                };
                SourceId::Deb {
                    package,
                    arch,
                    version: version.clone(),
                    identity,
                }
            }
            Source::Git {
                url,
                commit,
                submodules,
            } => {
                let option = whole_option(commit).unwrap_or("commit");
                self.git(l, &expand(url), &expand(commit), *submodules, option)?
            }
            Source::PyPI { requirements } => {
                let expanded = expand(requirements);
                let mut files = self.recipe_files(l, &expanded)?;
                if files.len() != 1 {
                    return Err(Error::Other(format!(
                        "{}: name one requirements lock",
                        l.locate("PyPI(")
                    )));
                }
                let lock = files.remove(0);
                // Checked now, so a broken lock fails before anything runs.
                // (Stamped as a file input above.)
                let text =
                    std::fs::read_to_string(&lock.path).map_err(|e| Error::io(&lock.path, e))?;
                crate::sources::pypi::parse(&lock.path, &text)
                    .map_err(|e| Error::Other(e.to_string()))?;
                if !matches!(l.recipe.kind, crate::load::recipe::Kind::Python { .. }) {
                    return Err(Error::Other(format!(
                        "{}: a PyPI source is installed by the Python kind",
                        l.locate("PyPI(")
                    )));
                }
                SourceId::PyPI { requirements: lock }
            }
            Source::Choice {
                prefix,
                url,
                hash_file,
                ..
            } => return self.choice(l, &ChoiceNames::new(prefix), url, hash_file),
        };
        Ok((id, None))
    }

    fn choice(
        &self,
        l: &Loaded,
        n: &ChoiceNames,
        template: &str,
        hash_file: &str,
    ) -> Result<(SourceId, Option<String>)> {
        let v = |name: &str| self.value(name).trim().to_string();
        Ok(match v(&n.source).as_str() {
            "version" => {
                let version = v(&n.version);
                let url = self.expand_in(l, template);
                let file = url_file_name(&url).to_string();
                self.project.watch.probe(&l.dir.join(hash_file));
                let hashes =
                    HashFile::load(&l.dir.join(hash_file)).map_err(|e| RecipeError::Invalid {
                        location: l.locate(hash_file),
                        message: e.to_string(),
                    })?;
                let Some(sha256) = hashes.sha256_of(&file) else {
                    let (pre, post) = url_file_name(template)
                        .split_once(&format!("${{{}}}", n.version))
                        .unwrap_or_default();
                    return Err(RecipeError::from(SourceError::UnknownRelease {
                        package: l.recipe.name.clone(),
                        option: n.version.clone(),
                        known: hashes
                            .versions(pre, post)
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                        version,
                        file,
                        hash_file: hashes.path.clone(),
                    })
                    .into());
                };
                let id = self.download(l, &url, sha256.to_string(), file);
                (id, Some(version))
            }
            "tarball" => {
                let url = v(&n.tarball_url);
                let sha = v(&n.tarball_sha256);
                if url.is_empty() {
                    return Err(missing(
                        l,
                        &n.tarball_url,
                        format!("{}=\"tarball\"", n.source),
                    ));
                }
                let local = url
                    .strip_prefix("file://")
                    .or(url.starts_with('/').then_some(url.as_str()));
                match (sha.is_empty(), local) {
                    (true, Some(path)) => (self.local(l, path, &n.tarball_url)?, None),
                    (true, None) => {
                        return Err(missing(
                            l,
                            &n.tarball_sha256,
                            format!(
                                "{url} is a download, and forge checks every download's sha256"
                            ),
                        ));
                    }
                    (false, _) => {
                        let sha = parse_sha256(&sha).map_err(|e| {
                            RecipeError::from(SourceError::BadValue {
                                package: l.recipe.name.clone(),
                                option: n.tarball_sha256.clone(),
                                message: e.to_string(),
                            })
                        })?;
                        let file = url_file_name(&url).to_string();
                        (self.download(l, &url, sha, file), None)
                    }
                }
            }
            "git" => {
                let submodules = self.value(&n.git_submodules) == "y";
                let id = self.git(
                    l,
                    &v(&n.git_url),
                    &v(&n.git_commit),
                    submodules,
                    &n.git_commit,
                )?;
                (id, None)
            }
            _ => (self.local(l, &v(&n.path), &n.path)?, None),
        })
    }

    /// A download of `file` from `url`, with the mirrors to try.
    fn download(&self, l: &Loaded, url: &str, sha256: String, file: String) -> SourceId {
        let sites = Sites {
            primary: self.value("PRIMARY_SITE"),
            backup: self.value("BACKUP_SITE"),
        };
        SourceId::Url {
            urls: candidates(&l.recipe.name, &file, url, &sites),
            sha256,
            file_name: file,
            sites,
        }
    }

    /// A file or tree on this machine, by content. `what` names the field
    /// or option that gave `written`.
    fn local(&self, l: &Loaded, written: &str, what: &str) -> Result<SourceId> {
        let p = PathBuf::from(written);
        let p = if p.is_absolute() {
            p
        } else if !written.is_empty() && self.project.watch.probe(&l.dir.join(&p)) {
            l.dir.join(&p)
        } else {
            self.project.resolve(written)
        };
        if written.is_empty() {
            return Err(missing(l, what, "the local source".into()));
        }
        let digest = self.stats.path(&p).map_err(|_| {
            RecipeError::from(SourceError::NoSuchPath {
                // A recipe's own path is located in it; an option is named.
                package: match what {
                    "Local" => l.locate("Local").to_string(),
                    _ => l.recipe.name.clone(),
                },
                what: what.to_string(),
                path: p.clone(),
            })
        })?;
        // Keyed by content only: where the tree or file lies (an absolute
        // path on this machine, say) is a location.
        Ok(SourceId::Local {
            file: FileInput {
                name: "local source".to_string(),
                digest,
                path: p,
            },
        })
    }

    fn git(
        &self,
        l: &Loaded,
        url: &str,
        rev: &str,
        submodules: bool,
        option: &str,
    ) -> Result<SourceId> {
        let (commit, tree) = self.gits.identity(&GitRequest {
            package: &l.recipe.name,
            url,
            rev,
            option,
        })?;
        Ok(SourceId::Git {
            tree,
            submodules,
            url: url.to_string(),
            commit,
        })
    }
}

/// The error for an option a source needs that is empty.
fn missing(l: &Loaded, needs: &str, why: String) -> Error {
    RecipeError::from(SourceError::Missing {
        package: l.recipe.name.clone(),
        needs: needs.to_string(),
        why,
    })
    .into()
}
