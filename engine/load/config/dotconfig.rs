//! The full `.config` kept in the output directory: a header naming the
//! defconfig it came from, then every option sorted by name in defconfig
//! syntax. [`parse_dotconfig`] reads it back.

use super::defconfig::{Defconfig, LineKind, format_assignment, parse_defconfig_str};
use super::error::ConfigError;
use super::resolve::Resolved;
use super::schema::Schema;
use std::path::{Path, PathBuf};

/// First line of every `.config` forge writes.
pub const HEADER: &str =
    "# forge configuration — do not edit by hand; use forge menuconfig / forge config set";

/// Prefix of the header line naming the defconfig.
const DEFCONFIG_PREFIX: &str = "# defconfig: ";

/// The `.config` text for `resolved`: the header, the defconfig path (as
/// given, if any), a blank line, then one line per schema option sorted by
/// name (`NAME=y`, `# NAME is not set`, `NAME=42`, `NAME="text"`). An option
/// missing from `resolved` is written with its default.
pub fn write_dotconfig(
    schema: &Schema,
    resolved: &Resolved,
    defconfig_path: Option<&Path>,
) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push('\n');
    if let Some(p) = defconfig_path {
        out.push_str(DEFCONFIG_PREFIX);
        out.push_str(&p.display().to_string());
        out.push('\n');
    }
    out.push('\n');
    for (name, d) in &schema.options {
        let line = match resolved.values.get(name) {
            Some(v) => format_assignment(name, v),
            None => format_assignment(name, &d.decl.default_value()),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Reads the `.config` at `path`: its assignments (resolve them with
/// [`super::resolve`]) and the defconfig path its header names.
pub fn parse_dotconfig(path: &Path) -> Result<(Defconfig, Option<PathBuf>), ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_dotconfig_str(path, &super::text::decode(path, bytes)?)
}

/// [`parse_dotconfig`] on text already read; `path_for_messages` names it.
pub fn parse_dotconfig_str(
    path_for_messages: &Path,
    text: &str,
) -> Result<(Defconfig, Option<PathBuf>), ConfigError> {
    let d = parse_defconfig_str(path_for_messages, text)?;
    // Only the comment block before the first assignment is the header.
    let defconfig = d
        .lines
        .iter()
        .take_while(|l| !matches!(l.kind, LineKind::Assign(_)))
        .filter(|l| l.kind == LineKind::Comment)
        .find_map(|l| l.text.trim_end().strip_prefix(DEFCONFIG_PREFIX))
        .map(PathBuf::from);
    Ok((d, defconfig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::config::schema::{Common, Declared, OptionDecl, Value};

    fn schema() -> Schema {
        let mut s = Schema::default();
        let mut add = |n: &str, decl| {
            s.options.insert(
                n.to_string(),
                Declared {
                    decl,
                    origin: "configs/system.ron".into(),
                    tree: ".".into(),
                    package: None,
                },
            );
        };
        add(
            "B",
            OptionDecl::Bool {
                default: false,
                common: Common::default(),
                select: vec![],
            },
        );
        add(
            "A",
            OptionDecl::Str {
                default: "x".into(),
                common: Common::default(),
            },
        );
        s
    }

    #[test]
    fn layout() {
        let r = Resolved {
            values: [("B".to_string(), Value::Bool(false))]
                .into_iter()
                .collect(),
            ..Resolved::default()
        };
        let text = write_dotconfig(&schema(), &r, Some(Path::new("boards/x_defconfig")));
        assert_eq!(
            text,
            format!("{HEADER}\n# defconfig: boards/x_defconfig\n\nA=\"x\"\n# B is not set\n")
        );
        let (d, p) = parse_dotconfig_str(Path::new("output/.config"), &text).unwrap();
        assert_eq!(p.as_deref(), Some(Path::new("boards/x_defconfig")));
        assert_eq!(d.effective().len(), 2);

        let text = write_dotconfig(&schema(), &r, None);
        assert_eq!(text, format!("{HEADER}\n\nA=\"x\"\n# B is not set\n"));
        assert_eq!(
            parse_dotconfig_str(Path::new(".config"), &text).unwrap().1,
            None
        );
    }

    #[test]
    fn missing_file_names_path() {
        let e = parse_dotconfig(Path::new("/nonexistent/forge/.config")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/forge/.config: cannot read file")
        );
    }
}
