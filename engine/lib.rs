//! forge: builds complete embedded Linux systems from a board defconfig and
//! per-package RON recipes, on a content-hashed DAG of steps.
//!
//! Data flows one way: load → resolve → plan → key → schedule → execute →
//! store → assemble. See ARCHITECTURE.md for the module map.

pub mod archive;
pub mod assembly;
pub mod boardtest;
pub mod build;
pub mod config;
pub mod configcmd;
pub mod debsource;
pub mod deliver;
pub mod devtable;
pub mod digest;
pub mod diskimage;
pub mod error;
pub mod exec;
pub mod fetch;
pub mod hooks;
pub mod image;
pub mod imageopts;
pub mod inspect;
pub mod kconfigflow;
pub mod key;
pub mod kinds;
pub mod location;
pub mod lock;
pub mod menuconfig;
pub mod plan;
pub mod project;
pub mod qemu;
pub mod recipe;
pub mod record;
pub mod rootfs;
pub mod sched;
pub mod session;
pub mod source;
pub mod store;
pub mod ui;
pub mod users;
