//! Why an option cannot be changed right now: a `depends` entry that does
//! not hold, or (for a bool) another bool that is y and `select`s it.
//! The `depends` conditions are evaluated by `config::check`, the same code
//! resolution uses.

use crate::load::config::check::{describe_actual, first_unmet};
use crate::load::config::resolve::selected_by;
use crate::load::config::{OptionDecl, Schema, Value};
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
    let entry = first_unmet(decl, values)?.trim();
    let actual = describe_actual(entry, values);
    let plain = entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    Some(if plain {
        format!("depends on {}", actual.replacen(" is ", " which is ", 1))
    } else {
        format!("depends on `{entry}` but {actual}")
    })
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
