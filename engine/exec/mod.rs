//! Running a step's commands: the defined environment (paths into the
//! step's own output tree, the cross toolchain, the jobserver), the work
//! directories, and the per-step log.

mod context;

pub use context::StepContext;

use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// A shell-command runner bound to one step: its environment and log.
pub struct Runner<'a> {
    pub step: String,
    pub env: Vec<(String, String)>,
    pub log_path: PathBuf,
    log: File,
    jobserver: &'a jobserver::Client,
}

impl<'a> Runner<'a> {
    pub fn new(
        step: &str,
        log_path: &Path,
        env: Vec<(String, String)>,
        jobserver: &'a jobserver::Client,
    ) -> Result<Self> {
        if let Some(parent) = log_path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let log = File::create(log_path).map_err(|e| Error::io(log_path, e))?;
        Ok(Runner {
            step: step.to_string(),
            env,
            log_path: log_path.to_path_buf(),
            log,
            jobserver,
        })
    }

    /// Append a line to the step's log.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.log, ">>> {line}");
    }

    /// Run `script` with `sh -ec` in `cwd`; output goes to the log.
    pub fn sh(&mut self, cwd: &Path, script: &str) -> Result<()> {
        self.note(&format!("[{}] {script}", cwd.display()));
        let mut cmd = Command::new("sh");
        cmd.arg("-ec").arg(script);
        self.run(cwd, cmd, script)
    }

    /// Run a prepared command in `cwd` with the step environment.
    pub fn run(&mut self, cwd: &Path, mut cmd: Command, what: &str) -> Result<()> {
        cmd.current_dir(cwd)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = self
            .log
            .try_clone()
            .map_err(|e| Error::io(&self.log_path, e))?;
        let err = self
            .log
            .try_clone()
            .map_err(|e| Error::io(&self.log_path, e))?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        self.jobserver.configure_make(&mut cmd);
        let status = cmd
            .status()
            .map_err(|e| Error::Other(format!("step {}: cannot start `{what}`: {e}", self.step)))?;
        if status.success() {
            return Ok(());
        }
        let how = match status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        Err(Error::Other(format!(
            "step {}: command failed ({how}): {what}",
            self.step
        )))
    }

    /// Run a command and return its stdout (stderr goes to the log).
    pub fn capture(&mut self, cwd: &Path, program: &str, args: &[&str]) -> Result<String> {
        let err = self
            .log
            .try_clone()
            .map_err(|e| Error::io(&self.log_path, e))?;
        let output = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stderr(err)
            .output()
            .map_err(|e| Error::Other(format!("step {}: cannot run {program}: {e}", self.step)))?;
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

/// The last `n` lines of a log file.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
