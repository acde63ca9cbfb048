//! forge: builds complete embedded Linux systems from a board defconfig and
//! per-package RON recipes, on a content-hashed DAG of steps.
//!
//! Data flows one way: load → resolve → plan → key → schedule → execute →
//! store → assemble. See ARCHITECTURE.md for the module map.

pub mod config;
pub mod devtable;
pub mod image;
pub mod location;
