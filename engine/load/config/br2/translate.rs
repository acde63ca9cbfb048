//! What one Buildroot setting means for forge: the forge assignments it
//! becomes (with a note when it has no meaning for forge), or why forge
//! cannot honour it. Owns the per-symbol rules of the alias table and the
//! data-driven mapping of `BR2_PACKAGE_*` symbols onto recipes' options.

use super::env::{Env, Setting, holds, is_y};
use super::table::{How, Known, Rule};
use super::{Context, values};
use crate::load::config::schema::OptionDecl;

/// The forge assignments a setting means, as (option, value text).
#[derive(Debug, Default)]
pub struct Translation {
    pub set: Vec<(String, String)>,
    /// Set when the setting is accepted with a note rather than translated.
    pub note: Option<String>,
}

impl Translation {
    fn from_value(to: &str, t: values::Translated) -> Self {
        Translation {
            set: t.value.map(|v| (to.to_string(), v)).into_iter().collect(),
            note: t.note,
        }
    }

    fn noted(why: &str) -> Self {
        Translation {
            set: Vec::new(),
            note: Some(why.to_string()),
        }
    }
}

/// Why a symbol gives no forge assignments.
pub enum Outcome {
    /// forge does not honour it (yet); the reason when known.
    Unsupported(Option<String>),
    /// A line that is wrong whatever forge supports.
    Invalid(String),
}

/// The note every `Describes` rule gets.
const DESCRIBES: &str = "describes the toolchain; forge runs the external toolchain it finds (TOOLCHAIN_EXTERNAL_PREFIX)";

/// The forge options and values (as text) one setting means.
pub fn translate_one(
    ctx: &Context,
    env: &Env,
    sym: &str,
    s: &Setting,
    target: values::Target,
) -> Result<Translation, Outcome> {
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
                return Ok(Translation::default());
            }
            if !holds(&choice.when, env) {
                return Err(no_effect(&choice.when));
            }
            let set = set.ok_or(Outcome::Unsupported(None))?;
            let mut values = Vec::new();
            for (k, v) in set {
                let t = values::translate(&How::Same, v, target)
                    .map_err(|why| Outcome::Unsupported(Some(why)))?;
                values.extend(t.value.map(|v| (k.clone(), v)));
            }
            Translation {
                set: values,
                note: choice.notes.get(sym).cloned(),
            }
        }
        Known::Rule(Rule::Value { to, how, when, .. }) => {
            if !holds(when, env) {
                return match s.value.as_str() {
                    "n" | "" => Ok(Translation::default()),
                    _ => Err(no_effect(when)),
                };
            }
            let t = values::translate(how, &s.value, target)
                .map_err(|why| Outcome::Unsupported(Some(why)))?;
            Translation::from_value(to, t)
        }
        Known::Rule(Rule::Gate { when }) => {
            if boolean()? && !holds(when, env) {
                return Err(no_effect(when));
            }
            Translation::default()
        }
        Known::Rule(Rule::Describes) => Translation::noted(DESCRIBES),
        Known::Rule(Rule::Noted { why }) => Translation::noted(why),
        Known::Rule(Rule::Absent { .. }) => {
            if boolean()? {
                return Err(Outcome::Unsupported(None));
            }
            Translation::default()
        }
        Known::Rule(Rule::Only { when, .. }) if !holds(when, env) => {
            return match s.value.as_str() {
                "n" | "" => Ok(Translation::default()),
                _ => Err(no_effect(when)),
            };
        }
        Known::Rule(Rule::Only {
            value,
            why,
            default_note,
            ..
        }) if s.value != *value => match default_note {
            Some(note) if s.line.is_none() => Translation::noted(note),
            _ => return Err(Outcome::Unsupported(Some(why.clone()))),
        },
        Known::Rule(Rule::Only { .. }) => Translation::default(),
        Known::Unknown => match sym.strip_prefix("BR2_PACKAGE_") {
            Some(rest) => package(ctx, env, rest, s, target)?,
            None => {
                let forge = sym.trim_start_matches("BR2_");
                let hint = ctx.schema.options.contains_key(forge).then(|| {
                    format!(
                        "forge has its own {forge}; if it is what you mean, write {forge} instead"
                    )
                });
                return Err(Outcome::Unsupported(hint));
            }
        },
    };
    Ok(out)
}

/// `BR2_PACKAGE_<rest>`: a package forge has a recipe for (a recipe
/// declares `PACKAGE_<rest>`), or an option a recipe declares under the
/// same name (`<rest>`); otherwise the package has no recipe.
fn package(
    ctx: &Context,
    env: &Env,
    rest: &str,
    s: &Setting,
    target: values::Target,
) -> Result<Translation, Outcome> {
    let by_recipe = |name: &str| {
        ctx.schema
            .options
            .get(name)
            .filter(|d| d.package.is_some())
            .map(|d| &d.decl)
    };
    let option = format!("PACKAGE_{rest}");
    let (name, decl) = match (by_recipe(&option), by_recipe(rest)) {
        (Some(d), _) => (option, d),
        (None, Some(d)) => (rest.to_string(), d),
        (None, None) => return Err(Outcome::Unsupported(Some(no_recipe(ctx, env, rest)))),
    };
    let how = match decl {
        OptionDecl::Path { .. } => How::Paths,
        _ => How::Same,
    };
    let t =
        values::translate(&how, &s.value, target).map_err(|why| Outcome::Unsupported(Some(why)))?;
    Ok(Translation::from_value(&name, t))
}

/// Why `BR2_PACKAGE_<rest>` has no forge counterpart: the package it
/// belongs to (the longest `BR2_PACKAGE_*` the file turns on that starts
/// it, or itself) and whether that package has a recipe.
fn no_recipe(ctx: &Context, env: &Env, rest: &str) -> String {
    let parent = env
        .keys()
        .filter_map(|k| k.strip_prefix("BR2_PACKAGE_"))
        .filter(|p| p.len() < rest.len() && rest.starts_with(&format!("{p}_")))
        .filter(|p| is_y(env, &format!("BR2_PACKAGE_{p}")))
        .max_by_key(|p| p.len());
    let recipe_name = |p: &str| p.to_ascii_lowercase().replace('_', "-");
    match parent {
        Some(p) if ctx.schema.options.contains_key(&format!("PACKAGE_{p}")) => format!(
            "no recipe option: the {} recipe declares neither {rest} nor PACKAGE_{rest}",
            recipe_name(p)
        ),
        Some(p) => format!(
            "no recipe: an option of package {}, which forge has no recipe for",
            recipe_name(p)
        ),
        None => format!(
            "no recipe: forge has no package {} (no recipe declares PACKAGE_{rest})",
            recipe_name(rest)
        ),
    }
}
