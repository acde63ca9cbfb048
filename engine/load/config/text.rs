//! What a defconfig's text (or a `forge config set` argument) may hold,
//! checked before a line is parsed: UTF-8 only; no NUL or other control
//! character but a tab (and the `\r` of a CRLF line end); lines, option
//! names and values within the limits below. Also the short excerpt that
//! messages quote instead of a whole line.

use super::error::ConfigError;
use crate::location::Location;
use std::path::Path;

/// The longest value accepted, in bytes after unquoting: PATH_MAX, room
/// for any path, URL or list of files a board sets.
pub const MAX_VALUE: usize = 4096;
/// The longest option name accepted, in bytes.
pub const MAX_NAME: usize = 128;
/// The longest line accepted, in bytes: a name and a value whose every
/// character is escaped, with room for spaces around `=`.
pub const MAX_LINE: usize = MAX_NAME + 2 * MAX_VALUE + 64;
/// Characters of the offending text a message quotes.
const EXCERPT_CHARS: usize = 24;
/// Encoding errors reported per file (a binary file has one per line).
const MAX_ERRORS: usize = 10;

/// At most the first [`EXCERPT_CHARS`] characters of `s`, control
/// characters escaped, `…` when something was left out.
pub fn excerpt(s: &str) -> String {
    let mut out = escaped(s.chars().take(EXCERPT_CHARS));
    if s.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// At most the last [`EXCERPT_CHARS`] characters of `s` (what comes just
/// before an offending byte), control characters escaped.
pub fn excerpt_end(s: &str) -> String {
    let n = s.chars().count();
    let mut out = String::new();
    if n > EXCERPT_CHARS {
        out.push('…');
    }
    out + &escaped(s.chars().skip(n.saturating_sub(EXCERPT_CHARS)))
}

fn escaped(chars: impl Iterator<Item = char>) -> String {
    chars
        .flat_map(|c| {
            let e: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            e
        })
        .collect()
}

/// `bytes` as text, or an error at `file:line:col` for each line (up to
/// [`MAX_ERRORS`]) that is not UTF-8.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).or_else(|e| {
        let bytes = e.into_bytes();
        let mut errors = Vec::new();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if let Err(e) = std::str::from_utf8(line) {
                let good = String::from_utf8_lossy(&line[..e.valid_up_to()]);
                errors.push(ConfigError::Syntax {
                    loc: Location::new(path, i + 1, Some(good.chars().count() + 1)),
                    message: format!(
                        "invalid UTF-8 byte 0x{:02x} after `{}`; a defconfig is UTF-8 text",
                        line[e.valid_up_to()],
                        excerpt_end(&good)
                    ),
                });
                if errors.len() == MAX_ERRORS {
                    break;
                }
            }
        }
        ConfigError::collect(errors).map(|()| String::from_utf8_lossy(&bytes).into_owned())
    })
}

/// The error for line `line_no` of `path`, if it is too long or holds a
/// control character other than a tab (or a final `\r`).
pub fn check_line(path: &Path, line_no: usize, raw: &str) -> Option<ConfigError> {
    let syntax = |col: Option<usize>, message: String| ConfigError::Syntax {
        loc: Location::new(path, line_no, col),
        message,
    };
    if raw.len() > MAX_LINE {
        return Some(syntax(
            None,
            format!(
                "the line is {} bytes long; at most {MAX_LINE} are accepted (`{}`)",
                raw.len(),
                excerpt(raw)
            ),
        ));
    }
    let body = raw.strip_suffix('\r').unwrap_or(raw);
    let (off, c) = body
        .char_indices()
        .find(|&(_, c)| c.is_control() && c != '\t')?;
    let what = match c {
        '\0' => "a NUL byte".to_string(),
        '\r' => "a carriage return inside the line".to_string(),
        c => format!("the control character U+{:04X}", c as u32),
    };
    Some(syntax(
        Some(body[..off].chars().count() + 1),
        format!(
            "{what} after `{}`; a defconfig line holds only text and tabs",
            excerpt_end(&body[..off])
        ),
    ))
}

/// The error for `name`'s value `value` (after unquoting) when it is
/// longer than [`MAX_VALUE`]; `col` is where the value starts.
pub fn check_value(loc: Location, name: &str, value: &str) -> Option<ConfigError> {
    (value.len() > MAX_VALUE).then(|| ConfigError::Syntax {
        loc,
        message: format!(
            "the value of {name} is {} bytes long; at most {MAX_VALUE} are accepted (`{}`)",
            value.len(),
            excerpt(value)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: ConfigError) -> String {
        e.to_string()
    }

    #[test]
    fn excerpts_are_short_and_escape_control_characters() {
        assert_eq!(excerpt("A=y"), "A=y");
        let long = "X".repeat(100);
        assert_eq!(excerpt(&long), format!("{}…", "X".repeat(24)));
        assert_eq!(excerpt_end(&long), format!("…{}", "X".repeat(24)));
        assert_eq!(excerpt("a\0b\x1b"), "a\\u{0}b\\u{1b}");
    }

    #[test]
    fn invalid_utf8_is_located_with_what_precedes_it() {
        let f = Path::new("boards/x_defconfig");
        let mut bytes = b"A=y\nB=\"caf".to_vec();
        bytes.push(0xe9);
        bytes.extend_from_slice(b"\"\n");
        let e = msg(decode(f, bytes).unwrap_err());
        assert!(
            e.starts_with("boards/x_defconfig:2:7: invalid UTF-8 byte 0xe9 after `B=\"caf`"),
            "{e}"
        );
        assert_eq!(decode(f, b"A=y\n".to_vec()).unwrap(), "A=y\n");
        // A binary file: a bounded number of errors.
        let binary: Vec<u8> = (0..1000).flat_map(|_| [0xff, b'\n']).collect();
        match decode(f, binary).unwrap_err() {
            ConfigError::Many(all) => assert_eq!(all.len(), MAX_ERRORS),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn nul_control_characters_and_long_lines_are_refused() {
        let f = Path::new("d");
        let e = msg(check_line(f, 3, "A=\"x\0y\"").unwrap());
        assert!(e.starts_with("d:3:5: a NUL byte after `A=\"x`"), "{e}");
        let e = msg(check_line(f, 1, "A=\"\x1b[31m\"").unwrap());
        assert!(e.contains("U+001B"), "{e}");
        assert!(check_line(f, 1, "A=\"a\tb\"\r").is_none());
        assert!(check_line(f, 1, "A=y\rB=y").is_some());
        let long = format!("A=\"{}\"", "v".repeat(MAX_LINE));
        let e = msg(check_line(f, 9, &long).unwrap());
        assert!(e.starts_with("d:9: the line is"), "{e}");
        assert!(e.len() < 200, "the message quotes an excerpt only: {e}");
    }

    #[test]
    fn values_longer_than_the_limit_are_refused_with_an_excerpt() {
        let loc = Location::new("d", 2, Some(3));
        assert!(check_value(loc.clone(), "A", &"v".repeat(MAX_VALUE)).is_none());
        let e = msg(check_value(loc, "A", &"v".repeat(MAX_VALUE + 1)).unwrap());
        assert!(
            e.starts_with("d:2:3: the value of A is 4097 bytes long; at most 4096"),
            "{e}"
        );
        assert!(e.len() < 200, "{e}");
    }
}
