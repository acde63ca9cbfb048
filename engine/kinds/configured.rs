//! Packages built by their own build system for the target: autotools'
//! `configure`, CMake and Meson, each with its ecosystem's cross
//! conventions. forge writes the CMake toolchain file and the Meson cross
//! file (inside the step, so their paths are the step's own), points
//! `pkg-config` at the step's sysroot only (the staging trees of the
//! declared dependencies: an undeclared one is not found), installs into
//! staging (headers, libraries, `.pc` files, unstripped: the debug copies)
//! and into the target, from which it then drops what a target does not
//! run (headers, static libraries, libtool archives, `.pc` files, manuals)
//! and strips every ELF file. A host package (`host-<pkg>`) is built with
//! the build machine's compiler for the prefix `/forge/step/host`, where
//! the steps that depend on it find it, and lands in `host/`.

use super::StepCtx;
use crate::error::{Error, Result};
use crate::spec::BuildSystem;
use std::path::Path;

/// Where the build system builds, inside the source tree.
const BUILD: &str = "forge-build";

/// `pkg-config` sees the sysroot only: `.pc` files there, their paths
/// prefixed with it.
const PKG_CONFIG: &str = "export PKG_CONFIG_SYSROOT_DIR=\"$SYSROOT\" \
     PKG_CONFIG_LIBDIR=\"$SYSROOT/usr/lib/pkgconfig:$SYSROOT/usr/share/pkgconfig\" \
     PKG_CONFIG_PATH=";

/// The cross C library's root (`/usr/arm-linux-gnueabihf` for Debian's
/// cross compilers), found from the compiler, as `$LIBC_ROOT`.
const LIBC_ROOT: &str =
    "LIBC_ROOT=$(cd \"$(dirname \"$(${CROSS_COMPILE}gcc -print-file-name=libc.so)\")/..\" && pwd)";

pub struct Settings<'a> {
    pub system: BuildSystem,
    pub conf_opts: &'a str,
    pub autoreconf: bool,
    pub make_opts: &'a str,
}

/// Where a host package is configured to live: the fixed path at which
/// every step that depends on it finds its dependencies' `host/` trees
/// (in the sandbox; at real paths, tools that look for their data under
/// their prefix do not find it).
fn host_prefix() -> String {
    format!("{}/host", crate::exec::sandbox::STEP)
}

/// A host package's build environment: its dependencies' host trees for
/// pkg-config and CMake, and the run path to their libraries.
fn host_env() -> String {
    format!(
        "export PKG_CONFIG_PATH=\"$HOST_DEPS_DIR/lib/pkgconfig:$HOST_DEPS_DIR/share/pkgconfig\" \
         LDFLAGS=\"-L$HOST_DEPS_DIR/lib -Wl,-rpath,{}/lib\" CPPFLAGS=\"-I$HOST_DEPS_DIR/include\"",
        host_prefix()
    )
}

