//! Debian's short license names as SPDX license expressions: the GNU
//! family with its versions and `+`, Debian's own names (`Expat`,
//! `Artistic`, `Perl`, `CC0`), SPDX ids written in another case, `with …
//! exception` for the exceptions SPDX lists, and `LicenseRef-<name>` for
//! anything else (the names so made are returned, for the SBOM's
//! extracted licensing information).

use super::dep5::Names;

/// SPDX license ids a Debian name may be another spelling of (matched
/// without regard to case, and `-N` as `-N.0`).
const IDS: &[&str] = &[
    "0BSD",
    "AFL-2.1",
    "AFL-3.0",
    "Apache-1.0",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "Beerware",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-2-Clause-Patent",
    "BSD-3-Clause",
    "BSD-3-Clause-Attribution",
    "BSD-3-Clause-Clear",
    "BSD-3-Clause-LBNL",
    "BSD-4-Clause",
    "BSD-4-Clause-UC",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "FSFAP",
    "FSFUL",
    "FSFULLR",
    "FTL",
    "HPND",
    "ICU",
    "IJG",
    "ISC",
    "Latex2e",
    "Libpng",
    "libtiff",
    "LPPL-1.3c",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "MS-PL",
    "NCSA",
    "OFL-1.1",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Sleepycat",
    "TCL",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "zlib-acknowledgement",
    "ZPL-2.1",
];

/// SPDX exception ids a `with … exception` may name (as the id, or its
/// name without `-exception` and version).
const EXCEPTIONS: &[&str] = &[
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Bison-exception-2.2",
    "Classpath-exception-2.0",
    "Font-exception-2.0",
    "GCC-exception-2.0",
    "GCC-exception-3.1",
    "Libtool-exception",
    "Linux-syscall-note",
    "LLVM-exception",
];

/// The SPDX expression for a Debian license name expression; every
/// `LicenseRef-` made is pushed on `refs` with the Debian name it stands
/// for.
pub(super) fn expression(names: &Names, refs: &mut Vec<(String, String)>) -> Names {
    match names {
        Names::One(name) => one(name, refs),
        Names::All(v) => Names::join(true, v.iter().map(|n| expression(n, refs)).collect()),
        Names::Any(v) => Names::join(false, v.iter().map(|n| expression(n, refs)).collect()),
    }
}

/// A package's declared license: the expressions of its copyright file's
/// `Files:` paragraphs joined by AND, distinct members once. `None` when
/// there are none or one names no license.
pub(super) fn declared(licenses: &[String], refs: &mut Vec<(String, String)>) -> Option<String> {
    let mut made = Vec::new();
    let mut all = Vec::new();
    for l in licenses {
        all.push(expression(&super::dep5::names(l)?, &mut made));
    }
    if all.is_empty() {
        return None;
    }
    refs.extend(made);
    Some(render(&Names::join(true, all)))
}

/// One Debian name (possibly `NAME with EXCEPTION exception`).
fn one(name: &str, refs: &mut Vec<(String, String)>) -> Names {
    let lower = name.to_ascii_lowercase();
    let mapped = match lower.find(" with ") {
        None => license(name),
        Some(at) => {
            let rest = name[at + 6..].trim();
            let phrase = rest
                .strip_suffix(" exception")
                .or_else(|| rest.strip_suffix(" Exception"))
                .unwrap_or(rest)
                .trim();
            match license(name[..at].trim()) {
                Some(Names::One(id)) if !id.starts_with("LicenseRef-") => {
                    exception(phrase, &id).map(|e| Names::One(format!("{id} WITH {e}")))
                }
                _ => None,
            }
        }
    };
    mapped.unwrap_or_else(|| {
        let id = license_ref(name);
        refs.push((id.clone(), name.to_string()));
        Names::One(id)
    })
}

/// A name without exception, when SPDX has it.
fn license(name: &str) -> Option<Names> {
    let lower = name.to_ascii_lowercase();
    let id = |s: &str| Some(Names::One(s.to_string()));
    match lower.as_str() {
        "expat" | "mit" => return id("MIT"),
        // Debian's common-licenses/Artistic is Perl's.
        "artistic" | "artistic-1-perl" => return id("Artistic-1.0-Perl"),
        // "The same terms as Perl itself".
        "perl" => {
            return Some(Names::Any(vec![
                Names::One("Artistic-1.0-Perl".into()),
                Names::One("GPL-1.0-or-later".into()),
            ]));
        }
        "cc0" => return id("CC0-1.0"),
        "zope-2.1" => return id("ZPL-2.1"),
        _ => {}
    }
    if let Some(gnu) = gnu(&lower) {
        return id(&gnu);
    }
    if let Some(found) = listed(&lower) {
        return id(found);
    }
    // `MPL-1.1+`: SPDX's `+`.
    let base = lower.strip_suffix('+')?;
    listed(base).map(|found| Names::One(format!("{found}+")))
}

