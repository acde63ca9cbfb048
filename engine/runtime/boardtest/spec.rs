//! The runtime-test file a board names in `QEMU_TESTS`: its RON format,
//! parsing with `file:line:col` diagnostics, and where each step was written
//! (so a failure names the step's line). The format is described in the
//! parent module's documentation.

use crate::location::Location;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// The shape of a tests file, shown with every syntax error.
pub const FORM: &str = r#"Tests(fail: ["Kernel panic"], timeout: 10, tests: [Test(name: "boot", steps: [Expect("regex"), Expect(pattern: "regex", timeout: 120), Send("line"), Run("command"), Run(command: "command", timeout: 30), Host(run: "host command", expect: "regex", timeout: 30, retry_for: 60)])])"#;

/// Step timeout when neither the step nor the file sets one.
pub const DEFAULT_TIMEOUT: u64 = 10;

/// A parsed tests file.
#[derive(Debug)]
pub struct Suite {
    pub file: PathBuf,
    /// Patterns that fail the running test as soon as the console shows them.
    pub fail: Vec<Pattern>,
    pub tests: Vec<Test>,
}

/// One test: a fresh boot, then its steps in order.
#[derive(Debug)]
pub struct Test {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub struct Step {
    pub action: Action,
    /// Where the step is written in the tests file.
    pub location: Location,
}

#[derive(Debug)]
pub enum Action {
    /// Wait for console output matching the pattern.
    Expect { pattern: Pattern, timeout: Duration },
    /// Type a line (a newline is added).
    Send(String),
    /// Type a shell command and wait for it to finish with status 0.
    Run { command: String, timeout: Duration },
    /// Run a shell command on the host while the guest keeps running.
    Host(HostStep),
}

/// A command run on the host (`sh -c`), in the board's tree, with the
/// forwarded ports and the images directory in its environment.
#[derive(Debug)]
pub struct HostStep {
    pub run: String,
    /// A line of its stdout must match, when given.
    pub expect: Option<Pattern>,
    /// Each attempt's limit; the command is killed after it.
    pub timeout: Duration,
    /// Attempts repeat every second until one passes or this has passed.
    pub retry_for: Duration,
}

/// A regular expression and the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: Regex,
}

impl Action {
    /// The step as the progress and failure lines show it.
    pub fn describe(&self) -> String {
        match self {
            Action::Expect { pattern, .. } => format!("expect {:?}", pattern.source),
            Action::Send(line) => format!("send {line:?}"),
            Action::Run { command, .. } => format!("run {command:?}"),
            Action::Host(h) => format!("host {:?}", h.run),
        }
    }
}

#[derive(Debug, Error)]
pub enum SpecError {
    #[error("{0}: cannot read the runtime tests: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{location}: {message}\n  a tests file looks like: {FORM}")]
    Syntax { location: Location, message: String },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
}

/// Read and check the tests file `file`; diagnostics call it `shown`.
pub fn load(file: &Path, shown: &Path) -> Result<Suite, SpecError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| SpecError::Read(shown.to_path_buf(), e))?;
    parse(shown, &text)
}

