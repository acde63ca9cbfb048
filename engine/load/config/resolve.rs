//! Resolution: from a [`Schema`] and a [`Defconfig`] to a value for every
//! option. Defaults apply unless the defconfig says otherwise; `depends`
//! that do not hold force an option back to its default; a bool that is y
//! forces everything it `select`s to y. All errors are collected and
//! reported together.

use super::check::{check_schema, describe_actual, first_unmet};
use super::defconfig::{Assignment, Defconfig};
use super::error::ConfigError;
use super::schema::{OptionDecl, Schema, Value};
use super::typecheck::{check_value, suggest};
use std::collections::{BTreeMap, BTreeSet};

/// The value of every option in the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub values: BTreeMap<String, Value>,
    /// Options the defconfig assigned explicitly (whether or not the value
    /// differs from the default). Reading a full `.config` sets them all.
    pub set_by_user: BTreeSet<String>,
}

/// Explicit assignments that type-checked: name → (value, where).
type Explicit<'a> = BTreeMap<&'a str, (Value, &'a Assignment)>;

/// Resolves every option of `schema` against `defconfig`.
pub fn resolve(schema: &Schema, defconfig: &Defconfig) -> Result<Resolved, ConfigError> {
    let schema_errors = check_schema(schema);
    // Errors about defconfig lines, keyed by line so they come out in order.
    let mut line_errors: Vec<(usize, ConfigError)> = Vec::new();
    let mut explicit: Explicit = BTreeMap::new();
    for (name, a) in defconfig.effective() {
        match schema.options.get(name) {
            None => line_errors.push((
                a.loc.line,
                ConfigError::UnknownOption {
                    loc: a.loc.clone(),
                    name: name.to_string(),
                    suggestion: suggest(schema, name),
                },
            )),
            Some(d) => match check_value(&d.decl, a) {
                Ok(v) => {
                    explicit.insert(name, (v, a));
                }
                Err(e) => line_errors.push((a.loc.line, e)),
            },
        }
    }
    if !schema_errors.is_empty() {
        line_errors.sort_by_key(|(line, _)| *line);
        let all = schema_errors
            .into_iter()
            .chain(line_errors.into_iter().map(|(_, e)| e));
        return ConfigError::collect(all.collect()).map(|()| Resolved::default());
    }

    let values = fixpoint(schema, &explicit)?;
    for (name, (value, a)) in &explicit {
        let Some(d) = schema.options.get(*name) else {
            continue;
        };
        let default = d.decl.default_value();
        if let Some(dep) = first_unmet(&d.decl, &values) {
            if *value != default && values.get(*name) != Some(value) {
                line_errors.push((
                    a.loc.line,
                    ConfigError::UnmetDependency {
                        loc: a.loc.clone(),
                        name: name.to_string(),
                        value: a.value.as_written().into(),
                        dependency: dep.into(),
                        actual: describe_actual(dep, &values).into(),
                    },
                ));
            }
        } else if values.get(*name) != Some(value)
            && let Some(by) = selected_by(schema, &values, name)
        {
            line_errors.push((
                a.loc.line,
                ConfigError::SelectConflict {
                    loc: a.loc.clone(),
                    name: name.to_string(),
                    selected_by: by.to_string(),
                },
            ));
        }
    }
    line_errors.sort_by_key(|(line, _)| *line);
    ConfigError::collect(line_errors.into_iter().map(|(_, e)| e).collect())?;
    Ok(Resolved {
        values,
        set_by_user: explicit.keys().map(|n| n.to_string()).collect(),
    })
}

/// The first option (by name) that is y in `values` and selects `name`.
pub fn selected_by<'a>(
    schema: &'a Schema,
    values: &BTreeMap<String, Value>,
    name: &str,
) -> Option<&'a str> {
    schema.options.iter().find_map(|(n, d)| match &d.decl {
        OptionDecl::Bool { select, .. }
            if values.get(n).is_some_and(Value::is_true) && select.iter().any(|s| s == name) =>
        {
            Some(n.as_str())
        }
        _ => None,
    })
}

