//! Step specs: the one typed value per step that holds everything the step
//! will use, resolved and parsed at plan time (`crate::plan` builds them).
//! A step's key is derived from its spec mechanically ([`StepSpec::inputs`]),
//! and the code that runs a step receives its spec and a small context,
//! never the option map, so nothing a step reads can be missing from its key.
//!
//! What is deliberately not keyed is marked `#[serde(skip)]` and is only
//! ever a *location* on this machine (where a file is, which mirrors to try,
//! the recipe file for diagnostics) whose *content* is keyed beside it.
//!
//! Imports only the image writers' setting types; nothing of the later
//! stages.

mod assembly;
pub mod debian;
mod package;
#[cfg(test)]
mod tests;
mod uboot;

pub use assembly::{DiskSpec, HookSpec, ImageSpec, ImageWriter, PackagePart, RootfsSpec, Table};
pub use package::{BuildSystem, KindSpec, PackageEnv, PackageSpec, Sites, SourceId, kernel_arch};
pub use uboot::{EnvImage, UBootSettingError, parse_env_size};

use crate::key::Inputs;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::path::PathBuf;

/// A file or directory a step reads: how the user named it, and the digest
/// of its content (a tree digest for a directory).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileInput {
    /// As written in the recipe or option (relative paths stay relative).
    pub name: String,
    pub digest: String,
    /// Where it is on this machine. Not keyed: its content is. Serialized
    /// only inside [`StepSpec::file_inputs`].
    #[serde(skip)]
    pub path: PathBuf,
}

thread_local! {
    /// Whether a [`FileInput`] being serialized on this thread shows its path.
    static LOCATED: Cell<bool> = const { Cell::new(false) };
}

impl Serialize for FileInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let located = LOCATED.with(Cell::get);
        let mut st = s.serialize_struct("FileInput", 2 + usize::from(located))?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("digest", &self.digest)?;
        if located {
            st.serialize_field("path", &self.path)?;
        }
        st.end()
    }
}

/// Everything one step uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StepSpec {
    Package(Box<PackageSpec>),
    Debian(Box<debian::DebianSpec>),
    Rootfs(RootfsSpec),
    Image(ImageSpec),
    Disk(DiskSpec),
    PostImage(HookSpec),
}

impl StepSpec {
    /// The procedure name that starts every key of this kind of step.
    pub fn procedure(&self) -> String {
        match self {
            StepSpec::Package(_) => "package".into(),
            StepSpec::Debian(_) => "debian-rootfs".into(),
            StepSpec::Rootfs(_) => "rootfs".into(),
            StepSpec::Image(i) => format!("rootfs-{}", i.format_name()),
            StepSpec::Disk(_) => "disk-image".into(),
            StepSpec::PostImage(_) => "post-image".into(),
        }
    }

    /// Every file input of the spec, wherever it sits (found the way
    /// [`Inputs::of_spec`] finds them, so none can be left out):
    /// `(path, digest)`.
    pub fn file_inputs(&self) -> Result<Vec<(PathBuf, String)>, serde_json::Error> {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                LOCATED.with(|l| l.set(false));
            }
        }
        LOCATED.with(|l| l.set(true));
        let reset = Reset;
        let value = serde_json::to_value(self);
        drop(reset);
        let mut found = Vec::new();
        collect_located(&value?, &mut found);
        Ok(found)
    }

    /// The canonical inputs: the spec's fields, flattened, plus the output
    /// digests of the steps it reads (`deps`: step name, output digest).
    pub fn inputs(&self, deps: &[(&str, &str)]) -> Inputs {
        let mut inputs = Inputs::of_spec(&self.procedure(), self);
        for (name, out) in deps {
            inputs.add(format!("dep {name}"), *out);
        }
        inputs
    }
}

fn collect_located(value: &serde_json::Value, found: &mut Vec<(PathBuf, String)>) {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            if let (3, true, Some(J::String(path)), Some(J::String(digest))) = (
                map.len(),
                map.contains_key("name"),
                map.get("path"),
                map.get("digest"),
            ) {
                found.push((PathBuf::from(path), digest.clone()));
            } else {
                map.values().for_each(|v| collect_located(v, found));
            }
        }
        J::Array(items) => items.iter().for_each(|v| collect_located(v, found)),
        _ => {}
    }
}
