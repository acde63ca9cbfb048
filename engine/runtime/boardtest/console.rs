//! One program under test on a console (qemu; a shell in unit tests):
//! spawned with piped stdin/stdout/stderr, a reader thread per output stream
//! feeding a channel, the console text and the matcher over it, fail
//! patterns, the transcript log, and the guard that always kills and reaps
//! the program.

use super::spec::Pattern;
use regex::Regex;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a step did not pass.
#[derive(Debug, Error)]
pub enum StepError {
    #[error("no match within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("the console showed the fail pattern {pattern:?}: {line:?}")]
    Fail { pattern: String, line: String },
    #[error("{program} ended ({status}) before that")]
    Exited { program: String, status: String },
    #[error("cannot type on the console: {0}")]
    Write(io::Error),
    #[error("cannot write the console log: {0}")]
    Log(io::Error),
    #[error("the command exited with status {0}")]
    Status(String),
    #[error(transparent)]
    Host(Box<super::host::HostFailure>),
}

/// Output read from the program: stream index (0 stdout, 1 stderr) and bytes;
/// an empty chunk means that stream closed.
type Chunk = (usize, Vec<u8>);

/// A running program and everything it printed. Dropping it kills and reaps
/// the program.
pub struct Console {
    child: Child,
    program: String,
    stdin: Option<ChildStdin>,
    chunks: Receiver<Chunk>,
    open_streams: usize,
    /// Bytes of an unfinished UTF-8 character, per stream.
    carry: [Vec<u8>; 2],
    /// Everything printed, carriage returns removed.
    text: String,
    /// End of the previous match: expectations look after it.
    matched: usize,
    /// Start of the first line fail patterns have not yet seen whole.
    fail_checked: usize,
    fail: Vec<Pattern>,
    log: File,
    log_at_line_start: bool,
}

impl Console {
    /// Start `cmd` with piped stdio. The program is killed when forge dies
    /// (`PR_SET_PDEATHSIG`; call this from the thread that lives longest,
    /// the main thread), and when the `Console` is dropped.
    pub fn spawn(mut cmd: Command, fail: Vec<Pattern>, log: File) -> io::Result<Console> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let program = std::path::Path::new(cmd.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut child = cmd.spawn()?;
        let (tx, chunks) = mpsc::channel();
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as _),
            child.stderr.take().map(|s| Box::new(s) as _),
        ];
        let mut open_streams = 0;
        for (index, stream) in streams.into_iter().enumerate() {
            let Some(mut stream) = stream else { continue };
            open_streams += 1;
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send((index, buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send((index, Vec::new()));
            });
        }
        Ok(Console {
            stdin: child.stdin.take(),
            child,
            program,
            chunks,
            open_streams,
            carry: [Vec::new(), Vec::new()],
            text: String::new(),
            matched: 0,
            fail_checked: 0,
            fail,
            log,
            log_at_line_start: true,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Type `line` and a newline.
    pub fn send(&mut self, line: &str) -> Result<(), StepError> {
        let stdin = self.stdin.as_mut().ok_or_else(|| {
            StepError::Write(io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed"))
        })?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(StepError::Write)
    }

    /// Wait until the output after the previous match matches `re`; returns
    /// the matched text. Fail patterns are checked on everything that
    /// arrives meanwhile.
    pub fn expect(&mut self, re: &Regex, timeout: Duration) -> Result<String, StepError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = re.find(&self.text[self.matched..]) {
                let found = m.as_str().to_string();
                self.matched += m.end();
                return Ok(found);
            }
            if self.open_streams == 0 {
                return Err(StepError::Exited {
                    program: self.program.clone(),
                    status: self.exit_status(),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.ingest(chunk)?,
                Err(RecvTimeoutError::Timeout) => return Err(StepError::Timeout(timeout)),
                Err(RecvTimeoutError::Disconnected) => self.open_streams = 0,
            }
        }
    }

    /// Take in what arrived meanwhile, without waiting (while something
    /// else runs): fail patterns are checked, and an ended program is an
    /// error.
    pub fn poll(&mut self) -> Result<(), StepError> {
        loop {
            match self.chunks.try_recv() {
                Ok(chunk) => self.ingest(chunk)?,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.open_streams = 0;
                    break;
                }
            }
        }
        if self.open_streams == 0 {
            return Err(StepError::Exited {
                program: self.program.clone(),
                status: self.exit_status(),
            });
        }
        Ok(())
    }

    /// Write a line of forge's own into the log (not into the matched text).
    pub fn note(&mut self, line: &str) -> Result<(), StepError> {
        let sep = if self.log_at_line_start { "" } else { "\n" };
        self.log_at_line_start = true;
        writeln!(self.log, "{sep}[forge test] {line}").map_err(StepError::Log)
    }

    /// The last `n` lines of the console.
    pub fn tail(&self, n: usize) -> Vec<&str> {
        let lines: Vec<&str> = self.text.lines().collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
    }

    /// Take in a chunk: append its text, log it, check the fail patterns.
    fn ingest(&mut self, (stream, bytes): Chunk) -> Result<(), StepError> {
        let carry = &mut self.carry[stream];
        let text = if bytes.is_empty() {
            self.open_streams = self.open_streams.saturating_sub(1);
            String::from_utf8_lossy(&std::mem::take(carry)).into_owned()
        } else {
            carry.extend_from_slice(&bytes);
            let (valid, rest) = match std::str::from_utf8(carry) {
                Ok(_) => (carry.len(), carry.len()),
                // An incomplete character at the end waits for the next chunk.
                Err(e) if e.error_len().is_none() => (e.valid_up_to(), e.valid_up_to()),
                Err(_) => (carry.len(), carry.len()),
            };
            let text = String::from_utf8_lossy(&carry[..valid]).into_owned();
            carry.drain(..rest);
            text
        };
        let text = text.replace('\r', "");
        if text.is_empty() {
            return Ok(());
        }
        self.log
            .write_all(text.as_bytes())
            .map_err(StepError::Log)?;
        self.log_at_line_start = text.ends_with('\n');
        self.text.push_str(&text);
        self.check_fail()
    }

    fn check_fail(&mut self) -> Result<(), StepError> {
        let region = &self.text[self.fail_checked..];
        for p in &self.fail {
            if let Some(m) = p.regex.find(region) {
                let start = region[..m.start()].rfind('\n').map_or(0, |i| i + 1);
                let end = region[m.end()..]
                    .find('\n')
                    .map_or(region.len(), |i| m.end() + i);
                return Err(StepError::Fail {
                    pattern: p.source.clone(),
                    line: region[start..end].to_string(),
                });
            }
        }
        if let Some(nl) = region.rfind('\n') {
            self.fail_checked += nl + 1;
        }
        Ok(())
    }

    /// The exit status once the program closed its output.
    fn exit_status(&mut self) -> String {
        for _ in 0..20 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.to_string();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        "closed its output".into()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
