//! `${NAME}` in recipes: the recipe variables (`${version}`, `${name}`) and
//! the check, run once every option is declared, that each `${NAME}` in a
//! recipe's strings names an option or a recipe variable. A misspelt name is
//! an error at `file:line:col` instead of an empty string in a command.

use super::Loaded;
use crate::location::Location;
use std::path::Path;
use thiserror::Error;

/// The recipe variables a recipe string may name besides options.
pub const VARIABLES: [&str; 2] = ["version", "name"];

impl Loaded {
    /// The values of [`VARIABLES`] for this recipe, for `key::expand`.
    pub fn variables(&self) -> [(&'static str, &str); 2] {
        [
            ("version", &self.recipe.version),
            ("name", &self.recipe.name),
        ]
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum VarError {
    #[error("{location}: unknown variable `${{{name}}}`{}", advice(.name, .suggestion))]
    Unknown {
        location: Location,
        name: String,
        /// The known name closest to `name`, if one is close.
        suggestion: Option<String>,
    },
    #[error(
        "{location}: `${{` without a closing `}}`; write `${{NAME}}` for an option or recipe variable, `$NAME` for a shell variable"
    )]
    Unterminated { location: Location },
}

/// Check every `${NAME}` in the strings of a loaded recipe.
pub fn check<'a>(
    loaded: &Loaded,
    options: impl Iterator<Item = &'a String> + Clone,
) -> Result<(), VarError> {
    check_text(&loaded.file, &loaded.text, options)
}

/// Check every `${NAME}` in the string literals of the RON `text` of `file`
/// (comments are skipped): `NAME` must be one of `options` or a recipe
/// variable. The first problem is returned.
pub fn check_text<'a>(
    file: &Path,
    text: &str,
    options: impl Iterator<Item = &'a String> + Clone,
) -> Result<(), VarError> {
    let at = |p: Pos| Location::new(file, p.line, Some(p.col));
    for literal in string_literals(text) {
        let mut i = 0;
        while i + 1 < literal.len() {
            if !(literal[i].0 == '$' && literal[i + 1].0 == '{') {
                i += 1;
                continue;
            }
            let start = literal[i].1;
            let Some(len) = literal[i + 2..].iter().position(|(c, _)| *c == '}') else {
                return Err(VarError::Unterminated {
                    location: at(start),
                });
            };
            let name: String = literal[i + 2..i + 2 + len].iter().map(|(c, _)| c).collect();
            let known = VARIABLES.contains(&name.as_str()) || options.clone().any(|o| *o == name);
            if !known {
                return Err(VarError::Unknown {
                    location: at(start),
                    suggestion: closest(&name, options.clone()),
                    name,
                });
            }
            i += 2 + len + 1;
        }
    }
    Ok(())
}

/// The rest of an unknown-variable message: a suggestion, then the rule.
fn advice(name: &str, suggestion: &Option<String>) -> String {
    let hint = suggestion
        .as_ref()
        .map(|k| format!("; did you mean `${{{k}}}`?"))
        .unwrap_or_default();
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let shell = if identifier { name } else { "NAME" };
    format!(
        "{hint} (`${{…}}` names an option or the recipe's `version` or `name`; a shell variable is written `${shell}`)"
    )
}

