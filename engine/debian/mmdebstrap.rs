//! mmdebstrap's command lines, for both runs: resolving a request against
//! the mirror (network; every installed package and its `.deb` copied out,
//! output discarded) and building from the lock (no network; a flat
//! repository of the locked `.deb`s, every locked package named, the
//! result a tarball). As root it runs in `root` mode, as anyone else in
//! `unshare` mode (a user namespace; needs `newuidmap` and subordinate ids).
//! The customization scripts run as customize hooks in both runs, so what
//! they install is resolved into the lock and then installed from it.
//! Hooks run as a subordinate id in unshare mode, so every file crosses
//! between the build user's folders and the tree through mmdebstrap's own
//! `upload`, `sync-in`, `download` and `sync-out`.

use crate::error::{Error, Result};
use crate::exec::{Cmd, Executor};
use crate::spec::debian::{Customize, Place, Request};
use std::path::Path;

/// Run one mmdebstrap command in `cwd` with the build's base environment,
/// its output appended to `log`. Without the jobserver: apt hands dpkg a
/// descriptor number dash must be able to write (a single digit), so the
/// process starts with no more descriptors than it needs.
pub fn run(
    exec: &dyn Executor,
    cmd: Cmd,
    cwd: &Path,
    log: &Path,
    step: &str,
    source_date_epoch: i64,
) -> Result<()> {
    let what = "mmdebstrap".to_string();
    let cmd = cmd
        .envs(crate::exec::base_env(source_date_epoch))
        .cwd(cwd)
        .log_to(log);
    let done = exec.run(&cmd).map_err(|e| {
        if e.is_not_found() {
            Error::ToolMissing {
                tool: what.clone(),
                hint: "install the Debian package mmdebstrap".into(),
            }
        } else {
            Error::CannotStart {
                step: step.to_string(),
                what: what.clone(),
                reason: e.into_io(),
            }
        }
    })?;
    if done.status.success() {
        return Ok(());
    }
    Err(Error::CommandFailed {
        step: step.to_string(),
        how: match done.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".into(),
        },
        what: format!("mmdebstrap (its output: {})", log.display()),
    })
}

/// Whether this process is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// A word quoted for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Where `DEBIAN_CUSTOMIZE_FILES` appears inside the root filesystem.
pub const FILES_INSIDE: &str = "/run/forge-files";

/// The command both runs start from.
fn base(request: &Request, include: &[String]) -> Cmd {
    let mode = if is_root() { "root" } else { "unshare" };
    let mut cmd = Cmd::new("mmdebstrap").args([
        format!("--mode={mode}"),
        format!("--variant={}", request.variant),
        format!("--architectures={}", request.architecture),
        "--verbose".into(),
    ]);
    if !request.components.is_empty() {
        cmd = cmd.arg(format!("--components={}", request.components.join(",")));
    }
    if !include.is_empty() {
        cmd = cmd.arg(format!("--include={}", include.join(",")));
    }
    cmd
}

fn hook(cmd: Cmd, h: &str) -> Cmd {
    cmd.arg(format!("--customize-hook={h}"))
}

fn quoted(p: &Path) -> String {
    sh_quote(&p.display().to_string())
}

/// The customize hooks running the board's scripts, in order. In unshare
/// mode hooks run as a subordinate id that may not read or write the
/// build user's files, so everything crosses with mmdebstrap's own
/// `upload`, `sync-in` and `download`, which run as the build user:
/// `files` is copied to [`FILES_INSIDE`] (and removed after), each script
/// is uploaded into the tree and run from there — inside with `chroot`,
/// outside with the tree's path as `$1` — then removed.
fn with_scripts(mut cmd: Cmd, scripts: &[Customize], files: Option<&Path>, epoch: i64) -> Cmd {
    if scripts.is_empty() {
        return cmd;
    }
    if let Some(f) = files {
        cmd = hook(cmd, &format!("mkdir -p \"$1{FILES_INSIDE}\""));
        cmd = hook(cmd, &format!("sync-in {} {FILES_INSIDE}", quoted(f)));
    }
    for (i, c) in scripts.iter().enumerate() {
        let inside = format!("/run/forge-customize-{i}");
        cmd = hook(cmd, &format!("upload {} {inside}", quoted(&c.script.path)));
        let run = match c.place {
            Place::Target => format!(
                "chroot \"$1\" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                 HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH={epoch} \
                 FORGE_FILES={FILES_INSIDE} {inside}"
            ),
            Place::Host => format!(
                "SOURCE_DATE_EPOCH={epoch} FORGE_FILES=\"$1{FILES_INSIDE}\" \"$1{inside}\" \"$1\""
            ),
        };
        cmd = hook(
            cmd,
            &format!(
                "chmod 755 \"$1{inside}\"; rc=0; {run} || rc=$?; rm -f \"$1{inside}\"; exit $rc"
            ),
        );
    }
    if files.is_some() {
        cmd = hook(cmd, &format!("rm -rf \"$1{FILES_INSIDE}\""));
    }
    cmd
}

