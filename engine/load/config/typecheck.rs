//! Checking one written value against its option's declaration (type,
//! range, choices), and suggesting a declared name for a misspelt one.

use super::defconfig::{Assignment, RawValue};
use super::error::ConfigError;
use super::schema::{OptionDecl, Schema, Value};

/// The [`Value`] assignment `a` denotes for an option declared as `decl`, or why it
/// does not fit.
pub fn check_value(decl: &OptionDecl, a: &Assignment) -> Result<Value, ConfigError> {
    let value = match (decl, &a.value) {
        (OptionDecl::Bool { .. }, RawValue::NotSet) => Some(Value::Bool(false)),
        (OptionDecl::Bool { .. }, RawValue::Bare(s)) if s == "y" => Some(Value::Bool(true)),
        (OptionDecl::Bool { .. }, RawValue::Bare(s)) if s == "n" => Some(Value::Bool(false)),
        (OptionDecl::Int { range, .. }, RawValue::Bare(s)) => s
            .parse::<i64>()
            .ok()
            .filter(|i| range.is_none_or(|(lo, hi)| (lo..=hi).contains(i)))
            .map(Value::Int),
        (OptionDecl::Choice { choices, .. }, RawValue::Bare(s) | RawValue::Quoted(s)) => {
            choices.contains(s).then(|| Value::Str(s.clone()))
        }
        (
            OptionDecl::Str { .. } | OptionDecl::Path { .. },
            RawValue::Bare(s) | RawValue::Quoted(s),
        ) => Some(Value::Str(s.clone())),
        _ => None,
    };
    value.ok_or_else(|| ConfigError::BadValue {
        loc: a.loc.clone(),
        name: a.name.clone(),
        type_name: decl.type_name(),
        accepted: accepted(decl, &a.name).into(),
        got: a.value.as_written().into(),
    })
}

/// What an option accepts, phrased for an error message.
pub fn accepted(decl: &OptionDecl, name: &str) -> String {
    match decl {
        OptionDecl::Bool { .. } => format!("`{name}=y`, `{name}=n` or `# {name} is not set`"),
        OptionDecl::Int {
            range: Some((lo, hi)),
            ..
        } => {
            format!("an integer from {lo} to {hi}, e.g. `{name}={lo}`")
        }
        OptionDecl::Int { range: None, .. } => format!("an integer, e.g. `{name}=1`"),
        OptionDecl::Choice { choices, .. } => format!("one of {}", choices.join(", ")),
        OptionDecl::Str { .. } | OptionDecl::Path { .. } => {
            format!("a double-quoted string, e.g. `{name}=\"text\"`")
        }
    }
}

/// The declared name closest to `name`, if one is reasonably close. Case
/// is ignored, and a Buildroot `BR2_` prefix is tried both with and without.
pub fn suggest(schema: &Schema, name: &str) -> Option<String> {
    let wanted = name.to_ascii_uppercase();
    let stripped = wanted.strip_prefix("BR2_").unwrap_or(&wanted);
    let mut best: Option<(f64, &str)> = None;
    for candidate in schema.options.keys() {
        let cand = candidate.to_ascii_uppercase();
        let cand_stripped = cand.strip_prefix("BR2_").unwrap_or(&cand);
        let score = [(&*wanted, &*cand), (stripped, cand_stripped)]
            .iter()
            .map(|(w, c)| similarity(w, c))
            .fold(0.0, f64::max);
        if score > best.map_or(0.0, |(s, _)| s) {
            best = Some((score, candidate));
        }
    }
    best.filter(|(score, _)| *score >= 0.8)
        .map(|(_, c)| c.to_string())
}

/// 1.0 for equal strings; high for small edits or a shared prefix.
fn similarity(a: &str, b: &str) -> f64 {
    let jw = strsim::jaro_winkler(a, b);
    let lev = strsim::normalized_damerau_levenshtein(a, b);
    // Levenshtein ≥ 0.6 (a few edits in a long name) counts as close.
    jw.max(lev + 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::config::schema::{Common, Declared};
    use crate::location::Location;

    fn schema(names: &[&str]) -> Schema {
        let mut s = Schema::default();
        for n in names {
            s.options.insert(
                n.to_string(),
                Declared {
                    decl: OptionDecl::Bool {
                        default: false,
                        common: Common::default(),
                        select: vec![],
                    },
                    origin: "configs/system.ron".into(),
                    tree: ".".into(),
                    package: None,
                },
            );
        }
        s
    }

    #[test]
    fn suggestions() {
        let s = schema(&["FOO_BAR", "TARGET_ARCH", "ROOTFS_EXT2_SIZE", "HOSTNAME"]);
        assert_eq!(suggest(&s, "FOO").as_deref(), Some("FOO_BAR"));
        assert_eq!(
            suggest(&s, "BR2_TARGET_ARCH").as_deref(),
            Some("TARGET_ARCH")
        );
        assert_eq!(suggest(&s, "target_arhc").as_deref(), Some("TARGET_ARCH"));
        assert_eq!(
            suggest(&s, "ROOTFS_EXT4_SIZE").as_deref(),
            Some("ROOTFS_EXT2_SIZE")
        );
        assert_eq!(suggest(&s, "ZLIB"), None);
        assert_eq!(suggest(&s, "BR2_PACKAGE_BUSYBOX"), None);
    }

    #[test]
    fn values_by_type() {
        let a = |v: RawValue| Assignment {
            name: "X".into(),
            value: v,
            loc: Location::new("d", 1, None),
        };
        let int = OptionDecl::Int {
            default: 1,
            range: Some((1, 8)),
            common: Common::default(),
        };
        assert_eq!(
            check_value(&int, &a(RawValue::Bare("8".into()))).unwrap(),
            Value::Int(8)
        );
        assert!(check_value(&int, &a(RawValue::Bare("9".into()))).is_err());
        assert!(check_value(&int, &a(RawValue::Quoted("2".into()))).is_err());
        let s = OptionDecl::Str {
            default: String::new(),
            common: Common::default(),
        };
        assert_eq!(
            check_value(&s, &a(RawValue::Bare("word".into()))).unwrap(),
            Value::Str("word".into())
        );
        assert!(check_value(&s, &a(RawValue::NotSet)).is_err());
    }
}
