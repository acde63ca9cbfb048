//! The Debian lock file: what a board asked mmdebstrap for (the
//! [`Request`]), the apt sources it resolved against, and every package it
//! installed with version, architecture and the sha256 of its `.deb`.
//! Users commit it beside the board; builds install exactly what it says.
//!
//! It is a line format a reviewer can read in a diff:
//!
//! ```text
//! suite bookworm
//! architecture armhf
//! variant minbase
//! components main
//! include apt kmod sudo
//! source deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://… bookworm main
//! package adduser 3.134 all 5d2f… auto
//! ```
//!
//! `#` starts a comment line; blank lines are ignored.

use crate::location::Location;
use std::fmt::Write as _;
use std::path::Path;

/// What the board asks for: a lock answers one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub suite: String,
    pub architecture: String,
    pub variant: String,
    /// Space-separated in the file, in the board's order.
    pub components: Vec<String>,
    /// The packages asked for beyond the variant, sorted, without
    /// duplicates.
    pub include: Vec<String>,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Locked {
    pub name: String,
    pub version: String,
    pub architecture: String,
    pub sha256: String,
    /// apt installed it automatically (as a dependency): `apt autoremove`
    /// may remove it once nothing needs it.
    pub auto: bool,
    /// The lock's line naming it (1-based), for messages. Not keyed: the
    /// lock file's digest is.
    #[serde(skip)]
    pub line: usize,
}

impl Locked {
    /// The file name Debian's pool gives it: the version without its epoch.
    pub fn file_name(&self) -> String {
        let version = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |(_, v)| v);
        format!("{}_{}_{}.deb", self.name, version, self.architecture)
    }
}

/// A parsed lock file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lock {
    pub request: Request,
    /// apt source lines (one-line format, `deb …`), in order.
    pub sources: Vec<String>,
    /// Sorted by name, then architecture.
    pub packages: Vec<Locked>,
}

/// Why a lock file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct LockError {
    pub location: Location,
    pub message: String,
}

const KEYWORDS: &str = "suite, architecture, variant, components, include, source or package";

/// A package or suite name as Debian allows it (policy 5.6.1, and suites
/// like `bookworm-backports`).
fn is_debian_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.~:".contains(&b))
}

