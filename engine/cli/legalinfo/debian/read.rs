//! What `dl/debian/` holds for each locked package, read by a few
//! threads: nothing, a file that is not the locked one, or the locked
//! `.deb`'s source package, dependencies (its control fields, by
//! `dpkg-deb -f`) and copyright file (read out without unpacking it).

use crate::cli::legalinfo::dep5;
use crate::error::{Error, Result};
use crate::exec::Executor;
use crate::spec::debian::Locked;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `dl/debian/` holds for one locked package.
pub(super) enum Found {
    Missing,
    /// A file of that name whose sha256 is not the lock's.
    Differs,
    Read {
        /// The source package and its version.
        source: (String, String),
        /// Depends and Pre-Depends: each item's alternatives' names.
        depends: Vec<Vec<String>>,
        copyright: Option<Vec<u8>>,
    },
}

/// What `dl/debian/` holds for each package, read by a few threads.
pub(super) fn read_all(
    exec: &dyn Executor,
    folder: &Path,
    packages: &[Locked],
) -> Result<Vec<Found>> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut all: Vec<(usize, Result<Found>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = packages.get(i) else {
                            break got;
                        };
                        got.push((i, read_one(exec, folder, p)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Other("a thread reading the .debs failed".into()))
            })
            .collect::<Result<Vec<_>>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, f)| f).collect()
}

fn read_one(exec: &dyn Executor, folder: &Path, p: &Locked) -> Result<Found> {
    let deb = folder.join(p.file_name());
    if !deb.is_file() {
        return Ok(Found::Missing);
    }
    if crate::sources::fetch::sha256_file(&deb)? != p.sha256 {
        return Ok(Found::Differs);
    }
    let fields = control(exec, &deb)?;
    let field = |name: &str| fields.first().and_then(|c| c.get(name)).unwrap_or("");
    let source = match field("Source").split_once('(') {
        Some((name, version)) => (
            name.trim().to_string(),
            version.trim().trim_end_matches(')').trim().to_string(),
        ),
        None if field("Source").trim().is_empty() => (p.name.clone(), p.version.clone()),
        None => (field("Source").trim().to_string(), p.version.clone()),
    };
    let depends = [field("Pre-Depends"), field("Depends")]
        .iter()
        .flat_map(|f| f.split(','))
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            item.split('|')
                .filter_map(|alt| {
                    alt.split([' ', '(', ':', '[', '\n'])
                        .find(|w| !w.is_empty())
                })
                .map(str::to_string)
                .collect()
        })
        .collect();
    let doc = format!("usr/share/doc/{}/copyright", p.name);
    let mut members =
        crate::sources::archive::members::read_members(exec, &deb, 0, std::slice::from_ref(&doc))?;
    Ok(Found::Read {
        source,
        depends,
        copyright: members.remove(&doc),
    })
}

/// The `.deb`'s Source, Depends and Pre-Depends fields.
fn control(exec: &dyn Executor, deb: &Path) -> Result<Vec<dep5::Paragraph>> {
    let fields = ["Package", "Source", "Depends", "Pre-Depends"];
    let text = crate::debian::debs::control_fields(exec, deb, &fields)?;
    Ok(dep5::paragraphs(&text))
}
