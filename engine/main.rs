//! The `forge` command line: Buildroot's verbs over forge's engine.

use clap::Parser;
use forge::error::{Error, Result};
use forge::load::project::{Project, find_root};
use forge::run::session::{self, BuildRequest, Paths};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "forge",
    version,
    about = "Build embedded Linux systems from board defconfigs and RON recipes"
)]
#[command(after_help = "Verbs:\n  \
    forge boards/<board>_defconfig   configure from a board defconfig and build\n  \
    forge                            rebuild the current output dir (no-op if nothing changed)\n  \
    forge <pkg>                      build up to one package\n  \
    forge <pkg>-rebuild              re-run one package's build even if cached\n  \
    forge savedefconfig [--out F]    write the minimal defconfig back\n  \
    forge import <br>_defconfig [--out F]   a Buildroot defconfig as a forge one (default boards/)\n  \
    forge menuconfig                 edit the options in a terminal UI\n  \
    forge config list|get NAME|set NAME=VALUE…   show or change options\n  \
    forge <pkg>-menuconfig           the package's own configurator (linux, uboot, busybox)\n  \
    forge <pkg>-update-defconfig     save it back (top fragment, or the config file)\n  \
    forge why <pkg>                  what changed since the last build\n  \
    forge --pause-after <step>       build up to the step and stop (`forge` goes on)\n  \
    forge shell <step> [-- CMD…]     a shell (or CMD) inside the root filesystem a step made,\n                                     or in a package's build environment\n  \
    forge legal-info [--all-sources]  licenses, sources and an SPDX SBOM in legal-info/\n  \
    forge debian-lock                resolve the Debian packages again and rewrite DEBIAN_LOCK\n  \
    forge run [--serial-only]        boot the images in qemu\n  \
    forge test [TEST…]               run the board's runtime tests (QEMU_TESTS) in qemu\n  \
    forge cache stats|verify|gc [--max-size SIZE]   the cache's size and hit rates, check it, shrink it")]
struct Cli {
    /// Verb, package name or defconfig path.
    args: Vec<std::ffi::OsString>,
    /// Output directory (default: output/<board> in the project).
    #[arg(short = 'O', long = "output", env = "FORGE_OUTPUT")]
    output: Option<PathBuf>,
    /// Parallel jobs shared by every step and make (default: number of cores).
    #[arg(short = 'j', long = "jobs")]
    jobs: Option<usize>,
    /// Content cache (default: ~/.cache/forge).
    #[arg(long, env = "FORGE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// External tree with its own packages/, boards/, configs/ (repeatable;
    /// also FORGE_EXTERNAL, colon-separated). Remembered by the output dir.
    #[arg(long = "external", value_name = "DIR")]
    external: Vec<PathBuf>,
    /// Download directory (default: dl/ in the project).
    #[arg(long, env = "FORGE_DL_DIR")]
    dl_dir: Option<PathBuf>,
    /// `forge run`: no graphics, serial console on this terminal.
    #[arg(long)]
    serial_only: bool,
    /// `forge savedefconfig`: write here instead of the board's defconfig;
    /// `forge import`: write the forge defconfig here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A shared cache speaking the Bazel HTTP cache protocol, asked when
    /// the local cache misses (read-only unless --remote-upload).
    #[arg(long, env = "FORGE_REMOTE_CACHE", value_name = "URL")]
    remote_cache: Option<String>,
    /// Upload what this build stores to the remote cache.
    #[arg(long, env = "FORGE_REMOTE_UPLOAD")]
    remote_upload: bool,
    /// `forge cache gc`: the size to shrink the cache to (e.g. 10G, 500M;
    /// default FORGE_CACHE_MAX_SIZE, else 20G).
    #[arg(long, value_name = "SIZE")]
    max_size: Option<String>,
    /// Build up to this step and stop there (look inside with
    /// `forge shell STEP`; a plain `forge` goes on from the cache).
    #[arg(long, value_name = "STEP")]
    pause_after: Option<String>,
    /// `forge legal-info`: copy every package's source, not only those
    /// under a copyleft license.
    #[arg(long)]
    all_sources: bool,
}

