//! Fetching Debian binary packages (any configured architecture) with
//! Debian's own tools: `apt-cache show` for the version and the archive's
//! published sha256, `apt-get download` for the file, our own sha256 check
//! before the package takes its final name. apt runs through an
//! [`Executor`].

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::{FetchError, parse_sha256, reuse_verified, sha256_file};
use crate::exec::{Cmd, Executor, Finished, local::PLAIN};

/// How many times `apt-get download` is tried before giving up.
const TRIES: u32 = 3;

/// What the first `apt-cache show` stanza says about a package.
#[derive(Debug, PartialEq, Eq)]
pub struct Published {
    pub version: String,
    pub filename: String,
    pub sha256: String,
}

/// Ask apt (without downloading) which version of `package` for `arch` it
/// would fetch, and the sha256 the archive publishes for it.
pub fn resolve_deb(
    package: &str,
    arch: &str,
    version: Option<&str>,
) -> Result<Published, FetchError> {
    resolve_deb_with(&PLAIN, package, arch, version)
}

/// [`resolve_deb`] with `apt-cache` run through `exec`.
pub fn resolve_deb_with(
    exec: &dyn Executor,
    package: &str,
    arch: &str,
    version: Option<&str>,
) -> Result<Published, FetchError> {
    let query = match version {
        Some(v) => format!("{package}:{arch}={v}"),
        None => format!("{package}:{arch}"),
    };
    check_spec(&query, package, arch, version)?;
    apt_cache_show(exec, &query).map_err(|e| unknown_hint(exec, e, package, arch, version))
}

/// Download the Debian package `package` for architecture `arch` (the
/// newest version apt lists first, or exactly `version`) into `dest_dir`,
/// named like the archive's pool file. Returns the `.deb`'s path; a copy
/// already there with the published sha256 is reused without network.
pub fn fetch_deb(
    package: &str,
    arch: &str,
    version: Option<&str>,
    dest_dir: &Path,
) -> Result<PathBuf, FetchError> {
    fetch_deb_with(&PLAIN, package, arch, version, dest_dir)
}

/// [`fetch_deb`] with apt run through `exec`.
pub fn fetch_deb_with(
    exec: &dyn Executor,
    package: &str,
    arch: &str,
    version: Option<&str>,
    dest_dir: &Path,
) -> Result<PathBuf, FetchError> {
    let query = match version {
        Some(v) => format!("{package}:{arch}={v}"),
        None => format!("{package}:{arch}"),
    };
    check_spec(&query, package, arch, version)?;
    let published =
        apt_cache_show(exec, &query).map_err(|e| unknown_hint(exec, e, package, arch, version))?;
    let want = parse_sha256(&published.sha256).map_err(|_| FetchError::AptField {
        spec: query.clone(),
        field: "valid SHA256",
    })?;
    let base = published
        .filename
        .rsplit('/')
        .next()
        .filter(|b| b.ends_with(".deb") && !b.starts_with('.'))
        .ok_or_else(|| FetchError::AptField {
            spec: query.clone(),
            field: "usable Filename",
        })?;
    let dest = dest_dir.join(base);
    if reuse_verified(&dest, &want)? {
        return Ok(dest);
    }
    let write_err = |path: &Path, source| FetchError::Write {
        path: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(dest_dir).map_err(|e| write_err(dest_dir, e))?;
    let spec = format!("{package}:{arch}={}", published.version);
    let work = tempfile::Builder::new()
        .prefix(".apt-download-")
        .tempdir_in(dest_dir)
        .map_err(|e| write_err(dest_dir, e))?;
    // Files we create are owned by our effective uid: root needs apt told
    // not to drop to its sandbox user, who cannot write into `work`.
    let as_root = fs::metadata(work.path())
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    let mut last = (String::new(), String::new());
    for attempt in 1..=TRIES {
        if attempt > 1 {
            thread::sleep(Duration::from_secs(u64::from(attempt - 1) * 2));
        }
        clear_dir(work.path())?;
        let got = match apt_get_download(exec, &spec, work.path(), as_root) {
            Ok(deb) => deb,
            Err(failure) => {
                last = failure;
                continue;
            }
        };
        let have = sha256_file(&got)?;
        if have != want {
            last = (
                format!("sha256 mismatch: apt published {want}, file has {have}"),
                String::new(),
            );
            continue;
        }
        fs::rename(&got, &dest).map_err(|e| write_err(&dest, e))?;
        return Ok(dest);
    }
    Err(FetchError::AptDownload {
        spec,
        tries: TRIES,
        reason: last.0,
        stderr_tail: last.1,
    })
}

/// Refuse names that could be taken for options or carry extra syntax.
fn check_spec(
    spec: &str,
    package: &str,
    arch: &str,
    version: Option<&str>,
) -> Result<(), FetchError> {
    let bad = |reason: &str| FetchError::BadDebSpec {
        spec: spec.into(),
        reason: reason.into(),
    };
    let lower_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if package.len() < 2
        || !package.starts_with(lower_alnum)
        || !package.chars().all(|c| lower_alnum(c) || "+-.".contains(c))
    {
        return Err(bad("package names are lowercase letters, digits and + - ."));
    }
    if arch.is_empty()
        || !arch.starts_with(lower_alnum)
        || !arch.chars().all(|c| lower_alnum(c) || c == '-')
    {
        return Err(bad("architectures are lowercase letters, digits and -"));
    }
    if let Some(v) = version
        && (v.is_empty()
            || !v.starts_with(|c: char| c.is_ascii_digit())
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c)))
    {
        return Err(bad(
            "versions start with a digit and use letters, digits and . + ~ : -",
        ));
    }
    Ok(())
}

