//! Writing the translation down: the file's lines with each `BR2_` line
//! replaced by the forge assignments it means, and the assignments
//! Buildroot's defaults add.

use super::env::Env;
use super::{Imported, Summary, Verdict};
use crate::load::config::defconfig::{
    Assignment, Defconfig, Line, LineKind, RawValue, format_assignment,
};
use crate::load::config::schema::{OptionDecl, Value};
use crate::location::Location;
use std::collections::{BTreeMap, BTreeSet};

/// `SYM=y`, `# SYM is not set` or `SYM="text"`.
pub fn as_line(sym: &str, value: &str) -> String {
    match value {
        "y" => format!("{sym}=y"),
        "n" => format!("# {sym} is not set"),
        _ => format_assignment(sym, &Value::Str(value.to_string())),
    }
}

/// How `text` is written for an option declared as `decl`.
pub fn raw_for(decl: &OptionDecl, text: &str) -> RawValue {
    match decl {
        OptionDecl::Bool { .. } if text == "n" => RawValue::NotSet,
        OptionDecl::Bool { .. } | OptionDecl::Int { .. } => RawValue::Bare(text.to_string()),
        _ => RawValue::Quoted(text.to_string()),
    }
}

/// The file in forge names: each effective `BR2_` line replaced by its
/// translation (an option already written by an earlier line is not
/// repeated); the implied defaults apart. With `notes`, a noted or refused
/// line is kept as a comment saying so, before its translation if any.
pub fn rebuild(
    parsed: &Defconfig,
    env: &Env,
    per_symbol: &BTreeMap<&str, Vec<(String, Value)>>,
    notes: Option<&Summary>,
) -> Imported {
    let comment = |line: usize| {
        let e = notes?.entries.iter().find(|e| e.line == Some(line))?;
        let (tag, why) = match &e.verdict {
            Verdict::Translated => return None,
            Verdict::Noted(why) => ("noted", why),
            Verdict::Refused(why) => ("refused", why),
        };
        Some(Line {
            text: format!("# {tag}: {} ({why})", e.setting),
            kind: LineKind::Comment,
        })
    };
    let effective = parsed.effective();
    let mut written = BTreeSet::new();
    let mut lines = Vec::with_capacity(parsed.lines.len());
    let assign = |opt: &str, v: &Value, loc: &Location| {
        let value = match v {
            Value::Bool(false) => RawValue::NotSet,
            Value::Bool(true) => RawValue::Bare("y".into()),
            Value::Int(i) => RawValue::Bare(i.to_string()),
            Value::Str(s) => RawValue::Quoted(s.clone()),
        };
        Assignment {
            name: opt.to_string(),
            value,
            loc: loc.clone(),
        }
    };
    for line in &parsed.lines {
        let LineKind::Assign(a) = &line.kind else {
            lines.push(line.clone());
            continue;
        };
        if !a.name.starts_with("BR2_") {
            lines.push(line.clone());
            continue;
        }
        if effective.get(a.name.as_str()).map(|e| e.loc.line) != Some(a.loc.line) {
            continue;
        }
        lines.extend(comment(a.loc.line));
        for (opt, v) in per_symbol.get(a.name.as_str()).into_iter().flatten() {
            if written.insert(opt.clone()) {
                let text = format_assignment(opt, v);
                lines.push(Line {
                    text,
                    kind: LineKind::Assign(assign(opt, v, &a.loc)),
                });
            }
        }
    }
    let loc = Location::new(&parsed.path, 0, None);
    let implied = env
        .iter()
        .filter(|(_, s)| s.line.is_none())
        .flat_map(|(sym, _)| per_symbol.get(sym.as_str()).into_iter().flatten())
        .filter(|(opt, _)| !written.contains(opt))
        .map(|(opt, v)| assign(opt, v, &loc))
        .collect();
    let layout = Defconfig {
        lines,
        ..parsed.clone()
    };
    Imported { layout, implied }
}
