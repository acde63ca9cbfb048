//! `sbom.spdx.json`, the SPDX 2.3 document of what the system ships: every
//! package with its declared licenses, where its source comes from, its
//! sha256 (a Debian package's: its `.deb`'s, with its package URL),
//! described by the document, the dependencies between them, and an
//! extracted licensing entry for every `LicenseRef-` the licenses use.

use super::{Extracted, Shipped};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// An SPDX element id: `SPDXRef-<kind>-` and the name in the characters
/// SPDX allows (letters, digits, `.` and `-`).
pub(super) fn element_id(kind: &str, name: &str) -> String {
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
    format!("SPDXRef-{kind}-{clean}")
}

/// The document. Its time is SOURCE_DATE_EPOCH's and its namespace a
/// digest of the packages, so the same configuration gives the same
/// document.
pub(super) fn document(
    board: &str,
    shipped: &[Shipped],
    extracted: &[Extracted],
    epoch: i64,
) -> Value {
    let mut hasher = blake3::Hasher::new();
    for p in shipped {
        hasher.update(format!("{} {} {:?}\n", p.name, p.version, p.sha256).as_bytes());
    }
    let created = crate::utc::Utc::of(epoch).iso8601();
    let packages: Vec<Value> = shipped.iter().map(package).collect();
    let mut relationships: Vec<Value> = shipped
        .iter()
        .map(|p| {
            json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": p.id,
            })
        })
        .collect();
    for p in shipped {
        for d in &p.depends {
            relationships.push(json!({
                "spdxElementId": p.id,
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": d,
            }));
        }
    }
    let mut doc = json!({
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
    });
    let infos = extracted_infos(shipped, extracted);
    if !infos.is_empty() {
        doc["hasExtractedLicensingInfos"] = Value::Array(infos);
    }
    doc
}

fn package(p: &Shipped) -> Value {
    let mut v = json!({
        "SPDXID": p.id,
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
        "sourceInfo": if p.file_name.is_some() {
            p.origin.clone()
        } else {
            format!("{}: {}", p.origin, p.source)
        },
    });
    if let Some(sha) = &p.sha256 {
        v["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sha }]);
    }
    if let Some(file) = &p.file_name {
        v["packageFileName"] = json!(file);
    }
    if let Some(supplier) = &p.supplier {
        v["supplier"] = json!(supplier);
    }
    if let Some(purl) = &p.purl {
        v["externalRefs"] = json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl,
        }]);
    }
    v
}

/// The entries for `extracted`, and one for every other `LicenseRef-` a
/// package's licenses name (a recipe's own), so that each is defined.
fn extracted_infos(shipped: &[Shipped], extracted: &[Extracted]) -> Vec<Value> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut infos = Vec::new();
    for e in extracted {
        if seen.insert(&e.id) {
            infos.push(json!({
                "licenseId": e.id,
                "name": e.name,
                "extractedText": e.text,
                "comment": e.comment,
            }));
        }
    }
    let mut others: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in shipped {
        for l in &p.licenses {
            for id in license_refs(l) {
                if seen.contains(id) {
                    continue;
                }
                match others.iter_mut().find(|(o, _)| *o == id) {
                    Some((_, users)) => users.push(&p.name),
                    None => others.push((id, vec![&p.name])),
                }
            }
        }
    }
    for (id, users) in others {
        infos.push(json!({
            "licenseId": id,
            "name": id.trim_start_matches("LicenseRef-"),
            "extractedText": format!(
                "The license {id} that the recipe of {} declares; its text is in legal-info/licenses/",
                users.join(", ")
            ),
        }));
    }
    infos
}

/// The `LicenseRef-` ids in an expression.
fn license_refs(expression: &str) -> impl Iterator<Item = &str> {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| w.starts_with("LicenseRef-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_ids_keep_to_spdxs_characters() {
        assert_eq!(
            element_id("Deb", "libstdc++6-armhf"),
            "SPDXRef-Deb-libstdc--6-armhf"
        );
        assert_eq!(element_id("Package", "hello"), "SPDXRef-Package-hello");
    }

    #[test]
    fn license_refs_are_found_in_expressions() {
        let found: Vec<&str> =
            license_refs("(LicenseRef-a OR MIT) AND LicenseRef-b.1 AND GPL-2.0-only").collect();
        assert_eq!(found, ["LicenseRef-a", "LicenseRef-b.1"]);
    }
}
