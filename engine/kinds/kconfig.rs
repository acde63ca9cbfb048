//! The Kconfig kind: a make-based package configured by a `.config` (a base
//! file or make defconfig target, plus fragments in order), as BusyBox is.

use super::{StepCtx, merge_config, paths};
use crate::error::{Error, Result};
use crate::spec::KindSpec;

/// The fields of a Kconfig kind, borrowed from the spec.
struct Fields<'a> {
    defconfig: &'a str,
    config: Vec<std::path::PathBuf>,
    fragments: Vec<std::path::PathBuf>,
    make_opts: &'a str,
    install: &'a str,
}

fn fields(kind: &KindSpec) -> Fields<'_> {
    match kind {
        KindSpec::Kconfig {
            defconfig,
            config,
            fragments,
            make_opts,
            install,
        } => Fields {
            defconfig,
            config: paths(config),
            fragments: paths(fragments),
            make_opts,
            install,
        },
        _ => Fields {
            defconfig: "",
            config: Vec::new(),
            fragments: Vec::new(),
            make_opts: "",
            install: "install",
        },
    }
}

/// The package's make command line.
pub fn make_command(ctx: &StepCtx) -> String {
    format!("make {}", fields(&ctx.spec.kind).make_opts)
}

/// Write the work tree's `.config` from the configuration files and resolve
/// it. Returns the resolved `.config` text.
pub fn configure(ctx: &mut StepCtx) -> Result<String> {
    let spec = ctx.spec;
    let f = fields(&spec.kind);
    let make = make_command(ctx);
    let dot = ctx.dirs.src.join(".config");
    if !f.config.is_empty() {
        merge_config(&f.config, &f.fragments, &dot)?;
    } else {
        if f.defconfig.is_empty() {
            return Err(ctx.recipe_error("a Kconfig recipe needs `config` or `defconfig`"));
        }
        ctx.run(&format!("{make} {}", f.defconfig))?;
        let base = std::fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
        let extra = merge_config(&[], &f.fragments, &ctx.dirs.base.join("fragments.config"))?;
        std::fs::write(&dot, format!("{base}{extra}")).map_err(|e| Error::io(&dot, e))?;
    }
    // BusyBox-style kconfig has no olddefconfig: answer every new question
    // with its default.
    ctx.run(&format!("yes '' | {make} oldconfig >/dev/null"))?;
    std::fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))
}

pub fn build(ctx: &mut StepCtx) -> Result<()> {
    configure(ctx)?;
    let make = make_command(ctx);
    ctx.run(&make)?;
    let install = fields(&ctx.spec.kind).install;
    ctx.run(&format!("{make} {install}"))
}
