//! Running a step's commands: the defined environment (paths into the
//! step's own output tree, the cross toolchain, the jobserver), the work
//! directories, and the per-step log. Every process started at step time
//! goes through an [`Executor`] ([`command`]: the request and the trait;
//! [`local`]: running it on this machine); [`Runner`] is the per-step
//! layer over one.

pub mod command;
pub mod emulation;
pub mod local;
pub mod sandbox;

pub use command::{Cmd, ExecError, Executor, Finished, Sink, Stdin};
pub use local::LocalExecutor;

mod context;

pub use context::StepContext;

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directories of one step under `output/<board>/build/<step>/`.
#[derive(Debug, Clone)]
pub struct StepDirs {
    /// `build/<step>`: scratch space, kept for inspection.
    pub base: PathBuf,
    /// The source work tree.
    pub src: PathBuf,
    /// The output tree (`target/`, `staging/`, `host/`, `images/`).
    pub out: PathBuf,
}

impl StepDirs {
    pub fn new(build_dir: &Path, step: &str) -> StepDirs {
        let base = build_dir.join(step);
        StepDirs {
            src: base.join("src"),
            out: base.join("out"),
            base,
        }
    }

    /// Empty the output tree and create its four parts.
    pub fn fresh_out(&self) -> Result<()> {
        remove_tree(&self.out)?;
        for part in ["target", "staging", "host", "images"] {
            let d = self.out.join(part);
            fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
        Ok(())
    }
}

/// Remove a tree if present, making read-only directories writable first.
pub fn remove_tree(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(m) if !m.is_dir() => return fs::remove_file(path).map_err(|e| Error::io(path, e)),
        Ok(_) => {}
    }
    if fs::remove_dir_all(path).is_ok() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(path).into_iter().flatten() {
        if entry.file_type().is_dir() {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
    fs::remove_dir_all(path).map_err(|e| Error::io(path, e))
}

/// A shell-command runner bound to one step: its environment and log. A
/// thin layer over an [`Executor`]: every command becomes a [`Cmd`] with
/// the step's environment, its output appended to the step's log.
pub struct Runner<'a> {
    pub step: String,
    pub env: Vec<(String, String)>,
    pub log_path: PathBuf,
    log: File,
    exec: &'a dyn Executor,
    /// The sandbox the step's commands run in, if any.
    pub sandbox: Option<sandbox::Sandbox>,
}

impl<'a> Runner<'a> {
    /// A runner over `exec` (local, sandboxed or remote).
    pub fn with_executor(
        step: &str,
        log_path: &Path,
        env: Vec<(String, String)>,
        exec: &'a dyn Executor,
    ) -> Result<Self> {
        if let Some(parent) = log_path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        File::create(log_path).map_err(|e| Error::io(log_path, e))?;
        // Appending, like the commands' output, so neither overwrites the
        // other.
        let log = OpenOptions::new()
            .append(true)
            .open(log_path)
            .map_err(|e| Error::io(log_path, e))?;
        Ok(Runner {
            step: step.to_string(),
            env,
            log_path: log_path.to_path_buf(),
            log,
            exec,
            sandbox: None,
        })
    }

    /// The executor this runner's commands go through.
    pub fn executor(&self) -> &dyn Executor {
        self.exec
    }

    /// Append a line to the step's log.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.log, ">>> {line}");
    }

    /// Run `script` with `sh -ec` in `cwd`; output goes to the log.
    pub fn sh(&mut self, cwd: &Path, script: &str) -> Result<()> {
        self.note(&format!("[{}] {script}", cwd.display()));
        let cmd = Cmd::shell(script).envs(self.env.iter().map(|(k, v)| (k, v)));
        self.run_logged(cwd, cmd, script)
    }

    /// Run a prepared command in `cwd` with the step environment (the
    /// command's own environment settings apply on top); output goes to
    /// the log. The command is not spawned here: its program, arguments
    /// and environment settings become a [`Cmd`] for the executor.
    pub fn run(&mut self, cwd: &Path, cmd: Command, what: &str) -> Result<()> {
        let cmd = Cmd::from_command(&cmd, &self.env);
        self.run_logged(cwd, cmd, what)
    }

