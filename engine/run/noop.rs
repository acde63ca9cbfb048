//! The remembered build: the whole-build shortcut that keeps a no-op in
//! milliseconds however large the graph.
//!
//! A complete build that ends well leaves `.remembered-build.json` in the
//! output dir: the invocation (trees, directories, the environment forge
//! reads, forge's own binary), the stamp of every file and directory that
//! loading and planning read (`load::watch`, taken before each read), the
//! stamps of the delivered `images/`, and the build record as a no-op would
//! write it. A plain `forge` in that output dir first compares all of
//! these; if nothing differs, loading and planning would produce the same
//! steps with the same keys, every one of them cached, and the delivered
//! images are the ones in place, so it writes that record and stops,
//! without parsing a recipe or reading the cache. Any difference (or any
//! doubt: an unreadable file, another version of forge) falls through to
//! the full build, which decides step by step. Every build removes the file
//! before it starts, so a failed or partial build never leaves one behind.

use crate::error::{Error, Result};
use crate::load::watch::{FileStamp, StampList, Stamps, first_change};
use crate::run::record::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

const FILE: &str = ".remembered-build.json";
/// Bump when what is remembered changes meaning.
const FORMAT: u32 = 1;

/// Everything about this invocation, other than files, that loading and
/// planning depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub cwd: PathBuf,
    pub root: PathBuf,
    pub externals: Vec<PathBuf>,
    pub cache: PathBuf,
    pub dl: PathBuf,
    /// forge's own binary, as it was when this process started.
    pub exe: Option<FileStamp>,
    /// The environment forge reads: `FORGE_*` (but the remote cache's
    /// auth header), `PATH`, `HOME`, `XDG_CACHE_HOME`.
    pub env: BTreeMap<String, String>,
}

impl Invocation {
    pub fn new(
        cwd: PathBuf,
        root: PathBuf,
        externals: Vec<PathBuf>,
        cache: PathBuf,
        dl: PathBuf,
    ) -> Invocation {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|e| FileStamp::now(&e));
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| {
                k.starts_with("FORGE_") || matches!(k.as_str(), "PATH" | "HOME" | "XDG_CACHE_HOME")
            })
            // A secret: never written down (it changes no result).
            .filter(|(k, _)| k != crate::store::remote::AUTH_HEADER_ENV)
            .collect();
        Invocation {
            cwd,
            root,
            externals,
            cache,
            dl,
            exe,
            env,
        }
    }

    /// The directories of `PATH`: a program appearing in one of them may
    /// change which compiler the plan finds.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        self.env
            .get("PATH")
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    format: u32,
    invocation: Invocation,
    stamps: StampList,
    record: Record,
}

/// The record of a no-op, if the output dir remembers a build whose
/// invocation and stamps all still hold. The caller holds the output lock.
pub fn check(output: &Path, invocation: &Invocation) -> Option<Record> {
    let bytes = fs::read(output.join(FILE)).ok()?;
    let r: Remembered = serde_json::from_slice(&bytes).ok()?;
    if r.format != FORMAT || r.invocation != *invocation || r.invocation.exe.is_none() {
        return None;
    }
    if first_change(&r.stamps).is_some() {
        return None;
    }
    Some(r.record)
}

/// Forget the remembered build (every build does this before it starts).
pub fn forget(output: &Path) -> Result<()> {
    match fs::remove_file(output.join(FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(output.join(FILE), e)),
        _ => Ok(()),
    }
}

/// Remember a complete build that ended well: `read` is what loading and
/// planning read; the delivered `images/` and their index are stamped now.
pub fn remember(
    output: &Path,
    invocation: &Invocation,
    mut read: Stamps,
    record: &Record,
) -> Result<()> {
    for dir in invocation.path_dirs() {
        read.probe(&dir);
    }
    let images = output.join("images");
    for entry in WalkDir::new(&images).into_iter().flatten() {
        read.probe(entry.path());
    }
    read.probe(&images);
    read.probe(&output.join("logs/delivered-images.json"));
    let mut noop = record.clone();
    for s in &mut noop.steps {
        s.status = "cached".into();
        s.seconds = 0.0;
    }
    let sandbox = noop.sandbox.clone();
    let mut noop = Record::new(noop.board, noop.steps);
    noop.sandbox = sandbox;
    let remembered = Remembered {
        format: FORMAT,
        invocation: invocation.clone(),
        stamps: read.into_list(),
        record: noop,
    };
    let bytes = serde_json::to_vec(&remembered).map_err(|e| Error::Other(e.to_string()))?;
    let path = output.join(FILE);
    let tmp = output.join(format!("{FILE}.tmp{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
}
