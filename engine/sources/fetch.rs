//! Downloads into the download directory, verified by sha256.
//!
//! This module owns getting a source file onto disk: reusing a verified copy,
//! trying each candidate URL in order (`http://`, `https://`, `file://`, or a
//! plain absolute path), streaming into a temporary `.NAME.part-*` file while
//! hashing, and renaming into place only when the hash matches. A file whose
//! hash does not match is never left under its final name. The mirrors a
//! package's download is tried from, and the error when none gave it, are
//! in [`mirrors`]; Debian binary packages fetched with apt live in [`deb`].

mod deb;
mod mirrors;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use thiserror::Error;

pub use deb::{Published, fetch_deb, fetch_deb_with, resolve_deb, resolve_deb_with};
pub use mirrors::{Unavailable, candidates, fetch_for};

/// One failed try of one URL, for the final report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub url: String,
    pub reason: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.reason)
    }
}

pub(crate) fn list_attempts(attempts: &[Attempt]) -> String {
    attempts.iter().map(|a| format!("\n  {a}")).collect()
}

/// Why a download (or a Debian package fetch) failed.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("`{value}` is not a sha256 (expected 64 hex digits); fix the hash in the recipe")]
    BadSha256 { value: String },

    #[error("`{name}` is not a plain file name; name the download without `/`")]
    BadFileName { name: String },

    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },

    #[error(
        "cannot write {}: {source}; check that the directory is writable and the disk \
         is not full",
        path.display()
    )]
    Write { path: PathBuf, source: io::Error },

    #[error("no download URL for {file_name}; give the recipe a site to fetch it from")]
    NoCandidates { file_name: String },

    #[error(
        "could not download {file_name} from any source (tried {}):{}",
        attempts.len(),
        list_attempts(attempts)
    )]
    AllFailed {
        file_name: String,
        attempts: Vec<Attempt>,
    },

    /// Boxed: it carries every attempt and the mirrors.
    #[error("{0}")]
    Unavailable(Box<mirrors::Unavailable>),

    #[error(transparent)]
    Git(#[from] crate::sources::git::GitError),

    #[error("invalid Debian package request `{spec}`: {reason}")]
    BadDebSpec { spec: String, reason: String },

    #[error("cannot run `{tool}`: {source}; this needs Debian's apt tools on the build host")]
    ToolSpawn {
        tool: &'static str,
        source: io::Error,
    },

    #[error(
        "apt knows no package `{spec}`: {hint}{}",
        if detail.is_empty() { String::new() } else { format!("\n  apt-cache said: {detail}") }
    )]
    AptUnknown {
        spec: String,
        hint: String,
        detail: String,
    },

    #[error("`apt-cache show {spec}` printed no {field} field; run `apt-get update` and retry")]
    AptField { spec: String, field: &'static str },

    #[error(
        "`apt-get download {spec}` failed {tries} times; last: {reason}; check the network, \
         or run `apt-get update` if the package lists are stale{}",
        if stderr_tail.is_empty() { String::new() } else { format!("\n{stderr_tail}") }
    )]
    AptDownload {
        spec: String,
        tries: u32,
        reason: String,
        stderr_tail: String,
    },
}

