//! `forge shell STEP [-- COMMAND…]`: a shell inside the root filesystem a
//! step made (`rootfs`), to try the next command by hand. The step's
//! `target/` tree is materialized from the cache into a scratch copy in
//! the output dir, entered with bubblewrap as root of a new user namespace
//! (no real root needed; the target's programs run through qemu-user when
//! it is another architecture) and removed afterwards, so nothing the shell
//! changes reaches the cache, the step's output or the images.

use crate::error::{Error, Result};
use crate::store::{ContentStore, EntryKind};
use std::path::Path;
use std::process::Command;

/// What runs inside: an interactive shell, or one command line.
pub enum Inside<'a> {
    Interactive,
    Command(&'a str),
}

/// Enter the root filesystem in `output` (a step's output digest) of step
/// `step`, for a target of `target_arch` (`TARGET_ARCH`), through a scratch
/// copy at `scratch`. Returns the shell's exit code.
pub fn enter(
    store: &dyn ContentStore,
    step: &str,
    output: &str,
    target_arch: &str,
    scratch: &Path,
    inside: Inside,
) -> Result<i32> {
    let manifest = store.get_manifest(output)?;
    let has_shell = manifest.entries.iter().any(|e| {
        e.path == "target/bin/sh" && !matches!(e.kind, EntryKind::Dir { .. })
            || e.path == "target/bin" && matches!(e.kind, EntryKind::Symlink { .. })
    });
    if !has_shell {
        return Err(Error::Other(format!(
            "step {step} made no root filesystem with /bin/sh; `forge shell rootfs` enters the \
             assembled one"
        )));
    }
    crate::exec::emulation::ready(target_arch)?;
    crate::exec::remove_tree(scratch)?;
    std::fs::create_dir_all(scratch).map_err(|e| Error::io(scratch, e))?;
    let result = store
        .materialize(&manifest, "target", scratch)
        .and_then(|()| run_inside(scratch, inside));
    crate::exec::remove_tree(scratch)?;
    if let Some(parent) = scratch.parent() {
        // The folder of the scratch copies, when no other shell uses it.
        let _ = std::fs::remove_dir(parent);
    }
    result
}

fn run_inside(root: &Path, inside: Inside) -> Result<i32> {
    let mut cmd = Command::new("bwrap");
    cmd.args(["--die-with-parent", "--unshare-user", "--unshare-ipc"])
        .args(["--unshare-uts", "--hostname", "forge-shell"])
        .args(["--uid", "0", "--gid", "0"])
        .arg("--bind")
        .arg(root)
        .arg("/")
        .args(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"])
        .args(["--chdir", "/"])
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .env(
            "TERM",
            std::env::var("TERM").unwrap_or_else(|_| "vt100".into()),
        );
    match inside {
        Inside::Interactive => cmd.args(["/bin/sh", "-i"]),
        Inside::Command(line) => cmd.args(["/bin/sh", "-c", line]),
    };
    let status = cmd.status().map_err(|e| {
        Error::Other(format!(
            "cannot start bwrap for the shell: {e} (install the Debian package bubblewrap)"
        ))
    })?;
    Ok(status.code().unwrap_or(128))
}
