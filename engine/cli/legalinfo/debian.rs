//! The Debian packages of a Debian root filesystem (`DEBIAN_ROOTFS`) for
//! `forge legal-info`: every package the lock names, with version,
//! architecture and its `.deb`'s sha256; for a `.deb` in `dl/debian/` with
//! that sha256, its source package and dependencies (its control fields)
//! and its licenses, read from its `usr/share/doc/<package>/copyright`
//! without unpacking it (a package whose doc folder is a link takes the
//! copyright of a package of the same source). Nothing is downloaded: a
//! package not downloaded yet is listed with its licenses unknown.

mod read;

use super::{Extracted, Shipped, dep5, sbom, spdx};
use crate::error::Result;
use crate::run::build::Build;
use crate::spec::debian::{DebianSpec, Locked};
use read::{Found, read_all};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The Debian part of legal-info.
pub(super) struct Listing {
    /// The lock file, as the user names it.
    pub lock: String,
    /// In lock order.
    pub packages: Vec<Shipped>,
    /// Copyright files to write, by their folder under `licenses/debian/`.
    pub copyrights: Vec<(String, Vec<u8>)>,
    pub extracted: Vec<Extracted>,
    /// What the user should know (each said once).
    pub notes: Vec<String>,
}

/// List the lock's packages.
pub(super) fn list(b: &Build, spec: &DebianSpec) -> Result<Listing> {
    let lock = &spec.lock;
    let folder = crate::debian::debs::dl_folder(&b.dl_dir);
    let found = read_all(&b.executor, &folder, &lock.packages)?;
    let lock_shown = shown(b, &spec.lock_file.path);
    let ids = element_ids(&lock.packages);
    let by_name: BTreeMap<&str, usize> = lock
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let mut listing = Listing {
        lock: lock_shown.clone(),
        packages: Vec::new(),
        copyrights: Vec::new(),
        extracted: Vec::new(),
        notes: Vec::new(),
    };
    let mut refs: BTreeMap<String, Ref> = BTreeMap::new();
    let mut tally = Tally::default();
    for (i, (p, f)) in lock.packages.iter().zip(&found).enumerate() {
        let unit = p.file_name().trim_end_matches(".deb").to_string();
        let mut origin = format!("Debian package ({lock_shown}:{})", p.line);
        let mut licenses = Vec::new();
        let mut license_files = Vec::new();
        let mut depends = Vec::new();
        match f {
            Found::Missing | Found::Differs => {
                tally.missing += 1;
                if matches!(f, Found::Differs) {
                    tally.differs.push(p.name.clone());
                }
                origin.push_str("; its .deb is not downloaded yet (licenses: after a build)");
            }
            Found::Read {
                source,
                depends: wanted,
                copyright,
            } => {
                origin.push_str(&format!(
                    "; its source: Debian source package {} {} at the mirror",
                    source.0, source.1
                ));
                for alternatives in wanted {
                    let Some(&d) = alternatives.iter().find_map(|n| by_name.get(n.as_str())) else {
                        continue;
                    };
                    if d != i && !depends.contains(&ids[d]) {
                        depends.push(ids[d].clone());
                    }
                }
                let borrowed = match copyright {
                    Some(text) => Some((text, None)),
                    None => sibling(&found, &lock.packages, &source.0).map(|(t, n)| (t, Some(n))),
                };
                match borrowed {
                    None => tally.none.push(p.name.clone()),
                    Some((text, from)) => {
                        if let Some(from) = from {
                            origin.push_str(&format!(
                                "; its copyright file is {from}'s (the same source package)"
                            ));
                        }
                        listing.copyrights.push((unit, text.clone()));
                        license_files.push("copyright".to_string());
                        let text = String::from_utf8_lossy(text);
                        match licensed(&text, &p.name, &mut refs) {
                            Some(expression) => licenses.push(expression),
                            None => tally.free.push(p.name.clone()),
                        }
                    }
                }
            }
        }
        listing.packages.push(Shipped {
            id: ids[i].clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            licenses,
            license_files,
            download: None,
            source: p.file_name(),
            sha256: Some(p.sha256.clone()),
            origin,
            depends,
            purl: Some(purl(p)),
            file_name: Some(p.file_name()),
            supplier: Some("Organization: Debian".to_string()),
        });
    }
    listing.notes = tally.notes(lock.packages.len(), &folder);
    listing.extracted = extracted(refs);
    Ok(listing)
}

/// What the user is told once about the Debian packages.
#[derive(Default)]
struct Tally {
    /// Packages whose .deb is not in `dl/debian` with the lock's sha256.
    missing: usize,
    /// Of those, the ones whose file there has another sha256.
    differs: Vec<String>,
    /// Packages whose copyright file gives no license SPDX can hold.
    free: Vec<String>,
    /// Packages without a copyright file.
    none: Vec<String>,
}

