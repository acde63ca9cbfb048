//! The DEP-5 reader and the SPDX mapping on copyright files of bookworm's
//! armhf packages (the Debian board's lock), kept in `../testdata/`.

use super::*;
use crate::cli::legalinfo::spdx;

fn declared(text: &str) -> (Option<String>, Vec<(String, String)>) {
    let Copyright::MachineReadable { licenses, .. } = read(text) else {
        return (None, Vec::new());
    };
    let mut refs = Vec::new();
    (spdx::declared(&licenses, &mut refs), refs)
}

#[test]
fn files_paragraphs_give_the_licenses() {
    let text = include_str!("../testdata/dash.copyright");
    let Copyright::MachineReadable { licenses, texts } = read(text) else {
        panic!("dash's copyright is DEP-5");
    };
    // The standalone License paragraphs add no license of their own.
    assert_eq!(
        licenses,
        ["BSD-3-Clause", "public-domain", "GPL-2+", "BSD-3-clause"]
    );
    assert!(texts["gpl-2+"].contains("either version 2"), "{texts:?}");
    assert_eq!(
        declared(text),
        (
            Some("BSD-3-Clause AND GPL-2.0-or-later AND LicenseRef-public-domain".into()),
            vec![("LicenseRef-public-domain".into(), "public-domain".into())]
        )
    );
}

#[test]
fn real_copyright_files_map_to_spdx() {
    for (text, want) in [
        (
            include_str!("../testdata/libkmod2.copyright"),
            "GPL-2.0-or-later AND LGPL-2.1-or-later",
        ),
        (
            include_str!("../testdata/sed.copyright"),
            "BSD-4-Clause-UC AND BSL-1.0 AND GFDL-1.3-no-invariants-or-later AND \
             GPL-3.0-or-later AND ISC AND LicenseRef-pcre AND X11",
        ),
        (
            include_str!("../testdata/gzip.copyright"),
            "GPL-3.0-or-later AND LicenseRef-FSF-manpages AND \
             LicenseRef-GFDL-1.3plus-no-invariant",
        ),
        (
            include_str!("../testdata/tzdata.copyright"),
            "LicenseRef-public-domain",
        ),
    ] {
        assert_eq!(declared(text).0.as_deref(), Some(want));
    }
}

#[test]
fn a_license_text_comes_with_its_name() {
    let Copyright::MachineReadable { texts, .. } =
        read(include_str!("../testdata/tzdata.copyright"))
    else {
        panic!("tzdata's copyright is DEP-5");
    };
    assert_eq!(
        texts["public-domain"],
        "This database is in the public domain."
    );
    let Copyright::MachineReadable { texts, .. } = read(include_str!("../testdata/sed.copyright"))
    else {
        panic!("sed's copyright is DEP-5");
    };
    // ` .` is an empty line of the text.
    assert!(
        texts["gpl-3+"].contains("later\nversion.\n\nOn Debian"),
        "{:?}",
        texts["gpl-3+"]
    );
}

#[test]
fn free_text_is_not_machine_readable() {
    assert_eq!(
        read(include_str!("../testdata/base-files.copyright")),
        Copyright::FreeForm
    );
    assert_eq!(read("License: GPL-2\n"), Copyright::FreeForm);
}

#[test]
fn a_paragraph_without_a_license_name_declares_nothing() {
    let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
                Files: *\nLicense: GPL-2+\n\nFiles: b\nLicense:\n some text\n";
    assert_eq!(declared(text), (None, Vec::new()));
    let header_only = "Format: http://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nLicense: Expat\n";
    assert_eq!(declared(header_only).0.as_deref(), Some("MIT"));
}

#[test]
fn expression_syntax() {
    let one = |s: &str| Names::One(s.to_string());
    assert_eq!(
        names("GPL-1+ or Artistic, and Expat"),
        Some(Names::All(vec![
            Names::Any(vec![one("GPL-1+"), one("Artistic")]),
            one("Expat")
        ]))
    );
    assert_eq!(
        names("GPL-2+ with OpenSSL exception"),
        Some(one("GPL-2+ with OpenSSL exception"))
    );
    assert_eq!(names(""), None);
    assert_eq!(names("GPL-2+ or"), None);
}
