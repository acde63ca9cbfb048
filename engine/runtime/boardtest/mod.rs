//! `forge test`: the board's runtime tests, run over the serial console of
//! the built images in qemu. Owns the test run: choosing the tests, one
//! fresh qemu per test, the steps, the console log
//! (`logs/test-console.log`) and the failure report. `spec` owns the file
//! format, `console` the running program and the matcher, `host` the
//! `Host` steps' commands.
//!
//! The board names its tests file in `QEMU_TESTS` (relative to the tree):
//!
//! ```ron
//! Tests(
//!     fail: ["Kernel panic"],  // optional: seen anywhere, the test fails at once
//!     timeout: 10,             // optional: seconds a step may take (default 10)
//!     tests: [
//!         Test(
//!             name: "boot",
//!             steps: [
//!                 Expect(pattern: "forge: system is up", timeout: 180),
//!                 Send("uname -m"),
//!                 Expect("^armv7l$"),
//!                 Run("test -d /proc/1"),
//!                 Host(run: "nc -z 127.0.0.1 $FORGE_HOSTFWD_22", retry_for: 60),
//!             ],
//!         ),
//!     ],
//! )
//! ```
//!
//! - `Expect("re")` waits until the console output received since the
//!   previous match (of any step) matches the regular expression (`regex`
//!   crate syntax; `^` and `$` match at line ends; carriage returns are
//!   removed). Typed lines are echoed by the shell, so an `Expect` after a
//!   `Send` also sees the typed line.
//! - `Send("line")` types the line and a newline.
//! - `Run("command")` types `command; echo forge-run-status=$?` and waits for
//!   the status, which must be 0.
//! - `Expect` and `Run` take a per-step timeout in the long form:
//!   `Expect(pattern: "re", timeout: 60)`, `Run(command: "…", timeout: 30)`.
//! - `Host(run: "command", expect: "re", timeout: N, retry_for: N)` runs
//!   the command on the host (`sh -c`, in the tree holding the tests file,
//!   with `FORGE_HOSTFWD_<guest port>` = the host port `QEMU_HOSTFWD`
//!   forwards to it and `FORGE_IMAGES`) while the guest keeps running. It
//!   passes when the command exits 0 within `timeout` (default the file's)
//!   and, with `expect`, a line of its stdout matches; `retry_for` (default
//!   0) reruns it every second until it passes or that many seconds passed.
//!   A command past its timeout is killed with its process group, and so is
//!   anything it leaves running.
//!
//! Each test boots a fresh qemu (`qemu::Mode::Test`: serial console on
//! pipes, drives opened `snapshot=on`, so the images stay as built) and ends
//! by killing it, also when a step fails.

pub mod console;
pub mod host;
pub mod spec;

use crate::error::{Error, Result};

/// What `forge test` returns: a test failure, or the engine error that
/// kept the tests from running. (This module imports `crate::error`, never
/// the other way round.)
pub type TestResult<T> = std::result::Result<T, TestError>;
use crate::load::config::Value;
use crate::load::project::Project;
use crate::location::Location;
use crate::runtime::qemu;
use console::{Console, StepError};
use host::HostContext;
use spec::{Action, Suite, Test};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Console lines shown with a failure.
const TAIL_LINES: usize = 30;
/// What `Run` appends to the command; the console echoes `$?` literally, so
/// only the shell's answer matches [`STATUS_RE`].
const STATUS_MARK: &str = "forge-run-status=";
const STATUS_RE: &str = r"forge-run-status=(\d+)";

#[derive(Debug, Error)]
pub enum TestError {
    /// The tests could not run (no test file, no images, qemu missing…).
    #[error(transparent)]
    Engine(Box<Error>),
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Step(Box<StepFailure>),
}

/// A test step that failed, with the console's last lines.
#[derive(Debug, Error)]
#[error(
    "test {test:?} failed at {location}: {step}: {reason}\nlast lines of the console:\n{tail}\nconsole log: {}",
    log.display()
)]
pub struct StepFailure {
    pub test: String,
    pub location: Location,
    pub step: String,
    pub reason: StepError,
    pub tail: String,
    pub log: PathBuf,
}

impl From<Error> for TestError {
    fn from(e: Error) -> Self {
        TestError::Engine(Box::new(e))
    }
}

/// What a passing run did.
#[derive(Debug)]
pub struct Summary {
    pub tests: usize,
    pub steps: usize,
    pub elapsed: Duration,
    pub log: PathBuf,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} test{}, {} step{} passed in {:.1} s; console log: {}",
            self.tests,
            if self.tests == 1 { "" } else { "s" },
            self.steps,
            if self.steps == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64(),
            self.log.display()
        )
    }
}

