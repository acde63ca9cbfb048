//! The help page of one option (`?` in menuconfig): its symbol, type,
//! value and default, range or choices, `depends` and whether they hold,
//! what it selects and what selects it, where it is declared, and its help.

use super::model::Model;
use super::why;
use crate::cli::configcmd::value_text;
use crate::load::config::{OptionDecl, Value};

impl Model<'_> {
    /// The help page of option `name`, one string per line.
    pub fn help_lines(&self, name: &str) -> Vec<String> {
        let Some(d) = self.schema.options.get(name) else {
            return vec![format!("{name}: no such option")];
        };
        let common = d.decl.common();
        let mut out = vec![format!("Symbol: {name}   Type: {}", d.decl.type_name())];
        if let Some(p) = &common.prompt {
            out.push(format!("Prompt: {p}"));
        }
        out.push(format!("Menu: {}", self.menu_of(name)));
        out.push(format!("Value: {}", value_text(&self.value(name))));
        out.push(format!("Default: {}", value_text(&d.decl.default_value())));
        match &d.decl {
            OptionDecl::Int {
                range: Some((lo, hi)),
                ..
            } => out.push(format!("Range: {lo} to {hi}")),
            OptionDecl::Choice { choices, .. } => {
                out.push(format!("Choices: {}", choices.join(", ")));
            }
            _ => {}
        }
        if !common.depends.is_empty() {
            let state = match why::unmet_depends(&d.decl, self.values()) {
                Some(reason) => format!("not met: {reason}"),
                None => "met".to_string(),
            };
            out.push(format!(
                "Depends on: {}  ({state})",
                common.depends.join(", ")
            ));
        }
        if let OptionDecl::Bool { select, .. } = &d.decl
            && !select.is_empty()
        {
            out.push(format!("Selects: {}", select.join(", ")));
        }
        let selectors = why::selectors(self.schema, name);
        if !selectors.is_empty() {
            let marked: Vec<String> = selectors
                .iter()
                .map(|s| {
                    let on = self.values().get(*s).is_some_and(Value::is_true);
                    format!("{s} [{}]", if on { "y" } else { "n" })
                })
                .collect();
            out.push(format!("Selected by: {}", marked.join(", ")));
        }
        let origin = d.origin.strip_prefix(&d.tree).unwrap_or(&d.origin);
        out.push(format!("Declared in: {}", origin.display()));
        out.push(String::new());
        if common.help.is_empty() {
            out.push("(no help text)".to_string());
        } else {
            out.extend(common.help.lines().map(str::to_string));
        }
        out
    }
}
