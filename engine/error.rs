//! The library's error type: every failure a user can cause, with enough
//! context (file, line, step, path) to act on it.

use std::path::PathBuf;
use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Recipe(#[from] crate::load::recipe::RecipeError),
    /// Boxed: configuration errors carry every problem found, with locations.
    #[error(transparent)]
    Config(Box<crate::load::config::ConfigError>),
    #[error(transparent)]
    Archive(#[from] crate::sources::archive::ArchiveError),
    #[error(transparent)]
    Fetch(#[from] crate::sources::fetch::FetchError),
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<crate::load::config::ConfigError> for Error {
    fn from(e: crate::load::config::ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}