/// The hooks writing what dpkg installed (`ii` packages: status, name,
/// version, architecture, tab-separated) to `out` outside.
fn with_installed(cmd: Cmd, out: &Path) -> Cmd {
    let list = "/run/forge-installed.txt";
    let cmd = hook(
        cmd,
        &format!(
            "dpkg-query --admindir=\"$1/var/lib/dpkg\" -W -f='${{db:Status-Abbrev}}\\t${{Package}}\\t${{Version}}\\t${{Architecture}}\\n' > \"$1{list}\""
        ),
    );
    let cmd = hook(cmd, &format!("download {list} {}", quoted(out)));
    hook(cmd, &format!("rm -f \"$1{list}\""))
}

/// The resolving run: network through `sources`; into `work` it writes
/// `installed.txt`, `extended_states` (apt's automatic marks) and
/// `debs/` (every package's `.deb`). Nothing else is kept.
pub fn resolve_cmd(
    request: &Request,
    sources: &[String],
    scripts: &[Customize],
    files: Option<&Path>,
    epoch: i64,
    work: &Path,
) -> Cmd {
    let cmd = base(request, &request.include).arg("--skip=essential/unlink");
    let cmd = with_scripts(cmd, scripts, files, epoch);
    let cmd = with_installed(cmd, &work.join("installed.txt"));
    let states = "/var/lib/apt/extended_states";
    let cmd = hook(cmd, &format!("touch \"$1{states}\""));
    let cmd = hook(
        cmd,
        &format!(
            "download {states} {}",
            quoted(&work.join("extended_states"))
        ),
    );
    hook(
        cmd,
        &format!(
            "sync-out /var/cache/apt/archives {}",
            quoted(&work.join("debs"))
        ),
    )
    .arg(&request.suite)
    .arg("/dev/null")
    .args(sources)
}

/// The offline run from the flat repository `repo`: every locked package
/// named (`names`), the packages apt had installed automatically marked
/// so again (`auto`), the lock's sources (`sources_list`) written as the
/// target's `/etc/apt/sources.list`, the build machine's hostname and
/// resolver configuration left out. Writes `tarball` and `installed.txt`
/// in `work`.
#[allow(clippy::too_many_arguments)]
pub fn build_cmd(
    request: &Request,
    names: &[String],
    auto: &[String],
    scripts: &[Customize],
    files: Option<&Path>,
    epoch: i64,
    repo: &Path,
    sources_list: &Path,
    work: &Path,
    tarball: &Path,
) -> Cmd {
    let mut cmd =
        base(request, names).arg("--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount");
    if !auto.is_empty() {
        cmd = hook(
            cmd,
            &format!("chroot \"$1\" apt-mark auto {} > /dev/null", auto.join(" ")),
        );
    }
    let cmd = with_scripts(cmd, scripts, files, epoch);
    let cmd = with_installed(cmd, &work.join("installed.txt"));
    let cmd = hook(
        cmd,
        &format!("upload {} /etc/apt/sources.list", quoted(sources_list)),
    );
    hook(
        cmd,
        "rm -f \"$1\"/etc/apt/sources.list.d/*.list \"$1/etc/resolv.conf\" \"$1/etc/hostname\"",
    )
    .arg(&request.suite)
    .arg(tarball)
    .arg(format!("deb [trusted=yes] file://{} ./", repo.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
    }
}