/// Run the tests named in `only` (all when empty) of the board configured in
/// `output`, whose option values are `values`. `progress` gets a line per
/// test and per step.
pub fn run(
    project: &Project,
    output: &Path,
    values: &BTreeMap<String, Value>,
    only: &[String],
    progress: &mut dyn FnMut(&str),
) -> TestResult<Summary> {
    let file = values
        .get("QEMU_TESTS")
        .map(Value::as_text)
        .unwrap_or_default();
    if file.trim().is_empty() {
        return Err(
            Error::Other("this board declares no runtime tests (set QEMU_TESTS)".into()).into(),
        );
    }
    let file = project.resolve(file.trim());
    if !file.is_file() {
        return Err(
            Error::Other(format!("{} does not exist; fix QEMU_TESTS", file.display())).into(),
        );
    }
    // Named like the option value: relative to its tree when inside one.
    // The innermost tree holding it: an external tree may sit inside the
    // main one.
    let tree = project
        .trees
        .iter()
        .filter(|t| file.starts_with(t))
        .max_by_key(|t| t.components().count())
        .unwrap_or(&project.root);
    let shown = file.strip_prefix(tree).unwrap_or(&file);
    let suite = spec::load(&file, shown).map_err(TestError::from)?;
    let tests = choose(&suite, only)?;
    let images = output.join("images");
    if !images.is_dir() {
        return Err(Error::Other(format!(
            "{} has no images; build the board first: forge",
            output.display()
        ))
        .into());
    }
    let images = std::path::absolute(&images).map_err(|e| Error::io(&images, e))?;
    // Checks that every image the launch names exists.
    qemu::launch(values, &images, qemu::Mode::Test)?;
    let logs = output.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let log_path = logs.join("test-console.log");
    let log = File::create(&log_path).map_err(|e| Error::io(&log_path, e))?;
    let context = Context {
        suite: &suite,
        values,
        images: &images,
        // Host steps run in the tree holding the tests file.
        tree,
        log_path: &log_path,
    };
    let begin = Instant::now();
    let mut steps = 0;
    for test in &tests {
        let log = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
        steps += run_test(test, &context, log, progress)?;
    }
    Ok(Summary {
        tests: tests.len(),
        steps,
        elapsed: begin.elapsed(),
        log: log_path,
    })
}

/// `line` with control characters shown as `^X`: console escape sequences
/// (a cursor position query, say) must not reach the user's terminal.
fn visible(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c as u32 {
            0x09 => out.push(c),
            n @ (0..0x20 | 0x7f) => {
                out.push('^');
                out.push(char::from((n as u8) ^ 0x40));
            }
            _ if c.is_control() => out.extend(c.escape_unicode()),
            _ => out.push(c),
        }
    }
    out
}

/// The tests to run, in file order.
fn choose<'a>(suite: &'a Suite, only: &[String]) -> Result<Vec<&'a Test>> {
    if let Some(unknown) = only
        .iter()
        .find(|n| !suite.tests.iter().any(|t| &t.name == *n))
    {
        let names: Vec<&str> = suite.tests.iter().map(|t| t.name.as_str()).collect();
        return Err(Error::Other(format!(
            "{} has no test {unknown:?}; its tests: {}",
            suite.file.display(),
            names.join(", ")
        )));
    }
    Ok(suite
        .tests
        .iter()
        .filter(|t| only.is_empty() || only.contains(&t.name))
        .collect())
}

/// What every test of a run shares.
struct Context<'a> {
    suite: &'a Suite,
    values: &'a BTreeMap<String, Value>,
    images: &'a Path,
    /// The working directory of `Host` steps.
    tree: &'a Path,
    log_path: &'a Path,
}

/// Boot a fresh qemu and run one test's steps; the number of steps passed.
fn run_test(
    test: &Test,
    context: &Context,
    log: File,
    progress: &mut dyn FnMut(&str),
) -> TestResult<usize> {
    let log_path = context.log_path;
    let launch = qemu::launch(context.values, context.images, qemu::Mode::Test)?;
    let line = qemu::shell_line(&launch.cmd);
    let host = HostContext {
        forwards: &launch.forwards,
        images: context.images,
        cwd: context.tree,
    };
    let mut console = Console::spawn(launch.cmd, context.suite.fail.clone(), log)
        .map_err(|e| Error::Other(format!("cannot start qemu: {e}")))?;
    let started = format!(
        "test {:?}: started qemu (pid {}): {line}",
        test.name,
        console.pid()
    );
    progress(&started);
    let failed = |console: &Console, step: &spec::Step, reason: StepError| {
        TestError::Step(Box::new(StepFailure {
            test: test.name.clone(),
            location: step.location.clone(),
            step: step.action.describe(),
            reason,
            tail: console
                .tail(TAIL_LINES)
                .iter()
                .map(|l| format!("  | {}", visible(l)))
                .collect::<Vec<_>>()
                .join("\n"),
            log: log_path.to_path_buf(),
        }))
    };
    console
        .note(&started)
        .map_err(|e| failed(&console, &test.steps[0], e))?;
    let status_re = spec::pattern(STATUS_RE).map_err(Error::Other)?.regex;
    for step in &test.steps {
        let begin = Instant::now();
        // Passed: with a note for the progress line.
        let outcome = match &step.action {
            Action::Expect { pattern, timeout } => console
                .expect(&pattern.regex, *timeout)
                .map(|_| String::new()),
            Action::Send(line) => console.send(line).map(|()| String::new()),
            Action::Run { command, timeout } => console
                .send(&format!("{command}; echo {STATUS_MARK}$?"))
                .and_then(|()| console.expect(&status_re, *timeout))
                .and_then(|found| match found.trim_start_matches(STATUS_MARK) {
                    "0" => Ok(String::new()),
                    status => Err(StepError::Status(status.to_string())),
                }),
            Action::Host(h) => host::run(h, &host, &mut || console.poll()).map(|n| match n {
                1 => String::new(),
                n => format!(", {n} attempts"),
            }),
        };
        let what = step.action.describe();
        match outcome {
            Ok(note) => {
                let done = format!(
                    "{what} ... ok ({:.1} s{note})",
                    begin.elapsed().as_secs_f64()
                );
                progress(&format!("  {done}"));
                console.note(&done).map_err(|e| failed(&console, step, e))?;
            }
            Err(reason) => {
                // Best effort: the failure is reported whether or not the
                // log takes the note.
                let _ = console.note(&format!("{what} ... FAILED: {reason}"));
                progress(&format!("  {what} ... FAILED"));
                return Err(failed(&console, step, reason));
            }
        }
    }
    Ok(test.steps.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(
            super::visible("forge:/# \u{1b}[6n\tx\u{7f}\u{9b}é"),
            "forge:/# ^[[6n\tx^?\\u{9b}é"
        );
    }
}
