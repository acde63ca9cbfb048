//! `depmod` for the target, at the `rootfs` step: for each kernel release
//! under `/lib/modules` that holds a module, the build machine's `depmod`
//! (kmod reads any architecture's modules) runs over a copy of that
//! release's folder, and the index files it writes (`modules.dep`,
//! `modules.alias`, their `.bin` forms, …) join the tree. It runs here, not
//! in the `linux` step, so that the modules of other packages
//! (`KernelModule`) and of overlays are in the index too.

use crate::error::{Error, Result};
use crate::exec::StepContext;
use crate::image::tool::{find_tool, run_tool, tool_cmd};
use crate::store::{Entry, EntryKind, Manifest};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Where `/lib/modules` is in the tree: through a merged-/usr base's
/// `/lib -> usr/lib`, `target/usr/lib/modules/`.
fn modules_prefix(tree: &BTreeMap<String, Entry>) -> String {
    let link_at = |p: &str| match tree.get(p).map(|e| &e.kind) {
        Some(EntryKind::Symlink { target }) => Some(target.clone()),
        _ => None,
    };
    crate::assemble::images::through_links("target/lib/modules/x", &link_at)
        .trim_end_matches('x')
        .to_string()
}

/// The releases under `/lib/modules` with at least one module file.
fn releases(tree: &BTreeMap<String, Entry>) -> BTreeSet<String> {
    let modules = modules_prefix(tree);
    tree.iter()
        .filter(|(_, e)| matches!(e.kind, EntryKind::File { .. }))
        .filter_map(|(p, _)| p.strip_prefix(modules.as_str()))
        .filter(|rest| {
            let name = rest.rsplit('/').next().unwrap_or_default();
            name.ends_with(".ko") || name.contains(".ko.")
        })
        .filter_map(|rest| rest.split_once('/').map(|(r, _)| r.to_string()))
        .collect()
}

/// Run `depmod` for every release with modules and add its index files to
/// `tree`. A tree without modules is left as it is.
pub fn run(ctx: &StepContext, tree: &mut BTreeMap<String, Entry>) -> Result<()> {
    let releases = releases(tree);
    if releases.is_empty() {
        return Ok(());
    }
    let store = ctx.store;
    let base = ctx.dirs.base.join("depmod");
    let image_err = |e: crate::image::tool::ImageError| Error::Other(e.to_string());
    let depmod = find_tool(Path::new("/lib/modules"), "depmod", "kmod").map_err(image_err)?;
    for release in releases {
        crate::exec::remove_tree(&base)?;
        let prefix = format!("{}{release}", modules_prefix(tree));
        let folder = base.join("lib/modules").join(&release);
        fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        let part = Manifest {
            entries: tree
                .values()
                .filter(|e| e.path.starts_with(&format!("{prefix}/")))
                .cloned()
                .collect(),
        };
        store.materialize(&part, &prefix, &folder)?;
        let shown = Path::new("/lib/modules").join(&release);
        let cmd = tool_cmd(&depmod).arg("-b").arg(&base).arg(&release);
        run_tool(ctx.exec, &shown, "depmod", "kmod", cmd).map_err(image_err)?;
        let mut written = Vec::new();
        for entry in fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))? {
            let entry = entry.map_err(|e| Error::io(&folder, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("modules.") && entry.path().is_file() {
                written.push((name, entry.path()));
            }
        }
        written.sort();
        for (name, path) in written {
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let (digest, size) = store.put_blob(&bytes)?;
            let at = format!("{prefix}/{name}");
            tree.insert(
                at.clone(),
                Entry {
                    path: at,
                    kind: EntryKind::File {
                        mode: 0o644,
                        size,
                        digest,
                    },
                },
            );
        }
    }
    crate::exec::remove_tree(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> (String, Entry) {
        (
            path.to_string(),
            Entry {
                path: path.to_string(),
                kind: EntryKind::File {
                    mode: 0o644,
                    size: 0,
                    digest: String::new(),
                },
            },
        )
    }

    #[test]
    fn only_releases_holding_a_module_are_indexed() {
        let tree: BTreeMap<String, Entry> = [
            file("target/lib/modules/6.1.0/kernel/fs/ext4.ko"),
            file("target/lib/modules/6.1.0/modules.order"),
            file("target/lib/modules/6.12.0/updates/hello.ko.xz"),
            file("target/lib/modules/5.10.0/modules.builtin"),
            file("target/usr/lib/modules-load.d/x.ko"),
        ]
        .into_iter()
        .collect();
        let found: Vec<String> = releases(&tree).into_iter().collect();
        assert_eq!(found, ["6.1.0", "6.12.0"]);
    }
}