fn main() -> ExitCode {
    // SAFETY: this runs first in main, before forge opens any file, so file
    // descriptors named by an inherited MAKEFLAGS are the ones our parent
    // make passed down (or closed, which check_pipe detects and rejects).
    let inherited = unsafe { jobserver::Client::from_env_ext(true) }.client.ok();
    let cli = Cli::parse();
    match run(cli, inherited) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forge: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `forge import`: writes the forge defconfig, prints the verdicts, and
/// fails when any setting was refused (the file holds everything else).
fn import(
    root: &Path,
    externals: &[PathBuf],
    cwd: &Path,
    defconfig: Option<PathBuf>,
    rest: &[String],
    out: Option<&Path>,
) -> Result<()> {
    let src = match (defconfig, rest) {
        (Some(d), []) => absolute(cwd, &d),
        (None, [d]) => absolute(cwd, Path::new(d)),
        _ => {
            return Err(Error::Other(
                "usage: forge import BUILDROOT_DEFCONFIG [--out FILE]".into(),
            ));
        }
    };
    let project = Project::load(root, externals)?;
    let dest = match out {
        Some(o) => absolute(cwd, o),
        None => forge::cli::br2import::default_destination(&project, &src)?,
    };
    let report = forge::cli::br2import::import(&project, &src, &dest, out.is_some())?;
    eprintln!("{}", report.summary);
    eprintln!("wrote {}", report.written.display());
    match report.summary.refused() {
        0 => Ok(()),
        n => Err(Error::Other(format!(
            "{n} Buildroot setting(s) refused (listed above): {} holds everything else; \
             it does not describe the system Buildroot would build until they are resolved",
            report.written.display()
        ))),
    }
}

fn run(cli: Cli, inherited: Option<jobserver::Client>) -> Result<()> {
    if cli.args.first().is_some_and(|a| a == "cache") {
        return cache_verb(&cli, &utf8_args(&cli.args)?);
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let root = find_root(&cwd).ok_or_else(|| Error::NotInTree { dir: cwd.clone() })?;
    let mut externals: Vec<PathBuf> = cli.external.iter().map(|e| absolute(&cwd, e)).collect();
    if let Some(env) = std::env::var_os("FORGE_EXTERNAL") {
        externals.extend(
            std::env::split_paths(&env)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| absolute(&cwd, &p)),
        );
    }
    let jobs = cli.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let jobserver = match inherited {
        Some(c) if cli.jobs.is_none() => c,
        _ => jobserver::Client::new(jobs)
            .map_err(|e| Error::Other(format!("cannot create the jobserver: {e}")))?,
    };
    let mut args = utf8_args(&cli.args)?;
    let defconfig = args
        .iter()
        .position(|a| a.ends_with("_defconfig") && !a.contains('='))
        .map(|i| PathBuf::from(args.remove(i)));
    if args.first().map(String::as_str) == Some("list-defconfigs") {
        let project = Project::load(&root, &externals)?;
        print!("{}", session::list_defconfigs(&project)?);
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("import") {
        return import(
            &root,
            &externals,
            &cwd,
            defconfig,
            &args[1..],
            cli.out.as_deref(),
        );
    }
    let output = match (&cli.output, &defconfig) {
        (Some(o), _) => absolute(&cwd, o),
        (None, Some(d)) => root.join("output").join(session::board_name(d)),
        (None, None) => current_output(&cwd, &root)?,
    };
    if externals.is_empty() {
        externals = session::remembered_externals(&output);
    }
    let remote = match &cli.remote_cache {
        Some(url) if !url.is_empty() => Some(forge::store::remote::RemoteSettings {
            url: url.clone(),
            upload: cli.remote_upload,
            auth: forge::store::remote::RemoteSettings::auth_from_env()?,
        }),
        _ => None,
    };
    let paths = Paths {
        remote,
        output: output.clone(),
        cache: cli
            .cache_dir
            .clone()
            .unwrap_or_else(session::default_cache_dir),
        dl: cli
            .dl_dir
            .clone()
            .map(|d| absolute(&cwd, &d))
            .unwrap_or_else(|| root.join("dl")),
    };
    let verb = args.first().cloned();
    let invocation = forge::run::noop::Invocation::new(
        cwd.clone(),
        root.clone(),
        externals.clone(),
        paths.cache.clone(),
        paths.dl.clone(),
    );
    // Nothing is written into the output dir (not even `.config`) before
    // this process holds its lock; a build then shares it. `run` and `test`
    // only read the images (and `run` execs qemu, which would inherit it).
    let _lock = match verb.as_deref() {
        Some("run" | "test") if defconfig.is_none() => None,
        _ => Some(forge::run::lock::OutputLock::acquire(&output)?),
    };
    // A plain `forge` whose remembered build still holds loads nothing.
    if verb.is_none()
        && defconfig.is_none()
        && let Some(record) = session::remembered(&output, &invocation)?
    {
        eprintln!("{}", forge::run::record::summary(&record));
        return Ok(());
    }
    let project = Project::load(&root, &externals)?;
    if let Some(d) = &defconfig {
        let d = find_defconfig(&project, &cwd, d)?;
        session::configure(&project, &d, &output)?;
        session::remember_externals(&output, &externals)?;
        eprintln!("configured {} from {}", output.display(), d.display());
    }
    let request = |target: Option<&str>, rebuild: Option<&str>| -> Result<()> {
        let req = BuildRequest {
            jobs,
            jobserver: jobserver.clone(),
            target,
            rebuild,
            remember: Some(&invocation),
        };
        let record = session::build(&project, &paths, &req)?;
        eprintln!("{}", forge::run::record::summary(&record));
        Ok(())
    };
    match verb.as_deref() {
        None if cli.pause_after.is_some() => {
            let step = cli.pause_after.as_deref().unwrap_or_default();
            request(Some(step), None)?;
            eprintln!("paused after {step}: `forge shell {step}` looks inside, `forge` goes on");
            Ok(())
        }
        None => request(None, None),
        Some("shell") => {
            let req = BuildRequest {
                jobs,
                jobserver: jobserver.clone(),
                target: None,
                rebuild: None,
                remember: None,
            };
            shell(&project, &paths, &output, &req, &args[1..])
        }
        Some("savedefconfig") => {
            let written = session::savedefconfig(&project, &output, cli.out.as_deref())?;
            eprintln!("wrote {}", written.display());
            Ok(())
        }
        Some("config") => {
            print!(
                "{}",
                forge::cli::configcmd::run(&project, &output, &args[1..])?
            );
            Ok(())
        }
        Some("menuconfig") => forge::cli::menuconfig::run(&project, &output),
        Some("run") => {
            let (values, _) = session::load_config(&project, &output)?;
            let mode = if cli.serial_only {
                forge::runtime::qemu::Mode::Serial
            } else {
                forge::runtime::qemu::Mode::Window
            };
            let mut cmd = forge::runtime::qemu::command(&values, &output.join("images"), mode)?;
            eprintln!("{}", forge::runtime::qemu::shell_line(&cmd));
            use std::os::unix::process::CommandExt;
            let err = cmd.exec();
            Err(Error::Other(format!("cannot start qemu: {err}")))
        }
        Some("test") => {
            let (values, _) = session::load_config(&project, &output)?;
            let summary = forge::runtime::boardtest::run(
                &project,
                &output,
                &values,
                &args[1..],
                &mut |line| eprintln!("{line}"),
            )
            .map_err(|e| match e {
                forge::runtime::boardtest::TestError::Engine(e) => *e,
                // The edge: a test failure is printed like any error.
                failure => Error::Other(failure.to_string()),
            })?;
            eprintln!("{summary}");
            Ok(())
        }
        Some("why") => {
            let step = args
                .get(1)
                .ok_or_else(|| Error::Other("usage: forge why <package or step>".into()))?;
            session::with_build(&project, &paths, &jobserver, |b| {
                print!("{}", forge::cli::inspect::why(b, step, &output)?);
                Ok(())
            })
        }
        Some("debian-lock") => {
            match forge::run::debianlock::refresh(&project, &paths, true)? {
                Some(done) => eprintln!("{done}"),
                None => eprintln!("the lock already answers the board"),
            }
            Ok(())
        }
        Some("legal-info") => session::with_build(&project, &paths, &jobserver, |b| {
            eprintln!("{}", forge::cli::legalinfo::run(b, cli.all_sources)?);
            Ok(())
        }),
        Some("show-info") => session::with_build(&project, &paths, &jobserver, |b| {
            println!("{}", forge::cli::inspect::show_info(b)?);
            Ok(())
        }),
        Some("graph-depends") => session::with_build(&project, &paths, &jobserver, |b| {
            write_graph(&output, &forge::cli::inspect::graph_dot(b))
        }),
        Some("source") => session::with_build(&project, &paths, &jobserver, |b| {
            let names: Vec<String> = b.plan.steps.iter().map(|s| s.name.clone()).collect();
            fetch_sources(b, &names)
        }),
        Some(v)
            if v.ends_with("-source")
                && project.recipes.contains_key(v.trim_end_matches("-source")) =>
        {
            let pkg = v.trim_end_matches("-source").to_string();
            session::with_build(&project, &paths, &jobserver, |b| fetch_sources(b, &[pkg]))
        }
        Some(v)
            if v.ends_with("-dirclean")
                && project
                    .recipes
                    .contains_key(v.trim_end_matches("-dirclean")) =>
        {
            let dir = output.join("build").join(v.trim_end_matches("-dirclean"));
            forge::exec::remove_tree(&dir)?;
            eprintln!("removed {}", dir.display());
            Ok(())
        }
        Some(v)
            if forge::cli::kconfigflow::Flow::parse(v)
                .is_some_and(|(p, _)| project.recipes.contains_key(p)) =>
        {
            let (pkg, flow) = forge::cli::kconfigflow::Flow::parse(v)
                .ok_or_else(|| Error::Other(v.to_string()))?;
            session::with_build(&project, &paths, &jobserver, |b| {
                forge::cli::kconfigflow::run(b, pkg, flow)
            })
        }
        Some(v) if v.ends_with("-rebuild") => {
            let pkg = v.trim_end_matches("-rebuild");
            request(Some(pkg), Some(pkg))
        }
        Some(pkg) => request(Some(pkg), None),
    }
}

/// `forge shell STEP [-- COMMAND…]`: build up to the step, then a shell
/// (or the command) inside the root filesystem it made.
fn shell(
    project: &Project,
    paths: &Paths,
    output: &Path,
    req: &BuildRequest,
    args: &[String],
) -> Result<()> {
    let usage = || Error::Other("usage: forge shell <step> [-- <command>…]".into());
    let step = args.first().ok_or_else(usage)?;
    // clap takes a `--` before the command away; one left is skipped too.
    let rest = match args.get(1).map(String::as_str) {
        Some("--") => &args[2..],
        _ => &args[1..],
    };
    let line = (!rest.is_empty()).then(|| rest.join(" "));
    let req = BuildRequest {
        target: Some(step),
        ..req.clone()
    };
    let record = session::build(project, paths, &req)?;
    // A package step: a shell in its build environment.
    if project.recipes.contains_key(step.as_str()) || step.starts_with("host-") {
        let outputs: std::collections::BTreeMap<String, String> = record
            .steps
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.output.clone()?)))
            .collect();
        let code = session::with_build(project, paths, &req.jobserver, |b| {
            b.package_shell(step, &outputs, line.as_deref())
        })?;
        if code != 0 {
            return Err(Error::Other(format!(
                "the shell in {step} exited with status {code}"
            )));
        }
        return Ok(());
    }
    let digest = record
        .steps
        .iter()
        .find(|s| &s.name == step)
        .and_then(|s| s.output.clone())
        .ok_or_else(|| Error::Other(format!("{step} has no output to enter")))?;
    let (values, _) = session::load_config(project, output)?;
    let arch = values
        .get("TARGET_ARCH")
        .map(|v| v.as_text())
        .unwrap_or_default();
    let store = forge::store::Store::open(&paths.cache)?;
    let inside = match &line {
        Some(l) => forge::cli::shell::Inside::Command(l),
        None => forge::cli::shell::Inside::Interactive,
    };
    let scratch = output.join("shell").join(step);
    let code = forge::cli::shell::enter(&store, step, &digest, &arch, &scratch, inside)?;
    if code != 0 {
        return Err(Error::Other(format!(
            "the shell in {step} exited with status {code}"
        )));
    }
    Ok(())
}

