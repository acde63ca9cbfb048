//! The output dir's lock: one build at a time per output dir. The lock's
//! file descriptor is inherited by every command a step starts, so if forge
//! itself is killed the lock stays held until the last of its orphaned
//! build processes has exited; the next build waits for them rather than
//! racing them in the same work trees.

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, fcntl};
use std::fs::{self, File, OpenOptions};
use std::path::Path;

pub struct OutputLock {
    _lock: Flock<File>,
}

impl OutputLock {
    /// Take the lock on `output`, waiting (and saying so) while another
    /// build or the leftovers of a killed one hold it.
    pub fn acquire(output: &Path) -> Result<OutputLock> {
        fs::create_dir_all(output).map_err(|e| Error::io(output, e))?;
        let path = output.join(".lock");
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        let file = open().map_err(|e| Error::io(&path, e))?;
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((file, Errno::EWOULDBLOCK)) => {
                eprintln!(
                    "forge: {} is in use by another build (or by processes of a killed one); waiting…",
                    output.display()
                );
                Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| {
                    Error::Other(format!("{}: cannot lock: {e}", path.display()))
                })?
            }
            Err((_, e)) => {
                return Err(Error::Other(format!(
                    "{}: cannot lock: {e}",
                    path.display()
                )));
            }
        };
        // Let step processes inherit the descriptor (see the module doc).
        fcntl(&*lock, FcntlArg::F_SETFD(FdFlag::empty()))
            .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        Ok(OutputLock { _lock: lock })
    }
}