pub fn build(ctx: &mut StepCtx, s: &Settings) -> Result<()> {
    if ctx.spec.env.host {
        return build_host(ctx, s);
    }
    let triplet = ctx.spec.env.cross_compile.trim_end_matches('-').to_string();
    let opts = s.conf_opts;
    match s.system {
        BuildSystem::Autotools => {
            if s.autoreconf {
                ctx.run("autoreconf -fi")?;
            }
            ctx.run(&format!(
                "{PKG_CONFIG}; ./configure --host={triplet} --build=\"$(gcc -dumpmachine)\" \
                 --prefix=/usr --sysconfdir=/etc --localstatedir=/var {opts}"
            ))?;
            let make = s.make_opts;
            ctx.run(&format!("{PKG_CONFIG}; make {make}"))?;
            for dest in ["$STAGING_DIR", "$TARGET_DIR"] {
                ctx.run(&format!("make {make} install DESTDIR=\"{dest}\""))?;
            }
        }
        BuildSystem::CMake => {
            let cpu = cpu(&ctx.spec.env.arch).1;
            ctx.run(&format!(
                "{LIBC_ROOT}; cat > \"$BUILD_DIR/toolchain.cmake\" <<EOF\n\
                 set(CMAKE_SYSTEM_NAME Linux)\n\
                 set(CMAKE_SYSTEM_PROCESSOR {cpu})\n\
                 set(CMAKE_C_COMPILER ${{CROSS_COMPILE}}gcc)\n\
                 set(CMAKE_CXX_COMPILER ${{CROSS_COMPILE}}g++)\n\
                 set(CMAKE_FIND_ROOT_PATH \"$SYSROOT;$LIBC_ROOT\")\n\
                 set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\n\
                 set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n\
                 set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\n\
                 set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n\
                 EOF"
            ))?;
            ctx.run(&format!(
                "{PKG_CONFIG}; rm -rf {BUILD}; cmake -S . -B {BUILD} -G 'Unix Makefiles' \
                 -DCMAKE_TOOLCHAIN_FILE=\"$BUILD_DIR/toolchain.cmake\" \
                 -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
                 -DCMAKE_INSTALL_LIBDIR=lib {opts}"
            ))?;
            ctx.run(&format!("{PKG_CONFIG}; cmake --build {BUILD}"))?;
            for dest in ["$STAGING_DIR", "$TARGET_DIR"] {
                ctx.run(&format!("DESTDIR=\"{dest}\" cmake --install {BUILD}"))?;
            }
        }
        BuildSystem::Meson => {
            let (family, cpu) = cpu(&ctx.spec.env.arch);
            ctx.run(&format!(
                "cat > \"$BUILD_DIR/cross.ini\" <<EOF\n\
                 [binaries]\n\
                 c = '${{CROSS_COMPILE}}gcc'\n\
                 cpp = '${{CROSS_COMPILE}}g++'\n\
                 ar = '${{CROSS_COMPILE}}ar'\n\
                 strip = '${{CROSS_COMPILE}}strip'\n\
                 pkg-config = 'pkg-config'\n\
                 [properties]\n\
                 sys_root = '$SYSROOT'\n\
                 pkg_config_libdir = '$SYSROOT/usr/lib/pkgconfig:$SYSROOT/usr/share/pkgconfig'\n\
                 [host_machine]\n\
                 system = 'linux'\n\
                 cpu_family = '{family}'\n\
                 cpu = '{cpu}'\n\
                 endian = 'little'\n\
                 EOF"
            ))?;
            ctx.run(&format!(
                "{PKG_CONFIG}; rm -rf {BUILD}; meson setup {BUILD} \
                 --cross-file \"$BUILD_DIR/cross.ini\" --prefix=/usr --libdir=lib \
                 --sysconfdir=/etc --localstatedir=/var --buildtype=release {opts}"
            ))?;
            // Ninja takes no jobserver tokens (before 1.13): one job, so
            // it never exceeds the one token the step holds.
            ctx.run(&format!("{PKG_CONFIG}; ninja -j1 -C {BUILD}"))?;
            for dest in ["$STAGING_DIR", "$TARGET_DIR"] {
                ctx.run(&format!(
                    "DESTDIR=\"{dest}\" meson install -C {BUILD} --no-rebuild --quiet"
                ))?;
            }
        }
    }
    finish(ctx)
}

