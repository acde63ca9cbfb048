//! The spec of a Debian root filesystem step: what the board asks
//! mmdebstrap for, the lock that answers it (keyed by the lock file's
//! content; its parsed form rides along unkeyed), the customization
//! scripts and the files they read.

pub mod lock;

pub use lock::{Lock, LockError, Locked, Request};

use super::FileInput;
use serde::{Deserialize, Serialize};

/// Where a customization script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Place {
    /// Inside the target root filesystem (`chroot`), as its root user:
    /// a foreign architecture's programs through qemu-user.
    Target,
    /// On the build machine, with the root filesystem's path as `$1`.
    Host,
}

/// One customization script, in the board's order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Customize {
    pub place: Place,
    pub script: FileInput,
}

/// The `debian-rootfs` step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DebianSpec {
    pub request: Request,
    /// The lock file, by content: editing it rebuilds the step.
    pub lock_file: FileInput,
    /// The lock parsed from that file. Not keyed itself: the file's
    /// digest is.
    #[serde(skip)]
    pub lock: Lock,
    pub customize: Vec<Customize>,
    /// `DEBIAN_CUSTOMIZE_FILES`: a folder the scripts read, by content.
    pub files: Option<FileInput>,
    pub source_date_epoch: i64,
}