/// An SPDX id from the list, `-N` read as `-N.0`.
fn listed(lower: &str) -> Option<&'static str> {
    let find = |n: &str| IDS.iter().copied().find(|i| i.eq_ignore_ascii_case(n));
    find(lower).or_else(|| {
        let last = lower.rsplit('-').next()?;
        (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
            .then(|| find(&format!("{lower}.0")))
            .flatten()
    })
}

/// The GNU licenses: `GPL-2`, `GPL-2+`, `GPLv3+`, `LGPL-2.1+`, `AGPL-3`,
/// `GFDL-1.3`, `GFDL-NIV-1.3+`, `GPL-2.0-or-later`.
fn gnu(lower: &str) -> Option<String> {
    let (family, rest) = [
        ("agpl", "AGPL"),
        ("lgpl", "LGPL"),
        ("gpl", "GPL"),
        ("gfdl-niv", "GFDL-NIV"),
        ("gfdl", "GFDL"),
    ]
    .into_iter()
    .find_map(|(p, f)| lower.strip_prefix(p).map(|r| (f, r)))?;
    let rest = rest.strip_prefix(['-', 'v']).unwrap_or(rest);
    let (version, later) = if let Some(v) = rest.strip_suffix('+') {
        (v, true)
    } else if let Some(v) = rest.strip_suffix("-or-later") {
        (v, true)
    } else {
        (rest.strip_suffix("-only").unwrap_or(rest), false)
    };
    let version = match version {
        "1" | "1.0" => "1.0",
        "1.1" => "1.1",
        "1.2" => "1.2",
        "1.3" => "1.3",
        "2" | "2.0" => "2.0",
        "2.1" => "2.1",
        "3" | "3.0" => "3.0",
        _ => return None,
    };
    let known = match family {
        "GPL" => ["1.0", "2.0", "3.0"].contains(&version),
        "LGPL" => ["2.0", "2.1", "3.0"].contains(&version),
        "AGPL" => ["1.0", "3.0"].contains(&version),
        _ => ["1.1", "1.2", "1.3"].contains(&version),
    };
    let tail = if later { "or-later" } else { "only" };
    known.then(|| match family {
        "GFDL-NIV" => format!("GFDL-{version}-no-invariants-{tail}"),
        _ => format!("{family}-{version}-{tail}"),
    })
}

/// The SPDX exception a `with … exception` phrase names, for `license`.
fn exception(phrase: &str, license: &str) -> Option<&'static str> {
    let lower = phrase.to_ascii_lowercase();
    let version = |v2: &'static str, v3: &'static str| {
        if license.starts_with("GPL-3") {
            Some(v3)
        } else if license.starts_with("GPL-2") {
            Some(v2)
        } else {
            None
        }
    };
    match lower.as_str() {
        "autoconf" => version("Autoconf-exception-2.0", "Autoconf-exception-3.0"),
        "bison" | "bison-2.2" => Some("Bison-exception-2.2"),
        "classpath" => Some("Classpath-exception-2.0"),
        "font" => Some("Font-exception-2.0"),
        "gcc-3.1" => Some("GCC-exception-3.1"),
        "libtool" => Some("Libtool-exception"),
        "llvm" => Some("LLVM-exception"),
        _ => EXCEPTIONS
            .iter()
            .copied()
            .find(|e| e.eq_ignore_ascii_case(&lower)),
    }
}

/// `LicenseRef-` and the name in the characters SPDX allows there
/// (letters, digits, `.` and `-`): `+` spelled `plus`, anything else a
/// `-`, runs of `-` made one.
pub(super) fn license_ref(name: &str) -> String {
    let mut clean = String::new();
    for c in name.trim().chars() {
        match c {
            c if c.is_ascii_alphanumeric() || c == '.' => clean.push(c),
            '+' => clean.push_str("plus"),
            _ if clean.ends_with('-') || clean.is_empty() => {}
            _ => clean.push('-'),
        }
    }
    let clean = clean.trim_end_matches('-');
    format!(
        "LicenseRef-{}",
        if clean.is_empty() { "unnamed" } else { clean }
    )
}

/// The expression as SPDX writes it: ` AND `, ` OR `, a nested group in
/// parentheses, each group's members sorted and without duplicates.
pub(super) fn render(names: &Names) -> String {
    render_in(names, false)
}

