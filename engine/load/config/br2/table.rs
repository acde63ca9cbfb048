//! The Buildroot alias table, `configs/buildroot/aliases.ron`: which `BR2_*`
//! symbols forge translates, into which forge options, and Buildroot's
//! defaults for them. Owns the table's schema, loading and checking it, and
//! looking a symbol up. The file's header comment documents the format.

use super::Br2Error;
use crate::load::recipe::locate_in;
use crate::location::Location;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Where a project tree keeps its alias table.
pub const TABLE_PATH: &str = "configs/buildroot/aliases.ron";

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "BuildrootAliases", deny_unknown_fields)]
pub struct Table {
    /// Buildroot choices, keyed by their prompt.
    pub choices: BTreeMap<String, Choice>,
    /// Every other symbol forge knows; a key ending in `*` is a prefix.
    pub symbols: BTreeMap<String, Rule>,
}

/// A Buildroot choice: at most one member is y.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Conditions under which Buildroot offers the choice.
    #[serde(default)]
    pub when: Vec<String>,
    /// Member → the forge option values it means, or `None` when forge
    /// cannot build it.
    pub members: BTreeMap<String, Option<BTreeMap<String, String>>>,
    /// Buildroot's default member: the first whose conditions hold.
    #[serde(default)]
    pub default: Vec<(String, Vec<String>)>,
    /// Forge options the choice decides besides its members' own.
    #[serde(default)]
    pub forge: Vec<String>,
    /// Members accepted with a note: what forge does instead, one line.
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
}

impl Choice {
    /// Every forge option this choice decides.
    pub fn forge_options(&self) -> impl Iterator<Item = &str> {
        let sets = self.members.values().flatten().flat_map(|m| m.keys());
        sets.chain(self.forge.iter()).map(String::as_str)
    }
}

/// What a symbol outside any choice means.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Rule {
    /// The value becomes forge option `to`, translated by `how`.
    Value {
        to: String,
        #[serde(default)]
        how: How,
        #[serde(default)]
        when: Vec<String>,
        /// Buildroot's default, applied when the file does not set it.
        #[serde(default)]
        default: Option<String>,
        /// Bools this one sets to y when it is y (Kconfig `select`), unless
        /// the file sets them.
        #[serde(default)]
        select: Vec<String>,
    },
    /// A bool that only enables other symbols.
    Gate {
        #[serde(default)]
        when: Vec<String>,
    },
    /// A fact about the external toolchain forge does not need.
    Describes,
    /// Accepted whatever its value, with a one-line note: the setting has
    /// no meaning for forge (`why` says what forge does instead).
    Noted { why: String },
    /// A feature forge does not have: n is honoured, y is not.
    Absent {
        #[serde(default)]
        default: bool,
    },
    /// Honoured only with `value`; `why` says what to do instead. Under
    /// `when` (Buildroot offers it only then), Buildroot's `default`
    /// applies when the file does not set it.
    Only {
        value: String,
        why: String,
        #[serde(default)]
        when: Vec<String>,
        #[serde(default)]
        default: Option<String>,
        /// When set, Buildroot's default (not a line of the file) is
        /// accepted with this note rather than refused.
        #[serde(default)]
        default_note: Option<String>,
    },
}

/// How a value is translated (see `values`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub enum How {
    #[default]
    Same,
    /// Appended unless the value is empty.
    Suffix(String),
    /// Space-separated files relative to the project root.
    Paths,
    /// In-tree device tree names.
    Dts,
    /// A `file://` URL becomes its path.
    FileUrl,
    /// A size with an optional k/m/g/t suffix (none: KiB) in whole MiB.
    MiB,
    /// A download URL, Buildroot's `$(call github,…)` expanded.
    Url,
    /// Script arguments; `$(BR2_DEFCONFIG)` is dropped with a note.
    ScriptArgs,
}

