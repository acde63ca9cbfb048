//! `depends` conditions (parsing and evaluation against resolved values)
//! and the consistency checks on a [`Schema`]: names, defaults, ranges,
//! choices, `select` targets and `depends` symbols.

use super::defconfig::is_symbol;
use super::error::ConfigError;
use super::schema::{Declared, OptionDecl, Schema, Value};
use std::collections::BTreeMap;

/// One `depends` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dep<'a> {
    /// `SYM`: bool SYM is y.
    Is(&'a str),
    /// `!SYM`: bool SYM is n.
    Not(&'a str),
    /// `SYM=value`: SYM's text (`y`/`n`, the number, the string) is value.
    Eq(&'a str, &'a str),
    /// `SYM!=value`: the opposite.
    Ne(&'a str, &'a str),
}

impl<'a> Dep<'a> {
    /// Parses an entry; `None` if it is malformed.
    pub fn parse(entry: &'a str) -> Option<Dep<'a>> {
        let entry = entry.trim();
        let unquote = |v: &'a str| {
            let v = v.trim();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        };
        let dep = if let Some((sym, value)) = entry.split_once("!=") {
            Dep::Ne(sym.trim(), unquote(value))
        } else if let Some((sym, value)) = entry.split_once('=') {
            Dep::Eq(sym.trim(), unquote(value))
        } else if let Some(sym) = entry.strip_prefix('!') {
            Dep::Not(sym.trim())
        } else {
            Dep::Is(entry)
        };
        is_symbol(dep.symbol()).then_some(dep)
    }

    pub fn symbol(&self) -> &'a str {
        match *self {
            Dep::Is(s) | Dep::Not(s) | Dep::Eq(s, _) | Dep::Ne(s, _) => s,
        }
    }

    /// Whether the condition holds; an unknown symbol never satisfies it.
    pub fn holds(&self, values: &BTreeMap<String, Value>) -> bool {
        let Some(v) = values.get(self.symbol()) else {
            return false;
        };
        match *self {
            Dep::Is(_) => *v == Value::Bool(true),
            Dep::Not(_) => *v == Value::Bool(false),
            Dep::Eq(_, want) => v.as_text() == want,
            Dep::Ne(_, want) => v.as_text() != want,
        }
    }
}

/// The first `depends` entry of `decl` that does not hold, if any.
pub fn first_unmet<'a>(decl: &'a OptionDecl, values: &BTreeMap<String, Value>) -> Option<&'a str> {
    decl.common()
        .depends
        .iter()
        .find(|e| !Dep::parse(e).is_some_and(|d| d.holds(values)))
        .map(String::as_str)
}

/// What the symbol of `entry` currently is, e.g. `STATIC is y`.
pub fn describe_actual(entry: &str, values: &BTreeMap<String, Value>) -> String {
    let Some(dep) = Dep::parse(entry) else {
        return format!("`{entry}` is not a valid condition");
    };
    let sym = dep.symbol();
    match values.get(sym) {
        Some(Value::Str(s)) => format!("{sym} is {}", super::defconfig::quote(s)),
        Some(v) => format!("{sym} is {}", v.as_text()),
        None => format!("{sym} is not declared"),
    }
}

