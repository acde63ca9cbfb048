//! Sources: downloads with mirrors and hashes, Debian packages through apt,
//! archive extraction, and preparing a step's source tree (fetch → extract
//! → patch, kept work trees, overrides).

pub mod archive;
pub mod debsource;
pub mod fetch;
pub mod source;
