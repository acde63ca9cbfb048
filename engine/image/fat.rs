//! FAT filesystems for disk images: `mkfs.vfat --invariant` with a given
//! volume id, then `mmd`/`mcopy` under a pinned `SOURCE_DATE_EPOCH`, so the
//! same files give the same bytes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::entries::{compare_paths, parent_of, path_problem};
use super::stage::{ImageError, find_tool, io_err, run_tool, tool_cmd};
use crate::exec::Executor;

/// One file to put in a FAT filesystem.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FatFile {
    /// Host file (relative paths are from the layout's base dir).
    pub source: PathBuf,
    /// Path inside the FAT filesystem, `/`-separated, no leading `/`.
    pub dest: String,
}

/// Makes a FAT filesystem of `size` bytes at `img` holding `files` (host
/// paths relative to `base`), labelled `label`, with volume id `volid` (8
/// hex digits) and every timestamp `mtime`. Errors name `img`. Needs
/// `mkfs.vfat` (Debian package `dosfstools`) and `mmd`/`mcopy` (`mtools`),
/// which run through `exec`.
#[allow(clippy::too_many_arguments)]
pub fn write_fat(
    exec: &dyn Executor,
    files: &[FatFile],
    base: &Path,
    label: &str,
    volid: &str,
    size: u64,
    mtime: u32,
    img: &Path,
) -> Result<(), ImageError> {
    let image = img;
    let mkfs = find_tool(image, "mkfs.vfat", "dosfstools")?;
    let (mmd, mcopy) = (
        find_tool(image, "mmd", "mtools")?,
        find_tool(image, "mcopy", "mtools")?,
    );
    let f = File::create(img).map_err(io_err(image, "creating", img))?;
    f.set_len(size).map_err(io_err(image, "sizing", img))?;
    drop(f);
    let epoch = mtime.to_string();
    let cmd = tool_cmd(&mkfs)
        .args(["--invariant", "-i", volid, "-n", label])
        .arg(img)
        .env("SOURCE_DATE_EPOCH", &epoch)
        .output(img);
    run_tool(exec, image, "mkfs.vfat", "dosfstools", cmd)?;
    let mut dests: Vec<&str> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for f in files {
        if let Some(problem) = path_problem(&f.dest) {
            return Err(ImageError::Invalid {
                image: image.into(),
                reason: format!("FAT file `{}`: {problem}", f.dest),
            });
        }
        if dests.contains(&f.dest.as_str()) {
            return Err(ImageError::Invalid {
                image: image.into(),
                reason: format!("FAT file `{}` is listed twice", f.dest),
            });
        }
        dests.push(&f.dest);
        let mut d = parent_of(&f.dest);
        while let Some(dir) = d {
            if !dirs.iter().any(|x| x == dir) {
                dirs.push(dir.to_string());
            }
            d = parent_of(dir);
        }
    }
    dirs.sort_by(|a, b| compare_paths(a, b));
    let mtools = |tool: &Path, name: &str, args: &[&std::ffi::OsStr]| {
        let cmd = tool_cmd(tool)
            .arg("-i")
            .arg(img)
            .args(args)
            .env("SOURCE_DATE_EPOCH", &epoch)
            .env("MTOOLS_SKIP_CHECK", "1")
            .output(img);
        run_tool(exec, image, name, "mtools", cmd).map(|_| ())
    };
    for d in &dirs {
        mtools(&mmd, "mmd", &[format!("::/{d}").as_ref()])?;
    }
    for f in files {
        let src = base.join(&f.source);
        if !fs::metadata(&src)
            .map_err(io_err(image, "reading", &src))?
            .is_file()
        {
            return Err(ImageError::Invalid {
                image: image.into(),
                reason: format!("FAT file source {} is not a regular file", src.display()),
            });
        }
        mtools(
            &mcopy,
            "mcopy",
            &[src.as_os_str(), format!("::/{}", f.dest).as_ref()],
        )?;
    }
    Ok(())
}
