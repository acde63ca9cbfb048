//! The output dir's lock: one build at a time per output dir. The lock's
//! file descriptor is inherited by every command a step starts, so if forge
//! itself is killed the lock stays held until the last of its orphaned
//! build processes has exited; the next build waits for them rather than
//! racing them in the same work trees.
//!
//! The lock is re-entrant within this process: the CLI takes it before it
//! writes anything into the output dir (`.config` included) and holds it
//! to the end, and the build it then runs takes it again without waiting
//! for itself.

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, fcntl};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

pub struct OutputLock {
    _lock: Arc<Flock<File>>,
}

/// The locks this process holds, by lock file: a second `acquire` of the
/// same output dir shares the first one's lock.
static HELD: Mutex<Option<HashMap<PathBuf, Weak<Flock<File>>>>> = Mutex::new(None);

impl OutputLock {
    /// Take the lock on `output`, waiting (and saying so) while another
    /// build or the leftovers of a killed one hold it. Held already by
    /// this process: shared at once.
    pub fn acquire(output: &Path) -> Result<OutputLock> {
        fs::create_dir_all(output).map_err(|e| Error::io(output, e))?;
        let path = output
            .canonicalize()
            .map_err(|e| Error::io(output, e))?
            .join(".lock");
        let mut held = HELD
            .lock()
            .map_err(|_| Error::Other("internal: output-dir locks poisoned".into()))?;
        let held = held.get_or_insert_with(HashMap::new);
        if let Some(lock) = held.get(&path).and_then(Weak::upgrade) {
            return Ok(OutputLock { _lock: lock });
        }
        let lock = Arc::new(Self::take(output, &path)?);
        held.insert(path, Arc::downgrade(&lock));
        Ok(OutputLock { _lock: lock })
    }

    fn take(output: &Path, path: &Path) -> Result<Flock<File>> {
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
        };
        let file = open().map_err(|e| Error::io(path, e))?;
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
        Ok(lock)
    }
}
