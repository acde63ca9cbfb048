//! Steps at fixed paths, without network: a sandboxed [`Cmd`] runs under
//! bubblewrap (`bwrap`) in new user, mount, network and UTS namespaces.
//! The host's file system stays visible at its real paths; on top of it the
//! step's own directory is `/forge/step`, the project's trees
//! `/forge/tree/<n>`, the download dir `/forge/dl`, `HOME` an empty
//! `/forge/home`, the host name `forge`, the user and group id 1000, and
//! the only network interface an unconnected loopback. Every host path the
//! command names (in its arguments, environment and working directory) is
//! rewritten into that view, so whatever a build tool embeds reads the same
//! on every machine, checkout and user.
//!
//! Where namespaces cannot be had (no `bwrap`, user namespaces disabled, or
//! `FORGE_SANDBOX=off`) commands run at their real paths; [`mode`] says
//! which, once per process, and its [`Paths::key`] enters every package
//! step's key, so outputs of the two modes never share a cache entry.

use super::command::Cmd;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the fixed view's directories live inside the namespace.
pub const ROOT: &str = "/forge";

/// A package step's own directory inside the namespace (under [`ROOT`]);
/// its dependencies' `host/` trees are at `<STEP>/host`.
pub const STEP: &str = "/forge/step";

/// The user and group id a sandboxed command runs as.
const ID: &str = "1000";

/// How a sandboxed command's paths are to be shown to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// Host directory → its fixed path inside the namespace.
    pub maps: Vec<(PathBuf, PathBuf)>,
}

impl Sandbox {
    /// A sandbox mapping `host` to `fixed` (a path under [`ROOT`]).
    pub fn map(mut self, host: impl Into<PathBuf>, fixed: impl Into<PathBuf>) -> Sandbox {
        self.maps.push((host.into(), fixed.into()));
        self
    }

    /// `cmd` as it runs under `bwrap`: its argv, environment and working
    /// directory rewritten into the fixed view, and bwrap's own arguments
    /// in front. `HOME` becomes the empty `/forge/home`.
    pub fn wrap(&self, cmd: &Cmd) -> Cmd {
        // A directory that does not exist (no download dir yet) has
        // nothing to show: it is neither mounted nor named.
        let present: Vec<(PathBuf, PathBuf)> = self
            .maps
            .iter()
            .filter(|(h, _)| h.exists())
            .cloned()
            .collect();
        let mut maps: Vec<(Vec<u8>, Vec<u8>)> = present
            .iter()
            .map(|(h, f)| {
                (
                    h.as_os_str().as_bytes().to_vec(),
                    f.as_os_str().as_bytes().to_vec(),
                )
            })
            .filter(|(h, _)| h.len() > 1)
            .collect();
        // The longest host path first: a step's directory inside a tree
        // is shown as the step's, not as a path in the tree.
        maps.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
        let fix = |s: &OsStr| OsString::from_vec(rewrite(s.as_bytes(), &maps));
        let mut argv: Vec<OsString> = bwrap_args(&present);
        argv.push("--tmpfs".into());
        argv.push(format!("{ROOT}/home").into());
        if let Some(cwd) = &cmd.cwd {
            argv.push("--chdir".into());
            argv.push(fix(cwd.as_os_str()));
        }
        argv.push("--".into());
        argv.extend(cmd.argv.iter().map(|a| fix(a)));
        let mut env: Vec<(OsString, OsString)> = cmd
            .env
            .iter()
            .filter(|(k, _)| k != "HOME")
            .map(|(k, v)| (k.clone(), fix(v)))
            .collect();
        env.push(("HOME".into(), format!("{ROOT}/home").into()));
        // bwrap is found on the host's PATH, before the command's own PATH
        // (rewritten) applies inside.
        let host_path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
        let bwrap = find_in(&host_path, "bwrap").unwrap_or_else(|| PathBuf::from("bwrap"));
        Cmd {
            argv: std::iter::once(bwrap.into_os_string())
                .chain(argv)
                .collect(),
            env,
            cwd: None,
            sandbox: None,
            ..cmd.clone()
        }
    }
}

