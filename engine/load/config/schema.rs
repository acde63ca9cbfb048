//! Option declarations: the typed symbols a defconfig may set.
//!
//! forge's own options are declared in `configs/*.ron`; each recipe declares
//! its package's options in its `options` map. Both use [`OptionDecl`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One declared option, as written in RON, e.g.
/// `"TARGET_ARCH": Choice(choices: ["arm", "aarch64"], default: "arm", help: "…")`.
/// The common fields (`help`, `prompt`, `menu`, `depends`) are written inline
/// in every variant; RON cannot flatten, so [`RawDecl`] reads them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawDecl")]
pub enum OptionDecl {
    Bool {
        default: bool,
        common: Common,
        /// Bool options set to y when this one is y (Kconfig `select`).
        select: Vec<String>,
    },
    Str {
        default: String,
        common: Common,
    },
    /// A string naming one or more files (space-separated), relative to the
    /// tree the option was declared in; their content is part of the key of
    /// every step that reads the option.
    Path {
        default: String,
        common: Common,
    },
    Int {
        default: i64,
        range: Option<(i64, i64)>,
        common: Common,
    },
    Choice {
        choices: Vec<String>,
        default: String,
        common: Common,
    },
}

/// Fields every option kind has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Common {
    pub help: String,
    /// Short menu prompt; defaults to the symbol name.
    pub prompt: Option<String>,
    /// Menu path for menuconfig, e.g. "Target options".
    pub menu: Option<String>,
    /// Conditions that must all hold for the option to be settable:
    /// `"SYM"` (bool SYM is y), `"!SYM"` (bool SYM is n), `"SYM=value"`.
    /// When unmet, the option takes its default.
    pub depends: Vec<String>,
}

/// The RON shape of an option declaration, common fields inline.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
enum RawDecl {
    Bool {
        #[serde(default)]
        default: bool,
        #[serde(default)]
        select: Vec<String>,
        #[serde(default)]
        help: String,
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        menu: Option<String>,
        #[serde(default)]
        depends: Vec<String>,
    },
    Str {
        #[serde(default)]
        default: String,
        #[serde(default)]
        help: String,
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        menu: Option<String>,
        #[serde(default)]
        depends: Vec<String>,
    },
    Path {
        #[serde(default)]
        default: String,
        #[serde(default)]
        help: String,
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        menu: Option<String>,
        #[serde(default)]
        depends: Vec<String>,
    },
    Int {
        #[serde(default)]
        default: i64,
        #[serde(default)]
        range: Option<(i64, i64)>,
        #[serde(default)]
        help: String,
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        menu: Option<String>,
        #[serde(default)]
        depends: Vec<String>,
    },
    Choice {
        choices: Vec<String>,
        default: String,
        #[serde(default)]
        help: String,
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        menu: Option<String>,
        #[serde(default)]
        depends: Vec<String>,
    },
}

impl From<RawDecl> for OptionDecl {
    fn from(raw: RawDecl) -> Self {
        let common = |help, prompt, menu, depends| Common {
            help,
            prompt,
            menu,
            depends,
        };
        match raw {
            RawDecl::Bool {
                default,
                select,
                help,
                prompt,
                menu,
                depends,
            } => OptionDecl::Bool {
                default,
                select,
                common: common(help, prompt, menu, depends),
            },
            RawDecl::Str {
                default,
                help,
                prompt,
                menu,
                depends,
            } => OptionDecl::Str {
                default,
                common: common(help, prompt, menu, depends),
            },
            RawDecl::Path {
                default,
                help,
                prompt,
                menu,
                depends,
            } => OptionDecl::Path {
                default,
                common: common(help, prompt, menu, depends),
            },
            RawDecl::Int {
                default,
                range,
                help,
                prompt,
                menu,
                depends,
            } => OptionDecl::Int {
                default,
                range,
                common: common(help, prompt, menu, depends),
            },
            RawDecl::Choice {
                choices,
                default,
                help,
                prompt,
                menu,
                depends,
            } => OptionDecl::Choice {
                choices,
                default,
                common: common(help, prompt, menu, depends),
            },
        }
    }
}

impl OptionDecl {
    pub fn common(&self) -> &Common {
        match self {
            OptionDecl::Bool { common, .. }
            | OptionDecl::Str { common, .. }
            | OptionDecl::Path { common, .. }
            | OptionDecl::Int { common, .. }
            | OptionDecl::Choice { common, .. } => common,
        }
    }

    /// The default as a [`Value`].
    pub fn default_value(&self) -> Value {
        match self {
            OptionDecl::Bool { default, .. } => Value::Bool(*default),
            OptionDecl::Str { default, .. }
            | OptionDecl::Path { default, .. }
            | OptionDecl::Choice { default, .. } => Value::Str(default.clone()),
            OptionDecl::Int { default, .. } => Value::Int(*default),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            OptionDecl::Bool { .. } => "bool",
            OptionDecl::Str { .. } => "string",
            OptionDecl::Path { .. } => "path",
            OptionDecl::Int { .. } => "int",
            OptionDecl::Choice { .. } => "choice",
        }
    }
}

/// A resolved option value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    Bool(bool),
    Str(String),
    Int(i64),
}

impl Value {
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// The value as a string for substitution into commands (`y`/`n` for bools).
    pub fn as_text(&self) -> String {
        match self {
            Value::Bool(true) => "y".into(),
            Value::Bool(false) => "n".into(),
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
        }
    }
}

/// A declaration together with where it came from.
#[derive(Debug, Clone)]
pub struct Declared {
    pub decl: OptionDecl,
    /// The file that declared it (`configs/system.ron`, `packages/linux/linux.ron`).
    pub origin: PathBuf,
    /// The tree (project root or external tree) that file belongs to; `Path`
    /// option values are relative to it.
    pub tree: PathBuf,
    /// The package that declared it, if any.
    pub package: Option<String>,
}

/// Every option known for a build, in declaration order per file.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub options: BTreeMap<String, Declared>,
}
