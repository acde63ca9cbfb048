//! The Linux kind: configure the kernel from an in-tree defconfig or a
//! config file plus fragments, build the image, device trees and (when
//! enabled) modules, and install them. The work tree is kept between builds,
//! so a configuration-only change rebuilds incrementally in kbuild.

use super::{StepCtx, dropped_symbols, merge_config, paths};
use crate::error::{Error, Result};
use crate::spec::KindSpec;
use std::fs;
use std::path::PathBuf;

/// The fields of the Linux kind, borrowed from the spec.
struct Fields<'a> {
    defconfig: &'a str,
    config_file: Vec<PathBuf>,
    fragments: Vec<PathBuf>,
    image: &'a str,
    dts: &'a [String],
    make_opts: &'a str,
}

fn fields(kind: &KindSpec) -> Fields<'_> {
    match kind {
        KindSpec::Linux {
            defconfig,
            config_file,
            fragments,
            image,
            dts,
            make_opts,
        } => Fields {
            defconfig,
            config_file: paths(config_file),
            fragments: paths(fragments),
            image,
            dts,
            make_opts,
        },
        _ => Fields {
            defconfig: "",
            config_file: Vec::new(),
            fragments: Vec::new(),
            image: "",
            dts: &[],
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
    let f = fields(&ctx.spec.kind);
    let make = make_command(ctx);
    let src = ctx.dirs.src.clone();
    let dot = src.join(".config");
    let requested = if !f.config_file.is_empty() {
        let merged = src.join(".forge-config-request");
        let text = merge_config(&f.config_file, &f.fragments, &merged)?;
        write_if_changed(&dot, &text)?;
        text
    } else if !f.defconfig.is_empty() {
        ctx.run(&format!("{make} {}", f.defconfig))?;
        let base = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
        let frag_text = merge_config(&[], &f.fragments, &src.join(".forge-config-request"))?;
        write_if_changed(&dot, &format!("{base}{frag_text}"))?;
        frag_text
    } else {
        return Err(ctx.recipe_error("a Linux recipe needs `defconfig` or `config_file`"));
    };
    ctx.run(&format!("{make} olddefconfig"))?;
    let resolved = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
    let dropped = dropped_symbols(&requested, &resolved);
    if !dropped.is_empty() {
        return Err(Error::Other(format!(
            "step {}: the kernel configuration dropped symbols you asked for (their dependencies are off): {}; \
             enable what they depend on in the config or fragment",
            ctx.runner.step,
            dropped.join(", ")
        )));
    }
    Ok(resolved)
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
    let images = ctx.dirs.out.join("images");
    let boot = src.join(format!("arch/{arch}/boot"));
    copy(&boot.join(&image), &images.join(&image))?;
    for dtb in &dtbs {
        let built = boot.join("dts").join(dtb);
        let name = std::path::Path::new(dtb)
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        copy(&built, &images.join(name))?;
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
    }
    Ok(())
}

fn copy(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| Error::io(from, e))
}

/// Write `.config` only when its content changes, so kbuild's timestamps
/// stay meaningful in a kept work tree.
fn write_if_changed(path: &std::path::Path, text: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| Error::io(path, e))
}
