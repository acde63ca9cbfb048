//! Keeping a board's Debian lock the answer to what the board asks: before
//! a build, a missing lock, or one locking another request (suite,
//! architecture, variant, components, packages, `DEBIAN_SOURCES`), is
//! resolved with mmdebstrap against the mirror and written; `forge
//! debian-lock` resolves it again whatever it holds, taking the versions
//! the mirror has now. This is the one place a Debian root filesystem uses
//! the network for anything but a missing `.deb`.

use crate::debian::resolve::{Resolution, resolve};
use crate::error::{Error, Result};
use crate::plan::{self, debian};
use crate::run::session::{Paths, board_of, load_config};
use crate::spec::FileInput;
use crate::spec::debian::Customize;
use std::fs;
use std::io::Write as _;

/// Resolve and write the lock when it is missing or stale, or always with
/// `force`. Returns what was done, `None` when the lock already answers.
pub fn refresh(
    project: &crate::load::project::Project,
    paths: &Paths,
    force: bool,
) -> Result<Option<String>> {
    let (values, defconfig) = load_config(project, &paths.output)?;
    let planned = plan::plan(project, &values)?;
    let Some(wanted) = debian::wanted(project, &values, &planned)? else {
        return if force {
            Err(Error::Other(
                "this board has no Debian root filesystem (DEBIAN_ROOTFS is not set)".into(),
            ))
        } else {
            Ok(None)
        };
    };
    let problem = debian::lock_problem(&wanted);
    if !force && problem.is_none() {
        return Ok(None);
    }
    let request = &wanted.request;
    let sources = match &wanted.sources {
        Some(s) => s.clone(),
        None => crate::debian::sources::from_host(&request.suite, &request.components),
    };
    if sources.is_empty() {
        return Err(Error::BadOption {
            option: "DEBIAN_SOURCES".into(),
            at: None,
            message: format!(
                "the build machine's apt configuration has no `deb` entry for {}; set DEBIAN_SOURCES to a sources file naming a mirror of it",
                request.suite
            ),
        });
    }
    let scripts: Vec<Customize> = debian::customize_scripts(project, &values)?
        .into_iter()
        .map(|(place, name, path)| Customize {
            place,
            script: FileInput {
                name,
                digest: String::new(),
                path,
            },
        })
        .collect();
    let value = |n: &str| values.get(n).map(|v| v.as_text()).unwrap_or_default();
    let files = Some(value("DEBIAN_CUSTOMIZE_FILES"))
        .filter(|f| !f.trim().is_empty())
        .map(|f| project.resolve(f.trim()));
    let board = board_of(defconfig.as_deref(), &paths.output);
    let why = problem.unwrap_or_else(|| "asked to refresh it".into());
    eprintln!(
        "forge: resolving the Debian packages of {board} with mmdebstrap ({why}); log: {}",
        paths.output.join("logs/debian-lock.log").display()
    );
    let started = std::time::Instant::now();
    let lock = resolve(
        &crate::exec::local::PLAIN,
        &Resolution {
            request,
            sources: &sources,
            scripts: &scripts,
            files: files.as_deref(),
            source_date_epoch: value("SOURCE_DATE_EPOCH").trim().parse().unwrap_or(0),
            work: &paths.output.join("build/debian-lock"),
            dl: &paths.dl,
            log: &paths.output.join("logs/debian-lock.log"),
        },
    )?;
    let path = &wanted.lock_path;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let tmp = path.with_extension("lock.tmp");
    let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(lock.render(&board).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    Ok(Some(format!(
        "wrote {}: {} packages, resolved in {:.1} s; their .debs are in {}",
        path.display(),
        lock.packages.len(),
        started.elapsed().as_secs_f64(),
        crate::debian::debs::dl_folder(&paths.dl).display()
    )))
}
