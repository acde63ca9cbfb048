//! The verbs' common ground: an output dir and its `.config`, configuring
//! from a defconfig, running a build through the scheduler, assembling the
//! deliverables into `images/`, and writing the build record.

use crate::error::{Error, Result};
use crate::key::digest::StatCache;
use crate::load::config::{self, Value};
use crate::load::project::Project;
use crate::plan::{self, Plan};
use crate::run::build::Build;
use crate::run::noop::{self, Invocation};
use crate::run::record::{Durations, Record, StepRecord, remember_keys, write_record};
use crate::run::sched;
use crate::run::ui::{Failure, Progress, failure_report};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where things live for this invocation.
pub struct Paths {
    pub output: PathBuf,
    pub cache: PathBuf,
    pub dl: PathBuf,
    /// The shared cache behind the local one, if any.
    pub remote: Option<crate::store::remote::RemoteSettings>,
}

/// The board name of a defconfig file: `boards/foo_defconfig` → `foo`.
pub fn board_name(defconfig: &Path) -> String {
    let file = defconfig
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.strip_suffix("_defconfig").unwrap_or(&file).to_string()
}

/// The board an output dir builds: its defconfig's name, else the output
/// dir's.
pub fn board_of(defconfig: Option<&Path>, output: &Path) -> String {
    match defconfig {
        Some(d) => board_name(d),
        None => output
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// The default cache dir: `$FORGE_CACHE_DIR`, else `$XDG_CACHE_HOME/forge`,
/// else `~/.cache/forge`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FORGE_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("forge");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".cache/forge")
}

/// Load a defconfig (Buildroot names translated, see [`config::br2`]),
/// resolve it and write the output dir's `.config`.
pub fn configure(
    project: &Project,
    defconfig: &Path,
    output: &Path,
) -> Result<BTreeMap<String, Value>> {
    let parsed = config::parse_defconfig(defconfig)?;
    parsed.report_warnings();
    let parsed = buildroot_names(project, parsed)?.for_resolve();
    let resolved = config::resolve(&project.schema, &parsed)?;
    fs::create_dir_all(output).map_err(|e| Error::io(output, e))?;
    let remembered = defconfig.strip_prefix(&project.root).unwrap_or(defconfig);
    let text = config::write_dotconfig(&project.schema, &resolved, Some(remembered));
    let dot = output.join(".config");
    if fs::read_to_string(&dot).ok().as_deref() != Some(text.as_str()) {
        fs::write(&dot, text).map_err(|e| Error::io(&dot, e))?;
    }
    Ok(resolved.values)
}

/// Read the output dir's `.config`: the values and the defconfig it came from.
pub fn load_config(
    project: &Project,
    output: &Path,
) -> Result<(BTreeMap<String, Value>, Option<PathBuf>)> {
    let dot = output.join(".config");
    if !project.watch.is_file(&dot) {
        return Err(Error::NotConfigured {
            output: output.to_path_buf(),
        });
    }
    let (parsed, defconfig) = config::parse_dotconfig(&dot)?;
    let resolved = config::resolve(&project.schema, &parsed)?;
    Ok((
        resolved.values,
        defconfig.map(|d| {
            if d.is_absolute() {
                d
            } else {
                project.root.join(d)
            }
        }),
    ))
}

/// Translate the Buildroot names in a parsed defconfig into forge's.
pub(crate) fn buildroot_names(
    project: &Project,
    parsed: config::Defconfig,
) -> Result<config::br2::Imported> {
    let linux = project.recipes.values().find_map(|l| match l.recipe.kind {
        crate::load::recipe::Kind::Linux { .. } => Some(l.recipe.version.as_str()),
        _ => None,
    });
    Ok(config::br2::import_from_tree(
        &project.root,
        &project.schema,
        linux,
        parsed,
    )?)
}

/// Write the minimal defconfig for the output dir's `.config` to `dest`
/// (default: the defconfig it came from). Returns the file written. A
/// defconfig in Buildroot names is written back in forge names.
pub fn savedefconfig(project: &Project, output: &Path, dest: Option<&Path>) -> Result<PathBuf> {
    let dot = output.join(".config");
    let (parsed, remembered) = config::parse_dotconfig(&dot)?;
    let resolved = config::resolve(&project.schema, &parsed)?;
    let remembered = remembered.map(|d| {
        if d.is_absolute() {
            d
        } else {
            project.root.join(d)
        }
    });
    let dest = dest.map(Path::to_path_buf).or(remembered).ok_or_else(|| {
        Error::Other("the .config does not name its defconfig; pass --out FILE".into())
    })?;
    let original = if dest.is_file() {
        Some(buildroot_names(project, config::parse_defconfig(&dest)?)?.layout)
    } else {
        None
    };
    let text = config::savedefconfig(&project.schema, &resolved, original.as_ref());
    if fs::read_to_string(&dest).ok().as_deref() != Some(text.as_str()) {
        fs::write(&dest, text).map_err(|e| Error::io(&dest, e))?;
    }
    Ok(dest)
}

#[derive(Clone)]
pub struct BuildRequest<'a> {
    pub jobs: usize,
    pub jobserver: jobserver::Client,
    /// Build only up to this step (a package name), else everything.
    pub target: Option<&'a str>,
    /// Re-run this step even if cached.
    pub rebuild: Option<&'a str>,
    /// Remember this build for the next plain `forge` ([`noop`]) when it
    /// is complete and ends well.
    pub remember: Option<&'a Invocation>,
}

