//! The Linux kind: configure the kernel from an in-tree defconfig or a
//! config file plus fragments, build the image, device trees and (when
//! enabled) modules, and install them: the image and device trees into
//! `images/`, and also into the target's `/boot` when the spec asks
//! (`install_target`); the modules into the target (`depmod` runs at the
//! `rootfs` step) and, for out-of-tree modules, the module build tree
//! into `host/` ([`super::modtree`]). The work tree is kept between builds,
//! so a configuration-only change rebuilds incrementally in kbuild.

use super::StepCtx;
use super::kbuild::{self, ConfigSource, copy};
use crate::error::Result;
use crate::spec::KindSpec;
use std::fs;

/// The fields of the Linux kind, borrowed from the spec.
struct Fields<'a> {
    image: &'a str,
    dts: &'a [String],
    install_target: bool,
    make_opts: &'a str,
}

fn fields(kind: &KindSpec) -> Fields<'_> {
    match kind {
        KindSpec::Linux {
            image,
            dts,
            install_target,
            make_opts,
            ..
        } => Fields {
            image,
            dts,
            install_target: *install_target,
            make_opts,
        },
        _ => Fields {
            image: "",
            dts: &[],
            install_target: false,
            make_opts: "",
        },
    }
}

/// The kernel's make command line for this target.
pub fn make_command(ctx: &StepCtx) -> String {
    let arch = &ctx.spec.env.arch;
    let extra = fields(&ctx.spec.kind).make_opts;
    format!(
        "make ARCH={arch} CROSS_COMPILE=\"$CROSS_COMPILE\" KBUILD_BUILD_TIMESTAMP=\"@$SOURCE_DATE_EPOCH\" \
         KBUILD_BUILD_USER=forge KBUILD_BUILD_HOST=forge KBUILD_BUILD_VERSION=1 {extra}"
    )
}

/// Write the work tree's `.config` from the configuration files (base, then
/// fragments in order) and resolve it with olddefconfig. Every symbol the
/// files ask for must survive. Returns the resolved `.config` text.
pub fn configure(ctx: &mut StepCtx) -> Result<String> {
    let make = make_command(ctx);
    let spec = ctx.spec;
    let KindSpec::Linux {
        defconfig,
        config_file,
        fragments,
        ..
    } = &spec.kind
    else {
        return Err(ctx.recipe_error("not a Linux recipe"));
    };
    let source = ConfigSource {
        what: "kernel",
        option: "LINUX_DEFCONFIG or LINUX_CONFIG_FILE",
        defconfig,
        config_file,
        fragments,
    };
    kbuild::configure(ctx, &make, &source)
}

pub fn build(ctx: &mut StepCtx) -> Result<()> {
    let spec = ctx.spec;
    let f = fields(&spec.kind);
    let arch = &spec.env.arch;
    let make = make_command(ctx);
    let src = ctx.dirs.src.clone();
    let dot = src.join(".config");
    let resolved = configure(ctx)?;
    let modules = resolved.lines().any(|l| l == "CONFIG_MODULES=y");
    let dtbs: Vec<String> = f.dts.iter().map(|d| format!("{d}.dtb")).collect();
    let image = f.image.to_string();
    let mut targets = vec![image.clone()];
    targets.extend(dtbs.iter().cloned());
    if modules {
        targets.push("modules".into());
    }
    ctx.run(&format!("{make} {}", targets.join(" ")))?;
    let mut dests = vec![ctx.dirs.out.join("images")];
    if f.install_target {
        dests.push(ctx.dirs.out.join("target/boot"));
    }
    let boot = src.join(format!("arch/{arch}/boot"));
    for dest in &dests {
        copy(&boot.join(&image), &dest.join(&image))?;
        for dtb in &dtbs {
            let built = boot.join("dts").join(dtb);
            let name = std::path::Path::new(dtb)
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            copy(&built, &dest.join(name))?;
        }
    }
    copy(&dot, &ctx.dirs.out.join("host/linux.config"))?;
    if modules {
        ctx.run(&format!("{make} INSTALL_MOD_PATH=\"$TARGET_DIR\" INSTALL_MOD_STRIP=1 DEPMOD=true modules_install"))?;
        // The build and source links point into this machine's work tree.
        for entry in fs::read_dir(ctx.dirs.out.join("target/lib/modules"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = fs::remove_file(entry.path().join("build"));
            let _ = fs::remove_file(entry.path().join("source"));
        }
        super::modtree::export(ctx)?;
    }
    Ok(())
}