fn render_in(names: &Names, nested: bool) -> String {
    let (parts, op) = match names {
        Names::One(id) => return id.clone(),
        Names::All(v) => (v, " AND "),
        Names::Any(v) => (v, " OR "),
    };
    let mut shown: Vec<(String, &Names)> = parts.iter().map(|p| (render_in(p, true), p)).collect();
    shown.sort_by(|a, b| a.0.cmp(&b.0));
    shown.dedup_by(|a, b| a.0 == b.0);
    if let [(_, only)] = shown.as_slice() {
        return render_in(only, nested);
    }
    let text = shown
        .into_iter()
        .map(|(s, _)| s)
        .collect::<Vec<_>>()
        .join(op);
    if nested { format!("({text})") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spdx(debian: &str) -> (String, Vec<(String, String)>) {
        let mut refs = Vec::new();
        let names = super::super::dep5::names(debian).expect("a name");
        (render(&expression(&names, &mut refs)), refs)
    }

    #[test]
    fn debian_names_become_spdx_ids() {
        for (debian, want) in [
            ("GPL-2", "GPL-2.0-only"),
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-2.0+", "GPL-2.0-or-later"),
            ("GPLv3+", "GPL-3.0-or-later"),
            ("GPL-3", "GPL-3.0-only"),
            ("GPL-1+", "GPL-1.0-or-later"),
            ("LGPL-2", "LGPL-2.0-only"),
            ("LGPL-2+", "LGPL-2.0-or-later"),
            ("LGPL-2.1", "LGPL-2.1-only"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("LGPLv2.1+", "LGPL-2.1-or-later"),
            ("LGPL-3+", "LGPL-3.0-or-later"),
            ("AGPL-3+", "AGPL-3.0-or-later"),
            ("GFDL-1.2+", "GFDL-1.2-or-later"),
            ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("BSD-2-clause", "BSD-2-Clause"),
            ("BSD-4-clause-UC", "BSD-4-Clause-UC"),
            ("Expat", "MIT"),
            ("Artistic", "Artistic-1.0-Perl"),
            ("Artistic-2", "Artistic-2.0"),
            ("Apache-2", "Apache-2.0"),
            ("ZLIB", "Zlib"),
            ("BSL-1", "BSL-1.0"),
            ("CC0", "CC0-1.0"),
            ("Ms-PL", "MS-PL"),
            ("MPL-1.1+", "MPL-1.1+"),
            ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
            (
                "GPL-2 with Linux-syscall-note exception",
                "GPL-2.0-only WITH Linux-syscall-note",
            ),
            (
                "GPL-3+ with Bison exception",
                "GPL-3.0-or-later WITH Bison-exception-2.2",
            ),
            (
                "GPL-3+ with autoconf exception",
                "GPL-3.0-or-later WITH Autoconf-exception-3.0",
            ),
        ] {
            assert_eq!(spdx(debian), (want.to_string(), vec![]), "{debian}");
        }
    }

    #[test]
    fn the_rest_become_license_refs() {
        for (debian, want) in [
            ("public-domain", "LicenseRef-public-domain"),
            ("GPL", "LicenseRef-GPL"),
            (
                "GPL-2+ with OpenSSL exception",
                "LicenseRef-GPL-2plus-with-OpenSSL-exception",
            ),
            ("BSD-tcp_wrappers", "LicenseRef-BSD-tcp-wrappers"),
            ("GPL-4", "LicenseRef-GPL-4"),
            ("MIT/X11", "LicenseRef-MIT-X11"),
        ] {
            let (got, refs) = spdx(debian);
            assert_eq!(got, want, "{debian}");
            assert_eq!(refs, vec![(want.to_string(), debian.to_string())]);
        }
    }

    #[test]
    fn expressions_keep_their_structure() {
        let (got, _) = spdx("GPL-1+ or Artistic, and BSD-4-clause-POWERDOG");
        assert_eq!(
            got,
            "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND LicenseRef-BSD-4-clause-POWERDOG"
        );
        let (got, _) = spdx("LGPL-3+ or GPL-2+");
        assert_eq!(got, "GPL-2.0-or-later OR LGPL-3.0-or-later");
        let (got, _) = spdx("GPL-3+ and ISC or MIT");
        assert_eq!(got, "(GPL-3.0-or-later AND ISC) OR MIT");
        let (got, _) = spdx("ISC and/or LGPL-2.1+");
        assert_eq!(got, "ISC OR LGPL-2.1-or-later");
        let (got, _) = spdx("Expat or MIT");
        assert_eq!(got, "MIT");
    }
}
