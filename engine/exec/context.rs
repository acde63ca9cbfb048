//! What the code running a step receives besides its spec: the step's name
//! and directories, the store, the log file, the output dir (for the hook
//! variables that name it) and the executor its commands run through (which
//! holds the jobserver they share). Never the
//! option map: what a step reads is in its spec. Every process the step
//! starts goes through `exec`.

use super::{Executor, StepDirs};
use crate::store::ContentStore;
use std::path::{Path, PathBuf};

pub struct StepContext<'a> {
    pub name: &'a str,
    /// The content store (today the local one; a remote tier sits behind
    /// the same interface).
    pub store: &'a dyn ContentStore,
    pub dirs: StepDirs,
    /// `logs/<step>.log`.
    pub log: PathBuf,
    /// `output/<board>`.
    pub output: &'a Path,
    pub exec: &'a dyn Executor,
}
