//! Buildroot board defconfigs: `BR2_*` symbols read as aliases of forge
//! options. Owns turning a parsed [`Defconfig`] that uses Buildroot names
//! into the same file in forge names, and the one report of everything in it
//! forge cannot honour.
//!
//! Behaviour:
//! - A file with no `BR2_` assignment is returned untouched (so forge files
//!   keep their byte-exact `savedefconfig` round trip). Otherwise every
//!   `BR2_` line is looked up in the project's alias table
//!   (`configs/buildroot/aliases.ron`) and replaced, at the same line number,
//!   by the forge assignments it means (possibly none); comments and forge
//!   lines stay. Forge and Buildroot names may be mixed in one file.
//! - Buildroot's defaults for the symbols in the table apply when the file
//!   does not state them (a Buildroot defconfig lists only what differs):
//!   e.g. BusyBox is on, no cpio image, host name `buildroot`. A forge-name
//!   line for the same option wins over the default.
//! - A symbol the table does not know, a member forge cannot build, or a
//!   value it cannot translate (a `$(BR2_EXTERNAL_...)` path, a download URL)
//!   is never dropped: loading fails with ONE message listing each such line
//!   with its `file:line`, and each Buildroot default forge cannot follow
//!   (its own toolchain, its latest kernel, ...), since building anyway would
//!   give a different system than Buildroot would. Lines that are wrong in
//!   any case (a bool that is not y/n, two members of one choice, two values
//!   for one forge option) are reported in the same error.
//! - `savedefconfig` of such a configuration writes forge names: the file's
//!   layout with each `BR2_` line replaced by its translation, then the
//!   values Buildroot's defaults gave.

mod env;
mod layout;
mod report;
mod table;
#[cfg(test)]
mod tests;
mod values;

pub use report::{Br2Error, Problem};
pub use table::{Choice, How, Known, Rule, TABLE_PATH, Table, load_table, parse_table};

use super::defconfig::{Assignment, Defconfig, Line, LineKind, RawValue, format_assignment};
use super::schema::{OptionDecl, Schema, Value};
use super::typecheck::{accepted, check_value};
use crate::location::Location;
use env::{Env, Setting, apply_defaults, choice_conflicts, holds, target_arch};
use layout::{as_line, raw_for, rebuild};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything a translation needs besides the file.
pub struct Context<'a> {
    pub table: &'a Table,
    pub schema: &'a Schema,
    /// Version of the kernel forge builds (the Linux recipe's), e.g. "6.1".
    pub linux_version: Option<&'a str>,
}

/// A defconfig in forge names.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The file's lines, each `BR2_` assignment replaced by its translation.
    pub layout: Defconfig,
    /// Assignments from Buildroot defaults the file does not state (line 0).
    pub implied: Vec<Assignment>,
}

impl Imported {
    /// The file unchanged, for one without Buildroot names.
    pub fn unchanged(d: Defconfig) -> Imported {
        Imported {
            layout: d,
            implied: Vec::new(),
        }
    }

    /// What to resolve: the layout followed by the implied assignments.
    pub fn for_resolve(&self) -> Defconfig {
        let mut d = self.layout.clone();
        d.lines.extend(self.implied.iter().map(|a| Line {
            text: String::new(),
            kind: LineKind::Assign(a.clone()),
        }));
        d
    }
}

/// Whether `d` uses any Buildroot name.
pub fn is_buildroot(d: &Defconfig) -> bool {
    d.assignments().any(|a| a.name.starts_with("BR2_"))
}

/// [`import`] with the table of the project at `root`; a file without
/// Buildroot names, or a tree without a table, gives the file unchanged.
pub fn import_from_tree(
    root: &Path,
    schema: &Schema,
    linux_version: Option<&str>,
    parsed: Defconfig,
) -> Result<Imported, Br2Error> {
    if !is_buildroot(&parsed) {
        return Ok(Imported::unchanged(parsed));
    }
    let Some(table) = load_table(root)? else {
        return Ok(Imported::unchanged(parsed));
    };
    let ctx = Context {
        table: &table,
        schema,
        linux_version,
    };
    import(&ctx, parsed)
}

