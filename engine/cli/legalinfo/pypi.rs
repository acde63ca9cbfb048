//! The Python distributions of a `PyPI` source for `forge legal-info`:
//! every distribution its requirements lock pins, with version, the sha256
//! of its wheel and its package URL, and its licenses from the wheel's
//! metadata (`License-Expression`, else a `License` that names an SPDX
//! license, else the `License ::` classifiers), read from the wheel in
//! `dl/<package>/` without installing it. Nothing is downloaded: a wheel
//! not downloaded yet is listed with its licenses unknown.

use super::{Extracted, Shipped, sbom, spdx};
use crate::error::{Error, Result};
use crate::exec::{Cmd, Executor};
use crate::sources::pypi::{PYTHON, Requirement, find_in, parse};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The distributions of one package's lock.
pub(super) struct Listing {
    pub distributions: Vec<Shipped>,
    pub extracted: Vec<Extracted>,
    pub notes: Vec<String>,
}

/// List the distributions `lock` (`shown` so to the user) pins for the
/// package `owner`, whose wheels are in `dl`.
pub(super) fn list(
    exec: &dyn Executor,
    owner: &str,
    (lock, shown): (&Path, &str),
    dl: &Path,
) -> Result<Listing> {
    let text = std::fs::read_to_string(lock).map_err(|e| Error::io(lock, e))?;
    let reqs = parse(lock, &text).map_err(|e| Error::Other(e.to_string()))?;
    let mut found: Vec<Option<(PathBuf, String)>> = Vec::new();
    for r in &reqs {
        found.push(find_in(dl, r).map_err(|e| Error::Other(e.to_string()))?);
    }
    let wheels: Vec<Option<PathBuf>> = found
        .iter()
        .map(|f| f.as_ref().map(|(p, _)| p.clone()))
        .collect();
    let metadata = read_metadata(exec, &wheels)?;
    let mut listing = Listing {
        distributions: Vec::new(),
        extracted: Vec::new(),
        notes: Vec::new(),
    };
    let mut made: Vec<(String, String)> = Vec::new();
    let mut missing = 0;
    for (r, wheel) in reqs.iter().zip(&found) {
        let meta = wheel.as_ref().and_then(|(w, _)| metadata.get(w));
        let licenses = match meta {
            Some(m) => licenses_of(m, &mut made).into_iter().collect(),
            None => {
                missing += 1;
                Vec::new()
            }
        };
        listing
            .distributions
            .push(shipped(owner, shown, r, wheel.as_ref(), licenses));
    }
    if missing > 0 {
        listing.notes.push(format!(
            "{missing} of the {} Python distributions of {owner} are not in {} yet: their \
             licenses are NOASSERTION; a build downloads them",
            reqs.len(),
            dl.display()
        ));
    }
    made.sort();
    made.dedup_by(|a, b| a.0 == b.0);
    listing.extracted = made
        .into_iter()
        .map(|(id, name)| Extracted {
            text: format!(
                "The license a Python distribution's metadata names `{name}`; its terms are in \
                 the distribution's license files."
            ),
            comment: format!("from the PyPI metadata of {owner}'s distributions"),
            name,
            id,
        })
        .collect();
    Ok(listing)
}

/// The SPDX element id of a distribution.
pub(super) fn element_id(r: &Requirement) -> String {
    sbom::element_id("PyPI", &r.normalized())
}

/// The element ids of every distribution `lock` pins (for the owning
/// package's dependencies); none when it does not parse.
pub(super) fn element_ids(lock: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    parse(lock, &text)
        .map(|reqs| reqs.iter().map(element_id).collect())
        .unwrap_or_default()
}

fn shipped(
    owner: &str,
    lock: &str,
    r: &Requirement,
    wheel: Option<&(PathBuf, String)>,
    licenses: Vec<String>,
) -> Shipped {
    let file = wheel
        .and_then(|(w, _)| w.file_name())
        .map(|f| f.to_string_lossy().into_owned());
    // The wheel there has one of the locked hashes, its own; else the
    // lock's first.
    let sha256 = wheel
        .map(|(_, sha)| sha.clone())
        .or_else(|| r.hashes.first().cloned());
    Shipped {
        id: element_id(r),
        name: r.normalized(),
        version: r.version.clone(),
        licenses,
        license_files: Vec::new(),
        download: None,
        source: file
            .clone()
            .unwrap_or_else(|| format!("{}=={}", r.name, r.version)),
        sha256,
        origin: format!(
            "Python distribution from PyPI, pinned by {lock}:{} for {owner}",
            r.line
        ),
        depends: Vec::new(),
        purl: Some(format!("pkg:pypi/{}@{}", r.normalized(), r.version)),
        file_name: file,
        supplier: None,
    }
}

