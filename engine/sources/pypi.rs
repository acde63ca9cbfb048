//! Python distributions from PyPI: the requirements lock (pip's
//! hash-checking format, every distribution pinned with `==` and its
//! sha256), the wheel platform tags of a target, and the download of the
//! locked wheels into `dl/<package>/` — once: a wheel already there with a
//! locked sha256 is never fetched again, so later builds are offline.

use crate::exec::{Cmd, Executor};
use crate::sources::fetch::sha256_file;
use std::fs;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The Python that downloads and installs the wheels: Debian's, with its
/// pip (`python3-pip`), the same on every build machine of a release.
pub const PYTHON: &str = "/usr/bin/python3";

/// The file holding that pip's version: its digest enters the Python
/// kind's key, since pip writes the installed metadata.
pub const PIP_VERSION_FILE: &str = "/usr/lib/python3/dist-packages/pip/__init__.py";

#[derive(Debug, Error)]
pub enum PypiError {
    #[error("{file}:{line}: {message}")]
    Lock {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "pip could not download {what} for Python {python} on {platform}:\n{stderr}\n  \
         check that each pinned version has a wheel for this platform on PyPI (forge installs \
         wheels only: a package with native code needs one built for the target), or that the \
         network (and any proxy) is reachable"
    )]
    Download {
        what: String,
        python: String,
        platform: String,
        stderr: String,
    },
    #[error(
        "{file}:{line}: pip downloaded no file of {name}=={version} with a locked sha256; \
         refresh the lock's hashes for this platform"
    )]
    NotLocked {
        file: PathBuf,
        line: usize,
        name: String,
        version: String,
    },
}

impl From<crate::sources::fetch::FetchError> for PypiError {
    fn from(e: crate::sources::fetch::FetchError) -> Self {
        PypiError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e.to_string()),
        }
    }
}

/// One locked distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// As written (`oslo.config`).
    pub name: String,
    pub version: String,
    /// Lowercase hex sha256 of the files that may be installed.
    pub hashes: Vec<String>,
    /// Line of the lock where it starts.
    pub line: usize,
}

impl Requirement {
    /// PEP 503's normalized name: lowercase, runs of `-_.` as one `-`.
    pub fn normalized(&self) -> String {
        normalize(&self.name)
    }
}

pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Parse a requirements lock. Every requirement is `name==version` with at
/// least one `--hash=sha256:…`; comments and `\` continuations as pip
/// reads them; no markers, URLs or other options.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Requirement>, PypiError> {
    let err = |line: usize, message: String| PypiError::Lock {
        file: file.to_path_buf(),
        line,
        message,
    };
    // Logical lines: continuation joined, comments removed.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        if raw.contains('\0') {
            return Err(err(no, "the line holds a NUL byte".into()));
        }
        let code = match raw.find(" #").or(raw.starts_with('#').then_some(0)) {
            Some(at) => &raw[..at],
            None => raw,
        };
        let (body, continues) = match code.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (code, false),
        };
        let entry = pending.get_or_insert_with(|| (no, String::new()));
        entry.1.push(' ');
        entry.1.push_str(body);
        if !continues {
            logical.extend(pending.take());
        }
    }
    logical.extend(pending);
    let mut out: Vec<Requirement> = Vec::new();
    for (line, text) in logical {
        let mut words = text.split_whitespace();
        let Some(spec) = words.next() else { continue };
        if spec.starts_with('-') {
            return Err(err(
                line,
                format!("`{spec}`: a lock holds only `name==version --hash=sha256:…` lines"),
            ));
        }
        if text.contains(';') || spec.contains('@') {
            return Err(err(
                line,
                "markers and URLs are not supported: the lock is for one target; pin \
                 `name==version` with its hashes"
                    .into(),
            ));
        }
        let Some((name, version)) = spec.split_once("==") else {
            return Err(err(
                line,
                format!(
                    "`{spec}` is not pinned; write `name==version` (pip-compile --generate-hashes makes such a lock)"
                ),
            ));
        };
        let name = name.split('[').next().unwrap_or(name);
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name || version.is_empty() || version.contains(['=', '<', '>', '*', ',']) {
            return Err(err(line, format!("`{spec}` is not `name==version`")));
        }
        let mut hashes = Vec::new();
        for w in words {
            let Some(h) = w.strip_prefix("--hash=sha256:") else {
                return Err(err(
                    line,
                    format!("`{w}`: only `--hash=sha256:<64 hex digits>` may follow a requirement"),
                ));
            };
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(line, format!("`{w}` is not a sha256")));
            }
            hashes.push(h.to_ascii_lowercase());
        }
        if hashes.is_empty() {
            return Err(err(
                line,
                format!("{spec} has no --hash=sha256:…; every distribution needs its hash"),
            ));
        }
        let req = Requirement {
            name: name.to_string(),
            version: version.to_string(),
            hashes,
            line,
        };
        if let Some(first) = out.iter().find(|r| r.normalized() == req.normalized()) {
            return Err(err(
                line,
                format!("{} is locked twice (line {} too)", req.name, first.line),
            ));
        }
        out.push(req);
    }
    Ok(out)
}

