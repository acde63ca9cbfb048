//! `forge legal-info`: what a system built from this configuration ships,
//! under which licenses, in `output/<board>/legal-info/` (Buildroot's
//! layout): `manifest.csv` (every target package: version, licenses, license
//! files, source and its sha256, origin), `licenses/<pkg>-<version>/` (the
//! texts a recipe names in `license_files`, each checked against the sha256
//! the recipe gives: a changed license text is an error to review),
//! `sources/<pkg>-<version>/` (the source and patches of every package
//! under a copyleft license, or of all with `--all-sources`) and
//! `sbom.spdx.json`, an SPDX 2.3 document of the packages and their
//! dependencies. Host packages are not shipped and not listed.

use crate::error::{Error, Result};
use crate::plan::StepKind;
use crate::run::build::Build;
use crate::spec::{KindSpec, PackageSpec, SourceId, StepSpec};
use serde_json::json;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One shipped package, as the manifest and the SBOM list it.
struct Shipped {
    name: String,
    version: String,
    licenses: Vec<String>,
    license_files: Vec<String>,
    /// Where the source is fetched from (a URL, `git+URL@commit`), if anywhere.
    download: Option<String>,
    /// The source file's name, or what stands for the source.
    source: String,
    sha256: Option<String>,
    origin: String,
    depends: Vec<String>,
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
        let depends = step
            .deps
            .iter()
            .filter(|d| matches!(b.plan.steps[**d].kind, StepKind::Package(_)))
            .map(|d| b.plan.steps[*d].name.clone())
            .collect();
        shipped.push(describe(b, spec, &loaded.recipe.license, &texts, depends)?);
    }
    write(&dir.join("manifest.csv"), manifest(&shipped).as_bytes())?;
    let board = b
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let epoch = b
        .specs
        .iter()
        .find_map(|s| match s {
            StepSpec::Package(p) => Some(p.env.source_date_epoch),
            _ => None,
        })
        .unwrap_or(0);
    let sbom = sbom(&board, &shipped, epoch);
    let text = serde_json::to_string_pretty(&sbom).map_err(|e| Error::Other(e.to_string()))?;
    write(&dir.join("sbom.spdx.json"), text.as_bytes())?;
    Ok(format!(
        "wrote {}: {} packages, {} with their sources",
        dir.display(),
        shipped.len(),
        copied
    ))
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
        name: spec.name.clone(),
        version: spec.version.clone(),
        licenses: licenses.to_vec(),
        license_files: texts.keys().cloned().collect(),
        download,
        source,
        sha256,
        origin,
        depends,
    })
}

/// `manifest.csv`, one package a line.
fn manifest(shipped: &[Shipped]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut text = String::from(
        "PACKAGE,VERSION,LICENSE,LICENSE FILES,SOURCE,SOURCE SHA256,SOURCE SITE,ORIGIN\n",
    );
    for p in shipped {
        let cells = [
            p.name.clone(),
            p.version.clone(),
            p.licenses.join(" AND "),
            p.license_files.join(" "),
            p.source.clone(),
            p.sha256.clone().unwrap_or_default(),
            p.download.clone().unwrap_or_default(),
            p.origin.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    text
}

/// An SPDX element id for a package name (letters, digits, `.` and `-`).
fn spdx_id(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-Package-{clean}")
}

/// The SPDX 2.3 document: every package with its declared licenses, where
/// its source comes from and its sha256, described by the document, and
/// the dependencies between them. Its time is SOURCE_DATE_EPOCH's, so the
/// same configuration gives the same document.
fn sbom(board: &str, shipped: &[Shipped], epoch: i64) -> serde_json::Value {
    let mut hasher = blake3::Hasher::new();
    for p in shipped {
        hasher.update(format!("{} {} {:?}\n", p.name, p.version, p.sha256).as_bytes());
    }
    let created = crate::utc::Utc::of(epoch).iso8601();
    let packages: Vec<serde_json::Value> = shipped
        .iter()
        .map(|p| {
            let mut v = json!({
                "SPDXID": spdx_id(&p.name),
                "name": p.name,
                "versionInfo": p.version,
                "downloadLocation": p.download.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": if p.licenses.is_empty() {
                    "NOASSERTION".to_string()
                } else {
                    p.licenses.join(" AND ")
                },
                "copyrightText": "NOASSERTION",
                "sourceInfo": format!("{}: {}", p.origin, p.source),
            });
            if let Some(sha) = &p.sha256 {
                v["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sha }]);
            }
            v
        })
        .collect();
    let mut relationships: Vec<serde_json::Value> = shipped
        .iter()
        .map(|p| {
            json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id(&p.name),
            })
        })
        .collect();
    for p in shipped {
        for d in &p.depends {
            relationships.push(json!({
                "spdxElementId": spdx_id(&p.name),
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": spdx_id(d),
            }));
        }
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{board} (forge)"),
        "documentNamespace": format!("urn:forge:sbom:{board}:{}", hasher.finalize().to_hex()),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: forge-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
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