/// Download the sources of `names` (steps that are not packages are skipped).
fn fetch_sources(b: &forge::run::build::Build, names: &[String]) -> Result<()> {
    for name in names.iter().filter(|n| b.project.recipes.contains_key(*n)) {
        if let Some(path) = b.fetch_source(name)? {
            eprintln!("{name}: {}", path.display());
        }
    }
    Ok(())
}

/// Write `graphs/graph-depends.dot`, and an SVG when Graphviz is installed.
fn write_graph(output: &Path, dot: &str) -> Result<()> {
    let dir = output.join("graphs");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let file = dir.join("graph-depends.dot");
    std::fs::write(&file, dot).map_err(|e| Error::io(&file, e))?;
    eprintln!("wrote {}", file.display());
    if which::which("dot").is_ok() {
        let svg = dir.join("graph-depends.svg");
        let status = std::process::Command::new("dot")
            .arg("-Tsvg")
            .arg(&file)
            .arg("-o")
            .arg(&svg)
            .status();
        if status.is_ok_and(|s| s.success()) {
            eprintln!("wrote {}", svg.display());
        }
    }
    Ok(())
}

/// The arguments as text; one that is not UTF-8 is refused with its
/// position and what precedes the bad byte.
fn utf8_args(args: &[std::ffi::OsString]) -> Result<Vec<String>> {
    use std::os::unix::ffi::OsStrExt;
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let bytes = a.as_bytes();
            std::str::from_utf8(bytes).map(str::to_string).map_err(|e| {
                let good = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
                Error::Other(format!(
                    "command line argument {}: invalid UTF-8 byte 0x{:02x} after `{}`",
                    i + 1,
                    bytes[e.valid_up_to()],
                    forge::load::config::text::excerpt_end(&good)
                ))
            })
        })
        .collect()
}

