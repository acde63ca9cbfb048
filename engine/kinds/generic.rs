//! The Generic kind: shell commands run in the source tree, first `build`,
//! then `install` (which puts files under `$TARGET_DIR`, `$STAGING_DIR`,
//! `$HOST_DIR`, `$IMAGES_DIR`).

use super::StepCtx;
use crate::error::Result;

pub fn build(ctx: &mut StepCtx, build: &[String], install: &[String]) -> Result<()> {
    for cmd in build.iter().chain(install) {
        let cmd = ctx.expand(cmd);
        ctx.run(&cmd)?;
    }
    Ok(())
}
