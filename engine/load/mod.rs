//! Loading the project: the trees (main and external), option declarations
//! and their resolution from a defconfig (`config`), and recipes. Imports
//! nothing of the later stages.

pub mod config;
pub mod project;
pub mod recipe;
pub mod watch;
