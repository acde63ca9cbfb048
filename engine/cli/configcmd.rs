//! `forge config list|get|set`, and the ground menuconfig shares with it:
//! loading an output dir's `.config`, applying typed changes on top of it
//! (checked exactly like defconfig lines), and writing it back.
//!
//! A change is resolved against the current values as *soft* assignments: a
//! current value that the change makes inconsistent (a bool now selected, an
//! option whose `depends` no longer hold) gives way, like Kconfig, while an
//! inconsistent *change* is an error naming what to do.

use crate::error::{Error, Result};
use crate::load::config::defconfig::quote;
use crate::load::config::{
    self, ConfigError, Declared, Defconfig, Resolved, Schema, Value, format_assignment,
};
use crate::load::project::Project;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every value of an output dir's `.config`, and the defconfig it names.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub values: BTreeMap<String, Value>,
    /// The defconfig path as written in the `.config` header.
    pub defconfig: Option<PathBuf>,
    /// Lines of the `.config` that no longer fit the options and were set
    /// aside (only [`load_lenient`] sets any), as messages.
    pub dropped: Vec<String>,
}

/// The result of [`apply`].
#[derive(Debug)]
pub struct Applied {
    pub resolved: Resolved,
    /// Names of base assignments that gave way to the changes.
    pub dropped: BTreeSet<String>,
    /// Why each of them gave way.
    pub reasons: Vec<ConfigError>,
}

/// `forge config …`: runs the subcommand in `args` on `output`'s `.config`
/// and returns what to print.
pub fn run(project: &Project, output: &Path, args: &[String]) -> Result<String> {
    match args.split_first() {
        Some((verb, rest)) if verb == "list" && rest.is_empty() => list(project, output),
        Some((verb, [name])) if verb == "get" => get(project, output, name),
        Some((verb, rest)) if verb == "set" && !rest.is_empty() => set(project, output, rest),
        _ => Err(Error::Other(
            "usage: forge config list | forge config get NAME | \
             forge config set NAME=VALUE [NAME=VALUE…]"
                .into(),
        )),
    }
}

/// The menu an option is shown in, as a path of titles: its `menu` split on
/// `/`; without one, `Packages` for a recipe's options, else the top menu.
pub fn menu_path(d: &Declared) -> Vec<String> {
    match &d.decl.common().menu {
        Some(m) => m
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        None if d.package.is_some() => vec!["Packages".to_string()],
        None => Vec::new(),
    }
}

/// A value as written on the right of `=` in a defconfig: `y`, `n`, `42`,
/// `"text"`.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        other => other.as_text(),
    }
}

fn dot_path(output: &Path) -> Result<PathBuf> {
    let dot = output.join(".config");
    if dot.is_file() {
        Ok(dot)
    } else {
        Err(Error::NotConfigured {
            output: output.to_path_buf(),
        })
    }
}

/// Reads `output`'s `.config`; any inconsistency is an error.
pub fn load(project: &Project, output: &Path) -> Result<Loaded> {
    let (parsed, defconfig) = config::parse_dotconfig(&dot_path(output)?)?;
    let resolved = config::resolve(&project.schema, &parsed)?;
    Ok(Loaded {
        values: resolved.values,
        defconfig,
        dropped: Vec::new(),
    })
}

/// Reads `output`'s `.config`, setting aside lines that no longer fit the
/// options (an option that was removed, a value now out of range).
pub fn load_lenient(project: &Project, output: &Path) -> Result<Loaded> {
    let (parsed, defconfig) = config::parse_dotconfig(&dot_path(output)?)?;
    let nothing = changes_from("(none)", &[])?;
    let applied = apply(&project.schema, &parsed, &nothing)?;
    Ok(Loaded {
        values: applied.resolved.values,
        defconfig,
        dropped: applied.reasons.iter().map(ToString::to_string).collect(),
    })
}

/// Parses `NAME=VALUE` assignments; `label` names them in messages
/// (`label:N` is the Nth).
pub fn changes_from(label: &str, assignments: &[String]) -> Result<Defconfig> {
    for (i, a) in assignments.iter().enumerate() {
        if !a.contains('=') || a.contains('\n') {
            return Err(Error::Other(format!(
                "{label}:{}: expected NAME=VALUE on one line (e.g. HELLO_GREETING=\"hi\"), found `{}`",
                i + 1,
                config::text::excerpt(a)
            )));
        }
    }
    let text: String = assignments.iter().map(|a| format!("{a}\n")).collect();
    Ok(config::parse_defconfig_str(Path::new(label), &text)?)
}

/// `values` as a defconfig of canonical lines; `label` names it in messages.
pub fn defconfig_of(label: &Path, values: &BTreeMap<String, Value>) -> Result<Defconfig> {
    let text: String = values
        .iter()
        .map(|(n, v)| format_assignment(n, v) + "\n")
        .collect();
    Ok(config::parse_defconfig_str(label, &text)?)
}

