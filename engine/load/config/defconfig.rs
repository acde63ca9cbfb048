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

use super::error::ConfigError;
use super::schema::Value;
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
    /// `is not set` spelled out.
    pub fn as_written(&self) -> String {
        match self {
            RawValue::Bare(s) if s.is_empty() => "(empty)".to_string(),
            RawValue::Bare(s) => s.clone(),
            RawValue::Quoted(s) => quote(s),
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

    /// The assignment in effect for each symbol: the last one in the file.
    pub fn effective(&self) -> BTreeMap<&str, &Assignment> {
        self.assignments().map(|a| (a.name.as_str(), a)).collect()
    }
}

/// Reads and parses the defconfig at `path`.
pub fn parse_defconfig(path: &Path) -> Result<Defconfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_defconfig_str(path, &text)
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
                 found `{line}`"
            ),
        ));
    };
    let name = name.trim_end();
    if !is_symbol(name) {
        return Err(syntax(
            Some(col(0)),
            format!(
                "invalid option name `{name}`; names use only letters, digits and `_`, \
                 as in `TARGET_ARCH=\"arm\"`"
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
                        rest.trim()
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
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Defconfig, ConfigError> {
        parse_defconfig_str(Path::new("boards/x_defconfig"), text)
    }

    #[test]
    fn parses_all_line_kinds_and_round_trips() {
        let text = "# Board\n\nA=y\n# B is not set\nC=42\nD=\"say \\\"hi\\\" \\\\o/\"\n  E = arm \n#F is not set\n";
        let d = parse(text).unwrap();
        assert_eq!(d.to_text(), text);
        assert_eq!(d.lines[0].kind, LineKind::Comment);
        assert_eq!(d.lines[1].kind, LineKind::Blank);
        let eff = d.effective();
        assert_eq!(eff["A"].value, RawValue::Bare("y".into()));
        assert_eq!(eff["A"].loc.to_string(), "boards/x_defconfig:3");
        assert_eq!(eff["B"].value, RawValue::NotSet);
        assert_eq!(eff["C"].value, RawValue::Bare("42".into()));
        assert_eq!(eff["D"].value, RawValue::Quoted("say \"hi\" \\o/".into()));
        assert_eq!(eff["E"].value, RawValue::Bare("arm".into()));
        // `#F is not set` lacks the space: a plain comment.
        assert!(!eff.contains_key("F"));
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn exact_bytes_without_trailing_newline_and_with_crlf() {
        for text in ["A=y", "A=y\r\n# c\r\n", "", "\n", "\n\n"] {
            assert_eq!(parse(text).unwrap().to_text(), text);
        }
        let d = parse("A=y\r\nB=\"x\"\r\n").unwrap();
        assert_eq!(d.effective()["B"].value, RawValue::Quoted("x".into()));
    }

    #[test]
    fn duplicate_assignment_warns_and_later_wins() {
        let d = parse("A=1\nB=y\nA=2\n").unwrap();
        assert_eq!(d.effective()["A"].value, RawValue::Bare("2".into()));
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].0.line, 3);
        assert!(d.warnings[0].1.contains("boards/x_defconfig:1"));
    }

    #[test]
    fn unterminated_string_names_line_and_column() {
        let e = parse("A=y\nB=\"abc\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("boards/x_defconfig:2:3: unterminated string"),
            "{msg}"
        );
        let e = parse("B=\"abc\\\"\n").unwrap_err();
        assert!(e.to_string().contains("unterminated string"));
    }

    #[test]
    fn other_syntax_errors_are_all_reported() {
        let e = parse("just words\nBAD-NAME=1\nC=\"a\" b\nD=\"\\n\"\n").unwrap_err();
        let errs = e.errors();
        assert_eq!(errs.len(), 4, "{e}");
        assert!(
            errs[0]
                .to_string()
                .starts_with("boards/x_defconfig:1: expected `NAME=value`")
        );
        assert!(
            errs[1]
                .to_string()
                .starts_with("boards/x_defconfig:2:1: invalid option name")
        );
        assert!(errs[2].to_string().contains(":3:7: unexpected text `b`"));
        assert!(errs[3].to_string().contains(":4:4: unknown escape `\\n`"));
    }

    #[test]
    fn canonical_formatting() {
        assert_eq!(format_assignment("A", &Value::Bool(true)), "A=y");
        assert_eq!(
            format_assignment("A", &Value::Bool(false)),
            "# A is not set"
        );
        assert_eq!(format_assignment("A", &Value::Int(-3)), "A=-3");
        assert_eq!(
            format_assignment("A", &Value::Str("a\"b\\".into())),
            "A=\"a\\\"b\\\\\""
        );
        let d = parse(&format!(
            "{}\n",
            format_assignment("A", &Value::Str("a\"b\\".into()))
        ))
        .unwrap();
        assert_eq!(d.effective()["A"].value, RawValue::Quoted("a\"b\\".into()));
    }
}
