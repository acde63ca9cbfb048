//! The lock's `.deb` files: kept in `dl/debian/` under their pool names,
//! reused when their sha256 is the lock's, downloaded when missing with a
//! private apt configuration made of the lock's sources and architecture
//! (the build machine's own apt state is neither read nor changed), and
//! laid out as a flat repository mmdebstrap installs from without network.

use crate::error::{Error, Result};
use crate::exec::{Cmd, Executor};
use crate::sources::fetch::sha256_file;
use crate::spec::debian::{Lock, Locked};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Where the lock's packages are kept: `dl/debian/`.
pub fn dl_folder(dl: &Path) -> PathBuf {
    dl.join("debian")
}

/// A private apt: its state, cache and sources under `dir`.
struct Apt {
    dir: PathBuf,
    arch: String,
}

impl Apt {
    fn new(dir: &Path, lock: &Lock) -> Result<Apt> {
        for d in ["state/lists/partial", "cache/archives/partial", "etc"] {
            let p = dir.join(d);
            fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        }
        let list = dir.join("etc/sources.list");
        let text: String = lock.sources.iter().map(|s| format!("{s}\n")).collect();
        fs::write(&list, text).map_err(|e| Error::io(&list, e))?;
        let status = dir.join("state/status");
        fs::write(&status, "").map_err(|e| Error::io(&status, e))?;
        Ok(Apt {
            dir: dir.to_path_buf(),
            arch: lock.request.architecture.clone(),
        })
    }

    fn cmd(&self, tool: &str) -> Cmd {
        let d = |p: &str| self.dir.join(p).display().to_string();
        let mut cmd = Cmd::new(tool).inherit_env().env("LC_ALL", "C").args([
            "-q".to_string(),
            "-o".into(),
            format!("Dir::State={}", d("state")),
            "-o".into(),
            format!("Dir::State::status={}", d("state/status")),
            "-o".into(),
            format!("Dir::Cache={}", d("cache")),
            "-o".into(),
            format!("Dir::Etc::SourceList={}", d("etc/sources.list")),
            "-o".into(),
            "Dir::Etc::SourceParts=/nonexistent".into(),
            "-o".into(),
            format!("APT::Architecture={}", self.arch),
            "-o".into(),
            format!("APT::Architectures={}", self.arch),
            "-o".into(),
            "Debug::NoLocking=1".into(),
        ]);
        // apt drops to its sandbox user, who cannot write into a folder of
        // ours; as root it is told not to.
        if super::mmdebstrap::is_root() {
            cmd = cmd.args(["-o", "APT::Sandbox::User=root"]);
        }
        cmd
    }
}

/// Run an apt tool; on failure, the last lines of its stderr.
fn run(exec: &dyn Executor, cmd: Cmd, cwd: &Path) -> Result<std::result::Result<(), String>> {
    let what = cmd.program();
    let done = exec
        .run(&cmd.cwd(cwd).capture_all())
        .map_err(|e| Error::ToolMissing {
            tool: what.clone(),
            hint: format!("install Debian's apt ({})", e.into_io()),
        })?;
    if done.status.success() {
        return Ok(Ok(()));
    }
    let err = String::from_utf8_lossy(&done.stderr);
    let tail: Vec<&str> = err.lines().rev().take(4).collect();
    Ok(Err(tail.into_iter().rev().collect::<Vec<_>>().join("; ")))
}

