//! `forge legal-info`: what a system built from this configuration ships,
//! under which licenses, in `output/<board>/legal-info/` (Buildroot's
//! layout): `manifest.csv` (every target package: version, licenses, license
//! files, source and its sha256, origin), `licenses/<pkg>-<version>/` (the
//! texts a recipe names in `license_files`, each checked against the sha256
//! the recipe gives: a changed license text is an error to review),
//! `sources/<pkg>-<version>/` (the source and patches of every package
//! under a copyleft license, or of all with `--all-sources`), `README` and
//! `sbom.spdx.json`, an SPDX 2.3 document of the packages and their
//! dependencies. Host packages are not shipped and not listed. A Debian
//! root filesystem's packages are listed from its lock (`debian`), their
//! licenses read from their `.deb`s' DEP-5 copyright files (`dep5`,
//! `spdx`); a `PyPI` source's distributions from its requirements lock,
//! their licenses read from their wheels' metadata (`pypi`); the manifest
//! and README are `report`'s, the SBOM `sbom`'s.

mod debian;
mod dep5;
mod pypi;
mod report;
mod sbom;
mod spdx;

use crate::error::{Error, Result};
use crate::plan::StepKind;
use crate::run::build::Build;
use crate::spec::{KindSpec, PackageSpec, SourceId, StepSpec};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One shipped package, as the manifest and the SBOM list it.
struct Shipped {
    /// Its SPDX element id.
    id: String,
    name: String,
    version: String,
    /// SPDX expressions, all of which apply; none: unknown (NOASSERTION).
    licenses: Vec<String>,
    license_files: Vec<String>,
    /// Where the source is fetched from (a URL, `git+URL@commit`), if anywhere.
    download: Option<String>,
    /// The source file's name, or what stands for the source.
    source: String,
    sha256: Option<String>,
    origin: String,
    /// The SPDX element ids of the packages it depends on.
    depends: Vec<String>,
    /// Its package URL (a Debian package's).
    purl: Option<String>,
    /// The file `sha256` is of when that is the package itself (a `.deb`).
    file_name: Option<String>,
    /// SPDX's supplier (`Organization: Debian`).
    supplier: Option<String>,
}

/// A license outside SPDX's list (`LicenseRef-…`) with its text, for the
/// SBOM's extracted licensing information.
struct Extracted {
    id: String,
    name: String,
    text: String,
    comment: String,
}

/// Licenses whose terms ask for the source to go with the binaries.
fn copyleft(license: &str) -> bool {
    ["GPL-", "LGPL-", "AGPL-"]
        .iter()
        .any(|p| license.starts_with(p))
}

/// Whether forge holds the package's source to copy: not for a Debian
/// binary package (its source is Debian's source package, which the
/// manifest names) nor for an external toolchain (its runtime's source is
/// the toolchain provider's).
fn redistributable(spec: &PackageSpec) -> bool {
    !matches!(spec.source, SourceId::Deb { .. })
        && !matches!(spec.kind, KindSpec::ExternalToolchain { .. })
}

/// The recipe's own URL among a download's URLs (the mirrors come first).
fn upstream(urls: &[String], sites: &crate::spec::Sites) -> Option<String> {
    let mirror = |u: &&String| {
        [&sites.primary, &sites.backup]
            .iter()
            .any(|s| !s.is_empty() && u.starts_with(s.trim_end_matches('/')))
    };
    urls.iter().find(|u| !mirror(u)).or(urls.first()).cloned()
}

