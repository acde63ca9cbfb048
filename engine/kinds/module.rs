//! The KernelModule kind: an out-of-tree kernel module built by the
//! kernel's own kbuild (`make M=…`) against the `linux` dependency's module
//! build tree ([`super::modtree`]), with the kernel's architecture and
//! cross compiler, and installed stripped into the target's
//! `/lib/modules/<release>/updates`. `depmod` runs once, at the `rootfs`
//! step, over every module of the root filesystem.

use super::{StepCtx, modtree};
use crate::error::Result;

pub fn build(ctx: &mut StepCtx, subdirs: &[String], make_opts: &str) -> Result<()> {
    modtree::dependency_tree(ctx)?;
    let tree = format!("$HOST_DEPS_DIR/{}", modtree::HOST_TREE);
    let folders: Vec<String> = if subdirs.is_empty() {
        vec!["$SRC_DIR".into()]
    } else {
        subdirs.iter().map(|d| format!("$SRC_DIR/{d}")).collect()
    };
    for m in folders {
        let make = format!(
            "make -C \"{tree}\" ARCH=\"$ARCH\" CROSS_COMPILE=\"$CROSS_COMPILE\" M=\"{m}\" {make_opts}"
        );
        ctx.run(&format!("{make} modules"))?;
        ctx.run(&format!(
            "{make} INSTALL_MOD_PATH=\"$TARGET_DIR\" INSTALL_MOD_DIR=updates INSTALL_MOD_STRIP=1 \
             DEPMOD=true modules_install"
        ))?;
    }
    Ok(())
}
