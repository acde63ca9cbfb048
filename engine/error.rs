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
    /// A command a step ran exited with an error or was killed.
    #[error("step {step}: command failed ({how}): {what}")]
    CommandFailed {
        step: String,
        how: String,
        what: String,
    },
    /// A command a step needed could not be started.
    #[error("step {step}: cannot start `{what}`: {reason}")]
    CannotStart {
        step: String,
        what: String,
        reason: std::io::Error,
    },
    /// A program forge needs is not installed; `hint` says how to get it.
    #[error("{tool} not found on PATH; {hint}")]
    ToolMissing { tool: String, hint: String },
    /// An option's value cannot work; `message` says why and what to write;
    /// `at` is the defconfig (or `.config`) line that set it, when known.
    #[error("{}option {option}: {message}", .at.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    BadOption {
        option: String,
        message: String,
        at: Option<crate::location::Location>,
    },
    /// A recipe or a setting that cannot be planned (unknown dependency,
    /// cycle, missing file), at `location` (`file:line:col` or a path).
    #[error("{location}: {message}")]
    Plan { location: String, message: String },
    #[error("{} has no .config; configure it first: forge boards/<board>_defconfig", output.display())]
    NotConfigured { output: PathBuf },
    #[error("{} is not inside a forge tree (no packages/ and configs/ above it)", dir.display())]
    NotInTree { dir: PathBuf },
    #[error("{name} is not a step of this configuration{suggestion}")]
    UnknownStep { name: String, suggestion: String },
    /// Steps of a build failed: each with its error and log; `report` is
    /// the text for the user (the failures with their logs' last lines).
    #[error("{report}")]
    BuildFailed {
        failures: Vec<crate::run::ui::Failure>,
        report: String,
    },
    /// Anything else: internal inconsistencies and messages no caller
    /// acts on.
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