/// What the table says about one symbol.
#[derive(Debug)]
pub enum Known<'a> {
    Member {
        prompt: &'a str,
        choice: &'a Choice,
        set: Option<&'a BTreeMap<String, String>>,
    },
    Rule(&'a Rule),
    Unknown,
}

impl Table {
    pub fn lookup(&self, sym: &str) -> Known<'_> {
        for (prompt, choice) in &self.choices {
            if let Some(set) = choice.members.get(sym) {
                return Known::Member {
                    prompt,
                    choice,
                    set: set.as_ref(),
                };
            }
        }
        if let Some(rule) = self.symbols.get(sym) {
            return Known::Rule(rule);
        }
        self.symbols
            .iter()
            .filter(|(k, _)| k.strip_suffix('*').is_some_and(|p| sym.starts_with(p)))
            .max_by_key(|(k, _)| k.len())
            .map_or(Known::Unknown, |(_, r)| Known::Rule(r))
    }
}

/// The project's table, or `None` when the tree has none.
pub fn load_table(root: &Path) -> Result<Option<Table>, Br2Error> {
    let path = root.join(TABLE_PATH);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| Br2Error::Io {
        path: path.clone(),
        source,
    })?;
    parse_table(&path, &text).map(Some)
}

/// Parses and checks a table; `path` names it in messages.
pub fn parse_table(path: &Path, text: &str) -> Result<Table, Br2Error> {
    let table: Table = ron::Options::default()
        .from_str(text)
        .map_err(|e| Br2Error::Table {
            loc: Location::new(path, e.span.start.line, Some(e.span.start.col)),
            message: format!(
                "{}; see the format described at the top of the file",
                e.code
            ),
        })?;
    let fail = |name: &str, message: String| Br2Error::Table {
        loc: locate_in(path, text, &format!("\"{name}\"")),
        message,
    };
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (prompt, choice) in &table.choices {
        for member in choice.members.keys() {
            check_symbol(member).map_err(|m| fail(member, m))?;
            if let Some(other) = seen.insert(member, prompt) {
                return Err(fail(
                    member,
                    format!("{member} is a member of both \"{other}\" and \"{prompt}\""),
                ));
            }
            if table.symbols.contains_key(member) {
                return Err(fail(
                    member,
                    format!("{member} is both a choice member and in `symbols`; keep one"),
                ));
            }
        }
        for (member, conds) in &choice.default {
            if !choice.members.contains_key(member) {
                return Err(fail(
                    member,
                    format!("default {member} is not a member of \"{prompt}\""),
                ));
            }
            check_conditions(conds).map_err(|m| fail(member, m))?;
        }
        check_conditions(&choice.when).map_err(|m| fail(prompt, m))?;
        for member in choice.notes.keys() {
            if !matches!(choice.members.get(member), Some(Some(_))) {
                return Err(fail(
                    member,
                    format!("note for {member}, which is not a member \"{prompt}\" accepts"),
                ));
            }
        }
    }
    for (sym, rule) in &table.symbols {
        check_symbol(sym.strip_suffix('*').unwrap_or(sym)).map_err(|m| fail(sym, m))?;
        if let Rule::Value { when, .. } | Rule::Gate { when } | Rule::Only { when, .. } = rule {
            check_conditions(when).map_err(|m| fail(sym, m))?;
        }
        if let Rule::Value { select, .. } = rule {
            for s in select {
                check_symbol(s).map_err(|m| fail(sym, m))?;
            }
        }
    }
    Ok(table)
}

fn check_symbol(sym: &str) -> Result<(), String> {
    let ok = sym.starts_with("BR2_") && super::super::defconfig::is_symbol(sym);
    if ok {
        Ok(())
    } else {
        Err(format!("`{sym}` is not a Buildroot symbol name (BR2_...)"))
    }
}

fn check_conditions(conds: &[String]) -> Result<(), String> {
    for c in conds {
        check_symbol(c.strip_prefix('!').unwrap_or(c))
            .map_err(|_| format!("condition `{c}` must be `BR2_SYM` or `!BR2_SYM`"))?;
    }
    Ok(())
}
