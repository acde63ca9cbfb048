//! The cache's lock (`<cache>/lock`): every process that reads or writes
//! entries (a build) holds it shared for as long as it has the cache open;
//! maintenance that removes entries (`gc`, `verify`, the limit check after
//! a build) holds it exclusively, so it never removes what a running build
//! uses. The descriptor is close-on-exec: step processes do not hold it.

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::Path;

pub struct CacheLock {
    _lock: Flock<File>,
}

fn open(root: &Path) -> Result<File> {
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    let path = root.join("lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))
}

fn take(root: &Path, arg: FlockArg, wait: FlockArg, why: &str) -> Result<CacheLock> {
    let file = open(root)?;
    let failed =
        |e: Errno| Error::Other(format!("{}: cannot lock: {e}", root.join("lock").display()));
    match Flock::lock(file, arg) {
        Ok(l) => Ok(CacheLock { _lock: l }),
        Err((file, Errno::EWOULDBLOCK)) => {
            eprintln!("forge: the cache {} {why}; waiting…", root.display());
            Flock::lock(file, wait)
                .map(|l| CacheLock { _lock: l })
                .map_err(|(_, e)| failed(e))
        }
        Err((_, e)) => Err(failed(e)),
    }
}

impl CacheLock {
    /// Shared use by a build; waits while maintenance runs.
    pub fn shared(root: &Path) -> Result<CacheLock> {
        take(
            root,
            FlockArg::LockSharedNonblock,
            FlockArg::LockShared,
            "is being cleaned (forge cache gc or verify)",
        )
    }

    /// Exclusive use by maintenance; waits for running builds to end.
    pub fn exclusive(root: &Path) -> Result<CacheLock> {
        take(
            root,
            FlockArg::LockExclusiveNonblock,
            FlockArg::LockExclusive,
            "is in use by a build",
        )
    }

    /// Exclusive use if nobody else holds the cache now; `None` otherwise.
    pub fn try_exclusive(root: &Path) -> Result<Option<CacheLock>> {
        let file = open(root)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(Some(CacheLock { _lock: l })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(Error::Other(format!(
                "{}: cannot lock: {e}",
                root.join("lock").display()
            ))),
        }
    }
}
