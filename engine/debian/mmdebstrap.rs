//! mmdebstrap's command lines, for both runs: resolving a request against
//! the mirror (network; every installed package and its `.deb` copied out,
//! output discarded) and building from the lock (no network; a flat
//! repository of the locked `.deb`s, every locked package named, the
//! result a tarball). As root it runs in `root` mode, as anyone else in
//! `unshare` mode (a user namespace; needs `newuidmap` and subordinate ids).
//! The customization scripts run as customize hooks in both runs, so what
//! they install is resolved into the lock and then installed from it.

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

/// The customize hooks running the board's scripts, in order. `files`
/// is bound read-only at [`FILES_INSIDE`] for scripts inside the target.
fn customize_hooks(scripts: &[Customize], files: Option<&Path>, epoch: i64) -> Vec<String> {
    let files_env = files
        .map(|f| format!("FORGE_FILES={} ", sh_quote(&f.display().to_string())))
        .unwrap_or_default();
    let mut hooks = Vec::new();
    for c in scripts {
        let script = sh_quote(&c.script.path.display().to_string());
        match c.place {
            Place::Host => hooks.push(format!(
                "{files_env}SOURCE_DATE_EPOCH={epoch} {script} \"$1\""
            )),
            Place::Target => {
                let mut h = String::from("set -e; ");
                if let Some(f) = files {
                    h.push_str(&format!(
                        "mkdir -p \"$1{FILES_INSIDE}\"; mount -o ro,bind {} \"$1{FILES_INSIDE}\"; ",
                        sh_quote(&f.display().to_string())
                    ));
                }
                h.push_str(&format!(
                    "cp {script} \"$1/run/forge-customize\"; chmod 755 \"$1/run/forge-customize\"; \
                     rc=0; chroot \"$1\" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                     HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH={epoch} \
                     FORGE_FILES={FILES_INSIDE} /run/forge-customize || rc=$?; \
                     rm -f \"$1/run/forge-customize\"; "
                ));
                if files.is_some() {
                    h.push_str(&format!(
                        "umount \"$1{FILES_INSIDE}\"; rmdir \"$1{FILES_INSIDE}\"; "
                    ));
                }
                h.push_str("exit $rc");
                hooks.push(h);
            }
        }
    }
    hooks
}

/// The hook writing what dpkg installed (`ii` packages: name, version,
/// architecture, tab-separated) into `out`.
fn installed_hook(out: &Path) -> String {
    format!(
        "dpkg-query --admindir=\"$1/var/lib/dpkg\" -W -f='${{db:Status-Abbrev}}\\t${{Package}}\\t${{Version}}\\t${{Architecture}}\\n' > {}",
        sh_quote(&out.display().to_string())
    )
}

/// The resolving run: network through `sources`; into `work` it writes
/// `installed.txt`, `extended_states` (apt's automatic marks) and
/// `debs/` (every package's `.deb`).
pub fn resolve_cmd(
    request: &Request,
    sources: &[String],
    scripts: &[Customize],
    files: Option<&Path>,
    epoch: i64,
    work: &Path,
) -> Cmd {
    let mut cmd = base(request, &request.include).arg("--skip=essential/unlink");
    for h in customize_hooks(scripts, files, epoch) {
        cmd = cmd.arg(format!("--customize-hook={h}"));
    }
    let debs = work.join("debs");
    let states = work.join("extended_states");
    cmd.arg(format!(
        "--customize-hook={}",
        installed_hook(&work.join("installed.txt"))
    ))
    .arg(format!(
        "--customize-hook=if [ -e \"$1/var/lib/apt/extended_states\" ]; then cp \"$1/var/lib/apt/extended_states\" {}; else : > {}; fi",
        sh_quote(&states.display().to_string()),
        sh_quote(&states.display().to_string())
    ))
    .arg(format!(
        "--customize-hook=sync-out /var/cache/apt/archives {}",
        debs.display()
    ))
    .arg(&request.suite)
    .arg("/dev/null")
    .args(sources)
}

/// The offline run from the flat repository `repo`: every locked package
/// named (`names`), the packages apt had installed automatically marked
/// so again (`auto`), the lock's sources written as the target's
/// `/etc/apt/sources.list`, the build machine's hostname and resolver
/// configuration left out. Writes `tarball` and `installed.txt` in `work`.
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
    let mut cmd = base(request, names)
        .arg("--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount")
        .env("SOURCE_DATE_EPOCH", epoch.to_string());
    if !auto.is_empty() {
        cmd = cmd.arg(format!(
            "--customize-hook=chroot \"$1\" apt-mark auto {} > /dev/null",
            auto.join(" ")
        ));
    }
    for h in customize_hooks(scripts, files, epoch) {
        cmd = cmd.arg(format!("--customize-hook={h}"));
    }
    cmd.arg(format!(
        "--customize-hook={}",
        installed_hook(&work.join("installed.txt"))
    ))
    .arg(format!(
        "--customize-hook=cp {} \"$1/etc/apt/sources.list\"; rm -f \"$1\"/etc/apt/sources.list.d/*.list \"$1/etc/resolv.conf\" \"$1/etc/hostname\"",
        sh_quote(&sources_list.display().to_string())
    ))
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
