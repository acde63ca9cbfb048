//! Step keys: the canonical list of everything a step reads, and its blake3
//! key. No absolute path of the checkout or output dir, no `-j`, no time, no
//! user name enters a key; dependencies enter through their output digests.

pub mod digest;

use crate::load::config::Value;
use std::collections::BTreeMap;

/// Bump when a build procedure in forge changes what it produces, so old
/// cache entries are not reused for the new procedure.
pub const PROCEDURE_VERSION: &str = "4";

/// The canonical inputs of one step, as ordered (name, value) pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    pairs: BTreeMap<String, String>,
}

impl Inputs {
    pub fn new(step_kind: &str) -> Inputs {
        let mut i = Inputs::default();
        i.add(
            "forge.procedure",
            format!("{step_kind}/{PROCEDURE_VERSION}"),
        );
        i
    }

    pub fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.insert(name.into(), value.into());
    }

    /// The inputs of a step spec, derived mechanically from its serialized
    /// form: every field is one pair named by its path in the spec, except
    /// that an `options` map gives `option NAME` pairs and a file input
    /// (`{name, digest}`) gives `file PATH NAME` → digest, which is what
    /// `forge why` explains.
    pub fn of_spec(procedure: &str, spec: &impl serde::Serialize) -> Inputs {
        let mut inputs = Inputs::new(procedure);
        match serde_json::to_value(spec) {
            Ok(value) => flatten(&mut inputs, String::new(), &value),
            // Serializing plain data cannot fail; if it ever did, the key
            // must not collide with another spec's.
            Err(e) => inputs.add("unserializable spec", e.to_string()),
        }
        inputs
    }

    /// The key: blake3 over the length-prefixed pairs, hex.
    pub fn key(&self) -> String {
        let mut h = blake3::Hasher::new();
        for (k, v) in &self.pairs {
            h.update(&(k.len() as u64).to_le_bytes());
            h.update(k.as_bytes());
            h.update(&(v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    pub fn pairs(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Add the leaves of `value` under `path` (see [`Inputs::of_spec`]).
fn flatten(inputs: &mut Inputs, path: String, value: &serde_json::Value) {
    use serde_json::Value as J;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        J::Object(map)
            if map.len() == 2 && map.contains_key("name") && map.contains_key("digest") =>
        {
            let text = |k: &str| {
                map.get(k)
                    .and_then(J::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            inputs.add(format!("file {path} {}", text("name")), text("digest"));
        }
        J::Object(map) => {
            for (k, v) in map {
                if k == "options"
                    && let J::Object(options) = v
                {
                    for (name, v) in options {
                        let text = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        inputs.add(format!("option {name}"), text);
                    }
                    continue;
                }
                flatten(inputs, join(k), v);
            }
            if map.is_empty() {
                inputs.add(path, "{}");
            }
        }
        J::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(inputs, format!("{path}[{i}]"), v);
            }
            // An empty list and a missing one differ from a list of one empty item.
            inputs.add(format!("{path}.len"), items.len().to_string());
        }
        J::String(s) => inputs.add(path, s.clone()),
        other => inputs.add(path, other.to_string()),
    }
}

/// Option names referenced as `${NAME}` in `text` that exist in `values`.
pub fn referenced_options<'a>(text: &str, values: &'a BTreeMap<String, Value>) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find('}') {
            if let Some((name, _)) = values.get_key_value(&rest[..end]) {
                found.push(name.as_str());
            }
            rest = &rest[end..];
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Replace `${NAME}` with option values (and `${version}`, `${name}` from
/// `extra`). Loading checked that a recipe names nothing else
/// (`recipe::vars`); an unknown or unterminated `${` is left as written.
pub fn expand(text: &str, values: &BTreeMap<String, Value>, extra: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if let Some(v) = values.get(name) {
                    out.push_str(&v.as_text());
                } else if let Some((_, v)) = extra.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                } else {
                    out.push_str(&rest[start..start + 2 + end + 1]);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_any_input() {
        let mut a = Inputs::new("package");
        a.add("source", "abc");
        let mut b = a.clone();
        assert_eq!(a.key(), b.key());
        b.add("source", "abd");
        assert_ne!(a.key(), b.key());
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        let mut c = Inputs::default();
        c.add("ab", "c");
        let mut d = Inputs::default();
        d.add("a", "bc");
        assert_ne!(c.key(), d.key());
    }

    #[test]
    fn expands_known_options_only() {
        let mut v = BTreeMap::new();
        v.insert(
            "PREFIX".to_string(),
            Value::Str("arm-linux-gnueabihf-".into()),
        );
        let s = expand(
            "${PREFIX}gcc ${TARGET_DIR} v${version}",
            &v,
            &[("version", "1.2")],
        );
        assert_eq!(s, "arm-linux-gnueabihf-gcc ${TARGET_DIR} v1.2");
        assert_eq!(
            referenced_options("a ${PREFIX} ${X} ${PREFIX}", &v),
            vec!["PREFIX"]
        );
    }
}
