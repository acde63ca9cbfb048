//! A `Host` test step: its command run on the build machine through
//! `sh -c`, in its own process group, while the guest keeps running. Owns
//! the command's environment (`FORGE_HOSTFWD_<port>`, `FORGE_IMAGES`) and
//! working directory, its timeout (the whole group killed), the retries, the
//! check of its stdout, and the failure with the last lines of its output.

use super::console::StepError;
use super::spec::HostStep;
use crate::runtime::hostfwd::Forwards;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Time between attempts when the step retries.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often a running command (and the console) is looked at.
const POLL: Duration = Duration::from_millis(20);
/// Output kept per stream; the rest is read and dropped.
const KEEP_BYTES: usize = 1 << 20;
/// Lines of each stream shown with a failure.
const TAIL_LINES: usize = 15;
/// How long the output of an ended command may take to arrive (a process
/// that left the group may hold the pipes open).
const DRAIN: Duration = Duration::from_secs(2);

/// Where and with what a host command runs.
pub struct HostContext<'a> {
    pub forwards: &'a Forwards,
    /// `FORGE_IMAGES`.
    pub images: &'a Path,
    /// The working directory: the tree holding the board's tests file.
    pub cwd: &'a Path,
}

/// A host command that did not pass: its last attempt.
#[derive(Debug, Error)]
#[error(
    "{outcome} ({attempts} attempt{} in {:.1} s)\n{}\n{}",
    if *.attempts == 1 { "" } else { "s" },
    .elapsed.as_secs_f64(),
    show_tail("stdout", .stdout),
    show_tail("stderr", .stderr)
)]
pub struct HostFailure {
    pub outcome: Outcome,
    pub attempts: usize,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
}

/// How an attempt failed.
#[derive(Debug, Error)]
pub enum Outcome {
    #[error("it cannot start: {0}")]
    Spawn(io::Error),
    #[error("it ended with {0}")]
    Status(String),
    #[error("it ran longer than {} s and was killed with its process group", .0.as_secs())]
    Timeout(Duration),
    #[error("it exited 0, but no line of its stdout matches {0:?}")]
    NoMatch(String),
}

/// Run the step's command until it passes, as its `retry_for` allows;
/// returns the number of attempts. `watch` is called while waiting (the
/// console's fail patterns); its error ends the step at once.
pub fn run(
    step: &HostStep,
    ctx: &HostContext,
    watch: &mut dyn FnMut() -> Result<(), StepError>,
) -> Result<usize, StepError> {
    let begin = Instant::now();
    let mut attempts = 0;
    loop {
        let started = Instant::now();
        attempts += 1;
        let (outcome, stdout, stderr) = attempt(step, ctx, watch)?;
        let Some(outcome) = outcome else {
            return Ok(attempts);
        };
        let next = started + RETRY_EVERY;
        if next > begin + step.retry_for {
            return Err(StepError::Host(Box::new(HostFailure {
                outcome,
                attempts,
                elapsed: begin.elapsed(),
                stdout,
                stderr,
            })));
        }
        while Instant::now() < next {
            watch()?;
            std::thread::sleep(POLL);
        }
    }
}

/// One run of the command: `None` when it passed, and its stdout and
/// stderr.
fn attempt(
    step: &HostStep,
    ctx: &HostContext,
    watch: &mut dyn FnMut() -> Result<(), StepError>,
) -> Result<(Option<Outcome>, String, String), StepError> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&step.run)
        .current_dir(ctx.cwd)
        .env("FORGE_IMAGES", ctx.images)
        .envs(ctx.forwards.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            // The shell dies with forge (its group dies with its timeout).
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Ok((Some(Outcome::Spawn(e)), String::new(), String::new())),
    };
    let (tx, rx) = mpsc::channel();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child.stdout.take().map(|s| Box::new(s) as _),
        child.stderr.take().map(|s| Box::new(s) as _),
    ];
    for (index, stream) in streams.into_iter().enumerate() {
        let Some(stream) = stream else { continue };
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send((index, read_capped(stream)));
        });
    }
    drop(tx);
    let mut group = Group {
        shell: child,
        reaped: false,
    };
    let deadline = Instant::now() + step.timeout;
    let ended = loop {
        if group.has_exited() {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        watch()?;
        std::thread::sleep(POLL);
    };
    let status = group.end();
    let mut output = [String::new(), String::new()];
    let drain_until = Instant::now() + DRAIN;
    while let Ok((index, text)) =
        rx.recv_timeout(drain_until.saturating_duration_since(Instant::now()))
    {
        output[index] = text;
    }
    let [stdout, stderr] = output;
    let outcome = if !ended {
        Some(Outcome::Timeout(step.timeout))
    } else {
        match status {
            Err(e) => Some(Outcome::Status(format!("an unknown status ({e})"))),
            Ok(s) if !s.success() => Some(Outcome::Status(s.to_string())),
            Ok(_) => match &step.expect {
                Some(p) if !stdout.lines().any(|l| p.regex.is_match(l)) => {
                    Some(Outcome::NoMatch(p.source.clone()))
                }
                _ => None,
            },
        }
    };
    Ok((outcome, stdout, stderr))
}

/// The shell, leader of its own process group. Ending it (or dropping it)
/// kills what is left of the group, then reaps the shell: the group is
/// killed before the shell's pid can be reused.
struct Group {
    shell: Child,
    reaped: bool,
}

impl Group {
    /// Whether the shell has ended (it is not reaped yet).
    fn has_exited(&self) -> bool {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        !matches!(
            waitid(Id::Pid(self.pid()), flags),
            Ok(WaitStatus::StillAlive)
        )
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.shell.id() as i32)
    }

    /// Kill the group and reap the shell: its exit status.
    fn end(&mut self) -> io::Result<std::process::ExitStatus> {
        let _ = killpg(self.pid(), Signal::SIGKILL);
        self.reaped = true;
        self.shell.wait()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.end();
        }
    }
}

/// A stream read to its end, the first [`KEEP_BYTES`] kept.
fn read_capped(mut stream: impl Read) -> String {
    let (mut kept, mut buf, mut dropped) = (Vec::new(), [0u8; 8192], false);
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = KEEP_BYTES.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                dropped |= room < n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped {
        text.push_str("\n[forge: output beyond 1 MiB dropped]\n");
    }
    text
}

/// `its stdout: (empty)`, or its last lines, control characters visible.
fn show_tail(name: &str, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("  its {name}: (empty)");
    }
    let from = lines.len().saturating_sub(TAIL_LINES);
    let mut out = format!("  its {name}, last lines:");
    for line in &lines[from..] {
        out.push_str(&format!("\n  | {}", super::visible(line)));
    }
    out
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
