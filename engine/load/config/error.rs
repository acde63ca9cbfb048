//! [`ConfigError`]: every way reading a defconfig, checking the option
//! schema or resolving option values can fail. Each message starts with the
//! file (and line, where there is one) it is about, says what is wrong and
//! how to fix it.

use crate::location::Location;
use std::fmt;
use std::path::PathBuf;

/// An error in a defconfig, a `.config` or the option schema.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read file: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line that is not `NAME=value`, `# NAME is not set`, a comment or blank.
    #[error("{loc}: {message}")]
    Syntax { loc: Location, message: String },

    /// An assignment to a symbol no configs file or recipe declares.
    #[error("{loc}: unknown option {name}; {}", unknown_hint(suggestion.as_deref()))]
    UnknownOption {
        loc: Location,
        name: String,
        /// The closest declared name, if one is reasonably close.
        suggestion: Option<String>,
    },

    /// A value that does not fit the option's type, range or choices.
    #[error("{loc}: invalid value {got} for {type_name} option {name}; accepted: {accepted}")]
    BadValue {
        loc: Location,
        name: String,
        /// `bool`, `int`, `string`, `path` or `choice`.
        type_name: &'static str,
        /// What the option accepts, e.g. `an integer from 1 to 64`.
        accepted: Box<str>,
        /// The value as written in the file.
        got: Box<str>,
    },

    /// An option set explicitly to a non-default value while one of its
    /// `depends` conditions does not hold.
    #[error(
        "{loc}: option {name} is set to {value} but its dependency `{dependency}` is not met \
         ({actual}); satisfy `{dependency}` or remove this line"
    )]
    UnmetDependency {
        loc: Location,
        name: String,
        /// The value as written in the file.
        value: Box<str>,
        /// The unmet `depends` entry, e.g. `!STATIC` or `ARCH=arm`.
        dependency: Box<str>,
        /// What the dependency's symbol actually is, e.g. `STATIC is y`.
        actual: Box<str>,
    },

    /// A bool set to n explicitly although an option that is y selects it.
    #[error(
        "{loc}: option {name} is set to n but {selected_by} is y and selects it; \
         remove this line or set {selected_by} to n"
    )]
    SelectConflict {
        loc: Location,
        name: String,
        selected_by: String,
    },

    /// A mistake in an option declaration (`configs/*.ron` or a recipe).
    #[error("{}: option {name}: {message}", origin.display())]
    Schema {
        /// The file that declared the option.
        origin: PathBuf,
        name: String,
        message: String,
    },

    /// Several errors, reported together; each one on its own line.
    #[error("{}", ManyDisplay(.0))]
    Many(Vec<ConfigError>),
}

fn unknown_hint(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("did you mean {s}?"),
        None => {
            "check the spelling, or declare it in configs/*.ron or a recipe's `options`".to_string()
        }
    }
}

struct ManyDisplay<'a>(&'a [ConfigError]);

impl fmt::Display for ManyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// `Ok(())` when `errors` is empty, the single error when there is one,
    /// [`ConfigError::Many`] (flattened) otherwise.
    pub fn collect(errors: Vec<ConfigError>) -> Result<(), ConfigError> {
        let mut flat = Vec::with_capacity(errors.len());
        for e in errors {
            match e {
                ConfigError::Many(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Ok(()),
            1 => Err(flat.remove(0)),
            _ => Err(ConfigError::Many(flat)),
        }
    }

    /// The individual errors: the list for [`ConfigError::Many`], else itself.
    pub fn errors(&self) -> &[ConfigError] {
        match self {
            ConfigError::Many(v) => v,
            other => std::slice::from_ref(other),
        }
    }

    /// Where in a defconfig the error is, when it is about one line.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Syntax { loc, .. }
            | ConfigError::UnknownOption { loc, .. }
            | ConfigError::BadValue { loc, .. }
            | ConfigError::UnmetDependency { loc, .. }
            | ConfigError::SelectConflict { loc, .. } => Some(loc),
            ConfigError::Io { .. } | ConfigError::Schema { .. } | ConfigError::Many(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: usize) -> Location {
        Location::new("boards/x_defconfig", line, None)
    }

    #[test]
    fn unknown_option_starts_with_location() {
        let e = ConfigError::UnknownOption {
            loc: loc(12),
            name: "FOO".into(),
            suggestion: Some("FOO_BAR".into()),
        };
        assert_eq!(
            e.to_string(),
            "boards/x_defconfig:12: unknown option FOO; did you mean FOO_BAR?"
        );
    }

    #[test]
    fn collect_flattens_and_unwraps_single() {
        assert!(ConfigError::collect(vec![]).is_ok());
        let one = ConfigError::collect(vec![ConfigError::Syntax {
            loc: loc(1),
            message: "x".into(),
        }]);
        assert!(matches!(one, Err(ConfigError::Syntax { .. })));
        let nested = ConfigError::Many(vec![
            ConfigError::Syntax {
                loc: loc(1),
                message: "a".into(),
            },
            ConfigError::Syntax {
                loc: loc(2),
                message: "b".into(),
            },
        ]);
        let many = ConfigError::collect(vec![
            nested,
            ConfigError::Syntax {
                loc: loc(3),
                message: "c".into(),
            },
        ])
        .unwrap_err();
        assert_eq!(many.errors().len(), 3);
        assert_eq!(
            many.to_string(),
            "boards/x_defconfig:1: a\nboards/x_defconfig:2: b\nboards/x_defconfig:3: c"
        );
    }
}
