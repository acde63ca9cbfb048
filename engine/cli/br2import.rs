//! `forge import <buildroot>_defconfig [--out FILE]`: a Buildroot board
//! defconfig rewritten as a forge defconfig. Owns choosing the destination,
//! writing the file and the verdict it reports; the translation itself is
//! `load::config::br2`.
//!
//! Everything that translates is written (minimal, in the source's line
//! order); a noted or refused setting stays in the file as a comment saying
//! why. By default the file goes to `boards/<same name>`, never over an
//! existing file; `--out` names it. The report is returned whatever was refused: the caller prints it
//! and fails when anything was refused, so a script notices that the file
//! does not describe the same system Buildroot would build.

use crate::error::{Error, Result};
use crate::load::config::{self, br2};
use crate::load::project::Project;
use crate::load::recipe::Kind;
use std::fs;
use std::path::{Path, PathBuf};

/// What an import wrote and what it found.
pub struct ImportReport {
    pub written: PathBuf,
    pub summary: br2::Summary,
}

/// Where an import of `src` goes by default: `boards/<same name>` in the
/// project.
pub fn default_destination(project: &Project, src: &Path) -> Result<PathBuf> {
    let name = src
        .file_name()
        .ok_or_else(|| Error::Other(format!("{}: not a file name", src.display())))?;
    Ok(project.root.join("boards").join(name))
}

/// Imports `src` into `dest` (see the module docs). An existing `dest` is
/// replaced only when `overwrite` (the user named it with `--out`).
pub fn import(project: &Project, src: &Path, dest: &Path, overwrite: bool) -> Result<ImportReport> {
    let same = |a: &Path, b: &Path| match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(src, dest) {
        return Err(Error::Other(format!(
            "{}: importing it would overwrite it; pass --out FILE",
            src.display()
        )));
    }
    if dest.exists() && !overwrite {
        return Err(Error::Other(format!(
            "{} exists; name the file to write with --out FILE (it may be this one)",
            dest.display()
        )));
    }
    let parsed = config::parse_defconfig(src)?;
    if !br2::is_buildroot(&parsed) {
        return Err(Error::Other(format!(
            "{}: no BR2_ setting: it is a forge defconfig already",
            src.display()
        )));
    }
    let table = br2::load_table(&project.root)?.ok_or_else(|| {
        Error::Other(format!(
            "{}: this tree has no {}, which lists the Buildroot symbols forge translates",
            project.root.display(),
            br2::TABLE_PATH
        ))
    })?;
    let linux_version = project.recipes.values().find_map(|l| match l.recipe.kind {
        Kind::Linux { .. } => Some(l.recipe.version.as_str()),
        _ => None,
    });
    let ctx = br2::Context {
        table: &table,
        schema: &project.schema,
        linux_version,
    };
    let all = br2::import_all(&ctx, &parsed, true);
    let resolved = config::resolve(&project.schema, &all.imported.for_resolve())?;
    let body = config::savedefconfig(&project.schema, &resolved, Some(&all.imported.layout));
    let text = format!(
        "# Imported by `forge import` from Buildroot's {}: {}\n{body}",
        src.file_name().unwrap_or_default().to_string_lossy(),
        all.summary.counts()
    );
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    fs::write(dest, text).map_err(|e| Error::io(dest, e))?;
    Ok(ImportReport {
        written: dest.to_path_buf(),
        summary: all.summary,
    })
}