/// A host package: the build machine's compiler, installed under
/// [`host_prefix`] into a scratch dir and moved into `host/`.
fn build_host(ctx: &mut StepCtx, s: &Settings) -> Result<()> {
    let opts = s.conf_opts;
    let (host_prefix, host_env) = (host_prefix(), host_env());
    let dest = "\"$BUILD_DIR/host-install\"";
    ctx.run(&format!("rm -rf {dest}"))?;
    match s.system {
        BuildSystem::Autotools => {
            if s.autoreconf {
                ctx.run("autoreconf -fi")?;
            }
            ctx.run(&format!(
                "{host_env}; ./configure --prefix={host_prefix} {opts}"
            ))?;
            let make = s.make_opts;
            ctx.run(&format!("{host_env}; make {make}"))?;
            ctx.run(&format!("make {make} install DESTDIR={dest}"))?;
        }
        BuildSystem::CMake => {
            ctx.run(&format!(
                "{host_env}; rm -rf {BUILD}; cmake -S . -B {BUILD} -G 'Unix Makefiles' \
                 -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX={host_prefix} \
                 -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH=\"$HOST_DEPS_DIR\" \
                 -DCMAKE_INSTALL_RPATH={host_prefix}/lib {opts}"
            ))?;
            ctx.run(&format!("{host_env}; cmake --build {BUILD}"))?;
            ctx.run(&format!("DESTDIR={dest} cmake --install {BUILD}"))?;
        }
        BuildSystem::Meson => {
            ctx.run(&format!(
                "{host_env}; rm -rf {BUILD}; meson setup {BUILD} --prefix={host_prefix} \
                 --libdir=lib --buildtype=release {opts}"
            ))?;
            ctx.run(&format!("{host_env}; ninja -j1 -C {BUILD}"))?;
            ctx.run(&format!(
                "DESTDIR={dest} meson install -C {BUILD} --no-rebuild --quiet"
            ))?;
        }
    }
    ctx.run(&format!(
        "if [ -d {dest}{host_prefix} ]; then cp -a {dest}{host_prefix}/. \"$HOST_DIR/\"; fi"
    ))?;
    let host = ctx.dirs.out.join("host");
    remove_matching(&host, &|p| p.extension().is_some_and(|e| e == "la"))
}

/// Meson's CPU family and CMake's processor / Meson's CPU for a kernel
/// architecture.
fn cpu(arch: &str) -> (&'static str, &'static str) {
    match arch {
        "arm64" => ("aarch64", "aarch64"),
        "x86" | "x86_64" => ("x86_64", "x86_64"),
        "riscv" => ("riscv64", "riscv64"),
        "mips" => ("mips", "mips"),
        "powerpc" => ("ppc", "ppc"),
        _ => ("arm", "armv7"),
    }
}

/// Libtool archives go from both trees (their absolute `libdir` would
/// send a dependent's link to the build machine's `/usr/lib`); the target
/// keeps only what runs, stripped.
fn finish(ctx: &mut StepCtx) -> Result<()> {
    let out = ctx.dirs.out.clone();
    for tree in ["staging", "target"] {
        remove_matching(&out.join(tree), &|p| {
            p.extension().is_some_and(|e| e == "la")
        })?;
    }
    let target = out.join("target");
    for dir in [
        "usr/include",
        "usr/lib/pkgconfig",
        "usr/share/pkgconfig",
        "usr/share/man",
        "usr/share/info",
        "usr/share/doc",
        "usr/share/aclocal",
        "usr/lib/cmake",
    ] {
        crate::exec::remove_tree(&target.join(dir))?;
    }
    remove_matching(&target, &|p| p.extension().is_some_and(|e| e == "a"))?;
    let elves: Vec<String> = walkdir::WalkDir::new(&target)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && is_elf(e.path()))
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    if !elves.is_empty() {
        let quoted: Vec<String> = elves
            .iter()
            .map(|p| format!("'{}'", p.replace('\'', "'\\''")))
            .collect();
        ctx.run(&format!("$STRIP --strip-unneeded {}", quoted.join(" ")))?;
    }
    Ok(())
}

fn remove_matching(root: &Path, pick: &dyn Fn(&Path) -> bool) -> Result<()> {
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        if e.file_type().is_file() && pick(e.path()) {
            std::fs::remove_file(e.path()).map_err(|err| Error::io(e.path(), err))?;
        }
    }
    Ok(())
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}
