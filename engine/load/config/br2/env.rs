//! The Buildroot symbols a defconfig sets, as Buildroot would see them:
//! the file's lines plus Buildroot's defaults for the symbols in the alias
//! table, conditions over them, and what they decide (choices, TARGET_ARCH).

use super::report::Problem;
use super::{Context, Known, Rule, Table};
use crate::load::config::defconfig::{Assignment, RawValue};
use crate::load::config::schema::Value;
use std::collections::BTreeMap;

/// A Buildroot symbol's value: from a line, or from Buildroot's defaults.
#[derive(Debug, Clone)]
pub struct Setting {
    /// `y`/`n` for bools (`is not set` is n), else the text.
    pub value: String,
    /// The line it is on, or `None` for a default.
    pub line: Option<usize>,
    /// The choice whose default it is, if any.
    pub default_of: Option<String>,
}

/// Every Buildroot symbol the file sets or Buildroot's defaults add.
pub type Env = BTreeMap<String, Setting>;

/// Whether bool `sym` is y.
pub fn is_y(env: &Env, sym: &str) -> bool {
    env.get(sym).is_some_and(|s| s.value == "y")
}

/// Whether every condition (`SYM` is y, `!SYM` is not) holds.
pub fn holds(conds: &[String], env: &Env) -> bool {
    conds.iter().all(|c| match c.strip_prefix('!') {
        Some(sym) => !is_y(env, sym),
        None => is_y(env, c),
    })
}

/// Adds Buildroot's defaults the file does not override, and the bools
/// selected by those that are y, until none applies.
pub fn apply_defaults(table: &Table, env: &mut Env, forge_named: &BTreeMap<&str, &Assignment>) {
    // forge options set by a forge-name line or by an explicit Buildroot line
    let mut taken: Vec<&str> = forge_named.keys().copied().collect();
    for sym in env.keys() {
        match table.lookup(sym) {
            Known::Rule(Rule::Value { to, .. }) => taken.push(to),
            Known::Member { set: Some(set), .. } => taken.extend(set.keys().map(String::as_str)),
            _ => {}
        }
    }
    let implied = |value: &str, default_of: Option<&str>| Setting {
        value: value.to_string(),
        line: None,
        default_of: default_of.map(str::to_string),
    };
    loop {
        let mut added = Vec::new();
        for (sym, rule) in &table.symbols {
            if let Rule::Value { select, .. } = rule
                && is_y(env, sym)
            {
                let unset = select.iter().filter(|s| !env.contains_key(*s));
                added.extend(unset.map(|s| (s.clone(), implied("y", None))));
            }
        }
        for (sym, rule) in &table.symbols {
            let (value, when, to) = match rule {
                Rule::Value {
                    to,
                    when,
                    default: Some(d),
                    ..
                } => (d.as_str(), &when[..], Some(to.as_str())),
                Rule::Only {
                    when,
                    default: Some(d),
                    ..
                } => (d.as_str(), &when[..], None),
                Rule::Absent { default: true } => ("y", &[][..], None),
                _ => continue,
            };
            if !env.contains_key(sym) && holds(when, env) && !to.is_some_and(|t| taken.contains(&t))
            {
                added.push((sym.clone(), implied(value, None)));
            }
        }
        for (prompt, choice) in &table.choices {
            let decided = choice.members.keys().any(|m| is_y(env, m))
                || choice.forge_options().any(|o| forge_named.contains_key(o));
            if decided || !holds(&choice.when, env) {
                continue;
            }
            let default = choice
                .default
                .iter()
                .find(|(m, c)| !env.contains_key(m) && holds(c, env));
            if let Some((member, _)) = default {
                added.push((member.clone(), implied("y", Some(prompt))));
            }
        }
        if added.is_empty() {
            return;
        }
        env.extend(added);
    }
}

/// Two members of one choice chosen on lines of the file: a problem on each
/// later line, whose symbols are not translated.
pub fn choice_conflicts(table: &Table, env: &Env) -> (Vec<Problem>, Vec<String>) {
    let (mut problems, mut skip) = (Vec::new(), Vec::new());
    for (prompt, choice) in &table.choices {
        let mut chosen: Vec<(&String, usize)> = choice
            .members
            .keys()
            .filter(|m| is_y(env, m))
            .filter_map(|m| Some((m, env[m].line?)))
            .collect();
        chosen.sort_by_key(|(_, line)| *line);
        if let [(first, line), rest @ ..] = &chosen[..] {
            for (other, other_line) in rest {
                skip.push(other.to_string());
                problems.push(Problem::Invalid {
                    line: Some(*other_line),
                    message: format!(
                        "{other} and {first} (line {line}) are both chosen for \"{prompt}\"; keep one"
                    ),
                });
            }
        }
    }
    (problems, skip)
}

/// The version of the kernel the file builds, as far as it says: its
/// custom version; none for a download or Git tree (its device tree names
/// are written for it, whatever it is); else the Linux recipe's version
/// (forge's own kernel, or a tarball on this machine).
pub fn kernel_version<'a>(env: &'a Env, recipe: Option<&'a str>) -> Option<&'a str> {
    if is_y(env, "BR2_LINUX_KERNEL_CUSTOM_VERSION") {
        return env
            .get("BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE")
            .map(|s| s.value.as_str());
    }
    let downloaded = is_y(env, "BR2_LINUX_KERNEL_CUSTOM_GIT")
        || (is_y(env, "BR2_LINUX_KERNEL_CUSTOM_TARBALL")
            && env
                .get("BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION")
                .is_some_and(|s| !s.value.starts_with("file://")));
    if downloaded { None } else { recipe }
}

/// forge's TARGET_ARCH as this file will set it.
pub fn target_arch(ctx: &Context, env: &Env, forge_named: &BTreeMap<&str, &Assignment>) -> String {
    let from_member = ctx.table.choices.values().find_map(|c| {
        c.members
            .iter()
            .filter(|(m, _)| is_y(env, m))
            .find_map(|(_, set)| set.as_ref()?.get("TARGET_ARCH").cloned())
    });
    let from_line = || match &forge_named.get("TARGET_ARCH")?.value {
        RawValue::Bare(s) | RawValue::Quoted(s) => Some(s.clone()),
        RawValue::NotSet => None,
    };
    let default = || match ctx.schema.options.get("TARGET_ARCH")?.decl.default_value() {
        Value::Str(s) => Some(s),
        _ => None,
    };
    from_member
        .or_else(from_line)
        .or_else(default)
        .unwrap_or_default()
}
