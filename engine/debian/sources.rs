//! The apt sources a Debian root filesystem is resolved against, as
//! one-line entries (`deb [signed-by=…] URI SUITE COMPONENTS`): the lines
//! of the board's `DEBIAN_SOURCES` file, or, when it is empty, the build
//! machine's own apt configuration for the suite (its `SUITE`,
//! `SUITE-updates` and `SUITE-security` entries), so no mirror is ever
//! named by the project.

use std::path::{Path, PathBuf};

/// One `deb` entry of an apt configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    uri: String,
    suite: String,
    components: Vec<String>,
    signed_by: Option<String>,
}

impl Entry {
    fn line(&self, components: &[String]) -> String {
        let comps = if components.is_empty() {
            &self.components
        } else {
            components
        };
        let opts = self
            .signed_by
            .as_ref()
            .map(|k| format!("[signed-by={k}] "))
            .unwrap_or_default();
        format!("deb {opts}{} {} {}", self.uri, self.suite, comps.join(" "))
    }
}

/// The `deb` entries of one file: one-line (`.list`) or deb822 (`.sources`).
fn entries(text: &str, deb822: bool) -> Vec<Entry> {
    if deb822 {
        text.split("\n\n").flat_map(stanza).collect()
    } else {
        text.lines().filter_map(one_line).collect()
    }
}

fn one_line(line: &str) -> Option<Entry> {
    let line = line.split('#').next()?.trim();
    let rest = line.strip_prefix("deb ")?.trim_start();
    let mut signed_by = None;
    let rest = match rest.strip_prefix('[') {
        Some(r) => {
            let (opts, after) = r.split_once(']')?;
            for o in opts.split_whitespace() {
                if let Some(k) = o.strip_prefix("signed-by=") {
                    signed_by = Some(k.to_string());
                }
            }
            after
        }
        None => rest,
    };
    let mut words = rest.split_whitespace();
    let uri = words.next()?.to_string();
    let suite = words.next()?.to_string();
    Some(Entry {
        uri,
        suite,
        components: words.map(str::to_string).collect(),
        signed_by,
    })
}

fn stanza(text: &str) -> Vec<Entry> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if line.starts_with(char::is_whitespace) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if !get("types").split_whitespace().any(|t| t == "deb")
        || get("enabled").eq_ignore_ascii_case("no")
    {
        return Vec::new();
    }
    // An inline key block (several lines) cannot be named by path.
    let signed_by = Some(get("signed-by"))
        .filter(|k| k.starts_with('/') && !k.contains(' '))
        .map(str::to_string);
    let components: Vec<String> = get("components")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for uri in get("uris").split_whitespace() {
        for suite in get("suites").split_whitespace() {
            out.push(Entry {
                uri: uri.to_string(),
                suite: suite.to_string(),
                components: components.clone(),
                signed_by: signed_by.clone(),
            });
        }
    }
    out
}

/// The apt configuration files of the build machine, in apt's order.
fn host_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "list" || x == "sources"))
            .collect();
        more.sort();
        files.extend(more);
    }
    files
}

fn read_entries(path: &Path) -> std::io::Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)?;
    let deb822 = path.extension().is_some_and(|x| x == "sources");
    Ok(entries(&text, deb822))
}

/// The lines of a `DEBIAN_SOURCES` file (any `deb` entry, as written).
pub fn from_file(path: &Path) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let deb822 = text.contains("URIs:");
    Ok(dedup(entries(&text, deb822).iter().map(|e| e.line(&[]))))
}

/// The build machine's entries for `suite` (and its `-updates` and
/// `-security` suites) with the board's `components`; empty when it has
/// none.
pub fn from_host(suite: &str, components: &[String]) -> Vec<String> {
    let wanted = [
        suite.to_string(),
        format!("{suite}-updates"),
        format!("{suite}-security"),
    ];
    let mut lines = Vec::new();
    for file in host_files() {
        for e in read_entries(&file).unwrap_or_default() {
            if wanted.contains(&e.suite) {
                lines.push(e.line(components));
            }
        }
    }
    dedup(lines.into_iter())
}

fn dedup(lines: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_and_one_line_entries() {
        let text = "Types: deb deb-src\nURIs: http://m.invalid/debian\nSuites: bookworm bookworm-updates\n\
                    Components: main\nSigned-By: /usr/share/keyrings/k.gpg\n\n\
                    Types: deb-src\nURIs: http://m.invalid/debian\nSuites: trixie\nComponents: main\n";
        let got: Vec<String> = entries(text, true).iter().map(|e| e.line(&[])).collect();
        assert_eq!(
            got,
            [
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://m.invalid/debian bookworm main",
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://m.invalid/debian bookworm-updates main"
            ]
        );
        let list = "# c\ndeb [arch=armhf signed-by=/k.gpg] http://m.invalid/d bookworm main contrib\ndeb-src http://x bookworm main\n";
        let e = entries(list, false);
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].line(&["main".into(), "non-free-firmware".into()]),
            "deb [signed-by=/k.gpg] http://m.invalid/d bookworm main non-free-firmware"
        );
    }
}
