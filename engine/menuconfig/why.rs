//! Why an option cannot be changed right now: a `depends` entry that does
//! not hold, or (for a bool) another bool that is y and `select`s it.
//!
//! The `depends` grammar is the one `config` resolves by: `SYM` (bool SYM is
//! y), `!SYM` (it is n), `SYM=value` and `SYM!=value` (its text compared).

use crate::config::defconfig::quote;
use crate::config::resolve::selected_by;
use crate::config::{OptionDecl, Schema, Value};
use std::collections::BTreeMap;

/// Why `name` is locked, phrased for the user, or `None` if it is free.
pub fn locked(schema: &Schema, values: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    let d = schema.options.get(name)?;
    if let Some(reason) = unmet_depends(&d.decl, values) {
        return Some(reason);
    }
    match d.decl {
        OptionDecl::Bool { .. } => {
            selected_by(schema, values, name).map(|by| format!("selected by {by}"))
        }
        _ => None,
    }
}

/// The first `depends` entry of `decl` that does not hold, explained, e.g.
/// `depends on ROOTFS_CPIO which is n`.
pub fn unmet_depends(decl: &OptionDecl, values: &BTreeMap<String, Value>) -> Option<String> {
    decl.common().depends.iter().find_map(|entry| {
        let cond = Condition::parse(entry);
        let actual = values.get(cond.symbol);
        if actual.is_some_and(|v| cond.holds(v)) {
            return None;
        }
        let actual = match actual {
            Some(Value::Str(s)) => quote(s),
            Some(v) => v.as_text(),
            None => "not declared".to_string(),
        };
        let entry = entry.trim();
        Some(if entry == cond.symbol {
            format!("depends on {entry} which is {actual}")
        } else {
            format!("depends on `{entry}` but {} is {actual}", cond.symbol)
        })
    })
}

/// One `depends` entry, taken apart.
struct Condition<'a> {
    symbol: &'a str,
    /// The compared text; `None` for a plain `SYM` / `!SYM`.
    want: Option<&'a str>,
    negated: bool,
}

impl<'a> Condition<'a> {
    fn parse(entry: &'a str) -> Condition<'a> {
        let entry = entry.trim();
        let unquote = |v: &'a str| {
            let v = v.trim();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        };
        let (symbol, want, negated) = if let Some((s, v)) = entry.split_once("!=") {
            (s, Some(unquote(v)), true)
        } else if let Some((s, v)) = entry.split_once('=') {
            (s, Some(unquote(v)), false)
        } else if let Some(s) = entry.strip_prefix('!') {
            (s, None, true)
        } else {
            (entry, None, false)
        };
        Condition {
            symbol: symbol.trim(),
            want,
            negated,
        }
    }

    fn holds(&self, value: &Value) -> bool {
        let positive = match self.want {
            Some(w) => value.as_text() == w,
            None => value.is_true(),
        };
        positive != self.negated
    }
}

/// The options whose `select` names `name`, by name.
pub fn selectors<'a>(schema: &'a Schema, name: &str) -> Vec<&'a str> {
    schema
        .options
        .iter()
        .filter(|(_, d)| matches!(&d.decl, OptionDecl::Bool { select, .. } if select.iter().any(|s| s == name)))
        .map(|(n, _)| n.as_str())
        .collect()
}