    /// Run `cmd` in `cwd` with the step environment (`cmd`'s own variables
    /// apply on top), with the jobserver; output goes to the log.
    pub fn run_cmd(&mut self, cwd: &Path, cmd: Cmd, what: &str) -> Result<()> {
        let own = cmd.env.clone();
        let cmd = Cmd {
            env: Vec::new(),
            ..cmd
        }
        .envs(self.env.iter().map(|(k, v)| (k, v)))
        .envs(own);
        self.run_logged(cwd, cmd, what)
    }

    /// Run `cmd` (its environment complete) in `cwd` with the jobserver
    /// and output to the log; failures name the step.
    fn run_logged(&mut self, cwd: &Path, cmd: Cmd, what: &str) -> Result<()> {
        let mut cmd = cmd.cwd(cwd).log_to(&self.log_path).with_jobserver();
        cmd.sandbox = self.sandbox.clone();
        let done = self
            .executor()
            .run(&cmd)
            .map_err(|e| self.cannot_start(what, e))?;
        if done.status.success() {
            return Ok(());
        }
        let how = match done.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        Err(Error::CommandFailed {
            step: self.step.clone(),
            how,
            what: what.to_string(),
        })
    }

    fn cannot_start(&self, what: &str, e: ExecError) -> Error {
        Error::CannotStart {
            step: self.step.clone(),
            what: what.to_string(),
            reason: e.into_io(),
        }
    }

    /// Run a command and return its stdout (stderr goes to the log).
    pub fn capture(&mut self, cwd: &Path, program: &str, args: &[&str]) -> Result<String> {
        let cmd = Cmd::new(program)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .cwd(cwd)
            .stdout(Sink::Capture)
            .stderr(Sink::Append(self.log_path.clone()));
        let cmd = Cmd {
            sandbox: self.sandbox.clone(),
            ..cmd
        };
        let output = self.executor().run(&cmd).map_err(|e| {
            Error::Other(format!(
                "step {}: cannot run {program}: {}",
                self.step,
                e.into_io()
            ))
        })?;
        if !output.status.success() {
            return Err(Error::Other(format!(
                "step {}: {program} {} failed",
                self.step,
                args.join(" ")
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// The host variables every step starts from: PATH, HOME, a fixed locale and
/// time zone. Nothing else of the user's environment leaks into a build.
pub fn base_env(source_date_epoch: i64) -> Vec<(String, String)> {
    let mut env = vec![
        ("LC_ALL".to_string(), "C".to_string()),
        ("TZ".to_string(), "UTC".to_string()),
        (
            "SOURCE_DATE_EPOCH".to_string(),
            source_date_epoch.to_string(),
        ),
    ];
    for var in ["PATH", "HOME", "TERM"] {
        if let Ok(v) = std::env::var(var) {
            env.push((var.to_string(), v));
        }
    }
    env
}

/// Materialize the `host/` parts of `outputs` into `dest`.
pub fn host_tree(
    store: &dyn crate::store::ContentStore,
    outputs: &[String],
    dest: &Path,
) -> Result<()> {
    remove_tree(dest)?;
    std::fs::create_dir_all(dest).map_err(|e| crate::error::Error::io(dest, e))?;
    for out in outputs {
        store.materialize(&store.get_manifest(out)?, "host", dest)?;
    }
    Ok(())
}

/// Put the `bin` and `sbin` dirs of a host tree before the host's PATH in
/// `env`, as Buildroot puts `$(HOST_DIR)/bin` first for builds and hooks.
pub fn prepend_host_path(env: &mut Vec<(String, String)>, host: &Path) {
    let dirs = format!(
        "{}:{}",
        host.join("bin").display(),
        host.join("sbin").display()
    );
    match env.iter_mut().find(|(k, _)| k == "PATH") {
        Some((_, v)) => *v = format!("{dirs}:{v}"),
        None => env.push(("PATH".to_string(), dirs)),
    }
}

/// The last `n` lines of a log file.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;
