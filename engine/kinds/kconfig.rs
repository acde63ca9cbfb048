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

pub fn build(ctx: &mut StepCtx, spec: &Spec) -> Result<()> {
    let opts = ctx.expand(&spec.make_opts);
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
        ctx.run(&format!("make {opts} {target}"))?;
        let base = std::fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
        let extra = merge_config(&[], &frags, &ctx.dirs.base.join("fragments.config"))?;
        std::fs::write(&dot, format!("{base}{extra}")).map_err(|e| Error::io(&dot, e))?;
    }
    // BusyBox-style kconfig has no olddefconfig: answer every new question
    // with its default.
    ctx.run(&format!("yes '' | make {opts} oldconfig >/dev/null"))?;
    ctx.run(&format!("make {opts}"))?;
    ctx.run(&format!("make {opts} {}", spec.install))
}