/// Translates every Buildroot name in `parsed` (see the module docs).
pub fn import(ctx: &Context, parsed: Defconfig) -> Result<Imported, Br2Error> {
    let effective = parsed.effective();
    let mut env = Env::new();
    let mut forge_named: BTreeMap<&str, &Assignment> = BTreeMap::new();
    for (name, a) in &effective {
        if name.starts_with("BR2_") {
            let value = match &a.value {
                RawValue::NotSet => "n".to_string(),
                RawValue::Bare(s) | RawValue::Quoted(s) => s.clone(),
            };
            let line = Some(a.loc.line);
            env.insert(
                name.to_string(),
                Setting {
                    value,
                    line,
                    default_of: None,
                },
            );
        } else {
            forge_named.insert(name, a);
        }
    }
    apply_defaults(ctx.table, &mut env, &forge_named);
    let texts: BTreeMap<usize, &str> = parsed
        .lines
        .iter()
        .filter_map(|l| match &l.kind {
            LineKind::Assign(a) => Some((a.loc.line, l.text.trim())),
            _ => None,
        })
        .collect();
    let arch = target_arch(ctx, &env, &forge_named);
    let target = values::Target {
        arch: &arch,
        linux_version: ctx.linux_version,
    };
    let (mut problems, skip) = choice_conflicts(ctx.table, &env);
    // forge option → (value, the symbol that set it, its line)
    let mut assigned: BTreeMap<String, (Value, String, Option<usize>)> = BTreeMap::new();
    let mut per_symbol: BTreeMap<&str, Vec<(String, Value)>> = BTreeMap::new();
    for (sym, setting) in env.iter().filter(|(sym, _)| !skip.contains(sym)) {
        let setting_text = match setting.line.and_then(|l| texts.get(&l)) {
            Some(t) => t.to_string(),
            None => as_line(sym, &setting.value),
        };
        let unsupported = |why: Option<String>| {
            let why = match (&setting.line, &setting.default_of, why) {
                (Some(_), _, why) => why,
                (None, Some(prompt), _) => Some(format!(
                    "not in the file: Buildroot's default for \"{prompt}\""
                )),
                (None, None, why) => Some(match why {
                    Some(w) => format!("not in the file: Buildroot's default; {w}"),
                    None => "not in the file: Buildroot's default".to_string(),
                }),
            };
            Problem::Unsupported {
                line: setting.line,
                setting: setting_text.clone(),
                why,
            }
        };
        let wanted = match translate_one(ctx, &env, sym, setting, target) {
            Ok(w) => w,
            Err(Outcome::Unsupported(why)) => {
                problems.push(unsupported(why));
                continue;
            }
            Err(Outcome::Invalid(message)) => {
                problems.push(Problem::Invalid {
                    line: setting.line,
                    message,
                });
                continue;
            }
        };
        for (opt, text) in wanted {
            let Some(decl) = ctx.schema.options.get(&opt).map(|d| &d.decl) else {
                problems.push(unsupported(Some(format!(
                    "it means forge option {opt}, which this tree does not declare"
                ))));
                continue;
            };
            let loc = Location::new(&parsed.path, setting.line.unwrap_or(0), None);
            let a = Assignment {
                name: opt.clone(),
                value: raw_for(decl, &text),
                loc,
            };
            let Ok(value) = check_value(decl, &a) else {
                problems.push(Problem::Invalid {
                    line: setting.line,
                    message: format!(
                        "{setting_text}: {sym} means forge option {opt}, which accepts {}",
                        accepted(decl, &opt)
                    ),
                });
                continue;
            };
            if let Some(message) = conflict(&assigned, &forge_named, decl, &opt, &value, sym) {
                problems.push(Problem::Invalid {
                    line: setting.line,
                    message,
                });
                continue;
            }
            assigned.insert(opt.clone(), (value.clone(), sym.clone(), setting.line));
            per_symbol
                .entry(sym.as_str())
                .or_default()
                .push((opt, value));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| match p {
            Problem::Invalid { line, .. } => (0, line.is_none(), line.unwrap_or(0)),
            Problem::Unsupported { line, .. } => (1, line.is_none(), line.unwrap_or(0)),
        });
        return Err(Br2Error::Import {
            file: parsed.path.clone(),
            problems,
        });
    }
    Ok(rebuild(&parsed, &env, &per_symbol))
}