/// pip's `--platform` tags for a target: `manylinux_2_<glibc>_<arch>` down
/// to `_2_17`, then the legacy aliases pip knows.
pub fn platform_tags(target_arch: &str, glibc: &str) -> Result<Vec<String>, String> {
    let arch = match target_arch {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        "arm" => "armv7l",
        other => return Err(format!("no Python wheel platform is known for {other}")),
    };
    let minor = glibc
        .strip_prefix("2.")
        .and_then(|m| m.parse::<u32>().ok())
        .filter(|m| (17..=99).contains(m))
        .ok_or_else(|| format!("glibc `{glibc}` is not a version such as 2.36"))?;
    let mut tags: Vec<String> = (17..=minor)
        .rev()
        .map(|m| format!("manylinux_2_{m}_{arch}"))
        .collect();
    tags.push(format!("manylinux2014_{arch}"));
    if arch == "x86_64" {
        tags.push("manylinux2010_x86_64".into());
        tags.push("manylinux1_x86_64".into());
    }
    Ok(tags)
}

/// pip's arguments that select wheels for `python` on `platforms`.
pub fn wheel_args(python: &str, platforms: &[String]) -> Vec<String> {
    let abi = format!("cp{}", python.replace('.', ""));
    let mut args = vec!["--only-binary=:all:".to_string()];
    for p in platforms {
        args.push("--platform".into());
        args.push(p.clone());
    }
    args.extend([
        "--python-version".into(),
        python.to_string(),
        "--implementation".into(),
        "cp".into(),
        "--abi".into(),
        abi,
    ]);
    args
}

/// The lock's text for `reqs` (what pip reads).
pub fn render(reqs: &[&Requirement]) -> String {
    let mut out = String::new();
    for r in reqs {
        out.push_str(&format!("{}=={}", r.name, r.version));
        for h in &r.hashes {
            out.push_str(&format!(" --hash=sha256:{h}"));
        }
        out.push('\n');
    }
    out
}

/// The file in `dir` for `req`: one whose name is the distribution's and
/// whose sha256 is locked; with that sha256.
pub fn find_in(dir: &Path, req: &Requirement) -> Result<Option<(PathBuf, String)>, PypiError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(None);
    };
    let want = req.normalized();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let dist = name.split('-').next().unwrap_or_default();
        if name.starts_with('.') || normalize(dist) != want || !entry.path().is_file() {
            continue;
        }
        let sha = sha256_file(&entry.path())?;
        if req.hashes.contains(&sha) {
            return Ok(Some((entry.path(), sha)));
        }
    }
    Ok(None)
}

/// What a target's wheels are chosen by.
pub struct WheelTarget<'a> {
    pub python: &'a str,
    pub platforms: &'a [String],
}

