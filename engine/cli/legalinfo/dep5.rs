//! Debian's machine-readable copyright files (DEP-5, copyright-format
//! 1.0) as `forge legal-info` reads them: the deb822 paragraphs, whether a
//! file is machine-readable at all, the `License:` names of its `Files:`
//! paragraphs, the texts it gives for license names, and the syntax of a
//! license name expression (`or`, `and`, a comma lowering precedence).

use std::collections::BTreeMap;

/// One deb822 paragraph: its fields in order, a value's continuation
/// lines joined to its first line with `\n`.
#[derive(Debug, Default)]
pub(super) struct Paragraph {
    fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The value of the field `name` (field names ignore case).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The paragraphs of a deb822 text: blank lines separate them, `#` lines
/// are comments, a line starting with a space or a tab continues the field
/// before it (` .` stands for an empty line). A line that is none of these
/// is skipped.
pub(super) fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut all = Vec::new();
    let mut current = Paragraph::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                all.push(std::mem::take(&mut current));
            }
        } else if line.starts_with('#') {
            continue;
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.fields.last_mut() {
                let more = line[1..].trim_end();
                value.push('\n');
                value.push_str(if more.trim() == "." { "" } else { more });
            }
        } else if let Some((name, value)) = line.split_once(':') {
            current
                .fields
                .push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    if !current.fields.is_empty() {
        all.push(current);
    }
    all
}

/// What a package's copyright file says about its licenses.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Copyright {
    /// A DEP-5 file.
    MachineReadable {
        /// The license name expressions (each `License:` field's first
        /// line) of the `Files:` paragraphs, in order, without duplicates;
        /// the header's when no paragraph has `Files:`. An empty one is
        /// kept: the file names no license there.
        licenses: Vec<String>,
        /// The license texts the file gives, by license name in lower
        /// case: a standalone `License:` paragraph's, or a `Files:`
        /// paragraph's when its field holds more than the name.
        texts: BTreeMap<String, String>,
    },
    /// Free text: the first paragraph has no `Format:` naming the
    /// machine-readable format.
    FreeForm,
}

/// Read a copyright file's text.
pub(super) fn read(text: &str) -> Copyright {
    let all = paragraphs(text);
    let machine_readable = all.first().and_then(|p| p.get("Format")).is_some_and(|f| {
        let f = f.to_ascii_lowercase();
        f.contains("copyright-format") || f.contains("dep5") || f.contains("dep-5")
    });
    if !machine_readable {
        return Copyright::FreeForm;
    }
    let mut licenses: Vec<String> = Vec::new();
    let mut texts = BTreeMap::new();
    let has_files = all.iter().any(|p| p.get("Files").is_some());
    for (i, p) in all.iter().enumerate() {
        let Some(field) = p.get("License") else {
            continue;
        };
        let (name, body) = field.split_once('\n').unwrap_or((field, ""));
        let name = name.trim();
        let body = body.trim_matches('\n');
        if !body.trim().is_empty() && !name.is_empty() {
            texts
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| body.to_string());
        }
        let names_files = p.get("Files").is_some() || (i == 0 && !has_files);
        if names_files && !licenses.iter().any(|l| l == name) {
            licenses.push(name.to_string());
        }
    }
    Copyright::MachineReadable { licenses, texts }
}

/// A license name expression: a name (`GPL-2+`, `GPL-2+ with OpenSSL
/// exception`), all of several, or any one of several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Names {
    One(String),
    All(Vec<Names>),
    Any(Vec<Names>),
}

impl Names {
    /// `parts` joined by `and` (`all`) or `or`; nested joins of the same
    /// kind flattened, a single part left alone.
    pub(super) fn join(all: bool, parts: Vec<Names>) -> Names {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Names::All(v) if all => flat.extend(v),
                Names::Any(v) if !all => flat.extend(v),
                other => flat.push(other),
            }
        }
        match flat.len() {
            1 => flat.remove(0),
            _ if all => Names::All(flat),
            _ => Names::Any(flat),
        }
    }
}

/// Parse a `License:` first line. `and` binds tighter than `or`; a comma
/// ends a group, the word after it (`and`, `or`) joining the group to what
/// came before (`GPL-1+ or Artistic, and BSD-3-clause`); `and/or` is read
/// as `or`. `None` when a name is empty.
pub(super) fn names(synopsis: &str) -> Option<Names> {
    let mut chunks = synopsis.split(',');
    let first: Vec<&str> = chunks.next()?.split_whitespace().collect();
    let mut left = group(&first)?;
    for chunk in chunks {
        let words: Vec<&str> = chunk.split_whitespace().collect();
        let (all, rest) = match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("or" | "and/or") => (false, &words[1..]),
            Some("and") => (true, &words[1..]),
            // A list without a joining word: every license applies.
            _ => (true, &words[..]),
        };
        left = Names::join(all, vec![left, group(rest)?]);
    }
    Some(left)
}

/// The words of a group without commas.
fn group(words: &[&str]) -> Option<Names> {
    let is = |w: &str, k: &[&str]| k.iter().any(|k| w.eq_ignore_ascii_case(k));
    let mut any = Vec::new();
    for alternative in words.split(|w| is(w, &["or", "and/or"])) {
        let mut all = Vec::new();
        for name in alternative.split(|w| is(w, &["and"])) {
            if name.is_empty() {
                return None;
            }
            all.push(Names::One(name.join(" ")));
        }
        any.push(Names::join(true, all));
    }
    Some(Names::join(false, any))
}

#[cfg(test)]
mod tests;
