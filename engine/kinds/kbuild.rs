//! What the kbuild-style kinds (Linux, U-Boot) share: writing the work
//! tree's `.config` from a defconfig target or a config file plus fragments,
//! resolving it with olddefconfig, refusing a result that dropped a symbol
//! the files asked for, and copying build products out.

use super::{StepCtx, dropped_symbols, merge_config};
use crate::error::{Error, Result};
use crate::spec::FileInput;
use std::fs;
use std::path::Path;

/// Where a kbuild configuration comes from.
pub struct ConfigSource<'a> {
    /// What is configured, for messages ("kernel", "U-Boot").
    pub what: &'a str,
    /// The option naming the base configuration, for messages.
    pub option: &'a str,
    pub defconfig: &'a str,
    pub config_file: &'a [FileInput],
    pub fragments: &'a [FileInput],
}

/// Write the work tree's `.config` (base, then fragments in order), resolve
/// it with `<make> olddefconfig` and check that every symbol the files set
/// survived. Returns the resolved `.config` text.
pub fn configure(ctx: &mut StepCtx, make: &str, c: &ConfigSource) -> Result<String> {
    let src = ctx.dirs.src.clone();
    let dot = src.join(".config");
    let request = src.join(".forge-config-request");
    let base = super::paths(c.config_file);
    let fragments = super::paths(c.fragments);
    let requested = if !base.is_empty() {
        let text = merge_config(&base, &fragments, &request)?;
        write_if_changed(&dot, &text)?;
        text
    } else if !c.defconfig.is_empty() {
        ctx.run(&format!("{make} {}", c.defconfig))?;
        let base = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
        let frag_text = merge_config(&[], &fragments, &request)?;
        write_if_changed(&dot, &format!("{base}{frag_text}"))?;
        frag_text
    } else {
        return Err(ctx.recipe_error(&format!(
            "the {} needs a defconfig or a config file; set {}",
            c.what, c.option
        )));
    };
    ctx.run(&format!("{make} olddefconfig"))?;
    let resolved = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
    let dropped = dropped_symbols(&requested, &resolved);
    if !dropped.is_empty() {
        return Err(Error::Other(format!(
            "step {}: the {} configuration dropped symbols you asked for (their dependencies are off): {}; \
             enable what they depend on in the config or fragment",
            ctx.runner.step,
            c.what,
            dropped.join(", ")
        )));
    }
    Ok(resolved)
}

/// Copy a build product, creating the destination's folder.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| Error::io(from, e))
}

/// Write a file only when its content changes, so kbuild's timestamps stay
/// meaningful in a kept work tree.
pub fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| Error::io(path, e))
}