/// The request for apt tool `tool`: forge's environment, C locale.
fn apt(tool: &'static str) -> Cmd {
    Cmd::new(tool).inherit_env().env("LC_ALL", "C")
}

/// Runs `cmd` (apt tool `tool`) through `exec`, both outputs captured.
fn run(exec: &dyn Executor, tool: &'static str, cmd: Cmd) -> Result<Finished, FetchError> {
    exec.run(&cmd.capture_all())
        .map_err(|e| FetchError::ToolSpawn {
            tool,
            source: e.into_io(),
        })
}

fn apt_cache_show(exec: &dyn Executor, query: &str) -> Result<Published, FetchError> {
    let out = run(exec, "apt-cache", apt("apt-cache").args(["show", query]))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.trim().is_empty() {
        return Err(FetchError::AptUnknown {
            spec: query.to_string(),
            hint: String::new(),
            detail: tail(&String::from_utf8_lossy(&out.stderr), 3).replace('\n', "; "),
        });
    }
    parse_first_stanza(&text).map_err(|field| FetchError::AptField {
        spec: query.into(),
        field,
    })
}

/// Say what to do about an unknown package: a missing version of a known
/// package, or (most likely) an architecture apt was never told about.
fn unknown_hint(
    exec: &dyn Executor,
    err: FetchError,
    package: &str,
    arch: &str,
    version: Option<&str>,
) -> FetchError {
    let FetchError::AptUnknown { spec, detail, .. } = err else {
        return err;
    };
    let any = format!("{package}:{arch}");
    let hint = match version {
        Some(v) if apt_cache_show(exec, &any).is_ok() => format!(
            "version {v} is not available; `apt-cache policy {any}` lists those that are \
             (or add a source that has it and run `apt-get update`)"
        ),
        _ => format!(
            "run `dpkg --add-architecture {arch} && apt-get update` as root, then retry \
             (and check the package name)"
        ),
    };
    FetchError::AptUnknown { spec, hint, detail }
}

/// Pull `Version`, `Filename` and `SHA256` from the first deb822 stanza.
fn parse_first_stanza(text: &str) -> Result<Published, &'static str> {
    let stanza = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty());
    let (mut version, mut filename, mut sha256) = (None, None, None);
    for line in stanza {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "Version" => &mut version,
            "Filename" => &mut filename,
            "SHA256" => &mut sha256,
            _ => continue,
        };
        *slot = Some(value.trim().to_string());
    }
    Ok(Published {
        version: version.ok_or("Version")?,
        filename: filename.ok_or("Filename")?,
        sha256: sha256.ok_or("SHA256")?,
    })
}

/// One `apt-get download` into `work`; the downloaded `.deb` or the
/// (reason, stderr tail) of the failure.
fn apt_get_download(
    exec: &dyn Executor,
    spec: &str,
    work: &Path,
    as_root: bool,
) -> Result<PathBuf, (String, String)> {
    let mut cmd = apt("apt-get");
    if as_root {
        cmd = cmd.args(["-o", "APT::Sandbox::User=root"]);
    }
    let cmd = cmd.args(["-q", "download", spec]).cwd(work).output(work);
    let out = run(exec, "apt-get", cmd).map_err(|e| (e.to_string(), String::new()))?;
    let stderr = tail(&String::from_utf8_lossy(&out.stderr), 10);
    if !out.status.success() {
        return Err((format!("apt-get exited with {}", out.status), stderr));
    }
    let debs: Vec<PathBuf> = fs::read_dir(work)
        .map_err(|e| {
            (
                format!("cannot list {}: {e}", work.display()),
                String::new(),
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    match <[PathBuf; 1]>::try_from(debs) {
        Ok([deb]) => Ok(deb),
        Err(found) => Err((
            format!("expected one .deb from apt-get, found {}", found.len()),
            stderr,
        )),
    }
}

/// Remove what an earlier failed attempt left in `dir`.
fn clear_dir(dir: &Path) -> Result<(), FetchError> {
    let err = |source| FetchError::Write {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        let removed = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|source| FetchError::Write { path, source })?;
    }
    Ok(())
}

/// The last `n` non-empty lines of a tool's output.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn first_stanza_wins() {
        let text = "Package: a\nVersion: 1:2.0-1\nFilename: pool/main/a/a_2.0-1_armhf.deb\n\
                    SHA256: abc\n\nPackage: a\nVersion: 1.0\nFilename: x\nSHA256: def\n";
        let p = parse_first_stanza(text).unwrap();
        assert_eq!(p.version, "1:2.0-1");
        assert_eq!(p.filename, "pool/main/a/a_2.0-1_armhf.deb");
        assert_eq!(p.sha256, "abc");
        assert_eq!(
            parse_first_stanza("Package: a\nVersion: 1\n"),
            Err("Filename")
        );
    }

    #[test]
    fn specs_are_checked() {
        assert!(check_spec("s", "busybox-static", "armhf", Some("1:1.35.0-4+b1")).is_ok());
        assert!(check_spec("s", "-oevil", "armhf", None).is_err());
        assert!(check_spec("s", "busybox", "arm hf", None).is_err());
        assert!(check_spec("s", "busybox", "armhf", Some("=1")).is_err());
    }
}
