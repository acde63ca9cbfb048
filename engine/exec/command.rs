//! The one door for starting a process at step time: a [`Cmd`] request
//! (argv or shell line, the complete environment, working directory,
//! declared inputs and outputs, stdin, where stdout and stderr go, whether
//! it may use the make jobserver) and the [`Executor`] that runs it.
//!
//! The request is shaped after the Remote Execution API's `Command`
//! (arguments, environment variables, working directory, output paths) so
//! a sandboxing or remote executor can take the same value. A request may
//! ask for the sandbox ([`super::sandbox`]: fixed paths, no network); the
//! declared inputs and outputs are not enforced yet (a stricter sandbox
//! showing only the inputs, or a remote executor uploading them as the
//! action's input root, will), so callers should declare them now.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// What the process reads on stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Stdin {
    /// Nothing: end of file at once.
    #[default]
    Null,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// forge's own stdin (an interactive shell: `forge shell`).
    Terminal,
}

/// Where stdout or stderr goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sink {
    /// Discarded.
    #[default]
    Null,
    /// Returned to the caller in [`Finished`].
    Capture,
    /// Appended to this file (a step's log); created if missing.
    Append(PathBuf),
    /// Written to this file, replacing it (an output of the command).
    File(PathBuf),
    /// forge's own stdout or stderr (an interactive shell: `forge shell`).
    Terminal,
}

/// One process to run. The environment is complete: the executor starts
/// from an empty one, so only what is listed here reaches the process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    /// The program (a path, or a name looked up in the `PATH` of `env`)
    /// followed by its arguments.
    pub argv: Vec<OsString>,
    /// Every environment variable the process sees, in order; a later
    /// entry for the same name wins.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory; `None` keeps the executor's own (for the
    /// local executor, forge's working directory).
    pub cwd: Option<PathBuf>,
    /// Files and trees the process reads (declared, not yet enforced).
    pub inputs: Vec<PathBuf>,
    /// Files and trees the process writes (declared, not yet enforced).
    pub outputs: Vec<PathBuf>,
    pub stdin: Stdin,
    pub stdout: Sink,
    pub stderr: Sink,
    /// Whether the process may take tokens from the build's jobserver
    /// (it runs `make`); the executor passes the jobserver on if it has one.
    pub jobserver: bool,
    /// Run at fixed paths without network ([`super::sandbox`]), when this
    /// process can; `None` runs it as it is.
    pub sandbox: Option<super::sandbox::Sandbox>,
}

impl Cmd {
    /// Runs `program` with no arguments, an empty environment, null stdin
    /// and both outputs discarded.
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            argv: vec![program.as_ref().to_os_string()],
            ..Cmd::default()
        }
    }

    /// Runs `line` with `sh -ec` (stop at the first failing command).
    pub fn shell(line: &str) -> Cmd {
        Cmd::new("sh").arg("-ec").arg(line)
    }

    /// The program name as given, for messages.
    pub fn program(&self) -> String {
        self.argv
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.argv.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.argv
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets `key` to `value`, replacing an earlier setting.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.as_ref().to_os_string()));
        self
    }

    /// Sets every pair of `vars`, in order.
    pub fn envs<I, K, V>(self, vars: I) -> Cmd
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter().fold(self, |c, (k, v)| c.env(k, v))
    }

    /// Removes `key` from the environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.env.retain(|(k, _)| k != key.as_ref());
        self
    }

    /// Adds forge's whole environment as it is now. The host tools that
    /// ran with an inherited environment before the executor existed
    /// (image writers, apt, dpkg-deb, cp) still do; narrowing them to
    /// [`super::base_env`] is a later, deliberate change.
    pub fn inherit_env(self) -> Cmd {
        self.envs(std::env::vars_os())
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// Declares a file or tree the process reads.
    pub fn input(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.inputs.push(path.into());
        self
    }

    /// Declares a file or tree the process writes.
    pub fn output(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.outputs.push(path.into());
        self
    }

    pub fn stdin(mut self, stdin: Stdin) -> Cmd {
        self.stdin = stdin;
        self
    }

    pub fn stdin_bytes(mut self, bytes: Vec<u8>) -> Cmd {
        self.stdin = Stdin::Bytes(bytes);
        self
    }

    pub fn stdout(mut self, sink: Sink) -> Cmd {
        self.stdout = sink;
        self
    }

    pub fn stderr(mut self, sink: Sink) -> Cmd {
        self.stderr = sink;
        self
    }

    /// Both outputs returned to the caller.
    pub fn capture_all(self) -> Cmd {
        self.stdout(Sink::Capture).stderr(Sink::Capture)
    }

    /// Both outputs appended to the log at `path`.
    pub fn log_to(self, path: &Path) -> Cmd {
        self.stdout(Sink::Append(path.into()))
            .stderr(Sink::Append(path.into()))
    }

    /// Runs the process in `sandbox` (see [`Cmd::sandbox`]).
    pub fn sandboxed(mut self, sandbox: super::sandbox::Sandbox) -> Cmd {
        self.sandbox = Some(sandbox);
        self
    }

    /// Lets the process use the jobserver (see [`Cmd::jobserver`]).
    pub fn with_jobserver(mut self) -> Cmd {
        self.jobserver = true;
        self
    }

    /// The request for an already prepared [`std::process::Command`]:
    /// its program, arguments and working directory, and its explicit
    /// environment settings applied over `env` (a removal removes).
    pub fn from_command(cmd: &std::process::Command, env: &[(String, String)]) -> Cmd {
        let mut c = Cmd::new(cmd.get_program())
            .args(cmd.get_args())
            .envs(env.iter().map(|(k, v)| (k, v)));
        for (k, v) in cmd.get_envs() {
            c = match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.cwd = cmd.get_current_dir().map(Path::to_path_buf);
        c
    }
}

/// How a process ended, with what the caller asked to capture.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: ExitStatus,
    /// Stdout, if it was [`Sink::Capture`]d; empty otherwise.
    pub stdout: Vec<u8>,
    /// Stderr, if it was [`Sink::Capture`]d; empty otherwise.
    pub stderr: Vec<u8>,
}

/// Why a process could not be run at all. A process that ran and exited
/// non-zero is not an error here: it is a [`Finished`] whose status says
/// so, and each caller words that failure for its own users.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot start `{program}`: {source}")]
    Start { program: String, source: io::Error },
    #[error("{}: {source}", path.display())]
    Sink { path: PathBuf, source: io::Error },
    #[error("the command has no program")]
    Empty,
}

impl ExecError {
    /// Whether the program does not exist (a host tool not installed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ExecError::Start { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The underlying I/O error itself (for callers whose own errors wrap
    /// one); [`ExecError::Empty`] becomes an "invalid input" error.
    pub fn into_io(self) -> io::Error {
        match self {
            ExecError::Start { source, .. } | ExecError::Sink { source, .. } => source,
            ExecError::Empty => io::Error::new(io::ErrorKind::InvalidInput, self.to_string()),
        }
    }

    /// The underlying I/O error, where there is one.
    pub fn io(&self) -> Option<&io::Error> {
        match self {
            ExecError::Start { source, .. } | ExecError::Sink { source, .. } => Some(source),
            ExecError::Empty => None,
        }
    }
}

/// Runs [`Cmd`]s: locally today, in a sandbox or on a remote executor
/// later. Implementations must be usable from every step thread at once.
pub trait Executor: Send + Sync {
    /// Runs `cmd` to completion.
    fn run(&self, cmd: &Cmd) -> Result<Finished, ExecError>;
}