/// Replaces each host path in `s` by its fixed path, where it stands as a
/// whole path or a path's leading part (followed by `/`, a separator such
/// as `:` or a space, a quote, or the end), never inside a longer name.
fn rewrite(s: &[u8], maps: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    'scan: while i < s.len() {
        for (host, fixed) in maps {
            if s[i..].starts_with(host) {
                let next = s.get(i + host.len()).copied();
                let ends = match next {
                    None => true,
                    Some(c) => {
                        !(c.is_ascii_alphanumeric()
                            || matches!(c, b'-' | b'_' | b'.' | b'+' | b'~'))
                    }
                };
                if ends {
                    out.extend_from_slice(fixed);
                    i += host.len();
                    continue 'scan;
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// bwrap's arguments: the namespaces, the host's root entries at their
/// real paths (so `/forge` exists only inside), then the maps.
fn bwrap_args(maps: &[(PathBuf, PathBuf)]) -> Vec<OsString> {
    let mut a = common_args().clone();
    for (host, fixed) in maps {
        a.extend([
            "--bind".into(),
            host.clone().into_os_string(),
            fixed.clone().into_os_string(),
        ]);
    }
    a
}

/// The arguments every sandboxed command shares, read from `/` once per
/// process: the namespaces, and each root entry bound (a directory) or
/// recreated (a symlink) at its real path.
fn common_args() -> &'static Vec<OsString> {
    static ARGS: OnceLock<Vec<OsString>> = OnceLock::new();
    ARGS.get_or_init(root_args)
}

fn root_args() -> Vec<OsString> {
    let mut a: Vec<OsString> = [
        "--die-with-parent",
        "--unshare-user",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-ipc",
        "--hostname",
        "forge",
        "--uid",
        ID,
        "--gid",
        ID,
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let mut entries: Vec<PathBuf> = std::fs::read_dir("/")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p != Path::new(ROOT))
        .collect();
    entries.sort();
    for e in entries {
        let Ok(meta) = std::fs::symlink_metadata(&e) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            if let Ok(target) = std::fs::read_link(&e) {
                a.extend([
                    "--symlink".into(),
                    target.into_os_string(),
                    e.into_os_string(),
                ]);
            }
        } else if meta.is_dir() {
            a.extend([
                "--dev-bind".into(),
                e.clone().into_os_string(),
                e.into_os_string(),
            ]);
        }
    }
    a
}

fn find_in(path: &OsStr, program: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Whether this process's sandboxed commands run at fixed paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paths {
    /// Under bwrap, as the module says.
    Fixed,
    /// At their real paths, with the network: why.
    Real { reason: String },
}

impl Paths {
    /// What enters a package step's key.
    pub fn key(&self) -> &'static str {
        match self {
            Paths::Fixed => "fixed paths under /forge, no network",
            Paths::Real { .. } => "real paths",
        }
    }

    /// One line for the build record.
    pub fn describe(&self) -> String {
        match self {
            Paths::Fixed => format!(
                "steps at fixed paths under {ROOT} (bwrap: user, mount, network and UTS namespaces)"
            ),
            Paths::Real { reason } => format!("steps at their real paths: {reason}"),
        }
    }
}

/// The mode of this process, found once: `FORGE_SANDBOX=off` asks for
/// real paths; otherwise a trial run of `bwrap` decides.
pub fn mode() -> &'static Paths {
    static MODE: OnceLock<Paths> = OnceLock::new();
    MODE.get_or_init(probe)
}

fn probe() -> Paths {
    if std::env::var("FORGE_SANDBOX").is_ok_and(|v| v == "off" || v == "0") {
        return Paths::Real {
            reason: "FORGE_SANDBOX=off".into(),
        };
    }
    let host_path = std::env::var_os("PATH").unwrap_or_default();
    if find_in(&host_path, "bwrap").is_none() {
        return Paths::Real {
            reason: "bwrap is not installed (apt-get install bubblewrap)".into(),
        };
    }
    let trial = Sandbox::default().wrap(&Cmd::new("true").env("PATH", "/usr/bin:/bin"));
    let (program, args) = match trial.argv.split_first() {
        Some(split) => split,
        None => {
            return Paths::Real {
                reason: "internal: empty bwrap command".into(),
            };
        }
    };
    let out = std::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(trial.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => Paths::Fixed,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err.lines().next().unwrap_or("it failed").trim().to_string();
            Paths::Real {
                reason: format!(
                    "bwrap cannot create namespaces here ({first}); allow unprivileged user \
                     namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu \
                     kernel.apparmor_restrict_unprivileged_userns=0)"
                ),
            }
        }
        Err(e) => Paths::Real {
            reason: format!("cannot run bwrap: {e}"),
        },
    }
}

#[cfg(test)]
mod tests;
