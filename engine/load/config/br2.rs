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
//! - Each setting ends translated, noted (accepted: it has no meaning for
//!   forge, e.g. a CPU variant the external toolchain fixes; the table's
//!   `Noted`, `Describes` and choice `notes`) or refused. A `BR2_PACKAGE_*`
//!   the table does not list maps onto the recipe declaring the same option
//!   (`translate`), else is refused as having no recipe.
//! - A symbol the table does not know, a member forge cannot build, or a
//!   value it cannot translate (a `$(BR2_EXTERNAL_...)` path) is never
//!   dropped. Loading ([`import`]) fails with ONE message listing each such
//!   line with its `file:line`, and each Buildroot default forge cannot
//!   follow, since building anyway would give a different system than
//!   Buildroot would. Lines that are wrong in any case (a bool that is not
//!   y/n, two members of one choice, two values for one forge option) are
//!   reported in the same error. [`import_all`] (`forge import`) translates
//!   what it can and gives the verdict on every setting ([`Summary`]).
//! - `savedefconfig` of such a configuration writes forge names: the file's
//!   layout with each `BR2_` line replaced by its translation, then the
//!   values Buildroot's defaults gave.

mod env;
mod layout;
mod report;
mod summary;
mod table;
#[cfg(test)]
mod tests;
mod translate;
mod values;

pub use report::{Br2Error, Problem};
pub use summary::{Counts, Entry, Summary, Verdict};
pub use table::{Choice, How, Known, Rule, TABLE_PATH, Table, load_table, parse_table};

use super::defconfig::{Assignment, Defconfig, Line, LineKind, RawValue, format_assignment};
use super::schema::{OptionDecl, Schema, Value};
use super::typecheck::{accepted, check_value};
use crate::location::Location;
use env::{Env, Setting, apply_defaults, choice_conflicts, kernel_version, target_arch};
use layout::{as_line, raw_for, rebuild};
use std::collections::BTreeMap;
use std::path::Path;
use translate::{Outcome, Translation, translate_one};

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

/// Translates every Buildroot name in `parsed` (see the module docs);
/// fails with every setting forge cannot honour.
pub fn import(ctx: &Context, parsed: Defconfig) -> Result<Imported, Br2Error> {
    let all = import_all(ctx, &parsed, false);
    if all.problems.is_empty() {
        return Ok(all.imported);
    }
    Err(Br2Error::Import {
        file: parsed.path.clone(),
        problems: all.problems,
    })
}

/// Everything an import gives, whatever forge cannot honour.
#[derive(Debug, Clone)]
pub struct ImportAll {
    /// What translated; with `annotate`, each noted or refused line is
    /// kept as a comment saying so.
    pub imported: Imported,
    /// Lines forge does not honour or that are wrong, sorted.
    pub problems: Vec<Problem>,
    /// The verdict on every setting.
    pub summary: Summary,
}

/// Translates what can be translated and records a verdict per setting.
pub fn import_all(ctx: &Context, parsed: &Defconfig, annotate: bool) -> ImportAll {
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
        linux_version: kernel_version(&env, ctx.linux_version),
    };
    let (mut problems, skip) = choice_conflicts(ctx.table, &env);
    let mut summary = Summary {
        file: parsed.path.clone(),
        entries: Vec::new(),
    };
    for p in &problems {
        if let Problem::Invalid { line, message } = p {
            let setting = line.and_then(|l| texts.get(&l)).copied().unwrap_or("");
            summary.entries.push(Entry {
                line: *line,
                setting: setting.to_string(),
                verdict: Verdict::Refused(message.clone()),
            });
        }
    }
    // forge option → (value, the symbol that set it, its line)
    let mut assigned: BTreeMap<String, (Value, String, Option<usize>)> = BTreeMap::new();
    let mut per_symbol: BTreeMap<&str, Vec<(String, Value)>> = BTreeMap::new();
    for (sym, setting) in env.iter().filter(|(sym, _)| !skip.contains(sym)) {
        let setting_text = match setting.line.and_then(|l| texts.get(&l)) {
            Some(t) => t.to_string(),
            None => as_line(sym, &setting.value),
        };
        let note =
            translate_setting(ctx, &env, sym, setting, target, &setting_text).and_then(|t| {
                let mut wanted = Vec::new();
                for (opt, text) in t.set {
                    let (opt, value) =
                        check_option(ctx, &parsed.path, &setting_text, sym, opt, &text, setting)?;
                    let clash = ctx.schema.options.get(&opt).and_then(|d| {
                        conflict(&assigned, &forge_named, &d.decl, &opt, &value, sym)
                    });
                    if let Some(message) = clash {
                        return Err(Problem::Invalid {
                            line: setting.line,
                            message,
                        });
                    }
                    wanted.push((opt, value));
                }
                for (opt, value) in wanted {
                    assigned.insert(opt.clone(), (value.clone(), sym.clone(), setting.line));
                    per_symbol
                        .entry(sym.as_str())
                        .or_default()
                        .push((opt, value));
                }
                Ok(t.note)
            });
        let verdict = match note {
            Ok(None) => Verdict::Translated,
            Ok(Some(why)) => Verdict::Noted(why),
            Err(p) => {
                let why = p.reason();
                problems.push(p);
                Verdict::Refused(why)
            }
        };
        if setting.line.is_some() || verdict != Verdict::Translated {
            summary.entries.push(Entry {
                line: setting.line,
                setting: setting_text,
                verdict,
            });
        }
    }
    problems.sort_by_key(|p| match p {
        Problem::Invalid { line, .. } => (0, line.is_none(), line.unwrap_or(0)),
        Problem::Unsupported { line, .. } => (1, line.is_none(), line.unwrap_or(0)),
    });
    summary.sort();
    let notes = annotate.then_some(&summary);
    ImportAll {
        imported: rebuild(parsed, &env, &per_symbol, notes),
        problems,
        summary,
    }
}

/// [`translate_one`] with its failures as the [`Problem`] they report.
fn translate_setting(
    ctx: &Context,
    env: &Env,
    sym: &str,
    setting: &Setting,
    target: values::Target,
    setting_text: &str,
) -> Result<Translation, Problem> {
    translate_one(ctx, env, sym, setting, target).map_err(|o| match o {
        Outcome::Unsupported(why) => unsupported(setting, setting_text, why),
        Outcome::Invalid(message) => Problem::Invalid {
            line: setting.line,
            message,
        },
    })
}

/// The problem of a setting forge does not honour; a Buildroot default
/// says so.
fn unsupported(setting: &Setting, setting_text: &str, why: Option<String>) -> Problem {
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
        setting: setting_text.to_string(),
        why,
    }
}

/// Forge option `opt` set to `text` for `sym`: declared, and of its type.
fn check_option(
    ctx: &Context,
    file: &Path,
    setting_text: &str,
    sym: &str,
    opt: String,
    text: &str,
    setting: &Setting,
) -> Result<(String, Value), Problem> {
    let Some(decl) = ctx.schema.options.get(&opt).map(|d| &d.decl) else {
        let why = format!("it means forge option {opt}, which this tree does not declare");
        return Err(unsupported(setting, setting_text, Some(why)));
    };
    let loc = Location::new(file, setting.line.unwrap_or(0), None);
    let a = Assignment {
        name: opt.clone(),
        value: raw_for(decl, text),
        loc,
    };
    match check_value(decl, &a) {
        Ok(value) => Ok((opt, value)),
        Err(_) => Err(Problem::Invalid {
            line: setting.line,
            message: format!(
                "{setting_text}: {sym} means forge option {opt}, which accepts {}",
                accepted(decl, &opt)
            ),
        }),
    }
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