/// A defconfig named on the command line: a path, or a bare file name found
/// in the `boards/` of one of the trees.
fn find_defconfig(project: &Project, cwd: &Path, d: &Path) -> Result<PathBuf> {
    let direct = absolute(cwd, d);
    if direct.is_file() {
        return Ok(direct);
    }
    let name = d.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    project
        .trees
        .iter()
        .map(|t| t.join("boards").join(&name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Other(format!(
                "{} does not exist; `forge list-defconfigs` lists the boards",
                d.display()
            ))
        })
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The output dir to use when none is named: the current directory if it
/// holds a `.config`, else the most recently configured `output/<board>`.
fn current_output(cwd: &Path, root: &Path) -> Result<PathBuf> {
    if cwd.join(".config").is_file() {
        return Ok(cwd.to_path_buf());
    }
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(root.join("output"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let dot = entry.path().join(".config");
        if let Ok(t) = std::fs::metadata(&dot).and_then(|m| m.modified())
            && best.as_ref().is_none_or(|(bt, _)| t > *bt)
        {
            best = Some((t, entry.path()));
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| {
        Error::Other("no configured output dir; start with: forge boards/<board>_defconfig".into())
    })
}

/// `forge cache stats|verify|gc`: works anywhere, on `--cache-dir`,
/// `FORGE_CACHE_DIR` or the default cache.
fn cache_verb(cli: &Cli, args: &[String]) -> Result<()> {
    use forge::store::lifecycle::{self, CacheLock};
    let root = cli
        .cache_dir
        .clone()
        .unwrap_or_else(session::default_cache_dir);
    let max_size = match &cli.max_size {
        Some(text) => lifecycle::parse_size(text).ok_or_else(|| Error::BadOption {
            option: "--max-size".into(),
            message: format!("{text:?} is not a size (say e.g. 10G, 500M)"),
            at: None,
        })?,
        None => lifecycle::max_size_from_env().map_err(Error::Other)?,
    };
    let sub = args.get(1).map(String::as_str);
    if sub != Some("stats") && !root.join("blobs").is_dir() {
        return Err(Error::Other(format!(
            "{} is not a forge cache (no blobs/ in it)",
            root.display()
        )));
    }
    match sub {
        Some("stats") => print!("{}", lifecycle::stats::report(&root, max_size)?),
        Some("verify") => {
            let held = CacheLock::exclusive(&root)?;
            let started = std::time::Instant::now();
            let report = lifecycle::verify::verify(&root, &held)?;
            println!("{report} in {:.2} s", started.elapsed().as_secs_f64());
        }
        Some("gc") => {
            let held = CacheLock::exclusive(&root)?;
            println!("{}", lifecycle::gc::collect(&root, max_size, &held)?);
        }
        other => {
            return Err(Error::Other(format!(
                "forge cache {}: say `forge cache stats`, `forge cache verify` or `forge cache gc [--max-size SIZE]`",
                other.unwrap_or("")
            )));
        }
    }
    Ok(())
}