/// Why a symbol gives no forge assignments.
enum Outcome {
    Unsupported(Option<String>),
    Invalid(String),
}

/// The forge options and values (as text) one setting means.
fn translate_one(
    ctx: &Context,
    env: &Env,
    sym: &str,
    s: &Setting,
    target: values::Target,
) -> Result<Vec<(String, String)>, Outcome> {
    let boolean = || match s.value.as_str() {
        "y" => Ok(true),
        "n" => Ok(false),
        other => Err(Outcome::Invalid(format!(
            "{sym} is a bool: write {sym}=y or `# {sym} is not set`, not {other:?}"
        ))),
    };
    let no_effect = |when: &[String]| {
        Outcome::Invalid(format!(
            "{sym} has no effect unless {} (Buildroot ignores it too); remove the line",
            when.join(" and ")
        ))
    };
    let out = match ctx.table.lookup(sym) {
        Known::Member { choice, set, .. } => {
            if !boolean()? {
                return Ok(Vec::new());
            }
            if !holds(&choice.when, env) {
                return Err(no_effect(&choice.when));
            }
            let set = set.ok_or(Outcome::Unsupported(None))?;
            set.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        Known::Rule(Rule::Value { to, how, when, .. }) => {
            if !holds(when, env) {
                return match s.value.as_str() {
                    "n" | "" => Ok(Vec::new()),
                    _ => Err(no_effect(when)),
                };
            }
            let value = values::translate(how, &s.value, target)
                .map_err(|why| Outcome::Unsupported(Some(why)))?;
            vec![(to.clone(), value)]
        }
        Known::Rule(Rule::Gate { when }) => {
            if boolean()? && !holds(when, env) {
                return Err(no_effect(when));
            }
            Vec::new()
        }
        Known::Rule(Rule::Describes) => Vec::new(),
        Known::Rule(Rule::Absent { .. }) => {
            if boolean()? {
                return Err(Outcome::Unsupported(None));
            }
            Vec::new()
        }
        Known::Rule(Rule::Only { when, .. }) if !holds(when, env) => {
            return match s.value.as_str() {
                "n" | "" => Ok(Vec::new()),
                _ => Err(no_effect(when)),
            };
        }
        Known::Rule(Rule::Only { value, why, .. }) if s.value != *value => {
            return Err(Outcome::Unsupported(Some(why.clone())));
        }
        Known::Rule(Rule::Only { .. }) => Vec::new(),
        Known::Unknown => {
            let forge = sym.trim_start_matches("BR2_");
            let hint = ctx.schema.options.contains_key(forge).then(|| {
                format!("forge has its own {forge}; if it is what you mean, write {forge} instead")
            });
            return Err(Outcome::Unsupported(hint));
        }
    };
    Ok(out)
}

/// Why setting `opt` to `value` for `sym` contradicts an earlier setting.
fn conflict(
    assigned: &BTreeMap<String, (Value, String, Option<usize>)>,
    forge_named: &BTreeMap<&str, &Assignment>,
    decl: &OptionDecl,
    opt: &str,
    value: &Value,
    sym: &str,
) -> Option<String> {
    let show = |v: &Value| format_assignment(opt, v);
    if let Some((v, by, line)) = assigned.get(opt)
        && v != value
    {
        let at = line.map_or("Buildroot's default".to_string(), |l| format!("line {l}"));
        return Some(format!(
            "{sym} means {} but {by} ({at}) means {}; keep one",
            show(value),
            show(v)
        ));
    }
    let a = forge_named.get(opt)?;
    let v = check_value(decl, a).ok()?;
    (v != *value).then(|| {
        format!(
            "{sym} means {} but line {} sets {}; keep one",
            show(value),
            a.loc.line,
            show(&v)
        )
    })
}