/// Set up a [`Build`] of the output dir's configuration and hand it to `f`.
pub fn with_build<T>(
    project: &Project,
    paths: &Paths,
    jobserver: &jobserver::Client,
    f: impl FnOnce(&mut Build) -> Result<T>,
) -> Result<T> {
    // Which compiler the plan finds depends on what the PATH holds.
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            project.watch.probe(&dir);
        }
    }
    let (values, defconfig) = load_config(project, &paths.output)?;
    let located = |e| crate::run::origin::locate_option(project, &paths.output, e);
    let plan = plan::plan(project, &values).map_err(located)?;
    let store = Store::open(&paths.cache)?;
    let stats =
        StatCache::load(&store.root().join("stat-cache.json")).watching(project.watch.clone());
    let overrides = load_overrides(project, &paths.output)?;
    let board = board_of(defconfig.as_deref(), &paths.output);
    let remote = paths
        .remote
        .as_ref()
        .map(|r| r.connect(&board))
        .transpose()?;
    let build = Build::new(
        project,
        &values,
        &plan,
        paths.output.clone(),
        &store,
        &stats,
        paths.dl.clone(),
        overrides,
        jobserver.clone(),
    )
    .map_err(located)
    .map(|b| b.with_remote(remote));
    // Planning is over: what steps read from here on is covered by keys.
    project.watch.stop();
    let result = build.and_then(|mut build| f(&mut build));
    stats.save();
    result
}

/// The plain `forge` that finds its output dir's remembered build still
/// valid ([`noop`]): its record is written as this build's and returned,
/// without loading the project. `None`: build normally.
pub fn remembered(output: &Path, invocation: &Invocation) -> Result<Option<Record>> {
    let started = Instant::now();
    if !output.join(".config").is_file() {
        return Ok(None);
    }
    let _lock = crate::run::lock::OutputLock::acquire(output)?;
    let Some(mut record) = noop::check(output, invocation) else {
        return Ok(None);
    };
    record.remembered = true;
    record.seconds = started.elapsed().as_secs_f64();
    record.peak_rss_kib = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| u.max_rss())
        .unwrap_or(0);
    write_record(output, &record)?;
    Ok(Some(record))
}

