//! The Kconfig-syntax reader: turns a defconfig (or `.config`) into a
//! [`Defconfig`] that keeps every line — assignments, comments and blanks —
//! in order, so it can be written back byte for byte. Also owns the
//! canonical way a value is written on a line ([`format_assignment`]).
//!
//! Accepted lines (leading and trailing whitespace is ignored):
//! - `NAME=value`, where value is a bare word (`y`, `n`, `42`, `arm`) or a
//!   `"double-quoted string"` with `\"` and `\\` as the only escapes;
//! - `# NAME is not set` (exactly one space after `#`), meaning bool n;
//! - blank lines and any other line starting with `#` (comments).
//!
//! Text, names and values are checked against [`super::text`]'s limits.

use super::error::ConfigError;
use super::schema::Value;
use super::text::{self, excerpt};
use crate::location::Location;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed defconfig, every line kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Defconfig {
    /// The path used in messages (as given by the caller).
    pub path: PathBuf,
    pub lines: Vec<Line>,
    /// Whether the last line ended with a newline.
    pub trailing_newline: bool,
    /// Non-fatal findings, e.g. a symbol assigned twice.
    pub warnings: Vec<(Location, String)>,
}

/// One line of a defconfig: its exact text and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The line as read, without its `\n` (a `\r` before it is kept).
    pub text: String,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    Blank,
    Comment,
    Assign(Assignment),
}

/// `NAME=value` or `# NAME is not set`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    pub value: RawValue,
    pub loc: Location,
}

/// A value as written, before it is checked against the option's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// An unquoted word: `y`, `n`, `42`, `arm` (may be empty).
    Bare(String),
    /// A double-quoted string, escapes already undone.
    Quoted(String),
    /// `# NAME is not set`.
    NotSet,
}

impl RawValue {
    /// The value as it would appear in a message: quoted strings re-quoted,
    /// `is not set` spelled out, a long value cut to an excerpt.
    pub fn as_written(&self) -> String {
        match self {
            RawValue::Bare(s) if s.is_empty() => "(empty)".to_string(),
            RawValue::Bare(s) => excerpt(s),
            RawValue::Quoted(s) => quote(&excerpt(s)),
            RawValue::NotSet => "`is not set`".to_string(),
        }
    }
}

impl Defconfig {
    /// The text exactly as it was read.
    pub fn to_text(&self) -> String {
        join_lines(
            self.lines.iter().map(|l| l.text.as_str()),
            self.trailing_newline,
        )
    }

    /// All assignments in file order, including ones a later line overrides.
    pub fn assignments(&self) -> impl Iterator<Item = &Assignment> {
        self.lines.iter().filter_map(|l| match &l.kind {
            LineKind::Assign(a) => Some(a),
            _ => None,
        })
    }

    /// Print the non-fatal findings (a symbol assigned twice) as warnings.
    pub fn report_warnings(&self) {
        for (loc, message) in &self.warnings {
            eprintln!("forge: warning: {loc}: {message}");
        }
    }

    /// The assignment in effect for each symbol: the last one in the file.
    pub fn effective(&self) -> BTreeMap<&str, &Assignment> {
        self.assignments().map(|a| (a.name.as_str(), a)).collect()
    }
}

/// Reads and parses the defconfig at `path`.
pub fn parse_defconfig(path: &Path) -> Result<Defconfig, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_defconfig_str(path, &text::decode(path, bytes)?)
}

