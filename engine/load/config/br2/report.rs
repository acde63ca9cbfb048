//! The one error a Buildroot defconfig load can end in: every line forge
//! does not honour and every wrong line, each with its `file:line`, and
//! what to do about them.

use super::TABLE_PATH;
use crate::location::Location;
use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that stops a Buildroot defconfig from loading.
#[derive(Debug, thiserror::Error)]
pub enum Br2Error {
    #[error("{}: cannot read file: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A mistake in the alias table.
    #[error("{loc}: {message}")]
    Table { loc: Location, message: String },
    /// Lines forge cannot honour or that are wrong; all of them.
    #[error("{}", Report(file, problems))]
    Import {
        file: PathBuf,
        problems: Vec<Problem>,
    },
}

impl From<Br2Error> for crate::error::Error {
    fn from(e: Br2Error) -> Self {
        crate::error::Error::Other(e.to_string())
    }
}

/// One thing wrong with a Buildroot defconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A setting forge does not honour yet: the line as written (or, with no
    /// line, a Buildroot default as `SYM=value`) and what to do, if known.
    Unsupported {
        line: Option<usize>,
        setting: String,
        why: Option<String>,
    },
    /// A line that is wrong whatever forge supports.
    Invalid {
        line: Option<usize>,
        message: String,
    },
}

impl Problem {
    /// Why the setting is not honoured, in one line.
    pub fn reason(&self) -> String {
        match self {
            Problem::Unsupported { why: Some(why), .. } => why.clone(),
            Problem::Unsupported { why: None, .. } => {
                "forge does not build or support this yet".to_string()
            }
            Problem::Invalid { message, .. } => message.clone(),
        }
    }
}

/// The text of [`Br2Error::Import`]: wrong lines first, then one block
/// listing what forge does not honour, and what to do.
struct Report<'a>(&'a Path, &'a [Problem]);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.0.display();
        let at = |line: &Option<usize>| match line {
            Some(l) => format!("{file}:{l}"),
            None => format!("{file}"),
        };
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let r = if first { Ok(()) } else { writeln!(f) };
            first = false;
            r
        };
        for p in self.1 {
            if let Problem::Invalid { line, message } = p {
                sep(f)?;
                write!(f, "{}: {message}", at(line))?;
            }
        }
        let unsupported = self.1.iter().filter_map(|p| match p {
            Problem::Unsupported { line, setting, why } => Some((line, setting, why)),
            Problem::Invalid { .. } => None,
        });
        let mut any = false;
        for (line, setting, why) in unsupported {
            if !any {
                sep(f)?;
                write!(
                    f,
                    "{file}: forge does not honour these Buildroot settings yet:"
                )?;
                any = true;
            }
            write!(f, "\n  {}: {setting}", at(line))?;
            if let Some(why) = why {
                write!(f, " ({why})")?;
            }
        }
        if any {
            write!(
                f,
                "\nforge stops rather than build a different system than Buildroot would. Remove \
                 those lines (for a Buildroot default, add a line choosing what forge supports), \
                 or replace them with forge options (configs/*.ron, packages/*/*.ron); {TABLE_PATH} \
                 lists the Buildroot symbols forge translates."
            )?;
        }
        Ok(())
    }
}