/// Parse the text of a tests file; `file` names it in diagnostics.
pub fn parse(file: &Path, text: &str) -> Result<Suite, SpecError> {
    let raw: RawSuite = ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES)
        .from_str(text)
        .map_err(|e| SpecError::Syntax {
            location: Location::new(file, e.span.start.line, Some(e.span.start.col)),
            message: crate::load::recipe::describe_ron_error(&e.code),
        })?;
    let invalid = |location: Location, message: String| SpecError::Invalid { location, message };
    let whole = Location::new(file, 1, Some(1));
    let default = raw.timeout;
    if default == 0 {
        let at = crate::load::recipe::locate_in(file, text, "timeout");
        return Err(invalid(at, "`timeout` must be at least 1 second".into()));
    }
    let fail = raw
        .fail
        .iter()
        .map(|p| {
            pattern(p).map_err(|m| invalid(crate::load::recipe::locate_in(file, text, "fail"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if raw.tests.is_empty() {
        return Err(invalid(whole, "no tests: `tests` is empty".into()));
    }
    let mut positions = step_positions(text).into_iter();
    let mut tests: Vec<Test> = Vec::new();
    for t in raw.tests {
        if tests.iter().any(|o| o.name == t.name) {
            let at = crate::load::recipe::locate_in(file, text, &format!("{:?}", t.name));
            return Err(invalid(at, format!("two tests are named {:?}", t.name)));
        }
        let mut steps = Vec::new();
        for raw_step in t.steps {
            let (line, col) = positions.next().unwrap_or((1, 1));
            let location = Location::new(file, line, Some(col));
            let seconds = |t: Option<u64>| match t.unwrap_or(default) {
                0 => Err(invalid(
                    location.clone(),
                    "`timeout` must be at least 1 second".into(),
                )),
                s => Ok(Duration::from_secs(s)),
            };
            let action = match raw_step {
                RawStep::Expect(Arg { text, timeout }) => Action::Expect {
                    pattern: pattern(&text).map_err(|m| invalid(location.clone(), m))?,
                    timeout: seconds(timeout)?,
                },
                RawStep::Send(line) => Action::Send(line),
                RawStep::Run(Arg { text, timeout }) => Action::Run {
                    command: text,
                    timeout: seconds(timeout)?,
                },
                RawStep::Host(h) => Action::Host(HostStep {
                    expect: h
                        .expect
                        .map(|p| pattern(&p).map_err(|m| invalid(location.clone(), m)))
                        .transpose()?,
                    run: h.run,
                    timeout: seconds(h.timeout)?,
                    retry_for: Duration::from_secs(h.retry_for),
                }),
            };
            steps.push(Step { action, location });
        }
        if steps.is_empty() {
            let at = crate::load::recipe::locate_in(file, text, &format!("{:?}", t.name));
            return Err(invalid(at, format!("test {:?} has no steps", t.name)));
        }
        tests.push(Test {
            name: t.name,
            steps,
        });
    }
    Ok(Suite {
        file: file.to_path_buf(),
        fail,
        tests,
    })
}

/// Compile a pattern: `^` and `$` match at line boundaries.
pub fn pattern(source: &str) -> Result<Pattern, String> {
    RegexBuilder::new(source)
        .multi_line(true)
        .build()
        .map(|regex| Pattern {
            source: source.to_string(),
            regex,
        })
        .map_err(|e| format!("{source:?} is not a valid regular expression: {e}"))
}

#[derive(Deserialize)]
#[serde(rename = "Tests", deny_unknown_fields)]
struct RawSuite {
    #[serde(default = "default_timeout")]
    timeout: u64,
    #[serde(default)]
    fail: Vec<String>,
    tests: Vec<RawTest>,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT
}

#[derive(Deserialize)]
#[serde(rename = "Test", deny_unknown_fields)]
struct RawTest {
    name: String,
    steps: Vec<RawStep>,
}

/// Step names; [`step_positions`] looks for exactly these.
const STEP_NAMES: [&str; 4] = ["Expect", "Send", "Run", "Host"];

#[derive(Deserialize)]
enum RawStep {
    Expect(#[serde(deserialize_with = "pattern_arg")] Arg),
    Send(String),
    Run(#[serde(deserialize_with = "command_arg")] Arg),
    Host(RawHost),
}

/// `Host(run: "…", expect: "re", timeout: N, retry_for: N)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    run: String,
    #[serde(default, deserialize_with = "some")]
    expect: Option<String>,
    #[serde(default, deserialize_with = "some")]
    timeout: Option<u64>,
    #[serde(default)]
    retry_for: u64,
}

/// An optional field written as its plain value (`timeout: 30`, not
/// `Some(30)`).
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `"text"`, or `(<key>: "text", timeout: N)`.
struct Arg {
    text: String,
    timeout: Option<u64>,
}

fn pattern_arg<'de, D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
    d.deserialize_any(ArgVisitor {
        fields: &["pattern", "timeout"],
    })
}

fn command_arg<'de, D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
    d.deserialize_any(ArgVisitor {
        fields: &["command", "timeout"],
    })
}

/// Reads an [`Arg`]; `fields[0]` names the text.
struct ArgVisitor {
    fields: &'static [&'static str; 2],
}

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a string, or {}: \"…\", timeout: <seconds>",
            self.fields[0]
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg {
            text: v.to_string(),
            timeout: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let (mut text, mut timeout) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            if key == self.fields[0] {
                text = Some(map.next_value::<String>()?);
            } else if key == "timeout" {
                timeout = Some(map.next_value::<u64>()?);
            } else {
                return Err(de::Error::unknown_field(&key, self.fields));
            }
        }
        let text = text.ok_or_else(|| de::Error::missing_field(self.fields[0]))?;
        Ok(Arg { text, timeout })
    }
}

/// `(line, col)` of every step, in file order: the step names outside
/// strings and comments, followed by `(`. Parsing has succeeded when this
/// runs, so the n-th position belongs to the n-th step.
fn step_positions(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut i, mut line, mut col) = (Vec::new(), 0, 1, 1);
    // Advance over `n` characters, keeping line and column.
    let skip = |i: &mut usize, n: usize, line: &mut usize, col: &mut usize| {
        for _ in 0..n {
            if chars.get(*i) == Some(&'\n') {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let rest = &chars[i..];
        let len = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            block_comment_len(rest)
        } else if rest[0] == '"' {
            string_len(rest)
        } else if rest[0] == 'r' && is_raw_string(rest) {
            raw_string_len(rest)
        } else if rest[0].is_alphabetic() || rest[0] == '_' {
            let n = rest
                .iter()
                .position(|&c| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word: String = rest[..n].iter().collect();
            let next = rest[n..].iter().find(|c| !c.is_whitespace());
            if STEP_NAMES.contains(&word.as_str()) && next == Some(&'(') {
                out.push((line, col));
            }
            n
        } else {
            1
        };
        skip(&mut i, len.max(1), &mut line, &mut col);
    }
    out
}

fn block_comment_len(s: &[char]) -> usize {
    let (mut depth, mut i) = (0usize, 0);
    while i < s.len() {
        if s[i..].starts_with(&['/', '*']) {
            depth += 1;
            i += 2;
        } else if s[i..].starts_with(&['*', '/']) {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    s.len()
}

fn string_len(s: &[char]) -> usize {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// `r"…"` or `r#"…"#` (not a raw identifier `r#name`).
fn is_raw_string(s: &[char]) -> bool {
    let hashes = s[1..].iter().take_while(|&&c| c == '#').count();
    s.get(1 + hashes) == Some(&'"')
}

fn raw_string_len(s: &[char]) -> usize {
    let hashes = s[1..].iter().take_while(|&&c| c == '#').count();
    let start = 2 + hashes;
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    (start..s.len())
        .find(|&i| s[i..].starts_with(&close))
        .map_or(s.len(), |i| i + close.len())
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