impl Lock {
    /// Parse the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Lock, LockError> {
        let mut lock = Lock::default();
        let at = |n: usize| Location::new(path, n, None);
        let err = |n: usize, message: String| LockError {
            location: at(n),
            message,
        };
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains('\0') {
                return Err(err(n, "a NUL byte; the lock is a text file".into()));
            }
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            let words: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
            let single = |what: &str| -> Result<String, LockError> {
                match words.as_slice() {
                    [one] if is_debian_name(one) => Ok(one.clone()),
                    _ => Err(err(n, format!("`{what}` takes one name, found `{rest}`"))),
                }
            };
            match word {
                "suite" => lock.request.suite = single("suite")?,
                "architecture" => lock.request.architecture = single("architecture")?,
                "variant" => lock.request.variant = single("variant")?,
                "components" => lock.request.components = words,
                "include" => lock.request.include = words,
                "source" => {
                    if !rest.starts_with("deb ") {
                        return Err(err(
                            n,
                            format!("a source is an apt line starting with `deb `, found `{rest}`"),
                        ));
                    }
                    lock.sources.push(rest.to_string());
                }
                "package" => {
                    let (fields, auto) = match words.as_slice() {
                        [f @ .., last] if last == "auto" => (f, true),
                        f => (f, false),
                    };
                    let [name, version, arch, sha] = fields else {
                        return Err(err(
                            n,
                            format!(
                                "expected `package NAME VERSION ARCHITECTURE SHA256 [auto]`, found {} fields",
                                words.len()
                            ),
                        ));
                    };
                    if !is_debian_name(name) || !is_version(version) || !is_debian_name(arch) {
                        return Err(err(
                            n,
                            format!(
                                "`{name} {version} {arch}` is not a Debian package, version and architecture"
                            ),
                        ));
                    }
                    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(err(n, format!("`{sha}` is not a sha256 (64 hex digits)")));
                    }
                    lock.packages.push(Locked {
                        name: name.clone(),
                        version: version.clone(),
                        architecture: arch.clone(),
                        sha256: sha.to_ascii_lowercase(),
                        auto,
                        line: n,
                    });
                }
                other => {
                    return Err(err(
                        n,
                        format!("unknown line `{other}`; expected {KEYWORDS}"),
                    ));
                }
            }
        }
        let r = &lock.request;
        for (what, value) in [
            ("suite", &r.suite),
            ("architecture", &r.architecture),
            ("variant", &r.variant),
        ] {
            if value.is_empty() {
                return Err(err(
                    1,
                    format!("no `{what}` line; refresh the lock with `forge debian-lock`"),
                ));
            }
        }
        if lock.packages.is_empty() {
            return Err(err(
                1,
                "no `package` line; refresh the lock with `forge debian-lock`".into(),
            ));
        }
        let mut seen = std::collections::BTreeMap::new();
        for p in &lock.packages {
            if let Some(first) = seen.insert((p.name.clone(), p.architecture.clone()), p.line) {
                return Err(err(
                    p.line,
                    format!(
                        "{} ({}) is locked twice (first on line {first}); keep one",
                        p.name, p.architecture
                    ),
                ));
            }
        }
        Ok(lock)
    }

    /// Read and parse a lock file.
    pub fn read(path: &Path) -> Result<Lock, LockError> {
        let text = std::fs::read_to_string(path).map_err(|e| LockError {
            location: Location::new(path, 1, None),
            message: format!("cannot read the lock: {e}"),
        })?;
        Lock::parse(path, &text)
    }

    /// The file's text, with a header saying what it is.
    pub fn render(&self, board: &str) -> String {
        let r = &self.request;
        let mut out = format!(
            "# The Debian packages of {board}, as `forge debian-lock` resolved them with\n\
             # mmdebstrap. Commit this file: builds install exactly these packages\n\
             # (offline once their .debs are in dl/). `forge debian-lock` refreshes it.\n"
        );
        let _ = writeln!(out, "suite {}", r.suite);
        let _ = writeln!(out, "architecture {}", r.architecture);
        let _ = writeln!(out, "variant {}", r.variant);
        let _ = writeln!(out, "components {}", r.components.join(" "));
        let _ = writeln!(out, "include {}", r.include.join(" "));
        for s in &self.sources {
            let _ = writeln!(out, "source {s}");
        }
        for p in &self.packages {
            let _ = writeln!(
                out,
                "package {} {} {} {}{}",
                p.name,
                p.version,
                p.architecture,
                p.sha256,
                if p.auto { " auto" } else { "" }
            );
        }
        out
    }

    /// What differs between the lock's request and `want`, as a phrase
    /// (`None` when the lock answers it).
    pub fn stale(&self, want: &Request, sources: Option<&[String]>) -> Option<String> {
        let r = &self.request;
        let mut what = Vec::new();
        let mut differs = |name: &str, a: String, b: String| {
            if a != b {
                what.push(format!("{name} `{a}` (the board asks for `{b}`)"));
            }
        };
        differs("suite", r.suite.clone(), want.suite.clone());
        differs(
            "architecture",
            r.architecture.clone(),
            want.architecture.clone(),
        );
        differs("variant", r.variant.clone(), want.variant.clone());
        differs(
            "components",
            r.components.join(" "),
            want.components.join(" "),
        );
        differs("packages", r.include.join(" "), want.include.join(" "));
        if let Some(s) = sources {
            differs("sources", self.sources.join("; "), s.join("; "));
        }
        (!what.is_empty()).then(|| what.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "5d2f1c1e5b7d1e0c5f3b0f8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d";

    fn sample() -> Lock {
        Lock {
            request: Request {
                suite: "bookworm".into(),
                architecture: "armhf".into(),
                variant: "minbase".into(),
                components: vec!["main".into()],
                include: vec!["kmod".into(), "sudo".into()],
            },
            sources: vec!["deb http://example.invalid/debian bookworm main".into()],
            packages: vec![Locked {
                name: "sudo".into(),
                version: "1:1.9.13p3-1+deb12u1".into(),
                architecture: "armhf".into(),
                sha256: SHA.into(),
                auto: true,
                line: 10,
            }],
        }
    }

    #[test]
    fn render_then_parse_is_identity() {
        let lock = sample();
        let text = lock.render("b");
        let back = Lock::parse(Path::new("l"), &text).unwrap();
        assert_eq!(back, lock);
        assert_eq!(
            lock.packages[0].file_name(),
            "sudo_1.9.13p3-1+deb12u1_armhf.deb"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let text = sample().render("b").replace(SHA, "abc");
        let e = Lock::parse(Path::new("x.lock"), &text).unwrap_err();
        assert_eq!(e.location.line, 10);
        assert!(e.message.contains("not a sha256"), "{e}");
        let e = Lock::parse(Path::new("x.lock"), "suite bookworm\nfoo bar\n").unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(e.message.contains("unknown line `foo`"), "{e}");
        let twice = format!("{}package sudo 1 armhf {SHA}\n", sample().render("b"));
        let e = Lock::parse(Path::new("x.lock"), &twice).unwrap_err();
        assert!(e.message.contains("locked twice"), "{e}");
    }

    #[test]
    fn stale_says_what_differs() {
        let lock = sample();
        assert_eq!(lock.stale(&lock.request, None), None);
        let mut want = lock.request.clone();
        want.include.push("vim".into());
        let why = lock.stale(&want, None).unwrap();
        assert!(
            why.contains("packages `kmod sudo` (the board asks for `kmod sudo vim`)"),
            "{why}"
        );
        let other = vec!["deb http://other.invalid/debian bookworm main".to_string()];
        assert!(
            lock.stale(&lock.request, Some(&other))
                .unwrap()
                .contains("sources")
        );
    }
}
