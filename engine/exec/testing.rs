//! A fake [`Executor`] for tests: records every request and answers with a
//! fixed exit code, running nothing. Shows that a caller goes through the
//! executor, and with which request.

use super::command::{Cmd, ExecError, Executor, Finished};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Mutex;

/// Records requests; every run "exits" with `code`.
pub struct Recording {
    pub code: i32,
    pub seen: Mutex<Vec<Cmd>>,
}

impl Recording {
    pub fn exiting(code: i32) -> Recording {
        Recording {
            code,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Cmd> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Executor for Recording {
    fn run(&self, cmd: &Cmd) -> Result<Finished, ExecError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(cmd.clone());
        }
        Ok(Finished {
            status: ExitStatus::from_raw(self.code << 8),
            stdout: Vec::new(),
            stderr: Vec::new(),
        })
    }
}