/// Lowercase hex sha256 of a file's contents.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let read_err = |source| FetchError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Make `dest_dir/file_name` hold the file whose sha256 is `sha256`, trying
/// `candidates` in order unless a verified copy is already there. An
/// existing file with the wrong hash is removed.
pub fn fetch_url(
    candidates: &[String],
    sha256: &str,
    dest_dir: &Path,
    file_name: &str,
) -> Result<PathBuf, FetchError> {
    let want = parse_sha256(sha256)?;
    check_file_name(file_name)?;
    let dest = dest_dir.join(file_name);
    if reuse_verified(&dest, &want)? {
        return Ok(dest);
    }
    if candidates.is_empty() {
        return Err(FetchError::NoCandidates {
            file_name: file_name.to_string(),
        });
    }
    let write_err = |path: &Path, source| FetchError::Write {
        path: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(dest_dir).map_err(|e| write_err(dest_dir, e))?;
    let mut http = None;
    let mut attempts = Vec::new();
    for url in candidates {
        let mut part = tempfile::Builder::new()
            .prefix(&format!(".{file_name}.part-{}-", std::process::id()))
            .tempfile_in(dest_dir)
            .map_err(|e| write_err(dest_dir, e))?;
        let part_path = part.path().to_path_buf();
        let reason = match download(url, part.as_file_mut(), &part_path, &mut http) {
            Ok(got) if got == want => {
                let file = part.as_file();
                file.set_permissions(fs::Permissions::from_mode(0o644))
                    .map_err(|e| write_err(&part_path, e))?;
                part.persist(&dest).map_err(|e| write_err(&dest, e.error))?;
                return Ok(dest);
            }
            Ok(got) => format!("sha256 mismatch: expected {want}, got {got}"),
            Err(Failure::Source(reason)) => reason,
            Err(Failure::Local(e)) => return Err(e),
        };
        // Dropping `part` deletes the temporary file.
        attempts.push(Attempt {
            url: url.clone(),
            reason,
        });
    }
    Err(FetchError::AllFailed {
        file_name: file_name.to_string(),
        attempts,
    })
}

/// Validate and lowercase a sha256 given in hex.
pub(crate) fn parse_sha256(value: &str) -> Result<String, FetchError> {
    let v = value.trim();
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(FetchError::BadSha256 {
            value: value.to_string(),
        })
    }
}

fn check_file_name(name: &str) -> Result<(), FetchError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(FetchError::BadFileName {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// True when `dest` already holds the wanted content. A regular file with
/// other content is deleted so no unverified file keeps the final name.
pub(crate) fn reuse_verified(dest: &Path, want: &str) -> Result<bool, FetchError> {
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FetchError::Read {
            path: dest.to_path_buf(),
            source: e,
        }),
        Ok(m) if m.is_dir() => Err(FetchError::Write {
            path: dest.to_path_buf(),
            source: io::Error::other("a directory is in the way; remove it"),
        }),
        Ok(_) => {
            if sha256_file(dest)? == want {
                return Ok(true);
            }
            fs::remove_file(dest).map_err(|e| FetchError::Write {
                path: dest.to_path_buf(),
                source: e,
            })?;
            Ok(false)
        }
    }
}

/// How one candidate failed: the source's fault (try the next one) or ours
/// (stop: the next candidate would fail the same way).
enum Failure {
    Source(String),
    Local(FetchError),
}

/// Copy one candidate into `out`, returning the sha256 of what was written.
fn download(
    url: &str,
    out: &mut File,
    out_path: &Path,
    http: &mut Option<ureq::Agent>,
) -> Result<String, Failure> {
    if url.starts_with("http://") || url.starts_with("https://") {
        let agent = http.get_or_insert_with(http_agent);
        let response = agent
            .get(url)
            .header("Accept-Encoding", "identity")
            .call()
            .map_err(|e| match e {
                ureq::Error::StatusCode(code) => Failure::Source(format!("HTTP status {code}")),
                other => Failure::Source(format!("connection error: {other}")),
            })?;
        let mut body = response.into_body().into_reader();
        return copy_hashing(&mut body, out, out_path);
    }
    let path = match url.strip_prefix("file://") {
        Some(rest) => {
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if !rest.starts_with('/') {
                return Err(Failure::Source(
                    "a file:// URL must name an absolute path".into(),
                ));
            }
            PathBuf::from(percent_decode(rest))
        }
        None if url.starts_with('/') => PathBuf::from(url),
        None => {
            return Err(Failure::Source(
                "unsupported URL scheme (use http://, https://, file:// or an absolute path)"
                    .into(),
            ));
        }
    };
    let mut src = File::open(&path).map_err(|e| Failure::Source(format!("cannot open: {e}")))?;
    copy_hashing(&mut src, out, out_path)
}

fn http_agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .user_agent(concat!("forge/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

fn copy_hashing(src: &mut impl Read, out: &mut File, out_path: &Path) -> Result<String, Failure> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Source(format!("read error: {e}"))),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| {
            Failure::Local(FetchError::Write {
                path: out_path.to_path_buf(),
                source: e,
            })
        })?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Decode `%XX` escapes in a `file://` URL path; malformed escapes stay.
fn percent_decode(s: &str) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    std::ffi::OsString::from_vec(out)
}
