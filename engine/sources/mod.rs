//! Sources: downloads with mirrors and hashes, Debian packages through apt,
//! Git repositories (a bare cache, the tree id as identity, reproducible
//! archives), Python wheels from PyPI by a requirements lock, archive extraction, and preparing a step's source tree
//! (fetch → extract → patch, kept work trees, overrides).

pub mod archive;
pub mod debsource;
pub mod fetch;
pub mod git;
pub mod gitsource;
pub mod pypi;
pub mod source;