/// Parses defconfig `text`; `path_for_messages` names it in locations.
/// All syntax errors are reported together.
pub fn parse_defconfig_str(path_for_messages: &Path, text: &str) -> Result<Defconfig, ConfigError> {
    let (body, trailing_newline) = match text.strip_suffix('\n') {
        Some(b) => (b, true),
        None => (text, false),
    };
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    if !body.is_empty() || trailing_newline {
        for (i, raw) in body.split('\n').enumerate() {
            if let Some(e) = text::check_line(path_for_messages, i + 1, raw) {
                errors.push(e);
                continue;
            }
            match parse_line(path_for_messages, i + 1, raw) {
                Ok(kind) => lines.push(Line {
                    text: raw.to_string(),
                    kind,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    ConfigError::collect(errors)?;

    let mut warnings = Vec::new();
    let mut seen: BTreeMap<&str, &Location> = BTreeMap::new();
    for a in lines.iter().filter_map(|l| match &l.kind {
        LineKind::Assign(a) => Some(a),
        _ => None,
    }) {
        if let Some(earlier) = seen.insert(&a.name, &a.loc) {
            warnings.push((
                a.loc.clone(),
                format!(
                    "{} is assigned again; the earlier assignment at {earlier} is ignored \
                     (remove one of the two lines)",
                    a.name
                ),
            ));
        }
    }
    Ok(Defconfig {
        path: path_for_messages.to_path_buf(),
        lines,
        trailing_newline,
        warnings,
    })
}

fn parse_line(file: &Path, line_no: usize, raw: &str) -> Result<LineKind, ConfigError> {
    let line = raw.trim();
    let loc = |col: Option<usize>| Location::new(file, line_no, col);
    let syntax = |col: Option<usize>, message: String| ConfigError::Syntax {
        loc: loc(col),
        message,
    };
    if line.is_empty() {
        return Ok(LineKind::Blank);
    }
    if let Some(comment) = line.strip_prefix('#') {
        let not_set = comment
            .strip_prefix(' ')
            .and_then(|c| c.strip_suffix(" is not set"))
            .filter(|name| is_symbol(name));
        return Ok(match not_set {
            Some(name) => LineKind::Assign(Assignment {
                name: name.to_string(),
                value: RawValue::NotSet,
                loc: loc(None),
            }),
            None => LineKind::Comment,
        });
    }
    // 1-based column of byte offset `off` within `line`, in the raw text.
    let indent = raw.len() - raw.trim_start().len();
    let col = |off: usize| raw[..indent + off].chars().count() + 1;
    let Some((name, value)) = line.split_once('=') else {
        return Err(syntax(
            None,
            format!(
                "expected `NAME=value`, `# NAME is not set` or a comment starting with `#`, \
                 found `{}`",
                excerpt(line)
            ),
        ));
    };
    let name = name.trim_end();
    if !is_symbol(name) {
        return Err(syntax(
            Some(col(0)),
            format!(
                "invalid option name `{}`; names use only letters, digits and `_`, \
                 as in `TARGET_ARCH=\"arm\"`",
                excerpt(name)
            ),
        ));
    }
    if name.len() > text::MAX_NAME {
        return Err(syntax(
            Some(col(0)),
            format!(
                "the option name `{}` is {} bytes long; at most {} are accepted",
                excerpt(name),
                name.len(),
                text::MAX_NAME
            ),
        ));
    }
    let value_off = line.len() - value.trim_start().len();
    let value = value.trim_start();
    let value = if value.starts_with('"') {
        match parse_quoted(value) {
            Ok(s) => RawValue::Quoted(s),
            Err((off, msg)) => return Err(syntax(Some(col(value_off + off)), msg)),
        }
    } else {
        RawValue::Bare(value.to_string())
    };
    if let RawValue::Bare(v) | RawValue::Quoted(v) = &value
        && let Some(e) = text::check_value(loc(Some(col(value_off))), name, v)
    {
        return Err(e);
    }
    Ok(LineKind::Assign(Assignment {
        name: name.to_string(),
        value,
        loc: loc(None),
    }))
}

/// Parses `"..."` (the whole of `s`, which starts with `"`); on error
/// returns the byte offset in `s` to point at and the message.
fn parse_quoted(s: &str) -> Result<String, (usize, String)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let rest = &s[i + 1..];
                if rest.trim().is_empty() {
                    return Ok(out);
                }
                return Err((
                    i + 1 + rest.len() - rest.trim_start().len(),
                    format!(
                        "unexpected text `{}` after the closing quote; \
                         put the whole value inside the quotes",
                        excerpt(rest.trim())
                    ),
                ));
            }
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((j, e)) => {
                    return Err((
                        j - 1,
                        format!(
                            "unknown escape `\\{e}` in string; only `\\\"` and `\\\\` are \
                             allowed (write `\\\\` for a backslash)"
                        ),
                    ));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err((
        0,
        "unterminated string: missing closing `\"`; end the value with `\"` \
         (write `\\\"` for a quote inside it)"
            .to_string(),
    ))
}

/// Whether `name` is a valid symbol: non-empty, letters, digits and `_`.
pub fn is_symbol(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `s` double-quoted, with `"` and `\` escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The canonical line for `name` set to `value`: `NAME=y`,
/// `# NAME is not set`, `NAME=42` or `NAME="text"` (strings, paths and
/// choices are always quoted).
pub fn format_assignment(name: &str, value: &Value) -> String {
    match value {
        Value::Bool(true) => format!("{name}=y"),
        Value::Bool(false) => format!("# {name} is not set"),
        Value::Int(i) => format!("{name}={i}"),
        Value::Str(s) => format!("{name}={}", quote(s)),
    }
}

/// Joins lines with `\n`, adding a final `\n` when `trailing_newline`.
pub(crate) fn join_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
    trailing_newline: bool,
) -> String {
    let mut out = String::new();
    for (i, l) in lines.enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(l);
    }
    if trailing_newline {
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "defconfig_tests.rs"]
mod tests;
