//! The kernel's module build tree: what building a module out of tree needs
//! of a configured and built kernel — `.config`, `Module.symvers`, the top
//! and architecture Makefiles, `include/` with its generated headers, the
//! architecture's `include/` folders and `scripts/` with its programs.
//!
//! The `linux` step exports it for the build machine into
//! `host/`[`HOST_TREE`], where a `KernelModule` step finds it. The
//! `LinuxHeaders` kind copies it into the target as
//! `/usr/src/linux-headers-<release>` (Debian's layout, with
//! `/lib/modules/<release>/build` pointing to it) and rebuilds for the
//! target the programs a module build runs, with the target's compiler and
//! the very commands kbuild recorded for them (`.<file>.cmd`); the build
//! machine's other programs are left out, so every program there runs on
//! the board.

use super::StepCtx;
use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The module build tree's folder in an output's `host/`.
pub const HOST_TREE: &str = "linux-build";

/// The programs of `scripts/` that building and installing an external
/// module runs; the target's tree holds these, rebuilt for it.
const MODULE_PROGRAMS: &[&str] = &[
    "scripts/basic/fixdep",
    "scripts/mod/modpost",
    "scripts/genksyms/genksyms",
    "scripts/recordmcount",
    "scripts/sign-file",
];

/// Export the module build tree of the kernel built in the work tree into
/// `$HOST_DIR/linux-build` (objects and dependency files left out; the
/// `.cmd` files of `scripts/` kept, which the target's rebuild reads).
pub fn export(ctx: &mut StepCtx) -> Result<()> {
    let arch = ctx.spec.env.arch.clone();
    ctx.run(&format!(
        "dest=\"$HOST_DIR/{HOST_TREE}\"; rm -rf \"$dest\"; mkdir -p \"$dest\"\n\
         {{ find . arch/{arch} -maxdepth 1 -type f -name 'Makefile*'\n\
            find arch/{arch} -type f \\( -name Kbuild.platforms -o -name Platform -o -name module.lds \\)\n\
            find include scripts $(find arch/{arch} -type d -name include) \\( -type f -o -type l \\) \
              ! -name '*.o' ! -name '.*.d' ! -name '*.tmp'\n\
            echo .config; echo Module.symvers\n\
            if [ -x tools/objtool/objtool ]; then echo tools/objtool/objtool; fi\n\
         }} | LC_ALL=C sort -u | tar -cf - --no-recursion -T - | tar -xf - -C \"$dest\""
    ))
}

/// The kernel release a module build tree was built as.
pub fn release(tree: &Path) -> Result<String> {
    let file = tree.join("include/config/kernel.release");
    let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    Ok(text.trim().to_string())
}

/// The dependency `linux`'s module build tree, as materialized for this
/// step, or an error saying what the recipe lacks.
pub fn dependency_tree(ctx: &StepCtx) -> Result<PathBuf> {
    let tree = ctx.dirs.base.join("host").join(HOST_TREE);
    if tree.join("Module.symvers").is_file() {
        return Ok(tree);
    }
    Err(ctx.recipe_error(
        "no kernel module build tree among the dependencies' outputs: add \"linux\" to depends \
         and enable CONFIG_MODULES in the kernel configuration",
    ))
}

/// The `LinuxHeaders` kind: the module build tree installed into the
/// target, its module programs rebuilt for the target and stripped.
pub fn install_target(ctx: &mut StepCtx) -> Result<()> {
    let tree = dependency_tree(ctx)?;
    let release = release(&tree)?;
    let rel = format!("usr/src/linux-headers-{release}");
    let dest = ctx.dirs.out.join("target").join(&rel);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    ctx.run(&format!(
        "cp -a \"$HOST_DEPS_DIR/{HOST_TREE}\" \"$TARGET_DIR/{rel}\""
    ))?;
    let mut programs = Vec::new();
    for file in files(&dest.join("scripts"))? {
        if !is_elf_program(&file) {
            continue;
        }
        let name = file
            .strip_prefix(&dest)
            .map_err(|_| Error::Other(format!("{}: outside the tree", file.display())))?
            .to_string_lossy()
            .into_owned();
        if MODULE_PROGRAMS.contains(&name.as_str()) {
            programs.push(name);
        } else {
            fs::remove_file(&file).map_err(|e| Error::io(&file, e))?;
        }
    }
    for program in &programs {
        rebuild(ctx, &dest, program)?;
    }
    // What only the rebuild needed.
    for file in files(&dest)? {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if name.ends_with(".o")
            || (name.starts_with('.') && name.ends_with(".cmd"))
            || (name.starts_with('.') && name.ends_with(".d"))
        {
            fs::remove_file(&file).map_err(|e| Error::io(&file, e))?;
        }
    }
    let strip: Vec<String> = programs.iter().map(|p| format!("\"{p}\"")).collect();
    if !strip.is_empty() {
        ctx.runner.sh(
            &dest,
            &format!("${{CROSS_COMPILE}}strip {}", strip.join(" ")),
        )?;
    }
    let modules = ctx.dirs.out.join("target/lib/modules").join(&release);
    fs::create_dir_all(&modules).map_err(|e| Error::io(&modules, e))?;
    let link = modules.join("build");
    std::os::unix::fs::symlink(format!("/{rel}"), &link).map_err(|e| Error::io(&link, e))
}

/// Rebuild `program` (relative to `tree`) with the target's compiler: each
/// of its objects with the command kbuild recorded for it, then the link.
fn rebuild(ctx: &mut StepCtx, tree: &Path, program: &str) -> Result<()> {
    let link = recorded(tree, program)?;
    for object in link.split_whitespace().filter(|w| w.ends_with(".o")) {
        let compile = recorded(tree, object)?;
        ctx.runner.sh(tree, &for_target(&compile, object)?)?;
    }
    ctx.runner.sh(tree, &for_target(&link, program)?)
}

/// The command kbuild recorded for `target` (relative to the tree) in its
/// `.<name>.cmd` file, with make's `$$` unescaped.
fn recorded(tree: &Path, target: &str) -> Result<String> {
    let path = Path::new(target);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cmd_file = tree
        .join(path.parent().unwrap_or(Path::new("")))
        .join(format!(".{name}.cmd"));
    let text = fs::read_to_string(&cmd_file).map_err(|e| Error::io(&cmd_file, e))?;
    let first = text.lines().next().unwrap_or_default();
    let Some((_, command)) = first.split_once(" := ") else {
        return Err(Error::Other(format!(
            "{}: no recorded command on its first line",
            cmd_file.display()
        )));
    };
    Ok(command.trim().replace("$$", "$"))
}

/// A recorded host command with the target's C compiler in place of the
/// build machine's.
fn for_target(command: &str, target: &str) -> Result<String> {
    match command.split_once(char::is_whitespace) {
        Some(("gcc" | "cc", rest)) => Ok(format!("\"${{CROSS_COMPILE}}gcc\" {rest}")),
        _ => Err(Error::Other(format!(
            "cannot rebuild {target} for the target: its recorded command does not start \
             with the host C compiler: {command}"
        ))),
    }
}

/// Every regular file under `dir`, recursively (symlinks not followed).
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if kind.is_dir() {
                todo.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// An executable ELF file (a program, not an object).
fn is_elf_program(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let executable = fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let mut magic = [0u8; 4];
    executable
        && fs::File::open(path).is_ok_and(|mut f| f.read_exact(&mut magic).is_ok())
        && magic == *b"\x7fELF"
}