/// Repeats [`step`] from "explicit values where given, defaults elsewhere"
/// until nothing changes.
fn fixpoint(schema: &Schema, explicit: &Explicit) -> Result<BTreeMap<String, Value>, ConfigError> {
    let mut values: BTreeMap<String, Value> = schema
        .options
        .iter()
        .map(|(n, d)| {
            let v = explicit.get(n.as_str()).map(|(v, _)| v.clone());
            (n.clone(), v.unwrap_or_else(|| d.decl.default_value()))
        })
        .collect();
    apply_selects(schema, &mut values);
    // Acyclic depends settle within one round per level of nesting.
    for _ in 0..2 * schema.options.len() + 4 {
        let next = step(schema, explicit, &values);
        if next == values {
            return Ok(values);
        }
        values = next;
    }
    let next = step(schema, explicit, &values);
    let changing: Vec<&str> = next
        .iter()
        .filter(|(n, v)| values.get(*n) != Some(v))
        .map(|(n, _)| n.as_str())
        .collect();
    let first = changing.first().copied().unwrap_or_default();
    Err(ConfigError::Schema {
        origin: schema
            .options
            .get(first)
            .map(|d| d.origin.clone())
            .unwrap_or_default(),
        name: first.to_string(),
        message: format!(
            "options {} keep changing each other through `depends` and `select`, so no \
             consistent configuration exists; break the cycle in their declarations",
            changing.join(", ")
        ),
    })
}

/// One round: each option takes its explicit value if its depends hold
/// (judged on `prev`), else its default; then selects are applied.
fn step(
    schema: &Schema,
    explicit: &Explicit,
    prev: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut next: BTreeMap<String, Value> = schema
        .options
        .iter()
        .map(|(n, d)| {
            let chosen = match explicit.get(n.as_str()) {
                Some((v, _)) if first_unmet(&d.decl, prev).is_none() => v.clone(),
                _ => d.decl.default_value(),
            };
            (n.clone(), chosen)
        })
        .collect();
    apply_selects(schema, &mut next);
    next
}

/// Sets to y everything a y bool selects, transitively.
pub fn apply_selects(schema: &Schema, values: &mut BTreeMap<String, Value>) {
    let mut queue: Vec<String> = values
        .iter()
        .filter(|(_, v)| v.is_true())
        .map(|(n, _)| n.clone())
        .collect();
    while let Some(n) = queue.pop() {
        let Some(OptionDecl::Bool { select, .. }) = schema.options.get(&n).map(|d| &d.decl) else {
            continue;
        };
        for target in select {
            if let Some(v) = values.get_mut(target)
                && !v.is_true()
            {
                *v = Value::Bool(true);
                queue.push(target.clone());
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::load::config::schema::{Common, Declared};

    /// A schema of bools, each with its `select` list (shared by tests).
    pub(crate) fn bool_schema(decls: &[(&str, &[&str])]) -> Schema {
        let mut s = Schema::default();
        for (name, select) in decls {
            let decl = OptionDecl::Bool {
                default: false,
                common: Common::default(),
                select: select.iter().map(|s| s.to_string()).collect(),
            };
            let d = Declared {
                decl,
                origin: "c.ron".into(),
                tree: ".".into(),
                package: None,
            };
            s.options.insert(name.to_string(), d);
        }
        s
    }

    #[test]
    fn selects_propagate_and_name_their_source() {
        let s = bool_schema(&[("A", &["B"]), ("B", &["C"]), ("C", &[]), ("D", &[])]);
        let mut values: BTreeMap<String, Value> = s
            .options
            .keys()
            .map(|n| (n.clone(), Value::Bool(n == "A")))
            .collect();
        apply_selects(&s, &mut values);
        assert!(values["B"].is_true() && values["C"].is_true());
        assert!(!values["D"].is_true());
        assert_eq!(selected_by(&s, &values, "C"), Some("B"));
        assert_eq!(selected_by(&s, &values, "D"), None);
    }
}
