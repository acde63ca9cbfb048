//! The texts of `legal-info/` a person reads: `manifest.csv` (one package
//! a line) and `README` (what each part holds, where the Debian packages'
//! licenses and sources are, and the notes of this run).

use super::Shipped;

/// `manifest.csv`, one package a line.
pub(super) fn manifest(shipped: &[Shipped]) -> String {
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
            if p.licenses.is_empty() {
                "NOASSERTION".to_string()
            } else {
                p.licenses.join(" AND ")
            },
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

/// What the Debian part of the README says: the lock, how many packages.
pub(super) struct DebianPart {
    /// The lock file, as the user names it.
    pub lock: String,
    pub packages: usize,
}

/// `README`.
pub(super) fn readme(board: &str, debian: Option<&DebianPart>, notes: &[String]) -> String {
    let mut text = format!(
        "Legal information of {board}, written by `forge legal-info`. Nothing was built.\n\n\
         manifest.csv    every package the system ships: version, licenses (SPDX; NOASSERTION\n                \
         when unknown), license files, source, its sha256, where it comes from\n\
         licenses/       <package>-<version>/: the license texts each recipe names\n\
         sources/        <package>-<version>/: the source and patches of the packages under a\n                \
         copyleft license (of all with --all-sources)\n\
         sbom.spdx.json  the same packages as an SPDX 2.3 document\n"
    );
    if let Some(d) = debian {
        text.push_str(&format!(
            "\nDebian packages: the {} packages of {} (the Debian root filesystem) are listed\n\
             too, each with the sha256 of its .deb. Their licenses are read from each .deb's\n\
             usr/share/doc/<package>/copyright (machine-readable DEP-5 ones; NOASSERTION\n\
             otherwise), copied to licenses/debian/<package>_<version>_<architecture>/copyright.\n\
             Their sources are not copied into sources/: Debian's source packages are at the\n\
             mirror of the lock's `source` lines, for the locked versions\n\
             (`apt-get source <package>=<version>`).\n",
            d.packages, d.lock
        ));
    }
    if !notes.is_empty() {
        text.push_str("\nNotes:\n");
        for n in notes {
            text.push_str(&format!("- {n}\n"));
        }
    }
    text
}