/// The known name closest to `name` (case ignored), if reasonably close.
fn closest<'a>(name: &str, options: impl Iterator<Item = &'a String>) -> Option<String> {
    let wanted = name.to_ascii_lowercase();
    options
        .map(String::as_str)
        .chain(VARIABLES)
        .map(|k| (strsim::jaro_winkler(&wanted, &k.to_ascii_lowercase()), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

/// A 1-based line and column (in characters) in the recipe text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pos {
    line: usize,
    col: usize,
}

/// A string literal's decoded characters, each with where it was written.
type Literal = Vec<(char, Pos)>;

/// A cursor over the text that keeps the position of the next character.
struct Cursor {
    chars: Vec<char>,
    i: usize,
    pos: Pos,
}

impl Cursor {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) -> Option<(char, Pos)> {
        let c = self.peek(0)?;
        let at = self.pos;
        self.i += 1;
        if c == '\n' {
            self.pos = Pos {
                line: at.line + 1,
                col: 1,
            };
        } else {
            self.pos.col += 1;
        }
        Some((c, at))
    }
}

/// Every string literal of a RON text (plain, raw and byte strings), decoded;
/// comments and character literals are skipped. The text is assumed to have
/// parsed already, so a malformed tail just ends the scan.
fn string_literals(text: &str) -> Vec<Literal> {
    let mut cur = Cursor {
        chars: text.chars().collect(),
        i: 0,
        pos: Pos { line: 1, col: 1 },
    };
    let mut found = Vec::new();
    while let Some(c) = cur.peek(0) {
        match c {
            '/' if cur.peek(1) == Some('/') => {
                while cur.peek(0).is_some_and(|c| c != '\n') {
                    cur.bump();
                }
            }
            '/' if cur.peek(1) == Some('*') => skip_block_comment(&mut cur),
            '"' => {
                cur.bump();
                found.push(escaped(&mut cur, '"'));
            }
            '\'' => {
                cur.bump();
                escaped(&mut cur, '\'');
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::new();
                while let Some(c) = cur.peek(0).filter(|c| c.is_alphanumeric() || *c == '_') {
                    word.push(c);
                    cur.bump();
                }
                match (word.as_str(), cur.peek(0)) {
                    ("r" | "br", Some('"' | '#')) => {
                        if let Some(lit) = raw(&mut cur) {
                            found.push(lit);
                        }
                    }
                    ("b", Some('"')) => {
                        cur.bump();
                        found.push(escaped(&mut cur, '"'));
                    }
                    _ => {}
                }
            }
            _ => {
                cur.bump();
            }
        }
    }
    found
}

fn skip_block_comment(cur: &mut Cursor) {
    let mut depth = 0;
    while let Some(c) = cur.peek(0) {
        match (c, cur.peek(1)) {
            ('/', Some('*')) => {
                depth += 1;
                cur.bump();
            }
            ('*', Some('/')) => {
                depth -= 1;
                cur.bump();
                if depth == 0 {
                    cur.bump();
                    return;
                }
            }
            _ => {}
        }
        cur.bump();
    }
}

/// The rest of a quoted literal after its opening `quote`, escapes decoded.
fn escaped(cur: &mut Cursor, quote: char) -> Literal {
    let mut lit = Vec::new();
    while let Some((c, at)) = cur.bump() {
        if c == quote {
            break;
        }
        if c != '\\' {
            lit.push((c, at));
            continue;
        }
        let decoded = match cur.bump() {
            None => break,
            Some(('n', _)) => '\n',
            Some(('r', _)) => '\r',
            Some(('t', _)) => '\t',
            Some(('0', _)) => '\0',
            Some(('x', _)) => hex_char(cur, |c| c.is_ascii_hexdigit(), 2),
            Some(('u', _)) => {
                cur.bump(); // `{`
                let c = hex_char(cur, |c| c != '}', 6);
                cur.bump(); // `}`
                c
            }
            Some((other, _)) => other,
        };
        lit.push((decoded, at));
    }
    lit
}

/// Up to `max` hex digits as a character (bytes of a multi-byte UTF-8
/// sequence become U+FFFD: they never spell `$`, `{` or `}`).
fn hex_char(cur: &mut Cursor, digit: impl Fn(char) -> bool, max: usize) -> char {
    let mut hex = String::new();
    while hex.len() < max
        && let Some(c) = cur.peek(0).filter(|c| digit(*c))
    {
        hex.push(c);
        cur.bump();
    }
    u32::from_str_radix(&hex, 16)
        .ok()
        .filter(|&n| max > 2 || n < 0x80)
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

/// A raw string after its `r`: `#`s, a quote, content up to the quote with
/// as many `#`s. `None` for a raw identifier (`r#name`).
fn raw(cur: &mut Cursor) -> Option<Literal> {
    let mut hashes = 0;
    while cur.peek(hashes) == Some('#') {
        hashes += 1;
    }
    if cur.peek(hashes) != Some('"') {
        return None;
    }
    for _ in 0..=hashes {
        cur.bump();
    }
    let mut lit = Vec::new();
    while let Some((c, at)) = cur.bump() {
        if c == '"' && (0..hashes).all(|k| cur.peek(k) == Some('#')) {
            for _ in 0..hashes {
                cur.bump();
            }
            break;
        }
        lit.push((c, at));
    }
    Some(lit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), VarError> {
        let options = ["HELLO_GREETING".to_string(), "LINUX_DTS".to_string()];
        check_text(Path::new("pkg/pkg.ron"), text, options.iter())
    }

    fn unknown(text: &str) -> (String, String, Option<String>) {
        match check(text) {
            Err(VarError::Unknown {
                location,
                name,
                suggestion,
            }) => (location.to_string(), name, suggestion),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_variables_and_shell_variables_are_fine() {
        let text = r#"Recipe(name: "x", version: "1",
            source: Url(url: "https://x/x-${version}.tar.gz", sha256: ""),
            kind: Generic(build: ["echo ${HELLO_GREETING} ${name} $HOME \"$TARGET_DIR\" $$ $"]))"#;
        assert_eq!(check(text), Ok(()));
    }

    #[test]
    fn an_unknown_name_is_located_and_a_close_one_suggested() {
        let text = "Recipe(\n  kind: Generic(build: [\"make G='${HELO_GREETING}'\"]),\n)\n";
        let (at, name, hint) = unknown(text);
        assert_eq!(at, "pkg/pkg.ron:2:34");
        assert_eq!(name, "HELO_GREETING");
        assert_eq!(hint.as_deref(), Some("HELLO_GREETING"));
        let message = check(text).unwrap_err().to_string();
        assert_eq!(
            message,
            "pkg/pkg.ron:2:34: unknown variable `${HELO_GREETING}`; did you mean `${HELLO_GREETING}`? \
             (`${…}` names an option or the recipe's `version` or `name`; \
             a shell variable is written `$HELO_GREETING`)"
        );
    }

    #[test]
    fn a_variable_in_the_wrong_case_suggests_the_variable() {
        let (_, name, hint) = unknown(r#"(url: "x-${VERSION}.tar")"#);
        assert_eq!(name, "VERSION");
        assert_eq!(hint.as_deref(), Some("version"));
    }

    #[test]
    fn a_shell_variable_in_braces_has_no_suggestion() {
        let (at, name, hint) = unknown("(\n\n   b: \"cp $A ${TARGET_DIR}/x\")");
        assert_eq!(at, "pkg/pkg.ron:3:14");
        assert_eq!(name, "TARGET_DIR");
        assert_eq!(hint, None);
        let message = check("(\"${CC:-gcc}\")").unwrap_err().to_string();
        assert!(
            message.ends_with("a shell variable is written `$NAME`)"),
            "{message}"
        );
    }

    #[test]
    fn an_unterminated_reference_is_located() {
        let e = check("(\n a: \"ok\",\n b: \"x ${HELLO_GREETING\")").unwrap_err();
        assert_eq!(
            e,
            VarError::Unterminated {
                location: Location::new("pkg/pkg.ron", 3, Some(8))
            }
        );
    }

    #[test]
    fn comments_and_chars_are_skipped() {
        let text = "// ${NOPE}\n/* ${NOPE} /* nested */ ${NOPE} */ ('\"', \"${LINUX_DTS}\")";
        assert_eq!(check(text), Ok(()));
    }

    #[test]
    fn escapes_and_raw_strings_are_decoded_with_positions() {
        // `\u{24}` is a `$`; the error points at the escape.
        let (at, name, _) = unknown(r#"("a\"b\\ \u{24}{X}")"#);
        assert_eq!((at.as_str(), name.as_str()), ("pkg/pkg.ron:1:10", "X"));
        let (at, name, _) = unknown("(r#\"say \"${Y}\"\"#, r#x: 1)");
        assert_eq!((at.as_str(), name.as_str()), ("pkg/pkg.ron:1:10", "Y"));
        assert_eq!(check(r##"(a: r#"${LINUX_DTS}"#, b: "\x24")"##), Ok(()));
        let (_, name, _) = unknown(r#"(a: b"\x24{Z}")"#);
        assert_eq!(name, "Z");
    }
}