impl Tally {
    fn notes(&self, total: usize, folder: &Path) -> Vec<String> {
        let dl = folder.display();
        let mut notes = Vec::new();
        if self.missing > 0 {
            notes.push(format!(
                "{} of the {total} Debian packages are not in {dl} with the lock's sha256 (the board \
                 was not built with this lock yet): their licenses are NOASSERTION; a build \
                 (`forge`, or the Debian step alone: `forge debian-rootfs`) downloads them, then \
                 `forge legal-info` lists their licenses",
                self.missing
            ));
        }
        if !self.differs.is_empty() {
            notes.push(format!(
                "the .debs of {} in {dl} are not the locked ones (another sha256); a build downloads \
                 them again",
                self.differs.join(", ")
            ));
        }
        if !self.free.is_empty() {
            notes.push(format!(
                "the copyright files of {} are not machine-readable (DEP-5) or name no license: \
                 their licenses are NOASSERTION; read them in licenses/debian/",
                self.free.join(", ")
            ));
        }
        if !self.none.is_empty() {
            notes.push(format!(
                "{} hold no copyright file: their licenses are NOASSERTION",
                self.none.join(", ")
            ));
        }
        notes
    }
}

/// A path as the user wrote it: relative to the project when inside it.
fn shown(b: &Build, path: &Path) -> String {
    path.strip_prefix(&b.project.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every package's SPDX element id, unique even when two names differ
/// only in characters SPDX does not allow (`+`).
fn element_ids(packages: &[Locked]) -> Vec<String> {
    let mut used = BTreeSet::new();
    packages
        .iter()
        .map(|p| {
            let base = sbom::element_id("Deb", &format!("{}-{}", p.name, p.architecture));
            let mut id = base.clone();
            let mut n = 1;
            while !used.insert(id.clone()) {
                n += 1;
                id = format!("{base}-{n}");
            }
            id
        })
        .collect()
}

/// The package URL: `pkg:deb/debian/<name>@<version>?arch=<arch>`, with
/// `+` percent-encoded as purl asks (`:` stays).
fn purl(p: &Locked) -> String {
    let enc = |s: &str| s.replace('+', "%2B");
    format!(
        "pkg:deb/debian/{}@{}?arch={}",
        enc(&p.name),
        enc(&p.version),
        enc(&p.architecture)
    )
}

/// The copyright file of a downloaded package built from `source`.
fn sibling<'a>(
    found: &'a [Found],
    packages: &'a [Locked],
    source: &str,
) -> Option<(&'a Vec<u8>, &'a str)> {
    found.iter().zip(packages).find_map(|(f, p)| match f {
        Found::Read {
            source: (s, _),
            copyright: Some(text),
            ..
        } if s == source => Some((text, p.name.as_str())),
        _ => None,
    })
}

/// A `LicenseRef-` the Debian packages use: the Debian names it stands
/// for, the packages using it, and the first text given for it.
#[derive(Default)]
struct Ref {
    names: BTreeSet<String>,
    packages: Vec<String>,
    text: Option<(String, String)>,
}

/// The SPDX expression of a copyright file's licenses, recording the
/// `LicenseRef-`s made; `None` when the file does not say.
fn licensed(text: &str, package: &str, refs: &mut BTreeMap<String, Ref>) -> Option<String> {
    let dep5::Copyright::MachineReadable { licenses, texts } = dep5::read(text) else {
        return None;
    };
    let mut made = Vec::new();
    let expression = spdx::declared(&licenses, &mut made)?;
    for (id, name) in made {
        let r = refs.entry(id).or_default();
        if !r.packages.iter().any(|p| p == package) {
            r.packages.push(package.to_string());
        }
        if r.text.is_none() {
            r.text = texts
                .get(&name.to_ascii_lowercase())
                .map(|t| (package.to_string(), t.clone()));
        }
        r.names.insert(name);
    }
    Some(expression)
}

fn extracted(refs: BTreeMap<String, Ref>) -> Vec<Extracted> {
    refs.into_iter()
        .map(|(id, r)| {
            let names: Vec<&str> = r.names.iter().map(String::as_str).collect();
            let quoted = format!("`{}`", names.join("`, `"));
            let (text, whose) = match r.text {
                Some((package, text)) => (text, format!("; the text is {package}'s")),
                None => (
                    format!(
                        "Debian's license name {quoted}: its terms are in the copyright file of \
                         each package using it (legal-info/licenses/debian/)"
                    ),
                    String::new(),
                ),
            };
            Extracted {
                name: names.first().map_or(id.clone(), |n| n.to_string()),
                id,
                text,
                comment: format!(
                    "Debian's license name {quoted}, in the copyright files of {}{whose}",
                    r.packages.join(", ")
                ),
            }
        })
        .collect()
}