/// Write `output/legal-info/`; returns a one-line summary.
pub fn run(b: &Build, all_sources: bool) -> Result<String> {
    let dir = b.output.join("legal-info");
    crate::exec::remove_tree(&dir)?;
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut shipped = Vec::new();
    let mut copied = 0;
    let (mut python, mut python_notes, mut python_refs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, step) in b.plan.steps.iter().enumerate() {
        let (StepKind::Package(name), StepSpec::Package(spec)) = (&step.kind, &b.specs[i]) else {
            continue;
        };
        let loaded = &b.project.recipes[name];
        let ships_source = (all_sources || loaded.recipe.license.iter().any(|l| copyleft(l)))
            && redistributable(spec);
        let source = if loaded.recipe.license_files.is_empty() && !ships_source {
            None
        } else {
            source_of(b, spec)?
        };
        let unit = format!("{}-{}", spec.name, spec.version);
        let texts = license_texts(b, spec, source.as_deref())?;
        for (file, bytes) in &texts {
            write(&dir.join("licenses").join(&unit).join(file), bytes)?;
        }
        if let (true, Some(source)) = (ships_source, &source) {
            copy_sources(b, spec, source, &dir.join("sources").join(&unit))?;
            copied += 1;
        }
        let mut depends: Vec<String> = step
            .deps
            .iter()
            .filter(|d| matches!(b.plan.steps[**d].kind, StepKind::Package(_)))
            .map(|d| sbom::element_id("Package", &b.plan.steps[*d].name))
            .collect();
        if let SourceId::PyPI { requirements } = &spec.source {
            depends.extend(pypi::element_ids(&requirements.path));
            let shown = requirements
                .path
                .strip_prefix(&b.project.root)
                .unwrap_or(&requirements.path);
            let listing = pypi::list(
                &b.executor,
                &spec.name,
                (&requirements.path, &shown.display().to_string()),
                &b.dl_dir.join(&spec.name),
            )?;
            python.extend(listing.distributions);
            python_notes.extend(listing.notes);
            python_refs.extend(listing.extracted);
        }
        shipped.push(describe(b, spec, &loaded.recipe.license, &texts, depends)?);
    }
    let recipes = shipped.len();
    let distributions = python.len();
    shipped.extend(python);
    let debian_spec = b.specs.iter().find_map(|s| match s {
        StepSpec::Debian(d) => Some(d.as_ref()),
        _ => None,
    });
    let (mut notes, mut extracted, mut part) = (Vec::new(), Vec::new(), None);
    if let Some(spec) = debian_spec {
        let listing = debian::list(b, spec)?;
        for (unit, bytes) in &listing.copyrights {
            write(
                &dir.join("licenses/debian").join(unit).join("copyright"),
                bytes,
            )?;
        }
        part = Some(report::DebianPart {
            lock: listing.lock,
            packages: listing.packages.len(),
        });
        shipped.extend(listing.packages);
        notes = listing.notes;
        extracted = listing.extracted;
    }
    notes.extend(python_notes);
    for r in python_refs {
        if !extracted.iter().any(|e: &Extracted| e.id == r.id) {
            extracted.push(r);
        }
    }
    write(
        &dir.join("manifest.csv"),
        report::manifest(&shipped).as_bytes(),
    )?;
    let board = b
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write(
        &dir.join("README"),
        report::readme(&board, part.as_ref(), &notes).as_bytes(),
    )?;
    let epoch = b
        .specs
        .iter()
        .find_map(|s| match s {
            StepSpec::Package(p) => Some(p.env.source_date_epoch),
            StepSpec::Debian(d) => Some(d.source_date_epoch),
            _ => None,
        })
        .unwrap_or(0);
    let sbom = sbom::document(&board, &shipped, &extracted, epoch);
    let text = serde_json::to_string_pretty(&sbom).map_err(|e| Error::Other(e.to_string()))?;
    write(&dir.join("sbom.spdx.json"), text.as_bytes())?;
    let mut summary = format!(
        "wrote {}: {recipes} packages, {copied} with their sources",
        dir.display()
    );
    if distributions > 0 {
        summary.push_str(&format!(", {distributions} Python distributions"));
    }
    if let Some(part) = &part {
        summary.push_str(&format!(
            ", and {} Debian packages of {}",
            part.packages, part.lock
        ));
    }
    for n in &notes {
        summary.push_str(&format!("\nnote: {n}"));
    }
    Ok(summary)
}

/// The license files the recipe names, read from its source and checked.
fn license_texts(
    b: &Build,
    spec: &PackageSpec,
    source: Option<&Path>,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let loaded = &b.project.recipes[&spec.name];
    let wanted = &loaded.recipe.license_files;
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<String> = wanted.keys().cloned().collect();
    let mut found = match source {
        Some(tree) if tree.is_dir() => names
            .iter()
            .filter_map(|n| fs::read(tree.join(n)).ok().map(|b| (n.clone(), b)))
            .collect(),
        Some(archive) => crate::sources::archive::members::read_members(
            &b.executor,
            archive,
            spec.strip_components,
            &names,
        )
        .map_err(|e| Error::Other(e.to_string()))?,
        None => BTreeMap::new(),
    };
    for (name, want) in wanted {
        let at = loaded.locate(&format!("\"{name}\""));
        let Some(bytes) = found.get(name) else {
            return Err(Error::Other(format!(
                "{at}: license file {name} is not in {}'s source; fix the path in license_files",
                spec.name
            )));
        };
        let have = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        if &have != want {
            return Err(Error::Other(format!(
                "{at}: license file {name} of {} changed (sha256 {have}, the recipe says {want}); \
                 review the new license text, then put its sha256 in license_files",
                spec.name
            )));
        }
    }
    found.retain(|n, _| wanted.contains_key(n));
    Ok(found)
}

