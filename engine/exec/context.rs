//! What the code running a step receives besides its spec: the step's name
//! and directories, the store, the log file, the output dir (for the hook
//! variables that name it) and the jobserver its commands share. Never the
//! option map: what a step reads is in its spec.

use super::StepDirs;
use crate::store::Store;
use std::path::{Path, PathBuf};

pub struct StepContext<'a> {
    pub name: &'a str,
    pub store: &'a Store,
    pub dirs: StepDirs,
    /// `logs/<step>.log`.
    pub log: PathBuf,
    /// `output/<board>`.
    pub output: &'a Path,
    pub jobserver: &'a jobserver::Client,
}
