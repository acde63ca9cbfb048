//! `savedefconfig`: the minimal defconfig for a resolved configuration —
//! only the options whose value differs from what they would get with no
//! assignment at all (their default, or y when a y option selects them).
//!
//! Given the defconfig the configuration was loaded from, the output keeps
//! that file's lines, comments, blank lines and order, so loading and saving
//! an unchanged defconfig gives back the same bytes. Exceptions, by design:
//! - an assignment that is no longer needed (the value equals the default or
//!   is forced by `select`) is dropped — so a hand-written line that merely
//!   restates a default disappears on the first save;
//! - of a symbol assigned twice, only the last (effective) line is kept;
//! - a changed value is rewritten in canonical form (see
//!   [`super::defconfig::format_assignment`]);
//! - assignments to symbols the schema does not know are kept verbatim.
//!
//! Options newly needing a line are appended at the end, sorted by name.

use super::defconfig::{Defconfig, LineKind, format_assignment, join_lines};
use super::resolve::{Resolved, selected_by};
use super::schema::{Schema, Value};
use super::typecheck::check_value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The minimal defconfig text for `resolved`, preserving `original`'s
/// layout when given (see the module docs for the exact rules).
pub fn savedefconfig(schema: &Schema, resolved: &Resolved, original: Option<&Defconfig>) -> String {
    let needed = needed(schema, resolved);
    let Some(orig) = original else {
        let lines = needed.iter().map(|(n, v)| format_assignment(n, v));
        return lines.map(|l| l + "\n").collect();
    };

    // Keep the file's line ending if it uses `\r\n`.
    let cr = if orig.lines.iter().any(|l| l.text.ends_with('\r')) {
        "\r"
    } else {
        ""
    };
    let effective_line: BTreeMap<&str, usize> = orig
        .effective()
        .into_iter()
        .map(|(n, a)| (n, a.loc.line))
        .collect();
    let mut out: Vec<Cow<str>> = Vec::with_capacity(orig.lines.len());
    let mut written = BTreeSet::new();
    for line in &orig.lines {
        let LineKind::Assign(a) = &line.kind else {
            out.push(Cow::Borrowed(&line.text));
            continue;
        };
        if effective_line.get(a.name.as_str()) != Some(&a.loc.line) {
            continue; // overridden by a later line
        }
        let Some(d) = schema.options.get(&a.name) else {
            out.push(Cow::Borrowed(&line.text));
            continue;
        };
        let Some(value) = needed.get(a.name.as_str()) else {
            continue; // no longer needed
        };
        written.insert(a.name.as_str());
        if check_value(&d.decl, a).ok().as_ref() == Some(*value) {
            out.push(Cow::Borrowed(&line.text));
        } else {
            out.push(Cow::Owned(format_assignment(&a.name, value) + cr));
        }
    }
    let mut appended = false;
    for (name, value) in &needed {
        if !written.contains(name) {
            out.push(Cow::Owned(format_assignment(name, value) + cr));
            appended = true;
        }
    }
    let trailing_newline = appended || (orig.trailing_newline && !out.is_empty());
    join_lines(out.iter().map(|l| l.as_ref()), trailing_newline)
}

/// The options a defconfig must state to reproduce `resolved`, with their
/// values: those differing from their default, unless a y option selects
/// them (then they differ from y, which cannot happen in a resolved set).
pub fn needed<'a>(schema: &'a Schema, resolved: &'a Resolved) -> BTreeMap<&'a str, &'a Value> {
    schema
        .options
        .iter()
        .filter_map(|(name, d)| {
            let value = resolved.values.get(name)?;
            let baseline = if selected_by(schema, &resolved.values, name).is_some() {
                Value::Bool(true)
            } else {
                d.decl.default_value()
            };
            (*value != baseline).then_some((name.as_str(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_skips_defaults_and_selected() {
        let s = crate::load::config::resolve::tests::bool_schema(&[
            ("A", &["B"]),
            ("B", &[]),
            ("C", &[]),
        ]);
        let r = Resolved {
            values: [("A", true), ("B", true), ("C", false)]
                .map(|(n, b)| (n.to_string(), Value::Bool(b)))
                .into_iter()
                .collect(),
            ..Resolved::default()
        };
        let n: Vec<&str> = needed(&s, &r).into_keys().collect();
        assert_eq!(n, ["A"]);
        assert_eq!(savedefconfig(&s, &r, None), "A=y\n");
    }
}
