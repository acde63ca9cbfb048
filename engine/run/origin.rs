//! Where an option was set, for an error about its value: the board
//! defconfig's `file:line` when the output dir's `.config` still holds the
//! value set there, else the `.config`'s line. Read only on the error path.

use crate::error::Error;
use crate::load::config;
use crate::load::project::Project;
use crate::location::Location;
use crate::run::session::buildroot_names;
use std::fs;
use std::path::Path;

/// `e` located at the line that set its option, when it is a bad option.
pub fn locate_option(project: &Project, output: &Path, e: Error) -> Error {
    match e {
        Error::BadOption {
            option,
            message,
            at: None,
        } => Error::BadOption {
            at: option_origin(project, output, &option),
            option,
            message,
        },
        e => e,
    }
}

/// The line that set `option`: the board defconfig's when the `.config`
/// still holds the value it set there, else the `.config`'s own line
/// (`forge config set` changed it since). Only read on the error path.
fn option_origin(project: &Project, output: &Path, option: &str) -> Option<Location> {
    let text = |v: &config::RawValue| match v {
        config::RawValue::Bare(s) | config::RawValue::Quoted(s) => Some(s.clone()),
        config::RawValue::NotSet => None,
    };
    let (dot, defconfig) = config::parse_dotconfig(&output.join(".config")).ok()?;
    let set = dot
        .effective()
        .get(option)
        .map(|a| (a.loc.clone(), text(&a.value)))?;
    let from_board = defconfig.and_then(|d| {
        let bytes = fs::read(project.root.join(&d)).ok()?;
        let parsed =
            config::parse_defconfig_str(&d, &config::text::decode(&d, bytes).ok()?).ok()?;
        let parsed = buildroot_names(project, parsed).ok()?.for_resolve();
        let a = parsed
            .effective()
            .get(option)
            .map(|a| (a.loc.clone(), text(&a.value)))?;
        (a.1 == set.1).then_some(a.0)
    });
    Some(from_board.unwrap_or(set.0))
}
