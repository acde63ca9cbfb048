//! The Generic kind: shell commands run in the source tree, first `build`,
//! then `install` (which puts files under `$TARGET_DIR`, `$STAGING_DIR`,
//! `$HOST_DIR`, `$IMAGES_DIR`), already expanded in the spec.

use super::StepCtx;
use crate::error::Result;

pub fn build(ctx: &mut StepCtx, commands: &[String]) -> Result<()> {
    for cmd in commands {
        ctx.run(cmd)?;
    }
    Ok(())
}
