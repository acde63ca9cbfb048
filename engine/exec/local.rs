//! The local executor: a [`Cmd`] becomes a child process on this machine,
//! started from an empty environment, with the build's jobserver passed to
//! commands that run make. A request asking for the sandbox runs under
//! bwrap when this process can ([`super::sandbox::mode`]); declared inputs
//! and outputs are not enforced.

use super::command::{Cmd, ExecError, Executor, Finished, Sink, Stdin};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs commands as child processes of forge.
#[derive(Debug, Clone, Default)]
pub struct LocalExecutor {
    jobserver: Option<jobserver::Client>,
}

/// A local executor without a jobserver, for code paths that have no
/// executor handed to them (the image writers' and fetchers' plain entry
/// points).
pub static PLAIN: LocalExecutor = LocalExecutor::plain();

impl LocalExecutor {
    /// An executor passing `jobserver` to the commands that ask for it.
    pub fn new(jobserver: jobserver::Client) -> LocalExecutor {
        LocalExecutor {
            jobserver: Some(jobserver),
        }
    }

    /// An executor without a jobserver: make runs with its own `-j`.
    pub const fn plain() -> LocalExecutor {
        LocalExecutor { jobserver: None }
    }
}

/// Opens a sink's file: appended (shared with the caller's own writes to
/// the log, which must also append) or replaced.
fn open_sink(sink: &Sink) -> Result<Stdio, ExecError> {
    let (path, append): (&Path, bool) = match sink {
        Sink::Null => return Ok(Stdio::null()),
        Sink::Capture => return Ok(Stdio::piped()),
        Sink::Terminal => return Ok(Stdio::inherit()),
        Sink::Append(p) => (p, true),
        Sink::File(p) => (p, false),
    };
    let file = if append {
        OpenOptions::new().create(true).append(true).open(path)
    } else {
        File::create(path)
    };
    file.map(Stdio::from).map_err(|source| ExecError::Sink {
        path: path.to_path_buf(),
        source,
    })
}

impl Executor for LocalExecutor {
    fn run(&self, cmd: &Cmd) -> Result<Finished, ExecError> {
        if let Some(sandbox) = &cmd.sandbox
            && *super::sandbox::mode() == super::sandbox::Paths::Fixed
        {
            return self.run(&sandbox.wrap(cmd));
        }
        let (program, args) = cmd.argv.split_first().ok_or(ExecError::Empty)?;
        let mut c = Command::new(program);
        c.args(args)
            .env_clear()
            .envs(cmd.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &cmd.cwd {
            c.current_dir(dir);
        }
        c.stdin(match cmd.stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Bytes(_) => Stdio::piped(),
            Stdin::Terminal => Stdio::inherit(),
        });
        c.stdout(open_sink(&cmd.stdout)?);
        c.stderr(open_sink(&cmd.stderr)?);
        if cmd.jobserver
            && let Some(client) = &self.jobserver
        {
            client.configure_make(&mut c);
        }
        let start_err = |source| ExecError::Start {
            program: program.to_string_lossy().into_owned(),
            source,
        };
        let mut child = c.spawn().map_err(start_err)?;
        // Feed stdin from a thread so a child filling its output pipes
        // before reading all its input cannot deadlock us.
        let feeder = match (&cmd.stdin, child.stdin.take()) {
            (Stdin::Bytes(bytes), Some(mut pipe)) => {
                let bytes = bytes.clone();
                Some(std::thread::spawn(move || {
                    // A child that exits without reading everything closes
                    // the pipe; that is its business, not an error here.
                    let _ = pipe.write_all(&bytes);
                }))
            }
            _ => None,
        };
        let out = child.wait_with_output().map_err(start_err)?;
        if let Some(f) = feeder {
            let _ = f.join();
        }
        Ok(Finished {
            status: out.status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn path_env() -> (String, String) {
        ("PATH".into(), "/usr/bin:/bin".into())
    }

    #[test]
    fn argv_sees_exactly_the_given_environment_and_cwd() {
        let dir = tempfile::tempdir().unwrap();
        // forge's own environment (HOME, PATH, …) must not leak through.
        let cmd = Cmd::new("/usr/bin/env")
            .envs([path_env(), ("ONLY".into(), "this".into())])
            .cwd(dir.path())
            .capture_all();
        let out = PLAIN.run(&cmd).unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(lines, ["ONLY=this", "PATH=/usr/bin:/bin"]);

        let pwd = PLAIN
            .run(
                &Cmd::shell("pwd -P; echo oops >&2")
                    .envs([path_env()])
                    .cwd(dir.path())
                    .capture_all(),
            )
            .unwrap();
        let real = fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            String::from_utf8(pwd.stdout).unwrap().trim(),
            real.to_str().unwrap()
        );
        assert_eq!(pwd.stderr, b"oops\n");
    }

    #[test]
    fn shell_lines_stop_at_the_first_failure_and_report_the_status() {
        let out = PLAIN
            .run(
                &Cmd::shell("false; echo not reached")
                    .envs([path_env()])
                    .capture_all(),
            )
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let out = PLAIN.run(&Cmd::shell("exit 7").envs([path_env()])).unwrap();
        assert_eq!(out.status.code(), Some(7));
    }

    #[test]
    fn output_goes_to_the_log_and_stdin_is_fed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("step.log");
        fs::write(&log, ">>> before\n").unwrap();
        let cmd = Cmd::shell("cat; echo err >&2")
            .envs([path_env()])
            .stdin_bytes(b"from stdin\n".to_vec())
            .log_to(&log);
        let out = PLAIN.run(&cmd).unwrap();
        assert!(out.status.success() && out.stdout.is_empty());
        assert_eq!(
            fs::read_to_string(&log).unwrap(),
            ">>> before\nfrom stdin\nerr\n"
        );
        // A file sink is replaced, not appended to.
        let file = dir.path().join("out.txt");
        fs::write(&file, "old contents that are longer").unwrap();
        let cmd = Cmd::shell("echo new")
            .envs([path_env()])
            .stdout(Sink::File(file.clone()));
        PLAIN.run(&cmd).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "new\n");
    }

    #[test]
    fn a_missing_program_is_reported_clearly() {
        let err = PLAIN
            .run(&Cmd::new("forge-no-such-program").envs([path_env()]))
            .unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot start `forge-no-such-program`: "),
            "{err}"
        );
        assert!(matches!(PLAIN.run(&Cmd::default()), Err(ExecError::Empty)));
        let bad_log = Cmd::new("true").stdout(Sink::Append("/nonexistent/dir/log".into()));
        assert!(matches!(PLAIN.run(&bad_log), Err(ExecError::Sink { .. })));
    }

    #[test]
    fn the_jobserver_reaches_only_commands_that_ask_for_it() {
        let client = jobserver::Client::new(2).unwrap();
        let exec = LocalExecutor::new(client);
        let probe = |cmd: Cmd| {
            let out = exec
                .run(&cmd.envs([path_env()]).capture_all())
                .unwrap()
                .stdout;
            String::from_utf8(out).unwrap()
        };
        let with = probe(Cmd::shell("echo \"$MAKEFLAGS\"").with_jobserver());
        assert!(with.contains("jobserver"), "{with}");
        let without = probe(Cmd::shell("echo \"$MAKEFLAGS\""));
        assert_eq!(without.trim(), "");
    }
}