/// Make every locked package present in `dl/debian` with the lock's
/// sha256, downloading what is missing (the network is used only then).
/// Returns the paths in lock order. `lock_file` names the lock in errors.
pub fn ensure(
    exec: &dyn Executor,
    lock: &Lock,
    lock_file: &Path,
    dl: &Path,
    work: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>> {
    let folder = dl_folder(dl);
    fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let verified = |p: &Locked, path: &Path| -> Result<bool> {
        Ok(path.is_file() && sha256_file(path)? == p.sha256)
    };
    let mut missing = Vec::new();
    for p in &lock.packages {
        if !verified(p, &folder.join(p.file_name()))? {
            missing.push(p);
        }
    }
    if !missing.is_empty() {
        log(&format!(
            "downloading {} locked package(s) into {}",
            missing.len(),
            folder.display()
        ));
        download(exec, lock, lock_file, &missing, &folder, work)?;
    }
    let mut paths = Vec::new();
    for p in &lock.packages {
        let path = folder.join(p.file_name());
        let got = sha256_file(&path)?;
        if got != p.sha256 {
            let _ = fs::remove_file(&path);
            return Err(Error::Other(format!(
                "{}:{}: the mirror's {} {} ({}) has sha256 {got}, the lock says {}; the archive changed a published package: check the mirror, or refresh the lock with `forge debian-lock`",
                lock_file.display(),
                p.line,
                p.name,
                p.version,
                p.architecture,
                p.sha256
            )));
        }
        paths.push(path);
    }
    Ok(paths)
}

fn download(
    exec: &dyn Executor,
    lock: &Lock,
    lock_file: &Path,
    missing: &[&Locked],
    folder: &Path,
    work: &Path,
) -> Result<()> {
    crate::exec::remove_tree(work)?;
    let apt = Apt::new(&work.join("apt"), lock)?;
    let into = work.join("debs");
    fs::create_dir_all(&into).map_err(|e| Error::io(&into, e))?;
    if let Err(why) = run(exec, apt.cmd("apt-get").arg("update"), &into)? {
        return Err(Error::Other(format!(
            "cannot read the package lists of the lock's sources ({}): {why}; check the network and the `source` lines of {}",
            lock.sources.join("; "),
            lock_file.display()
        )));
    }
    let spec = |p: &Locked| format!("{}:{}={}", p.name, p.architecture, p.version);
    let all = apt
        .cmd("apt-get")
        .arg("download")
        .args(missing.iter().map(|p| spec(p)));
    if run(exec, all, &into)?.is_err() {
        // Find the first package the mirror does not have, to name it.
        for p in missing {
            if let Err(why) = run(exec, apt.cmd("apt-get").arg("download").arg(spec(p)), &into)? {
                return Err(Error::Other(format!(
                    "{}:{}: the mirror no longer has {} {} ({}) ({why}); refresh the lock with `forge debian-lock` to take the versions it has now",
                    lock_file.display(),
                    p.line,
                    p.name,
                    p.version,
                    p.architecture
                )));
            }
        }
    }
    for p in missing {
        // apt writes an epoch as `%3a`; the pool name has none.
        let found = fs::read_dir(&into)
            .map_err(|e| Error::io(&into, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|f| {
                let n = f.file_name().map(|n| n.to_string_lossy().into_owned());
                n.is_some_and(|n| {
                    n.starts_with(&format!("{}_", p.name))
                        && n.ends_with(&format!("_{}.deb", p.architecture))
                        && n.replace("%3a", ":").contains(&format!("_{}_", p.version))
                })
            })
            .ok_or_else(|| {
                Error::Other(format!(
                    "apt-get download left no file for {} {}",
                    p.name, p.version
                ))
            })?;
        let dest = folder.join(p.file_name());
        fs::rename(&found, &dest).map_err(|e| Error::io(&dest, e))?;
    }
    Ok(())
}

/// The control fields of a `.deb` (`dpkg-deb -f`): all of them, or those
/// named.
pub fn control_fields(exec: &dyn Executor, deb: &Path, fields: &[&str]) -> Result<String> {
    let cmd = Cmd::new("dpkg-deb")
        .inherit_env()
        .env("LC_ALL", "C")
        .arg("-f")
        .arg(deb)
        .args(fields)
        .input(deb)
        .capture_all();
    let done = exec.run(&cmd).map_err(|e| Error::ToolMissing {
        tool: "dpkg-deb".into(),
        hint: format!("install Debian's dpkg ({})", e.into_io()),
    })?;
    if !done.status.success() {
        return Err(Error::Other(format!(
            "{} is not a Debian package: {}",
            deb.display(),
            String::from_utf8_lossy(&done.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&done.stdout).into_owned())
}

/// Lay the packages out as a flat repository in `repo`: hard links (or
/// copies) of the files, a `Packages` index built from their control
/// fields, and a `Release` naming `suite` (mmdebstrap picks the essential
/// and required packages of the suite by that name), for
/// `deb [trusted=yes] file:… ./`.
pub fn flat_repo(exec: &dyn Executor, debs: &[PathBuf], repo: &Path, suite: &str) -> Result<()> {
    crate::exec::remove_tree(repo)?;
    fs::create_dir_all(repo).map_err(|e| Error::io(repo, e))?;
    let mut index = String::new();
    for deb in debs {
        let name = deb
            .file_name()
            .ok_or_else(|| Error::Other(format!("{} has no file name", deb.display())))?;
        let dest = repo.join(name);
        if fs::hard_link(deb, &dest).is_err() {
            fs::copy(deb, &dest).map_err(|e| Error::io(&dest, e))?;
        }
        // Readable by mmdebstrap's subordinate ids in unshare mode.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(&dest, e))?;
        let control = control_fields(exec, deb, &[])?;
        let size = fs::metadata(deb).map_err(|e| Error::io(deb, e))?.len();
        let _ = write!(
            index,
            "{}\nFilename: ./{}\nSize: {size}\nSHA256: {}\n\n",
            control.trim_end(),
            name.to_string_lossy(),
            sha256_file(deb)?
        );
    }
    let path = repo.join("Packages");
    fs::write(&path, &index).map_err(|e| Error::io(&path, e))?;
    use sha2::Digest as _;
    let release = format!(
        "Suite: {suite}\nCodename: {suite}\nDate: Sat, 01 Jan 2000 00:00:00 GMT\nSHA256:\n {} {} Packages\n",
        hex::encode(sha2::Sha256::digest(index.as_bytes())),
        index.len()
    );
    let path = repo.join("Release");
    fs::write(&path, release).map_err(|e| Error::io(&path, e))
}