/// Resolves `changes` on top of `base`: `changes` must all hold; a `base`
/// assignment that is inconsistent with them (or with the schema) is left
/// out, so that option takes its default or selected value.
pub fn apply(
    schema: &Schema,
    base: &Defconfig,
    changes: &Defconfig,
) -> Result<Applied, ConfigError> {
    let mut dropped = BTreeSet::new();
    let mut reasons = Vec::new();
    loop {
        let lines = base
            .lines
            .iter()
            .filter(|l| match &l.kind {
                config::LineKind::Assign(a) => !dropped.contains(&a.name),
                _ => true,
            })
            .chain(&changes.lines)
            .cloned()
            .collect();
        let merged = Defconfig {
            path: changes.path.clone(),
            lines,
            trailing_newline: true,
            warnings: Vec::new(),
        };
        let err = match config::resolve(schema, &merged) {
            Ok(resolved) => {
                return Ok(Applied {
                    resolved,
                    dropped,
                    reasons,
                });
            }
            Err(ConfigError::Many(all)) => all,
            Err(one) => vec![one],
        };
        let (in_base, other): (Vec<_>, Vec<_>) = err
            .into_iter()
            .partition(|e| e.location().is_some_and(|l| l.file == base.path));
        let fresh: Vec<String> = in_base
            .iter()
            .filter_map(error_name)
            .filter(|n| !dropped.contains(n))
            .collect();
        if fresh.is_empty() {
            // Nothing left to give way: the changes themselves are wrong.
            let mut errors = if other.is_empty() { in_base } else { other };
            return Err(if errors.len() == 1 {
                errors.remove(0)
            } else {
                ConfigError::Many(errors)
            });
        }
        dropped.extend(fresh);
        reasons.extend(in_base);
    }
}

/// The option a per-line error is about.
fn error_name(e: &ConfigError) -> Option<String> {
    match e {
        ConfigError::UnknownOption { name, .. }
        | ConfigError::BadValue { name, .. }
        | ConfigError::UnmetDependency { name, .. }
        | ConfigError::SelectConflict { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// Resolves `values` once more and writes them as `output`'s `.config`,
/// naming `defconfig` in its header. Returns the file's path.
pub fn save(
    schema: &Schema,
    output: &Path,
    values: &BTreeMap<String, Value>,
    defconfig: Option<&Path>,
) -> Result<PathBuf> {
    let dot = output.join(".config");
    let resolved = config::resolve(schema, &defconfig_of(&dot, values)?)?;
    let text = config::write_dotconfig(schema, &resolved, defconfig);
    if fs::read_to_string(&dot).ok().as_deref() != Some(text.as_str()) {
        let tmp = output.join(format!(".config.tmp.{}", std::process::id()));
        fs::write(&tmp, &text).map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &dot).map_err(|e| Error::io(&dot, e))?;
    }
    Ok(dot)
}

fn list(project: &Project, output: &Path) -> Result<String> {
    let loaded = load(project, output)?;
    let mut rows: Vec<(String, &str, &Declared)> = project
        .schema
        .options
        .iter()
        .map(|(n, d)| (menu_path(d).join(" > "), n.as_str(), d))
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let menu_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
    let name_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (menu, name, d) in rows {
        let default = d.decl.default_value();
        let value = loaded.values.get(name).unwrap_or(&default);
        let mark = if *value == default { ' ' } else { '*' };
        let menu = if menu.is_empty() { "(top)" } else { &menu };
        out.push_str(&format!(
            "{mark} {menu:<menu_w$}  {name:<name_w$}  {:<6}  {}\n",
            d.decl.type_name(),
            value_text(value)
        ));
    }
    Ok(out)
}

fn get(project: &Project, output: &Path, name: &str) -> Result<String> {
    let loaded = load(project, output)?;
    match loaded.values.get(name) {
        Some(v) => Ok(format!("{}\n", value_text(v))),
        None => {
            // Resolving a one-line defconfig gives the usual did-you-mean.
            let probe = changes_from("config get", &[format!("{name}=")])?;
            config::resolve(&project.schema, &probe)?;
            Err(Error::Other(format!("unknown option {name}")))
        }
    }
}

fn set(project: &Project, output: &Path, assignments: &[String]) -> Result<String> {
    let dot = dot_path(output)?;
    let (base, defconfig) = config::parse_dotconfig(&dot)?;
    let before = apply(&project.schema, &base, &changes_from("(none)", &[])?)?;
    let changes = changes_from("config set", assignments)?;
    changes.report_warnings();
    let after = apply(&project.schema, &base, &changes)?;
    save(
        &project.schema,
        output,
        &after.resolved.values,
        defconfig.as_deref(),
    )?;
    let mut out = String::new();
    for (name, new) in &after.resolved.values {
        let old = before.resolved.values.get(name);
        if old != Some(new) {
            let old = old.map(value_text).unwrap_or_else(|| "(unset)".into());
            out.push_str(&format!("{name}: {old} -> {}\n", value_text(new)));
        }
    }
    if out.is_empty() {
        out.push_str("no change\n");
    }
    Ok(out)
}