/// Make `dl` hold a locked file of every requirement, downloading only the
/// missing ones (pip, hash-checking, no dependencies, into a temporary
/// folder renamed in after its hash matched). Returns the files in the
/// lock's order.
pub fn ensure(
    exec: &dyn Executor,
    lock: &Path,
    reqs: &[Requirement],
    target: &WheelTarget,
    dl: &Path,
) -> Result<Vec<PathBuf>, PypiError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PypiError::Io { path, source }
    };
    let not_locked = |r: &Requirement| PypiError::NotLocked {
        file: lock.to_path_buf(),
        line: r.line,
        name: r.name.clone(),
        version: r.version.clone(),
    };
    let mut found: Vec<Option<PathBuf>> = Vec::new();
    for r in reqs {
        found.push(find_in(dl, r)?.map(|(path, _)| path));
    }
    let missing: Vec<&Requirement> = reqs
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| r)
        .collect();
    if missing.is_empty() {
        return Ok(found.into_iter().flatten().collect());
    }
    fs::create_dir_all(dl).map_err(io(dl))?;
    let work = tempfile::Builder::new()
        .prefix(".pip-download-")
        .tempdir_in(dl)
        .map_err(io(dl))?;
    let part = work.path().join("requirements.txt");
    fs::write(&part, render(&missing)).map_err(io(&part))?;
    let cmd = Cmd::new(PYTHON)
        .args(["-m", "pip", "download", "--no-deps", "--require-hashes"])
        .args([
            "--disable-pip-version-check",
            "--no-input",
            "--no-cache-dir",
        ])
        .args(wheel_args(target.python, target.platforms))
        .arg("-d")
        .arg(work.path())
        .arg("-r")
        .arg(&part)
        .inherit_env()
        .capture_all();
    let platform = target.platforms.first().cloned().unwrap_or_default();
    let out = exec.run(&cmd).map_err(|e| PypiError::Download {
        what: format!("{} distributions", missing.len()),
        python: target.python.into(),
        platform: platform.clone(),
        stderr: e.to_string(),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(PypiError::Download {
            what: missing
                .iter()
                .map(|r| format!("{}=={}", r.name, r.version))
                .collect::<Vec<_>>()
                .join(", "),
            python: target.python.into(),
            platform,
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    reqs.iter()
        .zip(found)
        .map(|(r, have)| match have {
            Some(path) => Ok(path),
            None => {
                let (got, _) = find_in(work.path(), r)?.ok_or_else(|| not_locked(r))?;
                let dest = dl.join(got.file_name().unwrap_or_default());
                fs::rename(&got, &dest).map_err(io(&dest))?;
                Ok(dest)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2";

    #[test]
    fn parses_pip_compile_output() {
        let text = format!(
            "# generated\ncertifi==2026.10.19 \\\n    --hash=sha256:{H} \\\n    --hash=sha256:{}\n    # via requests\noslo.config==10.7.0 --hash=sha256:{H}  # pinned\n",
            H.to_uppercase()
        );
        let r = parse(Path::new("req.txt"), &text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "certifi");
        assert_eq!(r[0].hashes.len(), 2);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[1].normalized(), "oslo-config");
        assert_eq!(r[1].line, 6);
    }

    #[test]
    fn refuses_what_is_not_locked() {
        for (text, says) in [
            ("requests>=2\n", "not pinned"),
            ("requests==2.0\n", "has no --hash"),
            ("requests==2.0 --hash=md5:00\n", "only `--hash=sha256"),
            ("requests==2.0 --hash=sha256:abc\n", "not a sha256"),
            ("-e .\n", "a lock holds only"),
            ("requests==2.0 ; python_version<'3'\n", "markers"),
        ] {
            let e = parse(Path::new("req.txt"), text).unwrap_err().to_string();
            assert!(e.starts_with("req.txt:1: "), "{e}");
            assert!(e.contains(says), "{text}: {e}");
        }
        let twice = format!("A_b==1 --hash=sha256:{H}\na.B==2 --hash=sha256:{H}\n");
        let e = parse(Path::new("r"), &twice).unwrap_err().to_string();
        assert!(e.contains("r:2: a.B is locked twice (line 1 too)"), "{e}");
    }

    #[test]
    fn platform_tags_cover_older_glibc() {
        let t = platform_tags("x86_64", "2.36").unwrap();
        assert_eq!(t.first().unwrap(), "manylinux_2_36_x86_64");
        assert!(t.contains(&"manylinux_2_17_x86_64".to_string()));
        assert_eq!(t.last().unwrap(), "manylinux1_x86_64");
        assert_eq!(
            platform_tags("arm", "2.31").unwrap()[0],
            "manylinux_2_31_armv7l"
        );
        assert!(platform_tags("mips", "2.36").is_err());
        assert!(platform_tags("x86_64", "236").is_err());
    }

    #[test]
    fn finds_a_file_by_name_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("oslo_config-1-py3-none-any.whl"), b"x").unwrap();
        let x = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
        let mut r = parse(
            Path::new("r"),
            &format!("oslo.config==1 --hash=sha256:{x}\n"),
        )
        .unwrap()
        .remove(0);
        assert!(find_in(dir.path(), &r).unwrap().is_some());
        r.hashes = vec![H.into()];
        assert!(find_in(dir.path(), &r).unwrap().is_none());
    }
}