/// Build the output dir's configuration. On success the deliverables are in
/// `images/`; on failure the error names the failed steps.
pub fn build(project: &Project, paths: &Paths, req: &BuildRequest) -> Result<Record> {
    let started = Instant::now();
    let _lock = crate::run::lock::OutputLock::acquire(&paths.output)?;
    noop::forget(&paths.output)?;
    if let Some(done) = crate::run::debianlock::refresh(project, paths, false)? {
        eprintln!("forge: {done}");
    }
    let max_size = crate::store::lifecycle::max_size_from_env().map_err(Error::Other)?;
    let record = with_build(project, paths, &req.jobserver, |build| {
        run_build(build, paths, req, started)
    })?;
    note_cache_use(paths, &record, max_size);
    Ok(record)
}

/// The build's use of the cache, logged once its store is closed; the
/// size limit is checked then (see `store::lifecycle::after_build`). A
/// failure here costs a warning, never the build.
fn note_cache_use(paths: &Paths, record: &Record, max_size: u64) {
    use crate::store::lifecycle::{after_build, usage::Use};
    let entry = Use {
        time: crate::store::lifecycle::usage::now(),
        output: paths.output.to_string_lossy().into_owned(),
        cached: record.cached,
        built: record.built,
        keys: record.steps.iter().filter_map(|s| s.key.clone()).collect(),
    };
    match after_build(&paths.cache, &entry, max_size) {
        Ok(Some(report)) => eprintln!("forge: the cache was over its limit: {report}"),
        Ok(None) => {}
        Err(e) => eprintln!("forge: warning: cache upkeep: {e}"),
    }
}

fn run_build(
    build: &mut Build,
    paths: &Paths,
    req: &BuildRequest,
    started: Instant,
) -> Result<Record> {
    let plan = build.plan;
    let store = build.store;
    let wanted: BTreeSet<usize> = match req.target {
        Some(t) => plan.closure(step_index(plan, t)?),
        None => (0..plan.steps.len()).collect(),
    };
    if let Some(r) = req.rebuild {
        build.force.push(step_index(plan, r)?);
    }
    let mode = crate::exec::sandbox::mode();
    if let crate::exec::sandbox::Paths::Real { reason } = mode {
        eprintln!("forge: note: steps run at their real paths, with network: {reason}");
    }
    let name = |s: usize| plan.steps[s].name.clone();
    let graph = sched::Graph::new(plan.steps.iter().map(|s| s.deps.clone()).collect())
        .map_err(|e| Error::Other(format!("internal: {}", e.describe(name))))?;
    let mut durations = Durations::load(store.root());
    let prio = graph.priorities(&|s| durations.get(&plan.steps[s].name));
    let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
    let mut progress = Progress::new(names, wanted.len());
    let outcome = sched::run(
        &graph,
        &wanted,
        &prio,
        &req.jobserver,
        &*build,
        &mut |e, states| progress.event(e, states),
    );
    progress.finish();
    let outcome = outcome?;

    let steps: Vec<StepRecord> = wanted
        .iter()
        .map(|&s| {
            let mut r = StepRecord::new(&plan.steps[s].name, build.key_of(s), &outcome.states[s]);
            if r.status == "cached" && build.came_from_remote(s) {
                r.from = Some("remote".into());
            }
            r
        })
        .collect();
    for st in steps.iter().filter(|st| st.status == "built") {
        durations.set(&st.name, st.seconds);
    }
    durations.save(store.root());
    let board = paths
        .output
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut record = Record::new(board, steps);
    record.sandbox = mode.describe();
    // Deliverables come from complete builds; `forge <pkg>` leaves them be.
    if !outcome.failed() && req.target.is_none() {
        crate::run::deliver::assemble_images(
            store,
            build.stats,
            plan,
            &wanted,
            &outcome.outputs(),
            &paths.output.join("images"),
            &paths.output.join("logs/delivered-images.json"),
        )?;
    }
    record.seconds = started.elapsed().as_secs_f64();
    record.peak_rss_kib = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| u.max_rss())
        .unwrap_or(0);
    write_record(&paths.output, &record)?;
    remember_keys(&paths.output, &record)?;
    if let Some(invocation) = req.remember
        && !outcome.failed()
        && req.target.is_none()
        && req.rebuild.is_none()
    {
        // The cache entries stay part of the answer: a cache emptied since
        // means a build, as it would without the remembered one.
        let mut read = build.project.watch.stamps();
        for key in record.steps.iter().filter_map(|s| s.key.as_deref()) {
            read.probe(&store.action_path(key));
        }
        noop::remember(&paths.output, invocation, read, &record)?;
    }
    if outcome.failed() {
        let logs = paths.output.join("logs");
        let mut failures: Vec<Failure> = Vec::new();
        for (s, state) in outcome.states.into_iter().enumerate() {
            if let sched::State::Failed { error, ran } = state {
                let log = logs.join(format!("{}.log", plan.steps[s].name));
                failures.push(Failure {
                    step: Some(name(s)),
                    error: error.to_string(),
                    log: ran.then_some(log),
                });
            }
        }
        failures.extend(outcome.errors.into_iter().map(|e| Failure {
            step: None,
            error: e.to_string(),
            log: None,
        }));
        let report = failure_report(&failures);
        return Err(Error::BuildFailed { failures, report });
    }
    Ok(record)
}

