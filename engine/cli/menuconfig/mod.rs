//! `forge menuconfig`: a terminal UI over forge's options in an output
//! dir's `.config`. The state machine ([`model::Model`], keys in `input`)
//! is pure and unit-tested; `view` draws it; `term` runs it on a terminal.

mod info;
mod input;
pub mod model;
mod term;
mod tree;
mod view;
mod why;

#[cfg(test)]
mod tests;

pub use model::{Command, Key, Mode, Model, Row};
pub use term::run;
