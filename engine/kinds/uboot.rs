//! The U-Boot kind: configure U-Boot from an in-tree board defconfig or a
//! config file plus fragments (checked after olddefconfig like the
//! kernel's), build it, install the binaries the board names into
//! `images/`, make the environment image (`mkenvimage`) and the boot script
//! (`mkimage -T script`) with the tools just built, and install those tools
//! into `host/bin` for later steps. The work tree is kept between builds.

use super::StepCtx;
use super::kbuild::{self, ConfigSource, copy};
use crate::error::{Error, Result};
use crate::exec::Cmd;
use crate::spec::{EnvImage, FileInput, KindSpec};
use std::fs;
use std::path::Path;
use thiserror::Error;

/// U-Boot's host tools installed into `host/bin` (mkimage and mkenvimage
/// are required; dumpimage when the configuration builds it).
const HOST_TOOLS: [(&str, bool); 3] = [
    ("mkimage", true),
    ("mkenvimage", true),
    ("dumpimage", false),
];

/// A U-Boot build that finished without what the board asked for.
#[derive(Debug, Error)]
pub enum UBootError {
    #[error(
        "step {step}: U-Boot built no {file}; check UBOOT_FORMAT_* / UBOOT_SPL_NAME against what this board's configuration produces (see {log})"
    )]
    MissingOutput {
        step: String,
        file: String,
        log: String,
    },
    #[error("step {step}: U-Boot built no tools/{tool}; it is needed for {why}")]
    MissingTool {
        step: String,
        tool: String,
        why: String,
    },
}

impl From<UBootError> for Error {
    fn from(e: UBootError) -> Self {
        Error::Other(e.to_string())
    }
}

/// U-Boot's ARCH for a kernel-style architecture (one `arm` for both).
fn uboot_arch(kernel_arch: &str) -> &str {
    match kernel_arch {
        "arm64" => "arm",
        other => other,
    }
}

/// mkimage's `-A` name for a kernel-style architecture.
fn mkimage_arch(kernel_arch: &str) -> &str {
    match kernel_arch {
        "x86" => "x86_64",
        other => other,
    }
}

/// U-Boot's make command line.
pub fn make_command(ctx: &StepCtx) -> String {
    let make_opts = match &ctx.spec.kind {
        KindSpec::UBoot { make_opts, .. } => make_opts.as_str(),
        _ => "",
    };
    format!(
        "make ARCH={} CROSS_COMPILE=\"$CROSS_COMPILE\" {make_opts}",
        uboot_arch(&ctx.spec.env.arch)
    )
}

/// Write and resolve the work tree's `.config`; every symbol the files ask
/// for must survive olddefconfig.
pub fn configure(ctx: &mut StepCtx) -> Result<String> {
    let make = make_command(ctx);
    let spec = ctx.spec;
    let KindSpec::UBoot {
        defconfig,
        config_file,
        fragments,
        ..
    } = &spec.kind
    else {
        return Err(ctx.recipe_error("not a U-Boot recipe"));
    };
    let source = ConfigSource {
        what: "U-Boot",
        option: "UBOOT_BOARD_DEFCONFIG or UBOOT_CONFIG_FILE",
        defconfig,
        config_file,
        fragments,
    };
    kbuild::configure(ctx, &make, &source)
}

pub fn build(ctx: &mut StepCtx) -> Result<()> {
    let spec = ctx.spec;
    let KindSpec::UBoot {
        files,
        env_image,
        boot_script,
        ..
    } = &spec.kind
    else {
        return Err(ctx.recipe_error("not a U-Boot recipe"));
    };
    configure(ctx)?;
    let make = make_command(ctx);
    // Top-level products (u-boot.img, u-boot-sunxi-with-spl.bin) are make
    // targets of their own; `all` builds the rest, SPL included.
    let mut targets = vec!["all".to_string()];
    targets.extend(files.iter().filter(|f| !f.contains('/')).cloned());
    ctx.run(&format!("{make} {}", targets.join(" ")))?;

    let src = ctx.dirs.src.clone();
    let out = ctx.dirs.out.clone();
    let images = out.join("images");
    for file in files {
        let built = src.join(file);
        if !built.is_file() {
            return Err(missing_output(ctx, file));
        }
        let name = Path::new(file).file_name().unwrap_or_default();
        copy(&built, &images.join(name))?;
    }
    for (tool, required) in HOST_TOOLS {
        let built = src.join("tools").join(tool);
        if built.is_file() {
            copy(&built, &out.join("host/bin").join(tool))?;
        } else if required {
            return Err(UBootError::MissingTool {
                step: ctx.runner.step.to_string(),
                tool: tool.into(),
                why: "later steps (host/bin)".into(),
            }
            .into());
        }
    }
    copy(&src.join(".config"), &out.join("host/uboot.config"))?;
    if let Some(env) = env_image {
        make_env_image(ctx, env)?;
    }
    if let Some(script) = boot_script {
        make_boot_script(ctx, script)?;
    }
    Ok(())
}

fn missing_output(ctx: &StepCtx, file: &str) -> Error {
    UBootError::MissingOutput {
        step: ctx.runner.step.to_string(),
        file: file.into(),
        log: ctx.runner.log_path.display().to_string(),
    }
    .into()
}

/// `images/uboot-env.bin` from the environment text: comment and blank
/// lines are dropped (mkenvimage would store them), the rest go in order.
fn make_env_image(ctx: &mut StepCtx, env: &EnvImage) -> Result<()> {
    let text = fs::read_to_string(&env.source.path).map_err(|e| Error::io(&env.source.path, e))?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let filtered = ctx.dirs.base.join("uboot-env.txt");
    fs::write(&filtered, lines.join("\n") + "\n").map_err(|e| Error::io(&filtered, e))?;
    let tool = ctx.dirs.src.join("tools/mkenvimage");
    let dest = ctx.dirs.out.join("images/uboot-env.bin");
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut cmd = Cmd::new(&tool).arg("-s").arg(env.size.to_string());
    if env.redundant {
        cmd = cmd.arg("-r");
    }
    let cmd = cmd
        .arg("-o")
        .arg(&dest)
        .arg(&filtered)
        .input(&tool)
        .input(&filtered)
        .output(&dest);
    let src = ctx.dirs.src.clone();
    ctx.runner.run_cmd(&src, cmd, "mkenvimage (UBOOT_ENVIMAGE)")
}

/// `images/boot.scr`: the boot commands wrapped in a legacy script image
/// (its timestamp is SOURCE_DATE_EPOCH, so the bytes are reproducible).
fn make_boot_script(ctx: &mut StepCtx, script: &FileInput) -> Result<()> {
    let tool = ctx.dirs.src.join("tools/mkimage");
    let dest = ctx.dirs.out.join("images/boot.scr");
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let cmd = Cmd::new(&tool)
        .args(["-A", mkimage_arch(&ctx.spec.env.arch)])
        .args([
            "-O",
            "linux",
            "-T",
            "script",
            "-C",
            "none",
            "-n",
            "boot script",
            "-d",
        ])
        .arg(&script.path)
        .arg(&dest)
        .input(&tool)
        .input(&script.path)
        .output(&dest);
    let src = ctx.dirs.src.clone();
    ctx.runner
        .run_cmd(&src, cmd, "mkimage -T script (UBOOT_BOOT_SCRIPT)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn architectures() {
        assert_eq!(super::uboot_arch("arm64"), "arm");
        assert_eq!(super::uboot_arch("arm"), "arm");
        assert_eq!(super::mkimage_arch("arm64"), "arm64");
    }
}
