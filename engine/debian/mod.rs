//! Debian root filesystems in the graph: a board's Debian userland made by
//! mmdebstrap from a lock (`debian-rootfs`), beside the kernel, modules and
//! bootloader forge builds from source. `sources` finds the apt sources,
//! `resolve` turns a request into a lock (the one run with network),
//! `debs` keeps the locked `.deb`s in `dl/` and makes the flat repository,
//! `mmdebstrap` holds both command lines, `step` runs the step and `tree`
//! turns mmdebstrap's tarball into an output without root (owners, modes
//! and device nodes into a makedevs table).

pub mod debs;
pub mod mmdebstrap;
pub mod resolve;
pub mod sources;
pub mod step;
pub mod tree;