/// The licenses a wheel's metadata declares, as one SPDX expression.
fn licenses_of(meta: &str, made: &mut Vec<(String, String)>) -> Option<String> {
    let (mut expression, mut license, mut classifiers) = (None, None, Vec::new());
    for line in meta.lines() {
        if line.is_empty() {
            break; // the description follows the headers
        }
        if let Some(v) = line.strip_prefix("License-Expression:") {
            expression = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("License:") {
            license = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Classifier: License ::") {
            classifiers.push(v.trim().to_string());
        }
    }
    let spdx_of = |text: &str, made: &mut Vec<(String, String)>| {
        let cleaned = text.replace(['(', ')'], " ");
        spdx::declared(&[cleaned], made)
    };
    if let Some(e) = expression.filter(|e| !e.is_empty()) {
        return spdx_of(&e, made);
    }
    // A `License` field is often a whole license text or a loose name:
    // taken only when it is one SPDX id.
    if let Some(l) = license.filter(|l| !l.is_empty() && !l.contains(char::is_whitespace)) {
        let mut tried = Vec::new();
        if let Some(id) = spdx_of(&l, &mut tried).filter(|id| !id.starts_with("LicenseRef-")) {
            return Some(id);
        }
    }
    let ids: Vec<String> = classifiers.iter().filter_map(|c| classifier(c)).collect();
    if ids.is_empty() {
        return None;
    }
    spdx_of(&ids.join(" or "), made)
}

/// The SPDX id of a `License ::` trove classifier that names one license.
fn classifier(c: &str) -> Option<String> {
    let last = c.rsplit("::").next()?.trim();
    let id = match last {
        "Apache Software License" => "Apache-2.0",
        "MIT License" | "MIT No Attribution License (MIT-0)" => "MIT",
        "BSD License" => "BSD",
        "ISC License (ISCL)" => "ISC",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "Python Software Foundation License" => "PSF-2.0",
        "The Unlicense (Unlicense)" => "Unlicense",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        _ => return None,
    };
    Some(id.to_string())
}

/// Each wheel's `*.dist-info/METADATA`, read by Python's zipfile in one run.
fn read_metadata(
    exec: &dyn Executor,
    wheels: &[Option<PathBuf>],
) -> Result<BTreeMap<PathBuf, String>> {
    let present: Vec<&PathBuf> = wheels.iter().flatten().collect();
    if present.is_empty() {
        return Ok(BTreeMap::new());
    }
    let script = "import json, sys, zipfile\n\
        out = {}\n\
        for w in sys.argv[1:]:\n\
        \x20   with zipfile.ZipFile(w) as z:\n\
        \x20       names = [n for n in z.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]\n\
        \x20       out[w] = z.read(names[0]).decode('utf-8', 'replace') if names else ''\n\
        json.dump(out, sys.stdout)\n";
    let cmd = Cmd::new(PYTHON)
        .arg("-c")
        .arg(script)
        .args(present.iter().map(|p| p.as_os_str()))
        .env("LC_ALL", "C.UTF-8")
        .capture_all();
    let out = exec
        .run(&cmd)
        .map_err(|e| Error::Other(format!("reading the wheels' metadata: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "reading the wheels' metadata with {PYTHON} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let map: BTreeMap<String, String> = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Other(format!("reading the wheels' metadata: {e}")))?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (PathBuf::from(k), v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(meta: &str) -> (Option<String>, Vec<(String, String)>) {
        let mut made = Vec::new();
        (licenses_of(meta, &mut made), made)
    }

    #[test]
    fn license_from_expression_field_or_classifiers() {
        assert_eq!(
            of("Name: x\nLicense-Expression: Apache-2.0 OR BSD-3-Clause\n")
                .0
                .as_deref(),
            Some("Apache-2.0 OR BSD-3-Clause")
        );
        assert_eq!(of("License: MIT\n").0.as_deref(), Some("MIT"));
        // A loose License text: the classifiers decide.
        assert_eq!(
            of("License: Apache License, Version 2.0\nClassifier: License :: OSI Approved :: Apache Software License\n\nLicense: MIT\n").0.as_deref(),
            Some("Apache-2.0")
        );
        let (bsd, made) = of("Classifier: License :: OSI Approved :: BSD License\n");
        assert_eq!(bsd.as_deref(), Some("LicenseRef-BSD"));
        assert_eq!(made[0].0, "LicenseRef-BSD");
        assert_eq!(made.len(), 1);
        assert_eq!(of("Name: x\nSummary: nothing said\n").0, None);
    }
}
