//! The Kconfig kind: a make-based package configured by a `.config` (a base
//! file or make defconfig target, plus fragments in order), as BusyBox is.

use super::{StepCtx, merge_config};
use crate::error::{Error, Result};

pub struct Spec {
    pub defconfig: String,
    pub config: String,
    pub fragments: String,
    pub make_opts: String,
    pub install: String,
}

/// The package's make command line.
pub fn make_command(ctx: &StepCtx, spec: &Spec) -> String {
    format!("make {}", ctx.expand(&spec.make_opts))
}

/// Write the work tree's `.config` from the configuration files and resolve
/// it. Returns the resolved `.config` text.
pub fn configure(ctx: &mut StepCtx, spec: &Spec) -> Result<String> {
    let make = make_command(ctx, spec);
    let frags = ctx.files(&spec.fragments)?;
    let dot = ctx.dirs.src.join(".config");
    if !ctx.expand(&spec.config).trim().is_empty() {
        merge_config(&ctx.files(&spec.config)?, &frags, &dot)?;
    } else {
        let target = ctx.expand(&spec.defconfig);
        if target.trim().is_empty() {
            return Err(Error::Other(format!(
                "{}: a Kconfig recipe needs `config` or `defconfig`",
                ctx.loaded.file.display()
            )));
        }
        ctx.run(&format!("{make} {target}"))?;
        let base = std::fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
        let extra = merge_config(&[], &frags, &ctx.dirs.base.join("fragments.config"))?;
        std::fs::write(&dot, format!("{base}{extra}")).map_err(|e| Error::io(&dot, e))?;
    }
    // BusyBox-style kconfig has no olddefconfig: answer every new question
    // with its default.
    ctx.run(&format!("yes '' | {make} oldconfig >/dev/null"))?;
    std::fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))
}

pub fn build(ctx: &mut StepCtx, spec: &Spec) -> Result<()> {
    configure(ctx, spec)?;
    let make = make_command(ctx, spec);
    ctx.run(&make)?;
    ctx.run(&format!("{make} {}", spec.install))
}