/// Where the package's source lies on this machine: its archive or tree
/// (fetched into the download dir if needed), an override's tree, or, for
/// a recipe without a source, its folder.
fn source_of(b: &Build, spec: &PackageSpec) -> Result<Option<PathBuf>> {
    Ok(match &spec.source {
        SourceId::Override { dir } => Some(dir.path.clone()),
        SourceId::None => Some(spec.package_dir.path.clone()),
        _ => crate::sources::source::fetch_with(&b.executor, spec, &b.dl_dir)?,
    })
}

/// Copy the package's source (archive or tree) and its patches into `dest`.
fn copy_sources(b: &Build, spec: &PackageSpec, source: &Path, dest: &Path) -> Result<()> {
    fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let name = source
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    if source.is_dir() {
        let cp = crate::exec::Cmd::new("cp").inherit_env();
        crate::sources::source::copy_tree_as(&b.executor, cp, source, &dest.join(&name))?;
    } else {
        fs::copy(source, dest.join(&name)).map_err(|e| Error::io(source, e))?;
    }
    for patch in &spec.patches {
        let file = patch
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        fs::copy(&patch.path, dest.join(file)).map_err(|e| Error::io(&patch.path, e))?;
    }
    Ok(())
}

fn describe(
    b: &Build,
    spec: &PackageSpec,
    licenses: &[String],
    texts: &BTreeMap<String, Vec<u8>>,
    depends: Vec<String>,
) -> Result<Shipped> {
    let shown = |p: &Path| {
        p.strip_prefix(&b.project.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let (download, source, sha256, origin) = match &spec.source {
        SourceId::Url {
            sha256,
            file_name,
            urls,
            sites,
        } => (
            upstream(urls, sites),
            file_name.clone(),
            Some(sha256.clone()),
            "upstream release".to_string(),
        ),
        SourceId::Git {
            url, commit, tree, ..
        } => (
            Some(format!("git+{url}@{commit}")),
            format!("{}-{commit}.tar.gz", spec.name),
            None,
            format!("git tree {tree}"),
        ),
        SourceId::Deb {
            package,
            arch,
            identity,
            ..
        } => (
            None,
            format!("{package}:{arch}"),
            identity
                .split_once("sha256:")
                .map(|(_, h)| h.trim().to_string()),
            format!(
                "Debian package {identity}; its source: apt-get source {package}={}",
                identity
                    .split_once('=')
                    .and_then(|(_, v)| v.split_whitespace().next())
                    .unwrap_or_default()
            ),
        ),
        SourceId::Local { file } => {
            let sha = if file.path.is_file() {
                Some(
                    crate::sources::fetch::sha256_file(&file.path)
                        .map_err(|e| Error::Other(e.to_string()))?,
                )
            } else {
                None
            };
            (None, shown(&file.path), sha, "local".to_string())
        }
        SourceId::Override { dir } => (
            None,
            shown(&dir.path),
            None,
            "local tree (override)".to_string(),
        ),
        SourceId::PyPI { requirements } => (
            None,
            shown(&requirements.path),
            Some(
                crate::sources::fetch::sha256_file(&requirements.path)
                    .map_err(|e| Error::Other(e.to_string()))?,
            ),
            "PyPI distributions pinned by this requirements lock".to_string(),
        ),
        SourceId::None if matches!(spec.kind, KindSpec::ExternalToolchain { .. }) => (
            None,
            String::new(),
            None,
            "external toolchain: its C library and runtime come from the toolchain's provider"
                .to_string(),
        ),
        SourceId::None => (
            None,
            shown(&spec.package_dir.path),
            None,
            "the recipe's folder".to_string(),
        ),
    };
    Ok(Shipped {
        id: sbom::element_id("Package", &spec.name),
        name: spec.name.clone(),
        version: spec.version.clone(),
        licenses: licenses.to_vec(),
        license_files: texts.keys().cloned().collect(),
        download,
        source,
        sha256,
        origin,
        depends,
        purl: None,
        file_name: None,
        supplier: None,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copyleft_licenses_carry_their_sources() {
        assert!(copyleft("GPL-2.0-only"));
        assert!(copyleft("LGPL-2.1-or-later"));
        assert!(!copyleft("MIT"));
        assert!(!copyleft("BSD-3-Clause"));
    }
}
