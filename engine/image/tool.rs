//! What the tool-driven image writers share for talking to the outside:
//! the [`ImageError`] they report, the write-to-temp then rename of output
//! files, finding and running host tools (naming the Debian package to
//! install when one is missing, and the stderr tail when one fails; every
//! tool runs through an [`Executor`]), and
//! the fixed identifiers (UUIDs, volume ids) derived from a seed string.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::entries::ImageEntry;
use crate::exec::{Cmd, Executor, Finished};

/// How many trailing lines of a failed tool's stderr an error keeps.
const STDERR_TAIL_LINES: usize = 15;

/// Why an image could not be written. `image` is the output file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: image entry `{path}`: {reason}", image.display())]
    Entry {
        image: PathBuf,
        path: String,
        reason: String,
    },
    #[error("{}: {action} {}: {source}", image.display(), file.display())]
    Io {
        image: PathBuf,
        action: &'static str,
        file: PathBuf,
        source: io::Error,
    },
    #[error("{}: `{tool}` is not installed (install the Debian package `{package}`)", image.display())]
    ToolMissing {
        image: PathBuf,
        tool: String,
        package: &'static str,
    },
    #[error("{}: `{tool}` failed ({status}):\n{stderr}", image.display())]
    ToolFailed {
        image: PathBuf,
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("{}: {reason}", image.display())]
    Invalid { image: PathBuf, reason: String },
}

impl ImageError {
    /// The same error, naming `image` as the output file (for an
    /// intermediate image written on the way to `image`).
    pub fn for_image(mut self, image: &Path) -> Self {
        match &mut self {
            ImageError::Entry { image: i, .. }
            | ImageError::Io { image: i, .. }
            | ImageError::ToolMissing { image: i, .. }
            | ImageError::ToolFailed { image: i, .. }
            | ImageError::Invalid { image: i, .. } => *i = image.into(),
        }
        self
    }
}

/// Builds an [`ImageError::Entry`] for `e` of image `image`.
pub fn entry_err(image: &Path, e: &ImageEntry, reason: impl Into<String>) -> ImageError {
    ImageError::Entry {
        image: image.into(),
        path: e.path.clone(),
        reason: reason.into(),
    }
}

/// Maps an I/O failure on `file` while writing `image` to an [`ImageError`].
pub fn io_err<'a>(
    image: &'a Path,
    action: &'static str,
    file: &'a Path,
) -> impl Fn(io::Error) -> ImageError + 'a {
    move |source| ImageError::Io {
        image: image.into(),
        action,
        file: file.into(),
        source,
    }
}

/// A hidden temporary path beside `path`, for write-then-rename.
pub fn temp_beside(image: &Path, suffix: &str) -> Result<PathBuf, ImageError> {
    let name = image.file_name().ok_or_else(|| ImageError::Invalid {
        image: image.into(),
        reason: "the output path has no file name".into(),
    })?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{suffix}-{}", std::process::id()));
    Ok(image.with_file_name(tmp))
}

/// Runs `fill(tmp)` to produce the image at a temporary path beside `image`
/// and renames it over `image` on success; removes it on failure.
pub fn write_atomically(
    image: &Path,
    fill: impl FnOnce(&Path) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    let tmp = temp_beside(image, "tmp")?;
    let result = fill(&tmp)
        .and_then(|()| fs::rename(&tmp, image).map_err(io_err(image, "renaming into place", &tmp)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The last [`STDERR_TAIL_LINES`] lines of a tool's stderr.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[from..].join("\n")
}

/// Finds host tool `tool` on `PATH` or in `/usr/sbin` and `/sbin` (where
/// e2fsprogs and friends live but a build user's `PATH` may not reach).
pub fn find_tool(image: &Path, tool: &str, package: &'static str) -> Result<PathBuf, ImageError> {
    if let Ok(p) = which::which(tool) {
        return Ok(p);
    }
    ["/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
        .ok_or_else(|| ImageError::ToolMissing {
            image: image.into(),
            tool: tool.into(),
            package,
        })
}

/// The request for host tool `tool` (a path from [`find_tool`]), with
/// forge's environment as the tools have always seen it.
pub fn tool_cmd(tool: &Path) -> Cmd {
    Cmd::new(tool).inherit_env()
}

/// Runs `cmd` (whose program is `tool`, from Debian package `package`)
/// through `exec` to completion with stdout and stderr captured; a missing
/// program or a non-zero exit becomes an error naming the image and the
/// tool.
pub fn run_tool(
    exec: &dyn Executor,
    image: &Path,
    tool: &str,
    package: &'static str,
    cmd: Cmd,
) -> Result<Finished, ImageError> {
    let out = match exec.run(&cmd.capture_all()) {
        Err(err) if err.is_not_found() => {
            return Err(ImageError::ToolMissing {
                image: image.into(),
                tool: tool.into(),
                package,
            });
        }
        Err(err) => return Err(io_err(image, "running", Path::new(tool))(err.into_io())),
        Ok(out) => out,
    };
    if out.status.success() {
        Ok(out)
    } else {
        Err(ImageError::ToolFailed {
            image: image.into(),
            tool: tool.into(),
            status: out.status.to_string(),
            stderr: tail(&out.stderr),
        })
    }
}

/// A 16-byte value derived from `seed` and `purpose`, formatted as a UUID
/// (version 4 / variant bits set) for `mke2fs -U`, hash seeds and FAT ids.
pub fn seeded_uuid(seed: &str, purpose: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"forge image uuid\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.finalize().as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_failing_tools_are_named() {
        let img = Path::new("out/rootfs.img");
        let err = find_tool(img, "forge-no-such-tool", "some-package").unwrap_err();
        assert_eq!(
            err.to_string(),
            "out/rootfs.img: `forge-no-such-tool` is not installed (install the Debian package `some-package`)"
        );
        let cmd =
            Cmd::shell("for i in $(seq 1 30); do echo line$i >&2; done; exit 3").inherit_env();
        let exec = &crate::exec::local::PLAIN;
        let err = run_tool(exec, img, "sh", "dash", cmd)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("out/rootfs.img: `sh` failed (exit status: 3):\nline16\n"),
            "{err}"
        );
        assert!(err.ends_with("line30") && !err.contains("line15"), "{err}");
        let gone = Cmd::new("forge-no-such-tool").inherit_env();
        let err = run_tool(exec, img, "forge-no-such-tool", "pkg", gone).unwrap_err();
        assert!(err.to_string().contains("is not installed"), "{err}");
    }

    #[test]
    fn seeded_uuids_are_stable_and_distinct() {
        let a = seeded_uuid("seed", "ext4 uuid");
        assert_eq!(a, seeded_uuid("seed", "ext4 uuid"));
        assert_ne!(a, seeded_uuid("seed", "ext4 hash seed"));
        assert_ne!(a, seeded_uuid("other", "ext4 uuid"));
        assert_eq!((a.len(), &a[14..15]), (36, "4"));
    }
}