/// Every inconsistency in the schema's declarations.
pub fn check_schema(schema: &Schema) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (name, d) in &schema.options {
        let mut err = |message: String| {
            errors.push(ConfigError::Schema {
                origin: d.origin.clone(),
                name: name.clone(),
                message,
            })
        };
        if !is_symbol(name) {
            err("the name may use only letters, digits and `_`".into());
        }
        match &d.decl {
            OptionDecl::Int {
                default,
                range: Some((lo, hi)),
                ..
            } => {
                if lo > hi {
                    err(format!(
                        "range ({lo}, {hi}) is empty; write the lower bound first"
                    ));
                } else if !(lo..=hi).contains(&default) {
                    err(format!("default {default} is outside range ({lo}, {hi})"));
                }
            }
            OptionDecl::Choice {
                choices, default, ..
            } if !choices.contains(default) => {
                err(format!(
                    "default {default:?} is not one of the choices [{}]",
                    choices.join(", ")
                ));
            }
            OptionDecl::Bool { select, .. } => {
                for target in select {
                    match schema.options.get(target).map(|t| &t.decl) {
                        Some(OptionDecl::Bool { .. }) => {}
                        Some(other) => err(format!(
                            "selects {target}, which is a {} option; only bool options can be \
                             selected — use `depends` instead",
                            other.type_name()
                        )),
                        None => err(format!(
                            "selects {target}, which is not declared; fix the name in `select`"
                        )),
                    }
                }
            }
            _ => {}
        }
        for entry in &d.decl.common().depends {
            if let Some(message) = check_dep(schema, entry) {
                err(message);
            }
        }
    }
    errors
}

/// Why `entry` is not a valid `depends` entry, if it is not.
fn check_dep(schema: &Schema, entry: &str) -> Option<String> {
    let Some(dep) = Dep::parse(entry) else {
        return Some(format!(
            "depends entry `{entry}` is malformed; write `SYM`, `!SYM` or `SYM=value`"
        ));
    };
    let sym = dep.symbol();
    let Some(Declared { decl, .. }) = schema.options.get(sym) else {
        return Some(format!(
            "depends on {sym}, which is not declared; fix the name in `depends`"
        ));
    };
    match (dep, decl) {
        (Dep::Is(_) | Dep::Not(_), OptionDecl::Bool { .. }) => None,
        (Dep::Is(_) | Dep::Not(_), other) => Some(format!(
            "depends entry `{entry}` needs a bool, but {sym} is a {} option; write `{sym}=value`",
            other.type_name()
        )),
        (Dep::Eq(_, v) | Dep::Ne(_, v), OptionDecl::Bool { .. }) if v != "y" && v != "n" => Some(
            format!("depends entry `{entry}`: bool {sym} is only ever y or n"),
        ),
        (Dep::Eq(_, v) | Dep::Ne(_, v), OptionDecl::Choice { choices, .. })
            if !choices.iter().any(|c| c == v) =>
        {
            Some(format!(
                "depends entry `{entry}`: {v:?} is not one of {sym}'s choices [{}]",
                choices.join(", ")
            ))
        }
        (Dep::Eq(_, v) | Dep::Ne(_, v), OptionDecl::Int { .. }) if v.parse::<i64>().is_err() => {
            Some(format!(
                "depends entry `{entry}`: {sym} is an int, but {v:?} is not an integer"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_entries() {
        assert_eq!(Dep::parse("A"), Some(Dep::Is("A")));
        assert_eq!(Dep::parse(" !A "), Some(Dep::Not("A")));
        assert_eq!(Dep::parse("ARCH=arm"), Some(Dep::Eq("ARCH", "arm")));
        assert_eq!(Dep::parse("ARCH = \"arm\""), Some(Dep::Eq("ARCH", "arm")));
        assert_eq!(Dep::parse("ARCH!=arm"), Some(Dep::Ne("ARCH", "arm")));
        assert_eq!(Dep::parse(""), None);
        assert_eq!(Dep::parse("A B"), None);
    }

    #[test]
    fn evaluate() {
        let values: BTreeMap<String, Value> = [
            ("A".to_string(), Value::Bool(true)),
            ("N".to_string(), Value::Int(4)),
            ("S".to_string(), Value::Str("arm".into())),
        ]
        .into_iter()
        .collect();
        assert!(Dep::Is("A").holds(&values));
        assert!(!Dep::Not("A").holds(&values));
        assert!(Dep::Eq("N", "4").holds(&values));
        assert!(Dep::Eq("A", "y").holds(&values));
        assert!(Dep::Ne("S", "x86").holds(&values));
        assert!(!Dep::Is("MISSING").holds(&values));
        assert_eq!(describe_actual("S=x86", &values), "S is \"arm\"");
    }
}