fn step_index(plan: &Plan, name: &str) -> Result<usize> {
    plan.index(name).ok_or_else(|| {
        let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
        Error::UnknownStep {
            name: name.to_string(),
            suggestion: plan::suggest(name, names.iter()),
        }
    })
}

/// `output/<board>/overrides.ron` (or `$FORGE_OVERRIDE_FILE`): package name →
/// local source tree, like Buildroot's `<PKG>_OVERRIDE_SRCDIR`.
fn load_overrides(project: &Project, output: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let file = std::env::var_os("FORGE_OVERRIDE_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| output.join("overrides.ron"));
    if !project.watch.is_file(&file) {
        return Ok(BTreeMap::new());
    }
    let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let map: BTreeMap<String, PathBuf> = ron::from_str(&text).map_err(|e| {
        Error::Other(format!(
            "{}:{}:{}: {}; expected a map like {{\"busybox\": \"/home/me/src/busybox\"}}",
            file.display(),
            e.span.start.line,
            e.span.start.col,
            e.code
        ))
    })?;
    for (pkg, dir) in &map {
        if !dir.is_dir() {
            return Err(Error::Other(format!(
                "{}: override for {pkg}: {} is not a directory",
                file.display(),
                dir.display()
            )));
        }
    }
    Ok(map)
}

/// `forge list-defconfigs`: every board of every tree with the first
/// comment line of its defconfig as a description.
pub fn list_defconfigs(project: &Project) -> Result<String> {
    let mut out = String::new();
    for path in project.defconfigs()? {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let about = text
            .lines()
            .find_map(|l| l.strip_prefix('#'))
            .map(str::trim)
            .unwrap_or("");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tree = path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&project.root);
        let from = if tree == project.root {
            String::new()
        } else {
            format!(" [{}]", tree.display())
        };
        out.push_str(&format!("  {name:<40} {about}{from}\n"));
    }
    Ok(out)
}

/// The external trees an output dir was configured with (`external.list`).
pub fn remembered_externals(output: &Path) -> Vec<PathBuf> {
    fs::read_to_string(output.join("external.list"))
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

pub fn remember_externals(output: &Path, externals: &[PathBuf]) -> Result<()> {
    let path = output.join("external.list");
    if externals.is_empty() {
        let _ = fs::remove_file(&path);
        return Ok(());
    }
    let text: String = externals
        .iter()
        .map(|e| format!("{}\n", e.display()))
        .collect();
    fs::write(&path, text).map_err(|e| Error::io(&path, e))
}
