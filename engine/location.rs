//! Where in a user's file something was found: the `file:line:col` every
//! diagnostic about user input carries.

use std::fmt;
use std::path::PathBuf;

/// A position in a file a user wrote (defconfig, recipe, table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known.
    pub col: Option<usize>,
}

impl Location {
    pub fn new(file: impl Into<PathBuf>, line: usize, col: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line,
            col,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.col {
            Some(c) => write!(f, "{}:{}:{}", self.file.display(), self.line, c),
            None => write!(f, "{}:{}", self.file.display(), self.line),
        }
    }
}
