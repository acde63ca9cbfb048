//! forge: builds complete embedded Linux systems from a board defconfig and
//! per-package RON recipes, on a content-hashed DAG of steps.
//!
//! Data flows one way: load → plan → key → run (schedule, execute through
//! `exec`, store) → assemble. Folders by stage; see ARCHITECTURE.md for what
//! each owns and what it must not import.

pub mod assemble;
pub mod cli;
pub mod debian;
pub mod error;
pub mod exec;
pub mod image;
pub mod key;
pub mod kinds;
pub mod load;
pub mod location;
pub mod plan;
pub mod run;
pub mod runtime;
pub mod sources;
pub mod spec;
pub mod store;
pub mod utc;
