//! The ExternalToolchain kind: a cross gcc found on PATH by its prefix. Its
//! output is the target C runtime (copied into `target/lib`) and an identity
//! file, so a different compiler changes every dependent's key.

use super::StepCtx;
use crate::error::{Error, Result};
use crate::spec::KindSpec;
use std::fs;
use std::path::Path;

pub fn build(ctx: &mut StepCtx) -> Result<()> {
    let KindSpec::ExternalToolchain {
        runtime, compiler, ..
    } = &ctx.spec.kind
    else {
        return Ok(());
    };
    let gcc = &compiler.name;
    let path = &compiler.path;
    let program = path.to_string_lossy().into_owned();
    let src = ctx.dirs.src.clone();
    let version = ctx.runner.capture(&src, &program, &["--version"])?;
    let machine = ctx.runner.capture(&src, &program, &["-dumpmachine"])?;
    let libc = ctx
        .runner
        .capture(&src, &program, &["-print-file-name=libc.so.6"])?;
    let libdir = Path::new(libc.trim())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if !libdir.join("libc.so.6").exists() {
        return Err(Error::Other(format!(
            "{gcc} has no target C library (looked for libc.so.6 in {}); install the matching libc6-dev cross package",
            libdir.display()
        )));
    }
    let lib_out = ctx.dirs.out.join("target/lib");
    fs::create_dir_all(&lib_out).map_err(|e| Error::io(&lib_out, e))?;
    let mut names: Vec<String> = fs::read_dir(&libdir)
        .map_err(|e| Error::io(&libdir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| runtime.iter().any(|pat| glob_match(pat, n)))
        .collect();
    names.sort();
    for name in &names {
        // Follow links: the target gets plain files under the names programs ask for.
        let from = libdir.join(name);
        let to = lib_out.join(name);
        fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
    }
    let first = version.lines().next().unwrap_or_default();
    let id = format!(
        "compiler: {first}\nmachine: {}\nruntime: {}\n",
        machine.trim(),
        names.join(" ")
    );
    let id_file = ctx.dirs.out.join("host/forge-toolchain.txt");
    fs::write(&id_file, id).map_err(|e| Error::io(&id_file, e))?;
    ctx.runner
        .note(&format!("toolchain {} at {}", first, path.display()));
    Ok(())
}

/// Shell-style `*` matching, enough for runtime file patterns.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs() {
        assert!(super::glob_match("libc.so*", "libc.so.6"));
        assert!(super::glob_match("ld-linux*.so*", "ld-linux-armhf.so.3"));
        assert!(!super::glob_match("libm.so*", "libmvec.so.1"));
        assert!(super::glob_match("libnss_*", "libnss_files.so.2"));
    }
}
